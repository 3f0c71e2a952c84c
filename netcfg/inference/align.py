"""Put interactions in a model's terms: its column ids, its orientation.

A model's columns are fixed by training (items for user-based models). Interactions from
elsewhere are re-indexed through the model's id index; entries whose column the model does
not know are dropped and counted. Rows keep their own ids: an autoencoder folds new users in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netcfg.data.ids import IdIndex
from netcfg.data.interactions import DuplicatePolicy, Interactions

__all__ = ["Aligned", "AlignedRow", "align_columns", "align_row"]


@dataclass
class Aligned:
    """Interactions re-indexed to a model's columns, and what was dropped."""

    matrix: Interactions
    dropped_entries: int
    unknown_ids: int


def align_columns(matrix: Interactions, columns: IdIndex) -> Aligned:
    """Re-index the columns of ``matrix`` through ``columns``; drop unknown ones.

    Example:
        >>> aligned = align_columns(new_ratings, model.ids["ratings"][1])
        >>> aligned.dropped_entries
        0
    """
    if matrix.columns == columns:
        return Aligned(matrix, 0, 0)
    position = columns.positions(matrix.columns.ids)
    new_columns = position[matrix.indices]
    keep = new_columns >= 0
    rebuilt, _ = Interactions.from_coo(
        matrix.row_of_entries()[keep],
        new_columns[keep],
        None if matrix.values is None else np.asarray(matrix.values)[keep],
        None if matrix.times is None else np.asarray(matrix.times)[keep],
        matrix.rows,
        columns,
        duplicates=DuplicatePolicy.last,
        orientation=matrix.orientation,
    )
    unknown = int((position < 0).sum())
    return Aligned(rebuilt, int((~keep).sum()), unknown)


@dataclass
class AlignedRow:
    """One row re-indexed to a model's columns (`align_row`)."""

    indices: np.ndarray
    values: np.ndarray | None
    dropped_entries: int
    unknown_ids: int


def align_row(columns: IdIndex, ids: list, values: list[float] | None = None) -> AlignedRow:
    """One user's interactions (original item ids, and values or None for implicit ones)
    as a row in the model's ``columns``, by the rule of `align_columns` on the matrix the
    interactions make: columns ascending, an item given twice one entry with its last
    value, unknown items dropped and counted.

    Example:
        >>> row = align_row(model.ids["ratings"][1], [242, 302, 999], [3.0, 4.0, 5.0])
        >>> row.indices.tolist(), row.unknown_ids
        ([241, 301], 1)
    """
    position = columns.positions(ids) if len(ids) else np.zeros(0, np.int64)
    keep = np.flatnonzero(position >= 0)
    kept = position[keep]
    # the last of equal columns: unique over the reversed order, then ascending
    reverse = kept[::-1]
    indices, first = np.unique(reverse, return_index=True)
    chosen = keep[::-1][first]
    row_values = None if values is None else np.asarray(values, np.float32)[chosen]
    # an item given twice is one entry of a matrix: every unknown item drops one entry
    unknown = len({str(v) for v, p in zip(ids, position.tolist(), strict=True) if p < 0})
    return AlignedRow(indices.astype(np.int64), row_values, unknown, unknown)
