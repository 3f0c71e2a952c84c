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
from netcfg.trainers.metric_names import MetricKind, parse_metric
from netcfg.trainers.metrics import RankingMetrics, RatingMetrics, ratings_at
from netcfg.trainers.spec import EvaluationSpec

__all__ = ["Evaluator", "default_metrics"]

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
    """

    def __init__(
        self,
        data: RunData,
        metrics: Sequence[str],
        *,
        batch_size: int = 1024,
        clip: bool = True,
        device: torch.device | str = "cpu",
    ):
        self.data = data
        self.metrics = [parse_metric(m) for m in metrics]
        self.batch_size = batch_size
        self.device = torch.device(device)
        self.clip = _value_range(data) if clip else None

    @torch.no_grad()
    def evaluate(self, network: nn.Module, part: str) -> dict[str, float]:
        """The metrics of ``network`` on ``part`` (``validation`` or ``test``)."""
        inputs, targets = self.data.evaluation(part)
        target_name = self.data.targets[0]
        seen = _seen(self.data, target_name, part)
        rows = np.flatnonzero(targets[target_name].row_counts() > 0)
        rating = RatingMetrics(clip=self.clip)
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
                ranking.update(scores, batch_out[target_name], seen.batch(chunk).to(self.device))
            if any(m.kind in (MetricKind.RMSE, MetricKind.MAE) for m in self.metrics):
                rating.update(scores, batch_out[target_name])
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


def _value_range(data: RunData) -> tuple[float, float] | None:
    values = data.splits[data.targets[0]].train.values
    if values is None or not len(values):
        return None
    return float(np.min(values)), float(np.max(values))
