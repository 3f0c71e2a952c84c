"""Convolutional layers: learned filters slid over the grid of each source (DSSTNE's
``Convolutional`` Type, cuDNN's cross-correlation; here ``F.conv1d/2d/3d``).

``Kernel`` has 1, 2 or 3 axes, which makes a 1-D, 2-D or 3-D convolution; ``N`` is the
number of filters. The layer's dimensions are the output grid followed by the filters, as
DSSTNE lays them out: [x', N] for a 1-D kernel, [x', y', N] for 2-D, [x', y', z', N] for
3-D. Sizes and padding follow DSSTNE (`netcfg.layers.spatial`): stride 1 keeps the size.

Each source has its own filters; their responses are summed, plus one bias per filter and
the ``Skip`` layers, then batch normalization (per filter, over the batch and the grid:
cuDNN's spatial mode, which DSSTNE uses for convolutions), the activation and dropout.
Weights are initialized by ``WeightInit`` with fan_in = the units one filter reads
(channels x kernel) and fan_out = the filters; DSSTNE uses the whole layers' sizes, which
makes its Xavier weights of a 32x32 image about a hundred times smaller.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from pydantic import ValidationInfo, field_validator
from torch import Tensor, nn

from netcfg.data.batch import SparseBatch
from netcfg.layers.activated import ActivatedLayer
from netcfg.layers.common import LayerType, LayerTypeName, WeightInitScheme, Width
from netcfg.layers.computed import (
    KernelSize,
    WeightedLayerSpec,
    activation_modules,
    check_skip_widths,
)
from netcfg.layers.fully_connected import clip_rows
from netcfg.layers.init import init_weight_
from netcfg.layers.registry import BuildContext, Built, Shape, register_layer
from netcfg.layers.spatial import Grid, Window, flat_sources, kernel_tuple, read_grid
from netcfg.spec_base import spec_error, spec_field

__all__ = ["Convolution", "ConvolutionalLayerSpec", "build_convolutional"]

_CONVOLVE = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_BATCH_NORM = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}


class ConvolutionalLayerSpec(WeightedLayerSpec):
    """A Hidden or Output layer convolving its sources with learned filters."""

    Type: LayerTypeName = spec_field(LayerType.Convolutional, description="Convolutional.")
    N: Width = spec_field(
        description="Number of filters; the layer's dimensions are the output grid, then "
        'the filters ([x, y, N] for a 2-D Kernel). The whole dimensions, or "auto" on an '
        "Output layer, are also accepted and checked."
    )
    Kernel: KernelSize = spec_field(
        1, description="Filter size: x, [x], [x, y] or [x, y, z] (1-D, 2-D or 3-D convolution)."
    )
    KernelStride: KernelSize = spec_field(
        1,
        description="Stride along each Kernel axis; axes not given are 1 (an integer strides "
        "x only, as in DSSTNE). Stride 1 keeps the size.",
    )

    @field_validator("KernelStride")
    @classmethod
    def _stride_axes(cls, stride: Any, info: ValidationInfo) -> Any:
        kernel = info.data.get("Kernel")
        if kernel is not None and len(kernel_tuple(stride)) > len(kernel_tuple(kernel)):
            raise spec_error(
                f"KernelStride has {len(kernel_tuple(stride))} axes but Kernel has "
                f"{len(kernel_tuple(kernel))}; give one stride per Kernel axis"
            )
        return stride

    @field_validator("SharedWeights")
    @classmethod
    def _no_sharing(cls, shares: tuple) -> tuple:
        if shares:
            raise spec_error("SharedWeights is not supported on Convolutional layers")
        return shares


class Convolution(ActivatedLayer):
    """``activation(BN(sum_i conv(x_i, W_i) + b + skips))``, then dropout in training.

    Sources and the output are flat [batch, units] tensors in DSSTNE's order (x fastest),
    read as [batch, channels, ..., y, x] (`netcfg.layers.spatial`).

    Args:
        in_channels: channels of each source.
        grid: the sources' grid, DSSTNE order (x first); one axis per kernel axis.
        filters: number of filters (output channels).
        kernel: filter size per axis, DSSTNE order.
        stride: step per axis (default 1 everywhere).
        activation: module applied to the pre-activation (default identity).
        dropout: module applied to the activation in training (default none).
        batch_norm: batch-normalize each filter's responses.
        delta_norm: clip each example's gradient of the pre-activation to this L2 norm.
        weight_norm: `apply_weight_norm_` caps each filter's weights at this L2 norm.

    Example:
        >>> layer = Convolution([3], (8, 8), 4, (3, 3))
        >>> layer([torch.randn(2, 8 * 8 * 3)]).shape, layer.dims
        (torch.Size([2, 256]), (8, 8, 4))
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        grid: Sequence[int],
        filters: int,
        kernel: Sequence[int],
        stride: Sequence[int] | None = None,
        *,
        activation: nn.Module | None = None,
        dropout: nn.Module | None = None,
        batch_norm: bool = False,
        delta_norm: float = 0.0,
        weight_norm: float = 0.0,
    ):
        super().__init__()
        kernel = tuple(kernel)
        stride = tuple(stride) if stride is not None else (1,) * len(kernel)
        if len(kernel) not in _CONVOLVE:
            raise ValueError(f"a kernel has 1 to 3 axes, got {kernel}")
        self.window = Window(kernel, stride, tuple(grid))
        self.inputs = [Grid(self.window.grid, c) for c in in_channels]
        self.output = Grid(self.window.extent, filters)
        self.weights = nn.ParameterList(
            nn.Parameter(torch.empty(filters, c, *kernel[::-1])) for c in in_channels
        )
        self.bias = nn.Parameter(torch.zeros(filters))
        for matrix in self.filter_matrices():
            init_weight_(matrix, WeightInitScheme.Xavier)
        self.batch_norm = _BATCH_NORM[len(kernel)](filters) if batch_norm else None
        self.activation = activation if activation is not None else nn.Identity()
        self.dropout = dropout
        self.delta_norm = delta_norm
        self.weight_norm = weight_norm

    @property
    def dims(self) -> tuple[int, ...]:
        """The output's dimensions: the output grid, then the filters (DSSTNE order)."""
        return self.output.dims

    def filter_matrices(self) -> list[Tensor]:
        """Each source's weights as a [channels x kernel, filters] view, the [fan_in,
        fan_out] layout `init_weight_` fills."""
        return [weight.view(weight.shape[0], -1).t() for weight in self.weights]

    def preactivate(
        self, inputs: Sequence[Tensor | SparseBatch], skips: Sequence[Tensor] = ()
    ) -> Tensor:
        """The summed filter responses, bias and skips (batch-normalized if asked), flat."""
        convolve = _CONVOLVE[len(self.window.kernel)]
        args = self.window.torch_args()
        z = None
        for weight, grid, x in zip(self.weights, self.inputs, inputs, strict=True):
            dense = x.to_dense() if isinstance(x, SparseBatch) else x
            y = convolve(grid.view(dense), weight, None, args["stride"], args["padding"])
            y = self.window.crop(y)
            z = y if z is None else z + y
        z = z + self.bias.view(1, -1, *(1,) * len(self.window.kernel))
        if skips:
            z = z + self.output.view(sum(s.flatten(1) for s in skips))
        if self.batch_norm is not None:
            z = self.batch_norm(z)
        z = z.flatten(1)
        if self.training and self.delta_norm > 0 and z.requires_grad:
            z.register_hook(partial(clip_rows, max_norm=self.delta_norm))
        return z

    @torch.no_grad()
    def apply_weight_norm_(self) -> None:
        """Cap the L2 norm of each filter's weights (per source) at ``weight_norm``."""
        if self.weight_norm <= 0:
            return
        for weight in self.weights:
            norms = weight.flatten(1).norm(dim=1).clamp_min(1e-12)
            factor = (self.weight_norm / norms).clamp(max=1.0)
            weight.mul_(factor.view(-1, *(1,) * (weight.dim() - 1)))

    def extra_repr(self) -> str:
        window = self.window
        return (
            f"in={[g.dims for g in self.inputs]}, out={self.dims}, kernel={window.kernel}, "
            f"stride={window.stride}, padding={window.padding}"
        )


