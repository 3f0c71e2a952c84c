"""Pooling layers: the spec, DotProduct and Cosine, and the builder of every Function.

DotProduct and Cosine score source 0 against each other source, the pattern of two-tower
retrieval models. Max and Average reduce a ``Kernel`` window slid over each channel's grid
(``KernelStride``; sizes and padding as DSSTNE, `netcfg.layers.spatial`), LRN normalizes
across channels with the network's ``LocalResponseNormalization`` constants, and Maxout is
the elementwise maximum of its sources (`netcfg.layers.spatial_pooling`). DSSTNE's
network-level ``MaxOut.k`` is parsed there but read by no pooling code, nor here.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from pydantic import ValidationInfo, field_validator
from torch import Tensor, nn

from netcfg.data.batch import SparseBatch
from netcfg.layers.activated import ActivatedLayer, add_skips
from netcfg.layers.activations import ActivationKind, ActivationName
from netcfg.layers.common import LayerType, LayerTypeName, Width
from netcfg.layers.computed import (
    ComputedLayerSpec,
    KernelSize,
    activation_modules,
    check_skip_widths,
)
from netcfg.layers.registry import BuildContext, Built, Shape, register_layer
from netcfg.layers.spatial import Window, flat_sources, kernel_tuple, read_grid
from netcfg.layers.spatial_pooling import LocalResponseNorm, Maxout, WindowPooling
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


_WINDOWED = (PoolingFunction.Max, PoolingFunction.Average)

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
        description="Max or Average over a Kernel window of each channel; LRN across "
        "channels (the network's LocalResponseNormalization); Maxout: elementwise maximum of "
        "the sources; DotProduct or Cosine: one score of source 0 against each other source."
    )
    N: Width | None = spec_field(
        None,
        description="Dimensions; derived from the sources (DotProduct, Cosine: sources - 1), "
        "checked if given.",
    )
    Activation: ActivationName = spec_field(
        ActivationKind.Linear,
        description="Activation applied to the pooled values (default Linear for Pooling).",
    )
    Kernel: KernelSize = spec_field(
        1, description="Max, Average: the window, x, [x], [x, y] or [x, y, z]."
    )
    KernelStride: KernelSize = spec_field(
        1,
        description="Max, Average: the step along each Kernel axis; axes not given are 1 "
        "(an integer strides x only, as in DSSTNE).",
    )

    @field_validator("Function")
    @classmethod
    def _pairwise_sources(cls, function: PoolingFunction, info: ValidationInfo) -> PoolingFunction:
        pairwise = function in (PoolingFunction.DotProduct, PoolingFunction.Cosine)
        if pairwise and len(info.data.get("Source", ())) < 2:
            raise spec_error(
                f"Pooling Function '{function.value}' needs at least 2 sources in Source"
            )
        return function

    @field_validator("Kernel", "KernelStride")
    @classmethod
    def _windowed(cls, value: Any, info: ValidationInfo) -> Any:
        function = info.data.get("Function")
        if function is not None and function not in _WINDOWED and set(kernel_tuple(value)) != {1}:
            raise spec_error(
                f"{info.field_name} has no effect on Pooling Function '{function.value}'; "
                "only Max and Average pool over a window"
            )
        kernel = info.data.get("Kernel")
        if info.field_name == "KernelStride" and kernel is not None:
            if len(kernel_tuple(value)) > len(kernel_tuple(kernel)):
                raise spec_error(
                    f"KernelStride has {len(kernel_tuple(value))} axes but Kernel has "
                    f"{len(kernel_tuple(kernel))}; give one stride per Kernel axis"
                )
        return value


class PairwiseScore(ActivatedLayer):
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
        return add_skips(z, skips)


@register_layer("Pooling")
def build_pooling(spec: PoolingLayerSpec, ctx: BuildContext) -> Built:
    """Build the module of a Pooling layer's Function, and its output shape."""
    activation, dropout = activation_modules(spec)
    if spec.Function in _WINDOWED:
        module, dims = _window_pooling(spec, ctx, activation, dropout)
    elif spec.Function in (PoolingFunction.DotProduct, PoolingFunction.Cosine):
        _equal_sources(spec, ctx, lambda shape: shape.size, "widths")
        cosine = spec.Function is PoolingFunction.Cosine
        module = PairwiseScore(cosine=cosine, activation=activation, dropout=dropout)
        dims = (len(ctx.sources) - 1,)
    else:
        dims = _equal_sources(spec, ctx, lambda shape: shape.dims, "dimensions")
        if spec.Function is PoolingFunction.Maxout:
            module = Maxout(activation=activation, dropout=dropout)
        else:
            lrn = ctx.model.LocalResponseNormalization
            module = LocalResponseNorm(
                dims, lrn.n, lrn.alpha, lrn.beta, lrn.k, activation=activation, dropout=dropout
            )
    out = Shape(dims)
    if ctx.dims is not None and ctx.dims != out.dims:
        raise ctx.error(
            f"this {spec.Function.value} layer's dimensions are {out}, not "
            f"{'x'.join(map(str, ctx.dims))}; leave N out to derive it",
            "N",
        )
    check_skip_widths(spec, ctx, out)
    return Built(module, out)


def _equal_sources(spec: PoolingLayerSpec, ctx: BuildContext, key, what: str) -> Any:
    """The sources' common ``key`` (size or dimensions); a compile error if they differ."""
    found = [key(shape) for shape in ctx.sources]
    if len(set(found)) > 1:
        shown = ", ".join("x".join(map(str, v)) if what == "dimensions" else str(v) for v in found)
        raise ctx.error(
            f"the sources of a {spec.Function.value} layer must have equal {what} (got {shown})",
            "Source",
        )
    return found[0]


def _window_pooling(
    spec: PoolingLayerSpec, ctx: BuildContext, activation: nn.Module, dropout: nn.Module | None
) -> tuple[WindowPooling, tuple[int, ...]]:
    """A Max or Average layer and its dimensions: the source's, with the Kernel axes
    reduced (DSSTNE keeps the source's number of dimensions)."""
    kernel = kernel_tuple(spec.Kernel)
    stride = kernel_tuple(spec.KernelStride)
    stride = (*stride, *(1,) * (len(kernel) - len(stride)))
    dims = _equal_sources(spec, ctx, lambda shape: shape.dims, "dimensions")
    problem = flat_sources(spec.Source, [shape.dims for shape in ctx.sources], len(kernel))
    if problem:
        raise ctx.error(problem, "Kernel")
    grid = read_grid(dims, len(kernel))
    module = WindowPooling(
        spec.Function.value,
        grid.size,
        grid.channels,
        kernel,
        stride,
        activation=activation,
        dropout=dropout,
    )
    extent = Window(kernel, stride, grid.size).extent
    return module, (*extent, *dims[len(kernel) :])[: len(dims)]
