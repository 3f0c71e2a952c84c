"""Spec fields shared by layers that compute from sources (Hidden and Output layers)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationInfo, field_validator
from torch import nn

from netcfg.layers.activations import (
    SELU_LAMBDA,
    ActivationKind,
    ActivationName,
    create_activation,
)
from netcfg.layers.common import (
    LayerKind,
    LayerSpecBase,
    LayerType,
    LayerTypeName,
    SharedWeightSpec,
    SparsenessPenaltySpec,
    WeightInitSpec,
    Width,
    dimensions_type,
)
from netcfg.layers.compute import ComputeMode, ComputeModeName
from netcfg.layers.dropout import DropoutKind, DropoutKindName, create_dropout
from netcfg.layers.registry import BuildContext, Shape
from netcfg.spec_base import OneOrMany, names_type, spec_error, spec_field

__all__ = [
    "ComputedLayerSpec",
    "KernelSize",
    "WeightedLayerSpec",
    "activation_modules",
    "check_skip_widths",
]


KernelSize = dimensions_type(3, auto=False)
"""``Kernel`` and ``KernelStride``: an integer or [x], [x, y], [x, y, z]."""


class ComputedLayerSpec(LayerSpecBase):
    """Keys of every Hidden or Output layer."""

    rejected_keys = {
        "target": "DSSTNE's parser rejects the LDL's layer key 'Target'",
        "errorfunction": "ErrorFunction is a network-level key, not a layer key",
        "l1penalty": "DSSTNE's parser rejects 'L1Penalty'; use Training.Optimizer.L1",
        "recurrent": "DSSTNE's parser rejects 'Recurrent'; recurrent layers are not supported",
    }

    Type: LayerTypeName = spec_field(
        LayerType.FullyConnected, description="FullyConnected (default), Convolutional or Pooling."
    )
    N: Width = spec_field(
        description='Width: an integer, up to four dimensions [x, y, z, w], or "auto" '
        "(Output layers) to take it from the DataSet."
    )
    DataSet: str | None = spec_field(
        None, description="Output layers: name of the dataset holding the targets."
    )
    Sparse: bool = spec_field(
        False,
        description="Output: the targets are sparse. Hidden: the layer is subject to the "
        "network's SparsenessPenalty.",
    )
    pDropout: float = spec_field(
        0.0,
        ge=0.0,
        lt=1.0,
        description="Dropout probability after the activation (training only; a dropped "
        "Sigmoid unit becomes 0.5, ELU/SELU use alpha dropout).",
    )
    DropoutType: DropoutKindName = spec_field(
        DropoutKind.Auto,
        description="netcfg extension: Auto (DSSTNE: Sigmoid units drop to 0.5, ELU/SELU use "
        "alpha dropout, others inverted dropout), Standard (inverted dropout) or Alpha.",
    )
    Source: names_type = spec_field(
        (), description="Layer(s) feeding this one (default: the previous layer); at most 4."
    )
    Skip: names_type = spec_field(
        (),
        description="Layer(s) whose activations are added to this layer's pre-activation; "
        "their widths must equal this layer's.",
    )
    Activation: ActivationName = spec_field(
        ActivationKind.Sigmoid, description="Activation function (default Sigmoid)."
    )
    RELUSlope: float = spec_field(
        1.0,
        aliases=["Slope"],
        description="LRelu slope: max(x, slope*x) (default: the network's RELUSlope).",
    )
    ELUAlpha: float = spec_field(
        1.0,
        description="Alpha of Elu and Selu (default: the network's; 1.6732632 for Selu "
        "when neither sets it).",
    )
    SELULambda: float = spec_field(
        SELU_LAMBDA, description="Lambda of Selu (default: the network's SELULambda)."
    )
    ActivationMax: float = spec_field(
        6.0,
        gt=0.0,
        description="netcfg extension: the cap of ReluMax min(max(x, 0), cap) and "
        "LinearMax min(x, cap).",
    )
    Compute: ComputeModeName = spec_field(
        ComputeMode.Auto,
        description="netcfg extension, for Output layers with Sparse targets: Auto (in "
        "training, compute only the entries the loss reads when it reads only the stored "
        "targets), Sparse (always; an error where the loss needs every output) or Dense.",
    )

    @field_validator("Kind")
    @classmethod
    def _supported_kind(cls, kind: LayerKind) -> LayerKind:
        if kind is LayerKind.Target:
            raise spec_error(
                "Kind 'Target' is parsed by DSSTNE but has no effect there; netcfg does not "
                "support it"
            )
        return kind

    @field_validator("N")
    @classmethod
    def _auto_on_outputs(cls, n: Any, info: ValidationInfo) -> Any:
        if n == "auto" and info.data.get("Kind") is LayerKind.Hidden:
            raise spec_error('N "auto" is only allowed on Input and Output layers')
        return n

    @field_validator("DataSet")
    @classmethod
    def _dataset_on_outputs(cls, dataset: str | None, info: ValidationInfo) -> str | None:
        if dataset is not None and info.data.get("Kind") is LayerKind.Hidden:
            raise spec_error("DataSet is only allowed on Input and Output layers")
        return dataset

    @field_validator("Compute")
    @classmethod
    def _compute_on_outputs(cls, mode: ComputeMode, info: ValidationInfo) -> ComputeMode:
        if mode is ComputeMode.Auto:
            return mode
        if info.data.get("Kind") is LayerKind.Hidden:
            raise spec_error("Compute is only allowed on Input and Output layers")
        if mode is ComputeMode.Sparse and info.data.get("Sparse") is False:
            raise spec_error(
                'Compute "Sparse" on an Output layer needs Sparse targets (set "Sparse": true)'
            )
        if mode is ComputeMode.Sparse and info.data.get("Activation") is ActivationKind.SoftMax:
            raise spec_error(
                'Compute "Sparse" cannot apply to a SoftMax output: it normalizes over every unit'
            )
        return mode

    @field_validator("Source")
    @classmethod
    def _at_most_four(cls, sources: tuple[str, ...]) -> tuple[str, ...]:
        if len(sources) > 4:
            raise spec_error(f"a layer has at most 4 sources (got {len(sources)})")
        return sources


def _one_or_many_objects(value: Any) -> Any:
    if isinstance(value, dict):
        return (value,)
    return tuple(value) if isinstance(value, list) else value


def _penalty_object(value: Any) -> Any:
    if isinstance(value, bool):
        raise spec_error(
            'SparsenessPenalty must be an object {"p": ..., "beta": ...}; DSSTNE\'s parser '
            "rejects the LDL's boolean"
        )
    return value


class WeightedLayerSpec(ComputedLayerSpec):
    """Keys of layers with weights (FullyConnected and Convolutional)."""

    WeightInit: WeightInitSpec = spec_field(
        WeightInitSpec(), description="Initialization of the incoming weights and biases."
    )
    SharedWeights: Annotated[
        tuple[SharedWeightSpec, ...], BeforeValidator(_one_or_many_objects), OneOrMany()
    ] = spec_field((), description="Connections whose weights this layer reuses (object or array).")
    WeightNorm: float = spec_field(
        0.0,
        ge=0.0,
        description="Maximum L2 norm of each unit's incoming weight vector, enforced after "
        "every update (0: off).",
    )
    DeltaNorm: float = spec_field(
        0.0,
        ge=0.0,
        description="Maximum L2 norm of each example's delta (gradient of the pre-activation) "
        "(0: off).",
    )
    BatchNormalization: bool = spec_field(
        False, description="Hidden layers: batch normalization of the pre-activation."
    )
    SparsenessPenalty: Annotated[SparsenessPenaltySpec | None, BeforeValidator(_penalty_object)] = (
        spec_field(
            None,
            description="Hidden layers: per-layer p and beta of the KL sparseness penalty "
            "(values > 0 override the network's; on only when the network's beta > 0).",
        )
    )

    @field_validator("BatchNormalization", "SparsenessPenalty")
    @classmethod
    def _hidden_only(cls, value: Any, info: ValidationInfo) -> Any:
        if value and info.data.get("Kind") is LayerKind.Output:
            raise spec_error(f"{info.field_name} is only allowed on Hidden layers")
        return value


def activation_modules(spec: ComputedLayerSpec) -> tuple[nn.Module, nn.Module | None]:
    """The activation module of a layer and its dropout module (None without dropout)."""
    activation = create_activation(
        spec.Activation,
        slope=spec.RELUSlope,
        alpha=spec.ELUAlpha,
        lam=spec.SELULambda,
        cap=spec.ActivationMax,
    )
    dropout = create_dropout(
        spec.pDropout,
        spec.Activation,
        alpha=spec.ELUAlpha,
        lam=spec.SELULambda,
        kind=spec.DropoutType,
    )
    return activation, dropout


def check_skip_widths(spec: ComputedLayerSpec, ctx: BuildContext, out: Shape) -> None:
    """Raise a compile error unless every Skip layer is as wide as the layer."""
    for name, shape in zip(spec.Skip, ctx.skips, strict=True):
        if shape.size != out.size:
            raise ctx.error(
                f"Skip layer '{name}' has {shape.size} units but this layer has {out.size}",
                "Skip",
            )
