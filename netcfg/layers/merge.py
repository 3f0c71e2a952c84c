"""Merge layers (netcfg extension): combine sources unit by unit, or side by side.

A ``Merge`` layer has no weights. Its ``Function`` says how the sources combine:

- ``Product``: the element-wise (Hadamard) product ``x_1 * x_2 * ...``: NCF's generalized
  matrix factorization (GMF) multiplies a user and an item embedding so.
- ``Sum``, ``Average``, ``Max``: the element-wise sum, mean or maximum.
- ``Concat``: the sources side by side, ``[x_1, x_2, ...]`` (the width is the sum of
  theirs), as NCF's MLP tower concatenates its embeddings. A FullyConnected layer with
  several sources already multiplies their concatenation by one weight matrix, so
  ``Concat`` is needed only where the concatenation itself is used.

The element-wise functions need sources of equal widths and keep that width. Skips are
added and the activation (default Linear) applied after the merge; sparse sources are
made dense first.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from functools import reduce

import torch
from pydantic import field_validator
from torch import Tensor, nn

from netcfg.data.batch import SparseBatch
from netcfg.layers.activated import ActivatedLayer, add_skips
from netcfg.layers.activations import ActivationKind, ActivationName
from netcfg.layers.common import LayerType, LayerTypeName, Width
from netcfg.layers.computed import ComputedLayerSpec, activation_modules, check_skip_widths
from netcfg.layers.registry import BuildContext, Built, Shape, register_layer
from netcfg.spec_base import spec_enum, spec_error, spec_field

__all__ = ["Merge", "MergeFunction", "MergeLayerSpec", "build_merge", "merge"]


class MergeFunction(str, enum.Enum):
    """How a Merge layer combines its sources."""

    Product = "Product"
    Sum = "Sum"
    Average = "Average"
    Max = "Max"
    Concat = "Concat"


MergeFunctionName = spec_enum(
    MergeFunction,
    "Merge Function",
    aliases={
        "Multiply": "Product",
        "Hadamard": "Product",
        "Add": "Sum",
        "Mean": "Average",
        "Maximum": "Max",
        "Concatenate": "Concat",
    },
)
"""The ``Function`` key of a Merge layer."""


class MergeLayerSpec(ComputedLayerSpec):
    """A Hidden or Output layer that combines its sources without weights."""

    Type: LayerTypeName = spec_field(LayerType.Merge, description="Merge (netcfg extension).")
    Function: MergeFunctionName = spec_field(
        description="Product (element-wise, as NCF's GMF), Sum, Average or Max of sources "
        "of equal widths; Concat: the sources side by side."
    )
    N: Width | None = spec_field(
        None,
        description="Width; derived from the sources (their common width, or the sum of "
        "their widths for Concat).",
    )
    Activation: ActivationName = spec_field(
        ActivationKind.Linear,
        description="Activation applied to the merged values (default Linear for Merge).",
    )

    @field_validator("Source")
    @classmethod
    def _two_sources(cls, sources: tuple[str, ...]) -> tuple[str, ...]:
        if len(sources) < 2:
            raise spec_error(
                f"a Merge layer combines at least 2 sources; Source names {len(sources)}"
            )
        return sources


def merge(function: MergeFunction, inputs: Sequence[Tensor]) -> Tensor:
    """Combine dense [batch, width] tensors as ``function`` says.

    Example:
        >>> merge(MergeFunction.Product, [torch.tensor([[2.0, 3.0]]), torch.tensor([[4.0, 5.0]])])
        tensor([[ 8., 15.]])
    """
    function = MergeFunction(function)
    if function is MergeFunction.Concat:
        return torch.cat(list(inputs), dim=1)
    if function is MergeFunction.Product:
        return reduce(torch.mul, inputs)
    if function is MergeFunction.Max:
        return reduce(torch.maximum, inputs)
    total = reduce(torch.add, inputs)
    return total / len(inputs) if function is MergeFunction.Average else total


class Merge(ActivatedLayer):
    """``activation(merge(sources) + sum of skips)``, then dropout in training.

    Args:
        function: how the sources combine (`MergeFunction`).
        activation: module applied to the merged values (default identity).
        dropout: module applied after the activation in training (default none).

    Example:
        >>> Merge(MergeFunction.Concat)([torch.ones(2, 3), torch.zeros(2, 1)]).shape
        torch.Size([2, 4])
    """

    def __init__(
        self,
        function: MergeFunction,
        *,
        activation: nn.Module | None = None,
        dropout: nn.Module | None = None,
    ):
        super().__init__()
        self.function = MergeFunction(function)
        self.activation = activation if activation is not None else nn.Identity()
        self.dropout = dropout

    def preactivate(
        self, inputs: Sequence[Tensor | SparseBatch], skips: Sequence[Tensor] = ()
    ) -> Tensor:
        """The merged sources (sparse ones made dense), plus skips."""
        dense = [x.to_dense() if isinstance(x, SparseBatch) else x.flatten(1) for x in inputs]
        z = merge(self.function, dense)
        return add_skips(z, skips)

    def extra_repr(self) -> str:
        return f"function={self.function.value}"


@register_layer("Merge")
def build_merge(spec: MergeLayerSpec, ctx: BuildContext) -> Built:
    """Build a `Merge` module; its width comes from its sources' widths."""
    sizes = [shape.size for shape in ctx.sources]
    if spec.Function is MergeFunction.Concat:
        out = Shape((sum(sizes),))
    elif len(set(sizes)) > 1:
        raise ctx.error(
            f"the sources of a Merge {spec.Function.value} layer must have equal widths "
            f"(got {', '.join(map(str, sizes))}); use Concat to put them side by side",
            "Source",
        )
    else:
        out = Shape((sizes[0],))
    if ctx.dims is not None and ctx.dims != out.dims:
        raise ctx.error(
            f"this Merge {spec.Function.value} layer's sources give it N = {out.size}, not "
            f"{'x'.join(map(str, ctx.dims))}",
            "N",
        )
    check_skip_widths(spec, ctx, out)
    activation, dropout = activation_modules(spec)
    return Built(Merge(spec.Function, activation=activation, dropout=dropout), out)
