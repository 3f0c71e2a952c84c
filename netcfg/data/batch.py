"""A minibatch of sparse rows in CSR form: what sparse Input and Output layers consume."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["SparseBatch"]


@dataclass(frozen=True)
class SparseBatch:
    """Rows of a sparse matrix in CSR form (compressed sparse rows).

    Row ``b`` holds the columns ``indices[offsets[b]:offsets[b+1]]`` with the values
    ``values[offsets[b]:offsets[b+1]]``; ``values`` is None for indicator data (every
    stored entry is 1, as DSSTNE's Boolean datasets).

    Attributes:
        offsets: int64 tensor of shape [batch + 1], starting at 0, non-decreasing.
        indices: int64 tensor of shape [nnz], column of each stored entry.
        values: float tensor of shape [nnz], or None for all ones.
        num_columns: the width of the rows (the catalogue size).
        catalogue: the width of the catalogue whose columns were renumbered to these
            (`renumbered`); None when the columns are the catalogue's own.

    Example:
        >>> batch = SparseBatch.from_dense(torch.tensor([[0.0, 2.0], [1.0, 0.0]]))
        >>> batch.indices.tolist(), batch.offsets.tolist()
        ([1, 0], [0, 1, 2])
    """

    offsets: Tensor
    indices: Tensor
    values: Tensor | None
    num_columns: int
    catalogue: int | None = None

    @property
    def batch_size(self) -> int:
        """Number of rows."""
        return self.offsets.numel() - 1

    @property
    def nnz(self) -> int:
        """Number of stored entries."""
        return self.indices.numel()

    @property
    def device(self) -> torch.device:
        """Device of the index tensors."""
        return self.indices.device

    @property
    def density(self) -> float:
        """Stored entries over the cells of the rows, counted in the catalogue's columns
        (a renumbered batch is as dense as the batch it came from)."""
        cells = self.batch_size * (self.catalogue or self.num_columns)
        return self.nnz / cells if cells else 0.0

    def renumbered(self, columns: Tensor) -> SparseBatch:
        """The same rows over the columns ``columns`` only (increasing, holding every
        stored column): column ``columns[k]`` becomes column ``k``."""
        return SparseBatch(
            self.offsets,
            torch.searchsorted(columns, self.indices),
            self.values,
            columns.numel(),
            self.catalogue or self.num_columns,
        )

    def row_ids(self) -> Tensor:
        """The row of every stored entry, an int64 tensor of shape [nnz]."""
        counts = self.offsets[1:] - self.offsets[:-1]
        rows = torch.arange(self.batch_size, device=self.offsets.device)
        return torch.repeat_interleave(rows, counts, output_size=self.nnz)

    def values_or_ones(self, dtype: torch.dtype = torch.float32) -> Tensor:
        """The stored values, with ones standing in for indicator data."""
        if self.values is None:
            return torch.ones(self.nnz, dtype=dtype, device=self.indices.device)
        return self.values.to(dtype)

    def with_values(self, values: Tensor | None) -> SparseBatch:
        """The same sparsity pattern with other values."""
        return dataclasses.replace(self, values=values)

    def to_dense(self, dtype: torch.dtype | None = None) -> Tensor:
        """A dense [batch, num_columns] tensor (duplicate entries in a row are summed).

        Args:
            dtype: the result's dtype; default that of the values (float32 for indicator
                data).
        """
        if dtype is None:
            dtype = self.values.dtype if self.values is not None else torch.float32
        dense = torch.zeros(self.batch_size, self.num_columns, dtype=dtype, device=self.device)
        dense.index_put_(
            (self.row_ids(), self.indices), self.values_or_ones(dtype), accumulate=True
        )
        return dense

    def to(self, device: torch.device | str) -> SparseBatch:
        """The batch on another device."""
        values = None if self.values is None else self.values.to(device)
        return dataclasses.replace(
            self, offsets=self.offsets.to(device), indices=self.indices.to(device), values=values
        )

    @classmethod
    def from_dense(cls, dense: Tensor) -> SparseBatch:
        """The nonzero entries of a dense [batch, columns] tensor, as a batch."""
        rows, cols = dense.nonzero(as_tuple=True)
        counts = torch.bincount(rows, minlength=dense.shape[0])
        offsets = torch.zeros(dense.shape[0] + 1, dtype=torch.int64, device=dense.device)
        offsets[1:] = torch.cumsum(counts, 0)
        return cls(offsets, cols, dense[rows, cols], dense.shape[1])
