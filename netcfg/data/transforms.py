"""Value transforms and filters applied before splitting: binarize, log1p, minimum counts."""

from __future__ import annotations

import numpy as np

from netcfg.data.interactions import Interactions
from netcfg.errors import DataError, Location

__all__ = ["binarize", "log1p", "min_counts"]


def _no_values(action: str, location: Location | None, key: str | None) -> DataError:
    prefix = f"{key}: " if key else ""
    return DataError(f"{prefix}cannot {action} implicit data: it has no values", location)


def binarize(
    matrix: Interactions,
    threshold: float,
    *,
    location: Location | None = None,
    key: str | None = None,
) -> Interactions:
    """Keep the entries whose value is at least ``threshold``, as implicit positives.

    Example: ``binarize(ratings, 4)`` makes ratings of 4 and 5 positives and drops the rest.

    Raises:
        DataError: the data has no values; the message names ``location`` (the file) and
            ``key`` (the setting asking for it, e.g. ``Data.ratings.Binarize``) when given.
    """
    if matrix.values is None:
        raise _no_values("binarize", location, key)
    return matrix.entries(matrix.values >= threshold).with_values(None)


def log1p(
    matrix: Interactions, *, location: Location | None = None, key: str | None = None
) -> Interactions:
    """Replace values v by log(1 + v) (for play counts and other heavy-tailed values).

    Raises:
        DataError: no values, or values <= -1 (naming ``location`` and ``key`` if given).
    """
    if matrix.values is None:
        raise _no_values("transform", location, key)
    if (matrix.values <= -1).any():
        prefix = f"{key}: " if key else ""
        raise DataError(f"{prefix}log1p needs values greater than -1", location)
    return matrix.with_values(np.log1p(matrix.values).astype(np.float32))


def min_counts(matrix: Interactions, *, rows: int = 0, columns: int = 0) -> Interactions:
    """Drop entries of rows with fewer than ``rows`` entries and of columns with fewer than
    ``columns`` entries (one pass, as the Mult-VAE preprocessing does)."""
    keep = np.ones(matrix.nnz, dtype=bool)
    if columns > 0:
        keep &= (matrix.column_counts() >= columns)[matrix.indices]
    if rows > 0:
        kept = matrix.entries(keep)
        keep &= (kept.row_counts() >= rows)[matrix.row_of_entries()]
    return matrix.entries(keep)
