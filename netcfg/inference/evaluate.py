"""Evaluate a trained model on any data: the trainer's metrics, in the model's ids."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from netcfg.data.source import open_source
from netcfg.data.spec import DataSourceSpec
from netcfg.data.splits import SplitSet
from netcfg.errors import ModelError, UsageError
from netcfg.inference.align import align_columns
from netcfg.trainers.bindings import RunData, bind_data
from netcfg.trainers.evaluation import Evaluator, default_metrics
from netcfg.trainers.metric_names import MetricKind, parse_metric
from netcfg.trainers.rundir import LoadedModel

__all__ = ["evaluate_model", "metric_names"]


def metric_names(names: Sequence[str], ks: Sequence[int]) -> list[str]:
    """Check metric names (``--metrics``) and give a ranked metric without ``@K`` every
    configured cut-off ``ks``.

    Raises:
        UsageError: an unknown name or a bad cut-off, listing the known metrics.
    """
    known = ", ".join(kind.value for kind in MetricKind)
    found = []
    for name in names:
        try:
            metric = parse_metric(name)
        except ValueError as err:
            listing = "" if "expected one of" in str(err) else f"; known metrics: {known}"
            raise UsageError(
                f"--metrics: {err}{listing} (ranked metrics take a cut-off, e.g. NDCG@10)"
            ) from None
        if metric.kind.ranked and metric.k is None:
            found += [f"{metric.kind.value}@{k}" for k in ks]
        else:
            found.append(str(metric))
    return list(dict.fromkeys(found))


def _aligned(split: SplitSet, model: LoadedModel, dataset: str) -> tuple[SplitSet, int]:
    columns = model.ids[dataset][1]
    parts, dropped = {}, 0
    for name, part in split.parts.items():
        aligned = align_columns(part, columns)
        parts[name] = aligned.matrix
        dropped += aligned.dropped_entries
    return SplitSet(parts, split.meta), dropped


def evaluate_model(
    model: LoadedModel,
    data: Mapping[str, str] | None = None,
    *,
    parts: Sequence[str] = ("validation", "test"),
    metrics: Sequence[str] | None = None,
    required: bool = True,
) -> tuple[dict[str, dict[str, float]], int]:
    """Metrics of a trained model on evaluation parts.

    Args:
        model: the trained model.
        data: DataSet name -> a split directory (or any ``Data`` path); None evaluates on
            the data the model was trained with.
        parts: which evaluation parts to score (those present).
        metrics: metric names; default the run's Evaluation settings.
        required: when none of ``parts`` is in the data, raise (True) or return no
            results (False).

    Raises:
        UsageError: an unknown metric name.
        ModelError: no data for a DataSet, or no part to evaluate on (when ``required``).

    Returns:
        Part -> metric -> value, and the number of entries dropped because their item
        (or user, for item-based models) is unknown to the model.
    """
    spec = model.spec
    names = metric_names(metrics, spec.Evaluation.K) if metrics else None
    inputs, targets = spec.input_datasets(), spec.target_datasets()
    if data is None:
        run_data = bind_data(spec, inputs, targets)
        dropped = 0
    else:
        splits, dropped = {}, 0
        for name in dict.fromkeys([*inputs, *targets]):
            if name not in data:
                raise ModelError(f"no data given for DataSet '{name}'")
            orientation = spec.Data[name].Orientation if name in spec.Data else "User"
            opened = open_source(DataSourceSpec(Path=data[name], Orientation=orientation))
            splits[name], lost = _aligned(opened, model, name)
            dropped += lost
        run_data = RunData(splits, tuple(inputs), tuple(targets))
    available = [p for p in parts if p in run_data.parts()]
    if not available:
        if not required:
            return {}, dropped
        where = f"{', '.join(dict.fromkeys(data.values()))}: " if data else ""
        raise ModelError(f"{where}the data has no {' or '.join(parts)} part to evaluate on")
    names = names or default_metrics(spec.Evaluation, run_data.implicit())
    evaluator = Evaluator(
        run_data,
        names,
        batch_size=spec.Evaluation.BatchSize,
        clip=spec.Evaluation.ClipPredictions,
        unseen=spec.Evaluation.UnseenItems,
    )
    return {part: evaluator.evaluate(model.network, part) for part in available}, dropped
