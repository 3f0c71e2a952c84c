"""Non-neural baselines: item popularity and EASE (Steck 2019) for top-N recommendation, the
global mean and biases (global mean + user bias + item bias) for rating prediction.

EASE learns an item-item matrix B with a zero diagonal minimizing
``||X - X B||^2 + lambda ||B||^2``; its closed form is ``B = I - P diag(1 / diag(P))`` with
``P = (X^T X + lambda I)^-1``, and a user's scores are ``x B``. ``lambda`` is chosen on a
validation part carved from the training positives, then B is refitted on all of them.

The biased baseline predicts ``mu + b_u + c_i`` with ``mu`` the training mean and the biases
minimizing ``sum (r - mu - b_u - c_i)^2 + lambda (||b||^2 + ||c||^2)`` over the training
ratings, by alternating exact updates (each a regularized mean of the residuals); lambda is
chosen on a validation part carved from the training ratings. Held-out entries whose user
or item has no training data (`netcfg.data.unseen.UnseenEntries`) are scored as netcfg
scores them: ratings predicted with the biases there are (0 for an unknown user or item),
ranking targets counted but never hit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from ranking import ranking_metrics
from torch import Tensor

from netcfg.data.interactions import Interactions
from netcfg.data.splits import split_random

if TYPE_CHECKING:
    from netcfg.data.unseen import UnseenEntries

BIAS_LAMBDAS = (0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0)
"""The grid of the biased baseline's lambda."""
LAMBDAS = tuple(float(v) for v in np.geomspace(10, 3000, 11).round(1))
"""The grid of EASE's lambda (log-spaced)."""


def binary_matrix(matrix: Interactions) -> np.ndarray:
    """The matrix as a dense float64 array with a 1 at every stored entry."""
    dense = np.zeros(matrix.shape, dtype=np.float64)
    dense[matrix.row_of_entries(), matrix.indices] = 1.0
    return dense


def popularity(train: np.ndarray) -> np.ndarray:
    """Each item's number of training positives: the score of every user for it."""
    return train.sum(axis=0)


def ease(train: np.ndarray, lam: float) -> np.ndarray:
    """EASE's item-item weights B (zero diagonal) fitted on a binary user x item matrix."""
    gram = train.T @ train
    gram[np.diag_indices_from(gram)] += lam
    inverse = np.linalg.inv(gram)
    weights = -inverse / np.diag(inverse)  # column j divided by P_jj
    np.fill_diagonal(weights, 0.0)
    return weights


def popularity_metrics(
    train: Interactions, test: Interactions, unseen: UnseenEntries | None = None
) -> dict[str, float]:
    """Ranking metrics of item popularity (the same list for every user, seen items removed;
    ``unseen``: see `ranking_with_unseen`)."""
    counts = torch.from_numpy(popularity(binary_matrix(train)))
    return ranking_with_unseen(lambda rows: counts.expand(len(rows), -1), train, test, unseen)


def ease_metrics(
    train: Interactions, test: Interactions, lam: float, unseen: UnseenEntries | None = None
) -> dict[str, float]:
    """Ranking metrics of EASE fitted on ``train`` with ``lam`` (``unseen``: see
    `ranking_with_unseen`)."""
    positives = binary_matrix(train)
    weights = ease(positives, lam)

    def scores(rows: np.ndarray) -> Tensor:
        return torch.from_numpy(positives[rows] @ weights)

    return ranking_with_unseen(scores, train, test, unseen)


def ranking_with_unseen(
    score_rows: Callable[[np.ndarray], Tensor],
    train: Interactions,
    test: Interactions,
    unseen: UnseenEntries | None,
    *,
    batch_size: int = 256,
) -> dict[str, float]:
    """`ranking_metrics`, the held-out entries without training data counted as netcfg counts
    them: in each user's targets, never hit.

    They are added to ``test`` and the scorer gives ``-inf`` to the items (and users) that
    have no training data, so such items are never recommended. Entries whose user or item
    id is outside the split's index cannot be placed and are left out.
    """
    if unseen is None or not len(unseen):
        return ranking_metrics(score_rows, train, test, batch_size=batch_size)
    placed = (unseen.rows >= 0) & (unseen.columns >= 0)
    rows = np.concatenate([test.row_of_entries(), unseen.rows[placed]])
    columns = np.concatenate([test.indices.astype(np.int64), unseen.columns[placed]])
    merged, _ = Interactions.from_coo(rows, columns, None, None, test.rows, test.columns)
    no_items = torch.from_numpy(train.column_counts() == 0)
    no_users = train.row_counts() == 0

    def masked(chunk: np.ndarray) -> Tensor:
        scores = score_rows(chunk).clone()
        scores[:, no_items] = -torch.inf
        scores[torch.from_numpy(no_users[chunk])] = -torch.inf
        return scores

    return ranking_metrics(masked, train, merged, batch_size=batch_size)


