"""The spatial Pooling functions: Max, Average, LRN and Maxout (modules; the spec and the
builder are in `netcfg.layers.pooling`).

As in DSSTNE's ``NNLayer::ForwardPropagatePooling``, a layer of several sources pools each
and sums the results (cuDNN's beta = 1 after the first source), except Maxout, which takes
the elementwise maximum of its sources; ``Skip`` layers are then added. netcfg then applies
the layer's Activation (Linear by default, so nothing) and dropout, as for DotProduct.
Sources and outputs are flat [batch, units] tensors in DSSTNE's order
(`netcfg.layers.spatial`).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from netcfg.data.batch import SparseBatch
from netcfg.layers.activated import ActivatedLayer, add_skips
from netcfg.layers.spatial import Grid, Window

__all__ = ["LocalResponseNorm", "Maxout", "WindowPool", "WindowPooling"]


def _dense(x: Tensor | SparseBatch) -> Tensor:
    return x.to_dense() if isinstance(x, SparseBatch) else x.flatten(1)


class _Pooled(ActivatedLayer):
    """What every pooling module shares: skips, activation, dropout."""

    def __init__(self, activation: nn.Module | None, dropout: nn.Module | None):
        super().__init__()
        self.activation = activation if activation is not None else nn.Identity()
        self.dropout = dropout

    def combine(self, sources: Sequence[Tensor]) -> Tensor:
        """The pooled value of the (dense, flat) sources."""
        raise NotImplementedError

    def preactivate(
        self, inputs: Sequence[Tensor | SparseBatch], skips: Sequence[Tensor] = ()
    ) -> Tensor:
        """The pooled sources plus skips, flat."""
        z = self.combine([_dense(x) for x in inputs])
        return add_skips(z, skips)


class WindowPool(str, enum.Enum):
    """How a window is reduced."""

    Max = "Max"
    Average = "Average"


_POOL = {
    WindowPool.Max: {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d},
    WindowPool.Average: {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d},
}


class WindowPooling(_Pooled):
    """Max or average over a window slid over each channel's grid (DSSTNE's padding;
    padded positions never count: cuDNN's max pooling and
    ``CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING``).

    Args:
        function: Max or Average.
        grid: the sources' grid, DSSTNE order (x first).
        channels: channels of the sources.
        kernel: window size per grid axis (1 to 3 axes), DSSTNE order.
        stride: step per axis (default: 1 everywhere).
        activation: module applied to the pooled values (default identity).
        dropout: module applied after the activation in training.

    Example:
        >>> pool = WindowPooling("Max", (4, 4), 2, (2, 2), (2, 2))
        >>> pool([torch.randn(3, 32)]).shape, pool.dims
        (torch.Size([3, 8]), (2, 2, 2))
    """

    def __init__(
        self,
        function: WindowPool | str,
        grid: Sequence[int],
        channels: int,
        kernel: Sequence[int],
        stride: Sequence[int] | None = None,
        *,
        activation: nn.Module | None = None,
        dropout: nn.Module | None = None,
    ):
        super().__init__(activation, dropout)
        self.function = WindowPool(function)
        kernel = tuple(kernel)
        stride = tuple(stride) if stride is not None else (1,) * len(kernel)
        if len(kernel) not in _POOL[self.function]:
            raise ValueError(f"a pooling window has 1 to 3 axes, got {kernel}")
        self.window = Window(kernel, stride, tuple(grid))
        self.input = Grid(self.window.grid, channels)
        self.output = Grid(self.window.extent, channels)

    @property
    def dims(self) -> tuple[int, ...]:
        """The output grid, then the channels (DSSTNE order)."""
        return self.output.dims

    def pool(self, x: Tensor) -> Tensor:
        """One source pooled: flat [batch, units] in, flat out."""
        reduce = _POOL[self.function][len(self.window.kernel)]
        args = self.window.torch_args()
        if self.function is WindowPool.Average:
            args["count_include_pad"] = False
        return self.window.crop(reduce(self.input.view(x), **args)).flatten(1)

    def combine(self, sources: Sequence[Tensor]) -> Tensor:
        return torch.stack([self.pool(x) for x in sources]).sum(0)

    def extra_repr(self) -> str:
        window = self.window
        return (
            f"{self.function.value}, in={self.input.dims}, out={self.dims}, "
            f"kernel={window.kernel}, stride={window.stride}, padding={window.padding}"
        )


class LocalResponseNorm(_Pooled):
    """Cross-channel local response normalization (cuDNN's, which DSSTNE calls):
    ``y_c = x_c / (k + alpha / n * sum of x_j^2 over the n channels j around c) ** beta``,
    zeros beyond the first and last channel; the channels are the layer's last dimension.

    Args:
        dims: the sources' dimensions (DSSTNE order); the last are the channels.
        size: n, channels in the window (centred; for even n one more before than after,
            as ``torch.nn.functional.local_response_norm``).
        alpha, beta, k: the formula's constants.
        activation, dropout: applied after (defaults: none).
    """

    def __init__(
        self,
        dims: Sequence[int],
        size: int = 5,
        alpha: float = 1e-4,
        beta: float = 0.75,
        k: float = 2.0,
        *,
        activation: nn.Module | None = None,
        dropout: nn.Module | None = None,
    ):
        super().__init__(activation, dropout)
        dims = tuple(dims)
        self.grid = Grid(dims[:-1] or (1,), dims[-1])
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def combine(self, sources: Sequence[Tensor]) -> Tensor:
        normed = [
            F.local_response_norm(
                self.grid.view(x), self.size, alpha=self.alpha, beta=self.beta, k=self.k
            ).flatten(1)
            for x in sources
        ]
        return torch.stack(normed).sum(0)

    def extra_repr(self) -> str:
        return f"n={self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class Maxout(_Pooled):
    """The elementwise maximum of equally shaped sources (DSSTNE's Maxout pooling; one
    source passes unchanged). The gradient goes to the source holding the maximum (split
    evenly on ties).

    Example:
        >>> Maxout()([torch.tensor([[1.0, 5.0]]), torch.tensor([[3.0, 2.0]])])
        tensor([[3., 5.]])
    """

    def __init__(self, *, activation: nn.Module | None = None, dropout: nn.Module | None = None):
        super().__init__(activation, dropout)

    def combine(self, sources: Sequence[Tensor]) -> Tensor:
        return torch.stack(sources).amax(0)
