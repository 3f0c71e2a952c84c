"""Top-K ranking metrics of any scorer on a split, by the metric code ``netcfg train`` uses."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from torch import Tensor

from netcfg.data.interactions import Interactions
from netcfg.trainers.metric_names import MetricKind
from netcfg.trainers.metrics import RankingMetrics

METRICS = ("Recall@20", "NDCG@20")
"""What the implicit zoo entries report, and so what every scorer here reports."""


def ranking_metrics(
    score_rows: Callable[[np.ndarray], Tensor],
    train: Interactions,
    test: Interactions,
    *,
    ks: Sequence[int] = (20,),
    batch_size: int = 256,
) -> dict[str, float]:
    """Recall@K and NDCG@K of a scorer, ranking every item not among a user's training rows.

    Args:
        score_rows: row numbers -> their scores of every item, [len(rows), items].
        train: the training positives (never ranked).
        test: the held-out positives; users without any are not evaluated.
        ks: cut-offs.
        batch_size: users scored at once.

    Returns:
        ``{"Recall@20": ..., "NDCG@20": ...}`` as `netcfg.trainers.metrics.RankingMetrics`
        computes them.
    """
    metrics = RankingMetrics([MetricKind.Recall, MetricKind.NDCG], ks, train.shape[1])
    rows = np.flatnonzero(test.row_counts() > 0)
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        metrics.update(score_rows(chunk), test.batch(chunk), train.batch(chunk))
    return metrics.compute()