@register_layer("Convolutional")
def build_convolutional(spec: ConvolutionalLayerSpec, ctx: BuildContext) -> Built:
    """Build a `Convolution` from its spec and its sources' shapes."""
    kernel = kernel_tuple(spec.Kernel)
    stride = kernel_tuple(spec.KernelStride)
    stride = (*stride, *(1,) * (len(kernel) - len(stride)))
    problem = flat_sources(spec.Source, [shape.dims for shape in ctx.sources], len(kernel))
    if problem:
        raise ctx.error(problem, "Kernel")
    grids = [read_grid(shape.dims, len(kernel)) for shape in ctx.sources]
    if len({g.size for g in grids}) > 1:
        listing = ", ".join("x".join(map(str, g.size)) for g in grids)
        raise ctx.error(
            f"the sources of a Convolutional layer must have the same grid along the "
            f"{len(kernel)} Kernel axes (got {listing})",
            "Source",
        )
    extent = Window(kernel, stride, grids[0].size).extent
    filters = _filters(ctx, extent, flat=spec.N == "auto")
    activation, dropout = activation_modules(spec)
    module = Convolution(
        [g.channels for g in grids],
        grids[0].size,
        filters,
        kernel,
        stride,
        activation=activation,
        dropout=dropout,
        batch_norm=spec.BatchNormalization,
        delta_norm=spec.DeltaNorm,
        weight_norm=spec.WeightNorm,
    )
    out = Shape(module.dims)
    check_skip_widths(spec, ctx, out)
    for matrix in module.filter_matrices():
        init_weight_(matrix, spec.WeightInit.Scheme, spec.WeightInit.Scale)
    with torch.no_grad():
        module.bias.fill_(spec.WeightInit.Bias)
    return Built(module, out)


def _filters(ctx: BuildContext, extent: tuple[int, ...], *, flat: bool) -> int:
    """The number of filters ``N`` gives: N itself, or the last of whole dimensions that
    must then be the output grid and the filters. ``flat``: a one-number width is the
    whole layer's (``"auto"`` from flat data), a multiple of the grid's positions."""
    dims = ctx.dims or ()
    positions = math.prod(extent)
    if len(dims) == 1 and not flat:
        return dims[0]
    if len(dims) == 1 and dims[0] % positions == 0:
        return dims[0] // positions
    if len(dims) == len(extent) + 1 and dims[:-1] == extent:
        return dims[-1]
    grid = "x".join(map(str, extent))
    raise ctx.error(
        f"N is {'x'.join(map(str, dims))}, but this layer's output grid is {grid}: give the "
        f"number of filters, or the dimensions {grid}xFILTERS",
        "N",
    )
