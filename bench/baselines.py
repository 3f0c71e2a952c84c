"""Non-neural baselines of top-N recommendation: item popularity and EASE (Steck 2019).

EASE learns an item-item matrix B with a zero diagonal minimizing
``||X - X B||^2 + lambda ||B||^2``; its closed form is ``B = I - P diag(1 / diag(P))`` with
``P = (X^T X + lambda I)^-1``, and a user's scores are ``x B``. ``lambda`` is chosen on a
validation part carved from the training positives, then B is refitted on all of them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from ranking import ranking_metrics

from netcfg.data.interactions import Interactions
from netcfg.data.splits import split_random

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


def popularity_metrics(train: Interactions, test: Interactions) -> dict[str, float]:
    """Ranking metrics of item popularity (the same list for every user, seen items removed)."""
    counts = torch.from_numpy(popularity(binary_matrix(train)))
    return ranking_metrics(lambda rows: counts.expand(len(rows), -1), train, test)


def ease_metrics(train: Interactions, test: Interactions, lam: float) -> dict[str, float]:
    """Ranking metrics of EASE fitted on ``train`` with ``lam``."""
    positives = binary_matrix(train)
    weights = ease(positives, lam)
    return ranking_metrics(lambda rows: torch.from_numpy(positives[rows] @ weights), train, test)


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
