"""Names of evaluation metrics, as written in configs: ``RMSE``, ``NDCG@10``, ``Loss``."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from netcfg.spec_base import did_you_mean

__all__ = ["MetricKind", "MetricName", "parse_metric"]


class MetricKind(str, enum.Enum):
    """Metrics the trainer computes. Ranking metrics take a cut-off K."""

    Loss = "Loss"
    RMSE = "RMSE"
    MAE = "MAE"
    Precision = "Precision"
    Recall = "Recall"
    NDCG = "NDCG"
    HitRate = "HitRate"
    ARHR = "ARHR"
    MRR = "MRR"
    Coverage = "Coverage"

    @property
    def ranked(self) -> bool:
        """Whether the metric is computed on a top-K list."""
        return self not in (MetricKind.Loss, MetricKind.RMSE, MetricKind.MAE)

    @property
    def higher_is_better(self) -> bool:
        """Whether larger values are better (for early stopping)."""
        return self.ranked


_ALIASES = {
    "hr": MetricKind.HitRate,
    "hit": MetricKind.HitRate,
    "p": MetricKind.Precision,
    "r": MetricKind.Recall,
}


@dataclass(frozen=True)
class MetricName:
    """A parsed metric name: the metric and its cut-off (None: every configured K)."""

    kind: MetricKind
    k: int | None = None

    def __str__(self) -> str:
        return self.kind.value if self.k is None else f"{self.kind.value}@{self.k}"


def parse_metric(text: str) -> MetricName:
    """Parse ``"NDCG@10"``, ``"recall"`` or ``"RMSE"`` (case-insensitive).

    Raises:
        ValueError: with a message naming the problem and a close match.

    Example:
        >>> str(parse_metric("ndcg@20"))
        'NDCG@20'
    """
    name, _, cutoff = text.strip().partition("@")
    kinds = {m.value.lower(): m for m in MetricKind}
    kind = kinds.get(name.lower()) or _ALIASES.get(name.lower())
    if kind is None:
        hint = did_you_mean(name, [m.value for m in MetricKind])
        listing = "; expected one of " + ", ".join(m.value for m in MetricKind)
        raise ValueError(f"unknown metric '{text}'{hint or listing}")
    if not cutoff:
        return MetricName(kind)
    if not kind.ranked:
        raise ValueError(f"metric '{kind.value}' takes no cut-off (got '{text}')")
    if not cutoff.isdigit() or int(cutoff) < 1:
        raise ValueError(f"the cut-off of '{text}' must be a positive integer")
    return MetricName(kind, int(cutoff))
