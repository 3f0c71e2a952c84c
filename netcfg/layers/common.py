"""Spec pieces shared by layer families: kinds, types, widths, weight init and sharing."""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, WithJsonSchema

from netcfg.spec_base import SpecBase, shown, spec_enum, spec_error, spec_field

__all__ = [
    "LayerKind",
    "LayerName",
    "LayerSpecBase",
    "LayerKindName",
    "LayerType",
    "LayerTypeName",
    "SharedWeightSpec",
    "SparsenessPenaltySpec",
    "WeightInitScheme",
    "WeightInitSchemeName",
    "WeightInitSpec",
    "Width",
    "dimensions_type",
    "width_dims",
]


class LayerKind(str, enum.Enum):
    """The role of a layer in the network."""

    Input = "Input"
    Hidden = "Hidden"
    Output = "Output"
    Target = "Target"


_TYPE_NOT_KIND = '\'{0}\' is a Type, not a Kind: write "Type": "{0}"'
LayerKindName = spec_enum(
    LayerKind,
    "Kind",
    rejected={
        "Pooling": _TYPE_NOT_KIND.format("Pooling"),
        "Convolutional": _TYPE_NOT_KIND.format("Convolutional"),
        "Convolution": _TYPE_NOT_KIND.format("Convolutional"),
        "FullyConnected": _TYPE_NOT_KIND.format("FullyConnected"),
    },
)
"""The ``Kind`` key of a layer."""


class LayerType(str, enum.Enum):
    """How a layer computes its units from its sources."""

    FullyConnected = "FullyConnected"
    Convolutional = "Convolutional"
    Pooling = "Pooling"
    Variational = "Variational"
    Merge = "Merge"


LayerTypeName = spec_enum(
    LayerType,
    "layer Type",
    rejected={
        "Convolution": "Type 'Convolution' appears in DSSTNE's docs but its parser rejects "
        "it; write 'Convolutional'",
    },
)
"""The ``Type`` key of a layer."""


def dimensions_type(max_dims: int, *, auto: bool) -> Any:
    """An integer or a list of 1 to ``max_dims`` positive integers (or ``"auto"``), as a type.

    Lists are held as tuples; the JSON Schema documents the same forms.
    """
    forms = f"a positive integer, a list of 1 to {max_dims} positive integers"
    forms += ', or "auto"' if auto else ""

    def parse(value: Any) -> Any:
        if auto and isinstance(value, str) and value.strip().lower() == "auto":
            return "auto"
        if isinstance(value, list):
            value = tuple(value)
        items = value if isinstance(value, tuple) else (value,)
        if not 1 <= len(items) <= max_dims or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in items
        ):
            raise spec_error(f"must be {forms} (got {shown(value)})")
        return value

    array = {
        "type": "array",
        "items": {"type": "integer", "minimum": 1},
        "minItems": 1,
        "maxItems": max_dims,
    }
    schema = [{"type": "integer", "minimum": 1}, array]
    if auto:
        schema.append({"type": "string", "pattern": "^[aA][uU][tT][oO]$"})
    kinds = int | tuple[int, ...] | Literal["auto"] if auto else int | tuple[int, ...]
    return Annotated[kinds, BeforeValidator(parse), WithJsonSchema({"anyOf": schema})]


Width = dimensions_type(4, auto=True)
"""A layer's ``N``: a width, up to four dimensions [x, y, z, w], or ``"auto"``."""


def width_dims(width: int | tuple[int, ...]) -> tuple[int, ...]:
    """The dimensions of a concrete width, as a tuple."""
    return (width,) if isinstance(width, int) else tuple(width)


def _check_name(value: Any) -> Any:
    if isinstance(value, str) and (not value or "." in value):
        raise spec_error(
            f"layer names must be non-empty and may not contain '.' (got {shown(value)})"
        )
    return value


LayerName = Annotated[str, BeforeValidator(_check_name)]
"""A layer's ``Name``: non-empty, without dots (``--set`` paths address layers by name)."""


class LayerSpecBase(SpecBase):
    """Keys of every layer: its name and kind (both filled from its position if missing)."""

    Name: LayerName = spec_field(
        description="Unique name of the layer (default: Kind and index, e.g. 'Hidden1')."
    )
    Kind: LayerKindName = spec_field(
        description="Input, Hidden or Output (default: first layer Input, last Output, "
        "the others Hidden)."
    )


class WeightInitScheme(str, enum.Enum):
    """Random initialization schemes of DSSTNE (``NNWeight::Randomize``)."""

    Xavier = "Xavier"
    CaffeXavier = "CaffeXavier"
    Gaussian = "Gaussian"
    Uniform = "Uniform"
    UnitBall = "UnitBall"
    SELU = "SELU"
    Constant = "Constant"


def _number_bias(value: Any) -> Any:
    if isinstance(value, str):
        raise spec_error(
            f"Bias must be a number (got {shown(value)}); DSSTNE does not implement the LDL's "
            "distribution strings"
        )
    return value


WeightInitSchemeName = spec_enum(WeightInitScheme, "WeightInit Scheme")
"""The ``Scheme`` key of ``WeightInit``."""


class WeightInitSpec(SpecBase):
    """How a layer's incoming weights and its biases are initialized."""

    Scheme: WeightInitSchemeName = spec_field(
        WeightInitScheme.Xavier,
        description="Random scheme: Xavier U(-s/2, s/2) with s = Scale*sqrt(6/(fan_in+fan_out)); "
        "CaffeXavier Scale*U(-sqrt(3/fan_out), sqrt(3/fan_out)); Gaussian N(0, Scale); "
        "Uniform U(-Scale, Scale); UnitBall U(0, Scale); SELU N(0, Scale/sqrt(fan_in)); "
        "Constant: every weight equals Scale.",
    )
    Scale: float = spec_field(1.0, description="Scale of the scheme (see Scheme).")
    Bias: Annotated[float, BeforeValidator(_number_bias)] = spec_field(
        0.0, description="Initial value of every bias of the layer."
    )


class SharedWeightSpec(SpecBase):
    """Use another connection's weight matrix for one of this layer's incoming connections."""

    rejected_keys = {
        "transpose": "DSSTNE's parser rejects 'Transpose' (an LDL spelling); write 'Transposed'",
    }

    InputLayer: str | None = spec_field(
        None,
        description="The source of this layer whose connection borrows the weights "
        "(default: the layer's only source).",
    )
    SourceInputLayer: str = spec_field(
        description="Input side of the connection that owns the weights."
    )
    SourceOutputLayer: str = spec_field(
        description="Output side (the layer) of the connection that owns the weights."
    )
    Transposed: bool = spec_field(
        False, description="Use the owner's weight matrix transposed (tied autoencoders)."
    )


class SparsenessPenaltySpec(SpecBase):
    """KL sparsity penalty on the mean activation of hidden units."""

    p: float = spec_field(0.0, ge=0.0, le=1.0, description="Target mean activation rho.")
    beta: float = spec_field(
        0.0, ge=0.0, description="Weight of the penalty; the penalty is on only if beta > 0."
    )
