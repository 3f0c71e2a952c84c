"""Evaluate a network on a validation or test part: rating errors or ranking quality.

The network sees each user's input row (their training interactions, or the fold-in part
of a held-out user) and is scored on the part's targets: RMSE and MAE at the target
entries for explicit ratings; for implicit feedback, top-K metrics over every item the
user has not interacted with in the target DataSet's input part (its training rows, or the
fold-in rows), also when the Input layer reads it under another DataSet name (DSSTNE's
``gl_input``/``gl_output``). The trainer gives the metric names; the
network is an opaque module returning outputs and losses.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from netcfg.data.interactions import Interactions
from netcfg.trainers.bindings import RunData
from netcfg.trainers.distributed import SOLO, World
from netcfg.trainers.metric_names import MetricKind, parse_metric
from netcfg.trainers.metrics import RankingMetrics, RatingMetrics, ratings_at
from netcfg.trainers.spec import EvaluationSpec, UnseenPolicy

__all__ = ["Evaluator", "default_metrics", "value_range"]

RANKING = (
    MetricKind.Precision,
    MetricKind.Recall,
    MetricKind.NDCG,
    MetricKind.HitRate,
    MetricKind.ARHR,
    MetricKind.MRR,
    MetricKind.Coverage,
)


def default_metrics(spec: EvaluationSpec, implicit: bool) -> list[str]:
    """The metric names to report: the configured ones, else by the kind of feedback."""
    if spec.Metrics is not None:
        names = list(spec.Metrics)
    elif implicit:
        names = [kind.value for kind in RANKING]
    else:
        names = ["RMSE", "MAE"]
    expanded = ["Loss"]
    for name in names:
        metric = parse_metric(name)
        if metric.kind.ranked and metric.k is None:
            expanded += [f"{metric.kind.value}@{k}" for k in spec.K]
        elif metric.kind is not MetricKind.Loss:
            expanded.append(str(metric))
    return list(dict.fromkeys(expanded))


class Evaluator:
    """Computes the metrics of a network on the evaluation parts of the run's data.

    Args:
        data: the run's data.
        metrics: metric names (``RMSE``, ``NDCG@10``, ...; ``Loss`` is always computed).
        batch_size: users per batch.
        clip: clip predicted ratings to the training value range.
        device: where the network runs.
        unseen: whether held-out entries outside what training covers count (``Keep``:
            misses in ranking, a fallback rating in RMSE and MAE) or not (``Drop``).
    """

    def __init__(
        self,
        data: RunData,
        metrics: Sequence[str],
        *,
        batch_size: int = 1024,
        clip: bool = True,
        device: torch.device | str = "cpu",
        unseen: UnseenPolicy = UnseenPolicy.Keep,
    ):
        self.data = data
        self.metrics = [parse_metric(m) for m in metrics]
        self.batch_size = batch_size
        self.device = torch.device(device)
        self.clip = value_range(data.splits[data.targets[0]].train) if clip else None
        self.unseen = unseen

    @torch.no_grad()
    def evaluate(self, network: nn.Module, part: str, world: World = SOLO) -> dict[str, float]:
        """The metrics of ``network`` on ``part`` (``validation`` or ``test``).

        With several processes (``world``), each holding the whole network, each scores
        its share of the rows and the sums are added up: every process gets the metrics.
        """
        inputs, targets = self.data.evaluation(part)
        target_name = self.data.targets[0]
        seen = _seen(self.data, target_name, part)
        missed = self._missed(part, seen)
        rows = np.flatnonzero((targets[target_name].row_counts() > 0) | (missed > 0))
        rows = np.array_split(rows, world.size)[world.rank]
        rating = RatingMetrics(clip=self.clip)
        rated = any(m.kind in (MetricKind.RMSE, MetricKind.MAE) for m in self.metrics)
        if rated and world.main:
            rating.update_entries(*(torch.from_numpy(a) for a in self.unseen_ratings(part)))
        ranked = [m for m in self.metrics if m.kind.ranked]
        ranking = (
            RankingMetrics(
                {m.kind for m in ranked},
                sorted({m.k for m in ranked}),
                targets[target_name].shape[1],
            )
            if ranked
            else None
        )
        output = self._output(network)
        loss_sum, count = 0.0, 0
        for chunk, result, batch_out in self._scored(network, inputs, targets, rows):
            loss_sum += float(result.loss) * len(chunk)
            count += len(chunk)
            scores = result.outputs[output]
            if ranking is not None:
                ranking.update(
                    scores,
                    batch_out[target_name],
                    seen.batch(chunk).to(self.device),
                    torch.from_numpy(missed[chunk]),
                )
            if rated:
                rating.update(scores, batch_out[target_name])
        if world.size > 1:
            loss_sum, count = world.sum(
                torch.tensor([loss_sum, count], dtype=torch.float64)
            ).tolist()
            rating.combine(world.sum)
            if ranking is not None:
                ranking.combine(world.sum)
        found = {"Loss": loss_sum / max(count, 1), **rating.compute()}
        if ranking is not None:
            found.update(ranking.compute())
        return {str(m): found[str(m)] for m in self.metrics if str(m) in found}

    @torch.no_grad()
    def rating_entries(self, network: nn.Module, part: str) -> dict[str, np.ndarray]:
        """Every target entry of ``part`` with the network's rating there.

        Returns:
            ``rows`` and ``columns`` (positions in the target's matrix), ``predicted`` (the
            rating RMSE and MAE score: clipped when the evaluator clips) and ``actual``.
        """
        inputs, targets = self.data.evaluation(part)
        target_name = self.data.targets[0]
        rows = np.flatnonzero(targets[target_name].row_counts() > 0)
        output = self._output(network)
        found: dict[str, list[np.ndarray]] = {
            k: [] for k in ("rows", "columns", "predicted", "actual")
        }
        for chunk, result, batch_out in self._scored(network, inputs, targets, rows):
            batch = batch_out[target_name]
            predicted = ratings_at(result.outputs[output], batch, self.clip)
            found["rows"].append(chunk[batch.row_ids().cpu().numpy()])
            found["columns"].append(batch.indices.cpu().numpy())
            found["predicted"].append(predicted.cpu().numpy())
            found["actual"].append(batch.values_or_ones(torch.float64).cpu().numpy())
        return {k: np.concatenate(v) if v else np.zeros(0) for k, v in found.items()}

    def unseen_ratings(self, part: str) -> tuple[np.ndarray, np.ndarray]:
        """Predicted and actual ratings (float64) of the entries of ``part`` that training
        cannot place, empty when the policy drops them.

        The prediction is the user's mean training rating, else (a user without training
        ratings) the global mean; it is clipped like the network's predictions.
        """
        entries = self.data.unseen(part)
        if self.unseen is UnseenPolicy.Drop or not len(entries):
            return np.zeros(0), np.zeros(0)
        history = _seen(self.data, self.data.targets[0], part)
        values = history.values_or_ones().astype(np.float64)
        if history.orientation == "user":
            users, owner = entries.rows, history.row_of_entries()
            size = history.shape[0]
        else:
            users, owner = entries.columns, history.indices
            size = history.shape[1]
        counts = np.bincount(owner, minlength=size)
        sums = np.bincount(owner, weights=values, minlength=size)
        predicted = np.full(len(entries), values.mean() if len(values) else 0.0)
        known = users >= 0
        known[known] = counts[users[known]] > 0
        predicted[known] = sums[users[known]] / counts[users[known]]
        if self.clip is not None:
            predicted = predicted.clip(*self.clip)
        actual = np.ones(len(entries)) if entries.values is None else entries.values
        return predicted, actual.astype(np.float64)

    def unseen_counts(self, part: str) -> dict[str, int]:
        """How many entries of ``part`` training cannot place, and how many of them the
        ranking metrics count as misses (those of users with a history)."""
        entries = self.data.unseen(part)
        seen = _seen(self.data, self.data.targets[0], part)
        return {
            "entries": len(entries),
            "ranked_as_misses": int(self._missed(part, seen).sum()),
            "policy": self.unseen.value,
        }

    def _missed(self, part: str, seen: Interactions) -> np.ndarray:
        """Per row, the held-out positives outside the catalogue that ranking counts as
        misses: unseen entries of rows with a history (int64 [rows])."""
        entries = self.data.unseen(part)
        if self.unseen is UnseenPolicy.Drop or not len(entries):
            return np.zeros(seen.shape[0], dtype=np.int64)
        rows = entries.rows[entries.known_rows(seen.row_counts())]
        return np.bincount(rows, minlength=seen.shape[0])

    def _output(self, network: nn.Module) -> str:
        """The Output layer of the target DataSet."""
        target_name = self.data.targets[0]
        return next(name for name, ds in network.outputs.items() if ds == target_name)

    def _scored(self, network: nn.Module, inputs, targets, rows: np.ndarray) -> Iterator:
        """``(chunk, network output, target batches)`` for each batch of ``rows``, the
        network in eval mode meanwhile."""
        was_training = network.training
        network.eval()
        try:
            for start in range(0, len(rows), self.batch_size):
                chunk = rows[start : start + self.batch_size]
                batch_out = _batches(targets, chunk, self.device)
                yield chunk, network(_batches(inputs, chunk, self.device), batch_out), batch_out
        finally:
            network.train(was_training)


def _batches(matrices: Mapping[str, Interactions], rows: np.ndarray, device: torch.device):
    return {name: matrix.batch(rows).to(device) for name, matrix in matrices.items()}


def _seen(data: RunData, target: str, part: str) -> Interactions:
    """What the users of ``part`` interacted with before: the target DataSet's training rows
    (or fold-in rows of held-out users), whether or not an Input layer reads that DataSet."""
    parts = data.splits[target].parts
    return parts.get(f"{part}_input", parts["train"])


def value_range(matrix: Interactions) -> tuple[float, float] | None:
    """The range of a matrix's values, which predicted ratings are clipped to; None for
    implicit data."""
    if matrix.values is None or not len(matrix.values):
        return None
    return float(np.min(matrix.values)), float(np.max(matrix.values))
