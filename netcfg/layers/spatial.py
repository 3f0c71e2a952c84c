"""Shape maths of Convolutional and Pooling layers, read from DSSTNE.

Layout. DSSTNE writes a layer's dimensions [x, y, z, w], x varying fastest, and hands a
layer of 2, 3 or 4 dimensions to cuDNN as (batch, y, x), (batch, z, y, x) or
(batch, w, z, y, x) (``NNLayer::Allocate``): the last dimension is the channel axis and the
others are the grid, in reverse. netcfg passes every layer as a flat [batch, units] tensor
in that order, which in torch's C order *is* a [batch, channels, ..., y, x] tensor, so
reading a layer as an image is a view. A K-dimensional kernel reads its source's first K
dimensions as the grid (missing ones are 1) and the others, multiplied, as channels; DSSTNE
itself reads only the dimension after the kernel's (the filter descriptor's input
channels), which is the same for every layer DSSTNE can build.

Size and padding (``CalculateDerivedLayerDimensions``, ``CalculateConvolutionDimensions``;
there is no padding key). Along each kernel axis of width w, kernel f and stride s:

- the output extent is 1 if w <= f, w if s = 1, else (w - f) // s + 1 (so stride 1 is
  "same" convolution);
- the padding on each side is (f - w + 1) // 2 if w < f, f // 2 if s = 1, else 0.

The window is slid over the padded input and the first ``extent`` positions are kept.
For odd kernels that is exactly cuDNN's result; where DSSTNE's extent is shorter than the
padded slide gives (an even kernel at stride 1, or w <= f), DSSTNE's own cuDNN call would
be handed mismatched sizes, and netcfg keeps the leading positions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from torch import Tensor

__all__ = [
    "Grid",
    "Window",
    "flat_sources",
    "kernel_tuple",
    "output_extent",
    "padding",
    "read_grid",
]


def kernel_tuple(value: int | Sequence[int]) -> tuple[int, ...]:
    """``Kernel`` or ``KernelStride`` as a tuple in DSSTNE order (x, then y, then z)."""
    return (value,) if isinstance(value, int) else tuple(value)


def output_extent(width: int, kernel: int, stride: int) -> int:
    """Positions along one axis (DSSTNE's ``CalculateConvolutionDimensions``).

    Example:
        >>> output_extent(32, 7, 1), output_extent(32, 4, 2), output_extent(3, 5, 1)
        (32, 15, 1)
    """
    if width <= kernel:
        return 1
    if stride == 1:
        return width
    return (width - kernel) // stride + 1


def padding(width: int, kernel: int, stride: int) -> int:
    """Zero padding on each side of one axis, as DSSTNE derives it.

    Example:
        >>> padding(32, 7, 1), padding(32, 4, 2), padding(3, 6, 2)
        (3, 0, 2)
    """
    if width < kernel:
        return (kernel - width + 1) // 2
    return kernel // 2 if stride == 1 else 0


@dataclass(frozen=True)
class Grid:
    """A layer's units read as channels over a grid.

    Attributes:
        size: extent of each grid axis, in DSSTNE order (x first).
        channels: units at each grid position.
    """

    size: tuple[int, ...]
    channels: int

    @property
    def dims(self) -> tuple[int, ...]:
        """The layer's dimensions: the grid, then the channels."""
        return (*self.size, self.channels)

    def view(self, x: Tensor) -> Tensor:
        """A flat [batch, units] tensor as [batch, channels, ..., y, x] (no copy)."""
        return x.reshape(x.shape[0], self.channels, *reversed(self.size))


def read_grid(dims: Sequence[int], rank: int) -> Grid:
    """How a kernel of ``rank`` axes reads a layer of ``dims``: the first ``rank``
    dimensions (1 where the layer has fewer) as the grid, the product of the rest as
    channels.

    Example:
        >>> read_grid((32, 32, 3), 2), read_grid((64,), 2)
        (Grid(size=(32, 32), channels=3), Grid(size=(64, 1), channels=1))
    """
    dims = tuple(dims)
    size = (*dims[:rank], *(1,) * (rank - len(dims)))
    return Grid(size, math.prod(dims[rank:]))


def flat_sources(names: Sequence[str], dims: Sequence[Sequence[int]], rank: int) -> str | None:
    """Why a kernel of ``rank`` axes cannot read these sources, or None: a source with
    fewer dimensions than the kernel has axes (flat data fed without its image shape).

    Example:
        >>> flat_sources(["Input"], [(3072,)], 2)[:45]
        "a 2-D Kernel reads a grid, but source 'Input'"
    """
    for name, shape in zip(names, dims, strict=True):
        if len(shape) < rank:
            shown = "x".join(map(str, shape))
            return (
                f"a {rank}-D Kernel reads a grid, but source '{name}' has dimensions {shown}; "
                "give the source its dimensions (N: [x, y, channels] on a layer, or data of "
                'those dimensions for "auto")'
            )
    return None


@dataclass(frozen=True)
class Window:
    """A kernel slid over a grid: its size and strides (DSSTNE order) and what follows.

    Attributes:
        kernel: window size along each grid axis.
        stride: step along each grid axis.
        grid: the extent of the grid it slides over.
    """

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    grid: tuple[int, ...]

    def __post_init__(self) -> None:
        if not len(self.kernel) == len(self.stride) == len(self.grid):
            raise ValueError(
                f"kernel {self.kernel}, stride {self.stride} and grid {self.grid} must have "
                "one entry per axis"
            )

    @property
    def extent(self) -> tuple[int, ...]:
        """Output positions along each axis (DSSTNE order)."""
        return tuple(map(output_extent, self.grid, self.kernel, self.stride))

    @property
    def padding(self) -> tuple[int, ...]:
        """Padding on each side of each axis (DSSTNE order)."""
        return tuple(map(padding, self.grid, self.kernel, self.stride))

    def torch_args(self) -> dict[str, tuple[int, ...]]:
        """``kernel_size``, ``stride`` and ``padding`` in torch's axis order (x last)."""
        return {
            "kernel_size": self.kernel[::-1],
            "stride": self.stride[::-1],
            "padding": self.padding[::-1],
        }

    def crop(self, y: Tensor) -> Tensor:
        """The first ``extent`` positions of a [batch, channels, ..., y, x] result."""
        keep = tuple(slice(0, e) for e in reversed(self.extent))
        return y[(slice(None), slice(None), *keep)]