def tune_ease(
    train: Interactions,
    lambdas: Sequence[float] = LAMBDAS,
    *,
    metric: str = "NDCG@20",
    fraction: float = 0.1,
    seed: int = 0,
) -> tuple[float, dict[float, float]]:
    """Choose lambda on a validation part: ``fraction`` of each user's training positives.

    Returns:
        The best lambda by ``metric`` and the metric of every lambda tried.
    """
    carved = split_random(train, (1.0 - fraction, fraction, 0.0), seed=seed, per_user=True)
    found = {
        lam: ease_metrics(carved.train, carved.parts["validation"], lam)[metric] for lam in lambdas
    }
    return max(found, key=found.get), found


@dataclass(frozen=True)
class Biases:
    """A rating predictor ``mean + user[row] + item[column]``."""

    mean: float
    user: np.ndarray
    item: np.ndarray

    def predict(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """Predictions at (row, column) pairs; a bias outside the arrays (-1: an id the
        training data does not know) counts as 0."""
        predicted = np.full(len(rows), self.mean)
        for bias, at in ((self.user, rows), (self.item, columns)):
            known = (at >= 0) & (at < len(bias))
            predicted[known] += bias[at[known]]
        return predicted


def global_mean(train: Interactions) -> Biases:
    """The mean training rating, predicted everywhere."""
    users, items = train.shape
    return Biases(
        float(train.values_or_ones().astype(np.float64).mean()), np.zeros(users), np.zeros(items)
    )


def fit_biases(train: Interactions, lam: float, rounds: int = 10) -> Biases:
    """Biases minimizing ``sum (r - mu - b_u - c_i)^2 + lam (||b||^2 + ||c||^2)`` (``mu``: the
    training mean), by ``rounds`` of exact alternating updates (users, then items)."""
    rows, columns = train.row_of_entries(), train.indices.astype(np.int64)
    values = train.values_or_ones().astype(np.float64)
    users, items = train.shape
    mean = float(values.mean())
    user_counts, item_counts = train.row_counts(), train.column_counts()

    def shrunk(at: np.ndarray, residuals: np.ndarray, counts: np.ndarray) -> np.ndarray:
        sums = np.bincount(at, residuals, minlength=len(counts))
        return np.divide(sums, lam + counts, out=np.zeros(len(counts)), where=counts > 0)

    user, item = np.zeros(users), np.zeros(items)
    for _ in range(rounds):
        user = shrunk(rows, values - mean - item[columns], user_counts)
        item = shrunk(columns, values - mean - user[rows], item_counts)
    return Biases(mean, user, item)


def rating_metrics(
    model: Biases,
    train: Interactions,
    test: Interactions,
    unseen: UnseenEntries | None = None,
) -> dict[str, float]:
    """RMSE and MAE at the test entries and the ``unseen`` ones (predicted with the biases
    there are), predictions clipped to the training value range as netcfg clips them."""
    rows, columns = test.row_of_entries(), test.indices.astype(np.int64)
    actual = test.values_or_ones().astype(np.float64)
    if unseen is not None and len(unseen):
        rows = np.concatenate([rows, unseen.rows])
        columns = np.concatenate([columns, unseen.columns])
        actual = np.concatenate([actual, unseen.values.astype(np.float64)])
    values = train.values_or_ones()
    predicted = model.predict(rows, columns).clip(values.min(), values.max())
    error = predicted - actual
    return {"RMSE": float(np.sqrt(np.mean(error**2))), "MAE": float(np.mean(np.abs(error)))}


def tune_biases(
    train: Interactions,
    lambdas: Sequence[float] = BIAS_LAMBDAS,
    *,
    fraction: float = 0.1,
    seed: int = 0,
    rounds: int = 10,
) -> tuple[float, dict[float, float]]:
    """Choose the biases' lambda by RMSE on ``fraction`` of each user's training ratings.

    Returns:
        The best lambda and the validation RMSE of every lambda tried.
    """
    carved = split_random(train, (1.0 - fraction, fraction, 0.0), seed=seed, per_user=True)
    held = carved.parts["validation"]
    unseen = getattr(carved, "unseen", {}).get("validation")
    found = {
        lam: rating_metrics(fit_biases(carved.train, lam, rounds), carved.train, held, unseen)[
            "RMSE"
        ]
        for lam in lambdas
    }
    return min(found, key=found.get), found
