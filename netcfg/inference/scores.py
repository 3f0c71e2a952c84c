"""A trained model's scores for a batch of users, as a numpy array or a scipy matrix.

Row ``r`` of the result belongs to row ``r`` of the input (users in the input's order,
those without a score included), column ``c`` to the model's item ``item_ids[c]``: a model
trained on a scipy matrix with its default ids answers in that matrix's columns. Scores
are the network's outputs as they are, not clipped to a rating scale (as ``netcfg
predict``; ``netcfg evaluate`` clips ratings before measuring errors).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from netcfg.data.interactions import Interactions
from netcfg.data.scipy_io import interactions_from_scipy
from netcfg.errors import ModelError
from netcfg.inference.ranking import autoencoder_layers
from netcfg.inference.recommend import ItemFilter, model_rows, recommend
from netcfg.trainers.rundir import LoadedModel

__all__ = ["Scores", "dense_scores", "top_k_scores"]


@dataclass
class Scores:
    """Scores of users (rows) for items (columns).

    Attributes:
        matrix: float32 ``numpy`` array [users, items] (`dense_scores`), or a
            ``scipy.sparse.csr_array`` holding each user's top K (`top_k_scores`).
        user_ids: the id of each row, the input's row ids in its order.
        item_ids: the id of each column: the model's items.
        report: what could not be used (``unknown_items``, ``unknown_users``, ...), as
            `netcfg.inference.recommend.Recommendations.report`.
    """

    matrix: Any
    user_ids: np.ndarray
    item_ids: np.ndarray
    report: dict = field(default_factory=dict)


def _interactions(users: Interactions | Any) -> Interactions:
    """`Interactions` as given, or a scipy matrix with ids 0..n-1."""
    return users if isinstance(users, Interactions) else interactions_from_scipy(users)


@torch.no_grad()
def dense_scores(
    model: LoadedModel, users: Interactions | Any, *, batch_size: int = 1024
) -> Scores:
    """Every item's score for every user of ``users`` (user rows, original ids, or a scipy
    matrix with ids 0..n-1).

    A user-based model scores each input row (a new user is folded in); an item-based
    model scores only the users it was trained on: the rows of other users are NaN and
    counted as ``report["unknown_users"]``. Items the model does not know are ignored
    (``report["unknown_items"]``).

    Example:
        >>> scores = dense_scores(load_model("runs/u1"), csr)
        >>> scores.matrix.shape == (csr.shape[0], len(scores.item_ids))
        True
    """
    if batch_size < 1:
        raise ModelError(f"batch_size must be positive (got {batch_size})")
    users = _interactions(users)
    dataset, output, orientation = autoencoder_layers(model)
    rows = model_rows(model, users)
    report = dict(rows.report)
    scores = np.full((users.shape[0], len(rows.item_ids)), np.nan, dtype=np.float32)
    if orientation == "user":
        for start in range(0, users.shape[0], batch_size):
            chunk = np.arange(start, min(start + batch_size, users.shape[0]))
            batch = rows.matrix.batch(chunk)
            scores[chunk] = model.network({dataset: batch}).outputs[output].float().numpy()
        return Scores(scores, users.rows.ids, rows.item_ids.ids, report)
    model_users = rows.matrix.rows.positions(users.rows.ids)  # columns of the item rows
    known = np.flatnonzero(model_users >= 0)
    report["unknown_users"] = int(users.shape[0] - len(known))
    selected = torch.from_numpy(model_users[known])
    for start in range(0, rows.item_rows.shape[0], batch_size):
        chunk = np.arange(start, min(start + batch_size, rows.item_rows.shape[0]))
        out = model.network({dataset: rows.item_rows.batch(chunk)}).outputs[output].float()
        scores[np.ix_(known, chunk)] = out[:, selected].t().numpy()
    return Scores(scores, users.rows.ids, rows.item_ids.ids, report)


def top_k_scores(
    model: LoadedModel,
    users: Interactions | Any,
    k: int,
    *,
    exclude_seen: bool = True,
    filters: ItemFilter | None = None,
    batch_size: int = 1024,
) -> Scores:
    """Each user's top ``k`` items as a ``scipy.sparse.csr_array`` [users, items]: row
    ``r`` stores the scores of the items ranked for input row ``r`` (none for a user the
    model cannot score), exactly those `netcfg.inference.recommend.recommend` lists.

    Args:
        model: a trained autoencoder.
        users: user rows (original ids), or a scipy matrix with ids 0..n-1.
        k: items per user.
        exclude_seen: never rank an item the user interacted with.
        filters: allow and deny lists.
        batch_size: users (or items, for item-based models) per forward pass.

    Example:
        >>> top = top_k_scores(load_model("runs/u1"), csr, 10)
        >>> top.matrix.getrow(0).indices  # the 10 items of the first user
    """
    users = _interactions(users)
    found = recommend(
        model,
        users,
        k,
        exclude_seen=exclude_seen,
        filters=filters,
        batch_size=batch_size,
    )
    rows = users.rows.positions(found.user_ids)
    ranked = found.items >= 0
    matrix = sp.coo_array(
        (
            found.scores[ranked].astype(np.float32),
            (np.repeat(rows, ranked.sum(axis=1)), found.items[ranked]),
        ),
        shape=(users.shape[0], len(found.item_ids)),
    ).tocsr()
    return Scores(matrix, users.rows.ids, found.item_ids.ids, found.report)
