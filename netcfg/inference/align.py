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

__all__ = ["Aligned", "align_columns"]


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
