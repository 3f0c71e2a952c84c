"""Pooling layers. DotProduct and Cosine score source 0 against each other source, the
pattern of two-tower retrieval models; the spatial functions wait for convolution.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from pydantic import ValidationInfo, field_validator
from torch import Tensor, nn

from netcfg.data.batch import SparseBatch
from netcfg.layers.activations import ActivationKind, ActivationName
from netcfg.layers.common import LayerType, LayerTypeName, Width
from netcfg.layers.computed import (
    ComputedLayerSpec,
    KernelSize,
    activation_modules,
    check_skip_widths,
)
from netcfg.layers.registry import BuildContext, Built, Shape, register_layer
from netcfg.spec_base import spec_enum, spec_error, spec_field

__all__ = ["PairwiseScore", "PoolingFunction", "PoolingLayerSpec", "build_pooling"]


class PoolingFunction(str, enum.Enum):
    """Pooling functions that DSSTNE's parser accepts."""

    Max = "Max"
    Maxout = "Maxout"
    DotProduct = "DotProduct"
    Cosine = "Cosine"
    Average = "Average"
    LRN = "LRN"


_UNPARSED = (
    "Pooling Function '{}' is in DSSTNE's enum but its parser rejects it; use Max, Maxout, "
    "DotProduct, Cosine, Average or LRN"
)
PoolingFunctionName = spec_enum(
    PoolingFunction,
    "Pooling Function",
    aliases={"LocalResponseNormalization": "LRN"},
    rejected={name: _UNPARSED.format(name) for name in ("Stochastic", "LCN", "GlobalTemporal")},
)


class PoolingLayerSpec(ComputedLayerSpec):
    """A Hidden or Output layer that pools its sources."""

    Type: LayerTypeName = spec_field(LayerType.Pooling, description="Pooling.")
    Function: PoolingFunctionName = spec_field(
        description="Max, Maxout, Average or LRN (spatial, not yet compiled); DotProduct or "
        "Cosine: one score of source 0 against each other source."
    )
    N: Width | None = spec_field(
        None, description="Width; derived from the sources (DotProduct, Cosine: sources - 1)."
    )
    Activation: ActivationName = spec_field(
        ActivationKind.Linear,
        description="Activation applied to the pooled values (default Linear for Pooling).",
    )
    Kernel: KernelSize = spec_field(1, description="Pooling window: x, [x], [x, y], [x, y, z].")
    KernelStride: KernelSize = spec_field(1, description="Stride: x, [x], [x, y], [x, y, z].")

    @field_validator("Function")
    @classmethod
    def _pairwise_sources(cls, function: PoolingFunction, info: ValidationInfo) -> PoolingFunction:
        pairwise = function in (PoolingFunction.DotProduct, PoolingFunction.Cosine)
        if pairwise and len(info.data.get("Source", ())) < 2:
            raise spec_error(
                f"Pooling Function '{function.value}' needs at least 2 sources in Source"
            )
        return function


class PairwiseScore(nn.Module):
    """Scores of source 0 against each other source: dot products or cosines.

    Args:
        cosine: cosine similarity instead of the dot product.
        activation: module applied to the scores (default identity).
        dropout: module applied after the activation in training.

    Example:
        >>> PairwiseScore()([torch.ones(2, 3), torch.ones(2, 3), 2 * torch.ones(2, 3)])
        tensor([[3., 6.],
                [3., 6.]])
    """

    def __init__(
        self,
        *,
        cosine: bool = False,
        activation: nn.Module | None = None,
        dropout: nn.Module | None = None,
    ):
        super().__init__()
        self.cosine = cosine
        self.activation = activation if activation is not None else nn.Identity()
        self.dropout = dropout

    def preactivate(
        self, inputs: Sequence[Tensor | SparseBatch], skips: Sequence[Tensor] = ()
    ) -> Tensor:
        """One score per source after the first, plus skips: shape [batch, sources - 1]."""
        dense = [x.to_dense() if isinstance(x, SparseBatch) else x.flatten(1) for x in inputs]
        anchor, others = dense[0], dense[1:]
        if self.cosine:
            scores = [F.cosine_similarity(anchor, other, dim=1, eps=1e-8) for other in others]
        else:
            scores = [(anchor * other).sum(dim=1) for other in others]
        z = torch.stack(scores, dim=1)
        for skip in skips:
            z = z + skip.flatten(1)
        return z

    def activate(self, z: Tensor) -> Tensor:
        """Activation, then dropout in training."""
        a = self.activation(z)
        return self.dropout(a) if self.dropout is not None else a

    def forward(self, inputs: Sequence[Tensor | SparseBatch], skips: Sequence[Tensor] = ()):
        return self.activate(self.preactivate(inputs, skips))


@register_layer("Pooling")
def build_pooling(spec: PoolingLayerSpec, ctx: BuildContext) -> Built:
    """Build a DotProduct or Cosine pooling layer; other functions are not supported yet."""
    if spec.Function not in (PoolingFunction.DotProduct, PoolingFunction.Cosine):
        raise ctx.error(
            f"Pooling Function '{spec.Function.value}' is not supported yet (it needs "
            "convolutional layers); DotProduct and Cosine are",
            "Function",
        )
    sizes = {shape.size for shape in ctx.sources}
    if len(sizes) > 1:
        raise ctx.error(
            f"the sources of a {spec.Function.value} layer must have equal widths "
            f"(got {', '.join(str(s.size) for s in ctx.sources)})",
            "Source",
        )
    out = Shape((len(ctx.sources) - 1,))
    if ctx.dims is not None and ctx.dims != out.dims:
        raise ctx.error(
            f"a {spec.Function.value} layer of {len(ctx.sources)} sources has N = "
            f"{out.size}, not {'x'.join(map(str, ctx.dims))}",
            "N",
        )
    check_skip_widths(spec, ctx, out)
    activation, dropout = activation_modules(spec)
    module = PairwiseScore(
        cosine=spec.Function is PoolingFunction.Cosine, activation=activation, dropout=dropout
    )
    return Built(module, out)
