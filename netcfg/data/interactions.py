"""The interaction matrix: sparse rows (CSR) with the original ids of rows and columns.

Built from coordinate lists without Python loops: entries are ordered by one sort of
packed (row, column, position) keys, duplicates are resolved by a stated policy, and
minibatches are cut out of the CSR arrays by vectorized slicing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from netcfg.data.batch import SparseBatch
from netcfg.data.ids import IdIndex
from netcfg.errors import DataError

__all__ = ["DuplicateEntryError", "DuplicatePolicy", "Interactions"]


class DuplicateEntryError(DataError):
    """A (row, column) pair given twice under the ``error`` policy.

    Attributes:
        entries: the positions (in input order) of the pair's first entry and of the
            earliest entry that repeats an earlier one, so a reader can name their lines.
    """

    def __init__(self, pair: str, entries: tuple[int, int], where: str = ""):
        super().__init__(f"{pair} is given more than once{where} {_CHOOSE}")
        self.pair = pair
        self.entries = entries


_CHOOSE = "(choose a duplicates policy other than 'error': latest, last, first or sum)"


class DuplicatePolicy(str, enum.Enum):
    """What to do with a (row, column) pair given more than once."""

    latest = "latest"
    """keep the entry with the latest time (the last one when times are equal or absent)"""
    last = "last"
    first = "first"
    sum = "sum"
    """add the values (e.g. play counts); the time is the latest"""
    error = "error"


@dataclass(frozen=True, eq=False)
class Interactions:
    """A sparse matrix of interactions in CSR form, with id indexes.

    Attributes:
        indptr: int64 [rows + 1]; row r holds entries ``indptr[r]:indptr[r+1]``.
        indices: int32 [nnz], the column of each entry (ascending within a row).
        values: float32 [nnz], or None when every entry is 1 (implicit feedback).
        times: int64 [nnz] timestamps, or None.
        rows: original ids of the rows.
        columns: original ids of the columns.
        orientation: ``"user"`` when rows are users, ``"item"`` when rows are items.
        meta: provenance (source, duplicates, ...), saved with the matrix.
    """

    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray | None
    times: np.ndarray | None
    rows: IdIndex
    columns: IdIndex
    orientation: str = "user"
    meta: dict = field(default_factory=dict, compare=False)

    def __eq__(self, other: object) -> bool:
        """Same entries, values, times, ids and orientation (metadata aside)."""
        if not isinstance(other, Interactions):
            return NotImplemented
        return (
            self.orientation == other.orientation
            and self.rows == other.rows
            and self.columns == other.columns
            and np.array_equal(self.indptr, other.indptr)
            and np.array_equal(self.indices, other.indices)
            and _same(self.values, other.values)
            and _same(self.times, other.times)
        )

    __hash__ = None

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return len(self.rows), len(self.columns)

    @property
    def nnz(self) -> int:
        """Number of stored entries."""
        return int(self.indices.shape[0])

    @property
    def density(self) -> float:
        """Stored entries over rows x columns."""
        rows, cols = self.shape
        return self.nnz / (rows * cols) if rows and cols else 0.0

    def row_counts(self) -> np.ndarray:
        """Entries per row."""
        return np.diff(self.indptr)

    def column_counts(self) -> np.ndarray:
        """Entries per column."""
        return np.bincount(self.indices, minlength=self.shape[1])

    def row_of_entries(self) -> np.ndarray:
        """The row of every entry (int64 [nnz])."""
        return np.repeat(np.arange(self.shape[0], dtype=np.int64), self.row_counts())

    def values_or_ones(self) -> np.ndarray:
        """The values, with ones for implicit data."""
        return self.values if self.values is not None else np.ones(self.nnz, np.float32)

    def entries(self, keep: np.ndarray) -> Interactions:
        """The same shape and ids with only the entries where ``keep`` (bool [nnz]) holds."""
        counts = np.bincount(self.row_of_entries()[keep], minlength=self.shape[0])
        indptr = np.zeros(self.shape[0] + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return replace(
            self,
            indptr=indptr,
            indices=self.indices[keep],
            values=None if self.values is None else self.values[keep],
            times=None if self.times is None else self.times[keep],
        )

    def with_values(self, values: np.ndarray | None) -> Interactions:
        """The same entries with other values (None: implicit)."""
        return replace(self, values=values)

    def transpose(self) -> Interactions:
        """The matrix with rows and columns swapped (items as rows for I-AutoRec)."""
        order = np.argsort(self.indices, kind="stable")
        counts = self.column_counts()
        indptr = np.zeros(self.shape[1] + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return Interactions(
            indptr=indptr,
            indices=self.row_of_entries()[order].astype(np.int32),
            values=None if self.values is None else self.values[order],
            times=None if self.times is None else self.times[order],
            rows=self.columns,
            columns=self.rows,
            orientation="item" if self.orientation == "user" else "user",
            meta=self.meta,
        )

    def batch(self, rows: np.ndarray) -> SparseBatch:
        """The given rows as a `SparseBatch`, cut from the CSR arrays without a Python loop.

        Example:
            >>> batch = matrix.batch(np.array([3, 0, 7]))
            >>> batch.batch_size
            3
        """
        rows = np.asarray(rows, dtype=np.int64)
        starts = self.indptr[rows]
        lengths = self.indptr[rows + 1] - starts
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        source = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
        values = None if self.values is None else torch.from_numpy(self.values[source])
        return SparseBatch(
            torch.from_numpy(offsets),
            torch.from_numpy(self.indices[source].astype(np.int64)),
            values,
            self.shape[1],
        )

    @classmethod
    def from_coo(
        cls,
        rows: np.ndarray,
        columns: np.ndarray,
        values: np.ndarray | None,
        times: np.ndarray | None,
        row_ids: IdIndex,
        column_ids: IdIndex,
        *,
        duplicates: DuplicatePolicy = DuplicatePolicy.latest,
        orientation: str = "user",
    ) -> tuple[Interactions, int]:
        """Build a CSR matrix from coordinates (row, column numbers of each entry).

        Entries are ordered by row, then column; a pair given several times is resolved
        by ``duplicates``.

        Returns:
            The matrix and the number of entries dropped as duplicates.

        Raises:
            DataError: duplicates under the ``error`` policy.
        """
        n_rows, n_cols = len(row_ids), len(column_ids)
        order, keys = _sorted_order(rows.astype(np.int64) * n_cols + columns, len(rows))
        repeated = keys[1:] == keys[:-1]
        keep = np.ones(len(order), dtype=bool)
        if repeated.any():
            if duplicates is DuplicatePolicy.error:
                # the earliest entry repeating an earlier one; the entry before it in the
                # stable order is the first of its pair
                repeats = np.flatnonzero(repeated) + 1
                at = int(repeats[np.argmin(order[repeats])])
                row, col = divmod(int(keys[at]), n_cols)
                raise DuplicateEntryError(
                    f"({row_ids.ids[row]}, {column_ids.ids[col]})",
                    (int(order[at - 1]), int(order[at])),
                )
            values, times, keep = _resolve(order, repeated, values, times, duplicates)
        order, keys = order[keep], keys[keep]
        indptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(keys // n_cols, minlength=n_rows), out=indptr[1:])
        matrix = cls(
            indptr=indptr,
            indices=(keys % n_cols).astype(np.int32),
            values=None if values is None else values[order].astype(np.float32),
            times=None if times is None else times[order].astype(np.int64),
            rows=row_ids,
            columns=column_ids,
            orientation=orientation,
        )
        return matrix, int((~keep).sum())


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return np.array_equal(a, b)


def _sorted_order(keys: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """A stable sorting permutation of ``keys`` and the sorted keys.

    When key and position fit in 63 bits together, they are packed into one integer and
    sorted by value, which is several times faster than an argsort.
    """
    position_bits = max(1, int(count).bit_length())
    key_bits = int(keys.max()).bit_length() if count else 0
    if key_bits + position_bits <= 63:
        packed = (keys << position_bits) | np.arange(count, dtype=np.int64)
        packed.sort()
        return packed & ((1 << position_bits) - 1), packed >> position_bits
    order = np.argsort(keys, kind="stable")
    return order, keys[order]


def _resolve(order, repeated, values, times, policy):
    """Choose one entry of each group of equal keys (sorted, in file order within a group)."""
    first_of_group = np.concatenate(([True], ~repeated))
    last_of_group = np.concatenate((~repeated, [True]))
    if policy is DuplicatePolicy.first:
        return values, times, first_of_group
    if policy is DuplicatePolicy.sum:
        starts = np.flatnonzero(first_of_group)
        if values is not None:
            summed = np.add.reduceat(values[order], starts)
            values = np.zeros_like(values)
            values[order[starts]] = summed
        if times is not None:
            latest = np.maximum.reduceat(times[order], starts)
            times = times.copy()
            times[order[starts]] = latest
        return values, times, first_of_group
    keep = last_of_group
    if policy is DuplicatePolicy.latest and times is not None:
        group = np.cumsum(first_of_group) - 1
        in_groups = np.flatnonzero(~(first_of_group & last_of_group))
        ranked = in_groups[np.lexsort((in_groups, times[order[in_groups]], group[in_groups]))]
        keep = first_of_group & last_of_group
        ends = np.concatenate((group[ranked][1:] != group[ranked][:-1], [True]))
        keep[ranked[ends]] = True
    return values, times, keep
