"""Weighted connections: ``x @ W`` for a dense or a sparse (CSR) input batch.

A `Projection` owns a weight and stores it in one of two layouts: ``rows="in"``,
[in_features, out_features] (DSSTNE's layout: each input feature owns a row, so a sparse
input reads, and its gradient touches, only the rows of the features in the batch), or
``rows="out"``, [out_features, in_features] (each output unit owns a row, so an output
layer computed only at observed entries reads and updates only their rows). ``matrix()``
is the [in, out] matrix either way.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from netcfg.data.batch import SparseBatch
from netcfg.layers.common import WeightInitScheme
from netcfg.layers.init import init_weight_
from netcfg.layers.kernels import sparse_matmul

__all__ = ["Projection", "RowLayout", "SharedProjection", "project"]

RowLayout = Literal["in", "out"]
"""Which units own the rows of a stored weight: the inputs' or the outputs'."""


def project(x: Tensor | SparseBatch, matrix: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ matrix (+ bias)`` for a dense [B, in] tensor or a sparse batch with ``in`` columns.

    A sparse batch is multiplied from the matrix rows of its stored columns, without
    building the dense input; when ``matrix`` is a stored weight (a leaf tensor) its
    gradient is row-sparse. A dense product adds the bias in the same call (``addmm``).

    Example:
        >>> w = torch.arange(6.0).view(3, 2)
        >>> project(SparseBatch.from_dense(torch.tensor([[0.0, 2.0, 0.0]])), w)
        tensor([[4., 6.]])
    """
    if not isinstance(x, SparseBatch):
        dense = x.flatten(1)
        return dense @ matrix if bias is None else torch.addmm(bias, dense, matrix)
    values = x.values_or_ones(matrix.dtype)
    if matrix.is_contiguous():
        out = sparse_matmul(x.offsets, x.indices, values, matrix, sparse_grad=matrix.is_leaf)
    else:
        rows = matrix.index_select(0, x.indices) * values.unsqueeze(1)
        out = matrix.new_zeros(x.batch_size, matrix.shape[1]).index_add_(0, x.row_ids(), rows)
    return out if bias is None else out + bias


class Projection(nn.Module):
    """A connection with a weight of its own.

    Args:
        in_features: width of the input.
        out_features: width of the output.
        rows: the stored layout: ``"in"`` for [in_features, out_features] (best for a
            sparse input), ``"out"`` for [out_features, in_features] (best for an output
            computed at observed entries only).
    """

    def __init__(self, in_features: int, out_features: int, *, rows: RowLayout = "in"):
        super().__init__()
        if rows not in ("in", "out"):
            raise ValueError(f"rows must be 'in' or 'out', got {rows!r}")
        self.rows = rows
        shape = (in_features, out_features) if rows == "in" else (out_features, in_features)
        self.weight = nn.Parameter(torch.empty(shape))
        init_weight_(self.matrix(), WeightInitScheme.Xavier)

    @property
    def in_features(self) -> int:
        """Width of the input."""
        return self.weight.shape[0 if self.rows == "in" else 1]

    @property
    def out_features(self) -> int:
        """Width of the output."""
        return self.weight.shape[1 if self.rows == "in" else 0]

    def matrix(self) -> Tensor:
        """The [in_features, out_features] matrix this connection multiplies by."""
        return self.weight if self.rows == "in" else self.weight.t()

    def output_rows(self) -> Tensor:
        """The same matrix transposed, [out_features, in_features]: one row per output unit."""
        return self.weight if self.rows == "out" else self.weight.t()

    def row_weight(self, side: RowLayout) -> nn.Parameter | None:
        """The stored weight when each of its rows belongs to one unit of ``side`` (``"in"``:
        an input feature, ``"out"``: an output unit); None when the rows are the other
        side's."""
        return self.weight if self.rows == side else None

    def forward(self, x: Tensor | SparseBatch, bias: Tensor | None = None) -> Tensor:
        return project(x, self.matrix(), bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, rows={self.rows}"


class SharedProjection(nn.Module):
    """A connection that borrows the weight of another `Projection`, maybe transposed.

    The owner is referenced, not registered as a submodule, so the weight appears once in
    ``parameters()`` and ``state_dict()``; gradients of both uses add up in it. Keep the
    owner inside the same parent module so that ``.to()`` moves it too.

    Args:
        owner: the connection whose weight is used.
        transposed: use the owner's matrix transposed (a tied decoder).
    """

    def __init__(self, owner: Projection, *, transposed: bool = False):
        super().__init__()
        self._owner = (owner,)  # a tuple: not registered as a submodule
        self.transposed = transposed

    @property
    def owner(self) -> Projection:
        """The connection that owns the weight."""
        return self._owner[0]

    @property
    def in_features(self) -> int:
        """Width of the input."""
        return self.owner.out_features if self.transposed else self.owner.in_features

    @property
    def out_features(self) -> int:
        """Width of the output."""
        return self.owner.in_features if self.transposed else self.owner.out_features

    def matrix(self) -> Tensor:
        """The [in_features, out_features] matrix this connection multiplies by."""
        return self.owner.output_rows() if self.transposed else self.owner.matrix()

    def output_rows(self) -> Tensor:
        """The same matrix transposed, [out_features, in_features]: one row per output unit."""
        return self.owner.matrix() if self.transposed else self.owner.output_rows()

    def row_weight(self, side: RowLayout) -> nn.Parameter | None:
        """The owner's stored weight when each of its rows belongs to one unit of ``side``
        of this connection (transposing swaps the sides); else None."""
        if self.transposed:
            side = "out" if side == "in" else "in"
        return self.owner.row_weight(side)

    def forward(self, x: Tensor | SparseBatch, bias: Tensor | None = None) -> Tensor:
        return project(x, self.matrix(), bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"transposed={self.transposed}"
        )
