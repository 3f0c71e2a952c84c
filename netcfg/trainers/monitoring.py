"""Which validation metric picks a run's epoch, and whether the run can monitor it."""

from __future__ import annotations

from netcfg.errors import ConfigError, DataError, Issue
from netcfg.networks.spec import ModelSpec
from netcfg.trainers.evaluation import default_metrics
from netcfg.trainers.loop import Monitor
from netcfg.trainers.metric_names import parse_metric

__all__ = ["check_monitoring", "monitored_metric"]


def _monitor(spec: ModelSpec, metrics: list[str], implicit: bool) -> Monitor:
    stopping = spec.Training.EarlyStopping
    if stopping is not None and stopping.Metric is not None:
        name = stopping.Metric
    else:
        name = (
            next((m for m in metrics if parse_metric(m).kind.ranked), None)
            if implicit
            else ("RMSE" if "RMSE" in metrics else None)
        )
        name = name or "Loss"
    return Monitor(name, parse_metric(name).kind.higher_is_better)


def monitored_metric(spec: ModelSpec, run_data) -> Monitor | None:
    """The validation metric that picks the epoch of a run of ``spec`` on ``run_data``
    (`bind_data`), with its direction; None when the data has no validation part."""
    if "validation" not in run_data.parts():
        return None
    metrics = default_metrics(spec.Evaluation, run_data.implicit())
    return _monitor(spec, metrics, run_data.implicit())


def check_monitoring(
    spec: ModelSpec, monitor: Monitor | None, metrics: list[str], has_validation: bool, batches: int
) -> None:
    """Check that the run has data to train on and can compute the metric it monitors.

    Raises:
        DataError: no training rows.
        ConfigError: early stopping asked for without a validation part, or a monitored
            metric that is not computed for this data.
    """
    if not batches:
        raise DataError("the training data has no rows with interactions")
    stopping = spec.Training.EarlyStopping
    if "EarlyStopping" in spec.Training.model_fields_set and stopping and not has_validation:
        raise ConfigError(
            [
                Issue(
                    ("Training", "EarlyStopping"),
                    "early stopping needs a "
                    "validation part: split the data with a Protocol or give a "
                    "Validation file",
                )
            ]
        )
    if monitor is not None and monitor.name not in metrics:
        raise ConfigError(
            [
                Issue(
                    ("Training", "EarlyStopping", "Metric"),
                    (
                        f"metric '{monitor.name}' is not computed for this data (computed: "
                        f"{', '.join(metrics)})"
                    ),
                )
            ]
        )
