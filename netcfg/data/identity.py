"""The identity of rows as data: row r holds a single 1, in column r.

Bound beside a DataSet of interactions from the same source (``"Identity": true`` in its
``Data`` entry), it tells the network which row (which user; which item for ``Orientation:
Item``) each example is, since the loader serves the same rows of every DataSet together. A
layer on it is an embedding lookup: a sparse Input of width = rows, then a FullyConnected
layer whose weight row r is row r's vector. Matrix factorization is written so (a user's
factors, from the identity, dotted with the item factors of the Output layer).

An identity only names rows the training data has: a row outside them (a new user) has no
column to hold its 1, and a network fed an empty row for it sees no identity at all (its
embedding is the layer's bias alone).
"""

from __future__ import annotations

import numpy as np

from netcfg.data.interactions import Interactions
from netcfg.data.splits import SplitSet

__all__ = ["identity_matrix", "identity_split"]


def identity_matrix(matrix: Interactions) -> Interactions:
    """The identity over the rows of ``matrix``: its rows, a column per row (the same ids),
    and one entry in each row, at its own column; implicit (no values).

    Example:
        >>> identity_matrix(ratings).batch(np.array([2])).indices.tolist()
        [2]
    """
    count = matrix.shape[0]
    return Interactions(
        indptr=np.arange(count + 1, dtype=np.int64),
        indices=np.arange(count, dtype=np.int32),
        values=None,
        times=None,
        rows=matrix.rows,
        columns=matrix.rows,
        orientation=matrix.orientation,
        meta={"identity": True},
    )


def identity_split(split: SplitSet) -> SplitSet:
    """Every part of ``split`` replaced by the identity of its rows (all parts share their
    rows, so they are the same matrix); no entry is unseen."""
    parts = {name: identity_matrix(part) for name, part in split.parts.items()}
    return SplitSet(parts, {**split.meta, "identity": True})
