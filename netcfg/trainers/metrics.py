"""Evaluation metrics accumulated over minibatches: rating errors and top-K ranking metrics.

``RatingMetrics`` scores explicit ratings (RMSE, MAE) at the held-out entries;
``RankingMetrics`` scores implicit feedback by ranking every item a user has not seen in
training and comparing the top K with the user's held-out positives.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch
from torch import Tensor

from netcfg.data.batch import SparseBatch
from netcfg.trainers.metric_names import MetricKind

__all__ = ["RatingMetrics", "RankingMetrics", "ratings_at", "top_k_items"]


class RatingMetrics:
    """RMSE and MAE of predicted ratings at the target entries, accumulated over batches.

    Both are micro averages over every stored target entry of every batch (a duplicated
    entry counts twice): ``RMSE = sqrt(sum (p - r)^2 / n)`` and ``MAE = sum |p - r| / n``.
    Sums are kept in float64.

    Args:
        clip: ``(lo, hi)`` to clip predictions into the rating scale before scoring (the
            AutoRec practice), or None to score them as they are.
    """

    def __init__(self, clip: tuple[float, float] | None = None):
        if clip is not None and not clip[0] <= clip[1]:
            raise ValueError(f"clip must be (lo, hi) with lo <= hi, got {clip}")
        self.clip = clip
        self.reset()

    def reset(self) -> None:
        """Forget everything accumulated so far."""
        self._squared = 0.0
        self._absolute = 0.0
        self._count = 0

    def update(self, predictions: Tensor, targets: SparseBatch) -> None:
        """Add one batch.

        Args:
            predictions: dense predicted ratings, shape [B, N].
            targets: the held-out ratings of the same B rows (values None means all ones).
        """
        _check_shape(predictions, targets)
        if targets.nnz == 0:
            return
        self.update_entries(
            ratings_at(predictions, targets, None), targets.values_or_ones(torch.float64)
        )

    def update_entries(self, predicted: Tensor, actual: Tensor) -> None:
        """Add predictions made entry by entry (clipped here when clipping).

        Args:
            predicted: predicted ratings, shape [n].
            actual: the held-out ratings, shape [n].
        """
        predicted = predicted.double()
        if self.clip is not None:
            predicted = predicted.clamp(self.clip[0], self.clip[1])
        error = predicted - actual.double()
        self._squared += float(error.square().sum())
        self._absolute += float(error.abs().sum())
        self._count += int(error.numel())

    def combine(self, total: Callable[[Tensor], Tensor]) -> None:
        """Take the sums of several processes, each of which scored some of the rows:
        ``total`` sums a float64 tensor over them (`netcfg.trainers.distributed.World.sum`)."""
        summed = total(
            torch.tensor([self._squared, self._absolute, self._count], dtype=torch.float64)
        )
        self._squared, self._absolute, count = summed.tolist()
        self._count = int(count)

    def compute(self) -> dict[str, float]:
        """``{"RMSE": ..., "MAE": ...}`` over all entries so far; ``{}`` when there were none."""
        if self._count == 0:
            return {}
        return {
            MetricKind.RMSE.value: math.sqrt(self._squared / self._count),
            MetricKind.MAE.value: self._absolute / self._count,
        }


def ratings_at(
    predictions: Tensor, targets: SparseBatch, clip: tuple[float, float] | None
) -> Tensor:
    """The predicted ratings at the target's stored entries, in float64, clipped to ``clip``
    when given: what RMSE and MAE score."""
    predicted = predictions.detach()[targets.row_ids(), targets.indices].double()
    return predicted if clip is None else predicted.clamp(clip[0], clip[1])


def top_k_items(scores: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """The k best items of each row, ordered by descending score, ties by lower index first.

    The order is exact: ``topk`` picks k + 1 items; on rows whose (k+1)-th best score ties
    the k-th, ``topk`` may have kept the wrong tied items, so there the lowest-indexed tied
    items are chosen by a cumulative count; a stable sort of the k items, listed by index,
    then orders them. NaN scores rank as ``-inf``; ``-inf`` items are never recommended.

    Args:
        scores: shape [B, N].
        k: cut-off; more than N is cut to N.

    Returns:
        ``(items, valid)``, both [B, min(k, N)]: item indices by rank, and whether the item
        at that rank is recommendable (False for ``-inf`` padding once a row runs out).
    """
    scores = scores.detach()
    if bool(torch.isnan(scores).any()):  # checking first avoids copying large score blocks
        scores = torch.nan_to_num(
            scores, nan=float("-inf"), posinf=float("inf"), neginf=float("-inf")
        )
    k = min(k, scores.shape[1])
    if k == scores.shape[1]:  # the whole row: a stable sort is exact and faster
        items = torch.sort(scores, dim=1, descending=True, stable=True).indices
        return items, scores.gather(1, items) > float("-inf")
    best, columns = torch.topk(scores, k + 1, dim=1)
    ambiguous = best[:, k] == best[:, k - 1]
    best, columns = best[:, :k], columns[:, :k]
    threshold = best[:, -1:]
    if bool(ambiguous.any()):
        rows, threshold = scores[ambiguous], threshold[ambiguous]
        ties = rows == threshold
        room = k - (rows > threshold).sum(dim=1, keepdim=True)
        chosen = (rows > threshold) | (ties & (torch.cumsum(ties, dim=1) <= room))
        columns[ambiguous] = chosen.nonzero()[:, 1].view(-1, k)  # exactly k per row
    columns = columns.sort(dim=1).values
    order = torch.sort(scores.gather(1, columns), dim=1, descending=True, stable=True).indices
    items = columns.gather(1, order)
    return items, scores.gather(1, items) > float("-inf")


class RankingMetrics:
    """Top-K metrics of implicit feedback, ranking every item the user has not seen in training.

    For each user (row) the items are sorted by descending score, ties broken by the lower
    item index; items seen in training (and items scored ``-inf`` or NaN) are never
    recommended, so the top K may hold fewer than K items. Targets are the user's
    held-out positives (values ignored, duplicates counted once; a target also seen, or
    outside the catalogue (``missed``), counts in ``T`` but can never be hit); ``T`` is
    their number and ``hits@K`` the number of them in the top K. Per user:

    - ``Precision@K = hits / K``.
    - ``Recall@K = hits / min(K, T)`` (the Mult-VAE definition, so 1 is reachable).
    - ``NDCG@K = DCG / IDCG``, ``DCG = sum_{r<=K} [item at rank r is a target] / log2(r+1)``,
      ``IDCG = sum_{r<=min(K,T)} 1 / log2(r+1)``.
    - ``HitRate@K = 1`` if ``hits > 0`` else 0.
    - ``ARHR@K = sum`` of ``1 / rank`` over the hits in the top K (Deshpande & Karypis).
    - ``MRR@K = 1 / rank`` of the first hit in the top K, 0 if none.

    These are averaged over the users with at least one target; rows without targets are
    ignored. ``Coverage@K`` is the number of distinct items in the top K of any user with at
    least one target, divided by ``num_items``. Sums are kept in float64.

    Args:
        kinds: ranking metrics to report (``MetricKind.ranked``).
        ks: cut-offs; each metric is reported at each K.
        num_items: catalogue size, the width N of the score rows.
    """

    def __init__(self, kinds: Iterable[MetricKind], ks: Iterable[int], num_items: int):
        self.kinds = list(dict.fromkeys(MetricKind(kind) for kind in kinds))
        unranked = [kind.value for kind in self.kinds if not kind.ranked]
        if unranked:
            raise ValueError(f"not ranking metrics: {', '.join(unranked)}")
        ks = list(ks)
        if not ks or any(not isinstance(k, int) or isinstance(k, bool) or k < 1 for k in ks):
            raise ValueError(f"ks must be positive integers, got {ks}")
        self.ks = sorted(set(ks))
        if num_items < 1:
            raise ValueError(f"num_items must be positive, got {num_items}")
        self.num_items = num_items
        self.reset()

    def reset(self) -> None:
        """Forget everything accumulated so far."""
        self._sums = {(kind, k): 0.0 for kind in self.kinds for k in self.ks}
        self._users = 0
        self._covered: dict[int, Tensor] = {}

    def update(
        self,
        scores: Tensor,
        targets: SparseBatch,
        seen: SparseBatch | None = None,
        missed: Tensor | None = None,
    ) -> None:
        """Add one batch of users.

        Args:
            scores: item scores, shape [B, num_items]; higher ranks first.
            targets: held-out positives of the B users (values ignored).
            seen: items each user saw in training; they get ``-inf`` and are never ranked.
            missed: per user, held-out positives outside the catalogue (items unseen in
                training): they count in ``T`` and can never be hit.
        """
        _check_shape(scores, targets)
        if scores.shape[1] != self.num_items:
            raise ValueError(f"scores have {scores.shape[1]} items, expected {self.num_items}")
        scores = scores.detach()
        if not scores.is_floating_point():
            scores = scores.double()
        if seen is not None and seen.nnz:
            _check_shape(scores, seen)
            scores = scores.clone()
            scores[seen.row_ids(), seen.indices] = float("-inf")
        is_target = torch.zeros(scores.shape, dtype=torch.bool, device=scores.device)
        is_target[targets.row_ids(), targets.indices] = True
        num_targets = is_target.sum(dim=1)
        if missed is not None:
            num_targets = num_targets + missed.to(device=scores.device, dtype=num_targets.dtype)
        evaluated = num_targets > 0
        if not bool(evaluated.any()):
            return
        items, valid = top_k_items(scores[evaluated], max(self.ks))
        hit = is_target[evaluated].gather(1, items) & valid
        num_targets = num_targets[evaluated].double()
        ranks = torch.arange(1, items.shape[1] + 1, dtype=torch.float64, device=scores.device)
        reciprocal = hit / ranks  # 1/rank where a hit, else 0
        gains = torch.cumsum(1.0 / torch.log2(ranks + 1.0), dim=0)  # IDCG for each cut-off
        self._users += int(evaluated.sum())
        for k in self.ks:
            top = min(k, items.shape[1])
            hits = hit[:, :top].sum(dim=1).double()
            cutoff = float(k)  # any K, however large (K past int64 would overflow torch)
            ideal = torch.clamp(num_targets, max=cutoff)
            values = {
                MetricKind.Precision: hits / cutoff,
                MetricKind.Recall: hits / ideal,
                MetricKind.NDCG: (hit[:, :top] / torch.log2(ranks[:top] + 1.0)).sum(dim=1)
                / gains[ideal.long() - 1],
                MetricKind.HitRate: (hits > 0).double(),
                MetricKind.ARHR: reciprocal[:, :top].sum(dim=1),
                MetricKind.MRR: reciprocal[:, :top].max(dim=1).values,
            }
            for kind in self.kinds:
                if kind is MetricKind.Coverage:
                    covered = self._covered.setdefault(
                        k, torch.zeros(self.num_items, dtype=torch.bool, device=scores.device)
                    )
                    covered[items[:, :top][valid[:, :top]]] = True
                else:
                    self._sums[kind, k] += float(values[kind].sum())

    def combine(self, total: Callable[[Tensor], Tensor]) -> None:
        """Take the sums and covered items of several processes, each of which ranked some
        of the users: ``total`` sums a tensor over them."""
        keys = sorted(self._sums, key=lambda key: (key[0].value, key[1]))
        local = [float(self._users), *(self._sums[key] for key in keys)]
        summed = total(torch.tensor(local, dtype=torch.float64)).tolist()
        self._users = int(summed[0])
        self._sums = dict(zip(keys, summed[1:], strict=True))
        if MetricKind.Coverage in self.kinds:
            for k in self.ks:
                covered = self._covered.get(k, torch.zeros(self.num_items, dtype=torch.bool))
                self._covered[k] = total(covered.to(torch.int32).cpu()) > 0

    def compute(self) -> dict[str, float]:
        """Each requested metric at each K, e.g. ``{"NDCG@10": ...}``; ``{}`` before any user.

        Keys follow the order of ``kinds``, then ascending K.
        """
        if self._users == 0:
            return {}
        result = {}
        for kind in self.kinds:
            for k in self.ks:
                if kind is MetricKind.Coverage:
                    value = float(self._covered[k].sum()) / self.num_items
                else:
                    value = self._sums[kind, k] / self._users
                result[f"{kind.value}@{k}"] = value
        return result


def _check_shape(dense: Tensor, batch: SparseBatch) -> None:
    """Raise ValueError unless a dense [B, N] tensor matches a sparse batch's rows and width."""
    if dense.dim() != 2 or dense.shape != (batch.batch_size, batch.num_columns):
        raise ValueError(
            f"expected a [{batch.batch_size}, {batch.num_columns}] tensor to match the batch, "
            f"got {list(dense.shape)}"
        )
