"""The ``Training`` and ``Evaluation`` sections of a config (netcfg's extensions)."""

from __future__ import annotations

import enum
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PositiveInt

from netcfg.spec_base import (
    SpecBase,
    StringShorthand,
    names_type,
    spec_enum,
    spec_error,
    spec_field,
    tuple_of,
)
from netcfg.trainers.metric_names import parse_metric
from netcfg.trainers.optimizer_spec import (
    ConstantScheduleSpec,
    OptimizerSpec,
    ScheduleSpec,
    SGDSpec,
)

__all__ = [
    "MAX_SEED",
    "MAX_THREADS",
    "DistributedSpec",
    "EarlyStoppingSpec",
    "EvaluationSpec",
    "HoldoutProtocol",
    "HoldoutSpec",
    "Logger",
    "Precision",
    "TrainingSpec",
    "UnseenPolicy",
]


MAX_SEED = 2**64 - 1
"""The largest seed: torch.manual_seed takes 64-bit seeds (numpy any non-negative one)."""

MAX_THREADS = 1024
"""The most CPU threads a config may ask for (torch cannot take huge counts)."""


def _canonical_metric(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return str(parse_metric(value))
    except ValueError as err:
        raise spec_error(str(err)) from None


MetricText = Annotated[str, BeforeValidator(_canonical_metric)]
"""A metric name such as ``RMSE``, ``Recall`` or ``NDCG@10`` (case-insensitive)."""


class EarlyStoppingSpec(SpecBase):
    """Stop when the validation metric has not improved for Patience epochs."""

    Metric: MetricText | None = spec_field(
        None,
        description="Metric watched on the validation split, e.g. RMSE or NDCG@10 (default: "
        "the metric that picks the best epoch: RMSE for ratings, the first ranking metric "
        "for implicit feedback, else Loss).",
    )
    Patience: int = spec_field(10, ge=1, description="Epochs without improvement before stopping.")
    MinDelta: float = spec_field(
        0.0, ge=0.0, description="Smallest change that counts as an improvement."
    )


class HoldoutProtocol(str, enum.Enum):
    """How a validation part is held out of the training part when the data has none."""

    PerUser = "PerUser"
    Random = "Random"
    none = "None"


HoldoutProtocolName = spec_enum(
    HoldoutProtocol,
    "Validation Protocol",
    aliases={"per-user": "PerUser", "off": "None", "false": "None"},
)


class HoldoutSpec(SpecBase):
    """The validation part held out of the training part when the bound data has none."""

    Protocol: HoldoutProtocolName = spec_field(
        HoldoutProtocol.PerUser,
        description="PerUser (each user's interactions in this proportion), Random (entries "
        "drawn independently), or None (no validation: the last epoch is kept).",
    )
    Fraction: float = spec_field(
        0.1, gt=0.0, lt=1.0, description="Share of the training interactions held out."
    )
    Seed: int = spec_field(0, ge=0, le=MAX_SEED, description="Seed of the hold-out.")


_PROTOCOL_SHORTHAND = StringShorthand("Protocol")
Holdout = Annotated[HoldoutSpec, BeforeValidator(_PROTOCOL_SHORTHAND), _PROTOCOL_SHORTHAND]
"""A hold-out, or just its protocol as a string (``Validation: None``)."""


class Precision(str, enum.Enum):
    """Numeric precision of training."""

    fp32 = "fp32"
    bf16 = "bf16"
    fp16 = "fp16"


PrecisionName = spec_enum(
    Precision, "Precision", aliases={"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}
)


class Logger(str, enum.Enum):
    """Where a run logs its parameters and metrics, besides ``metrics.jsonl``."""

    TensorBoard = "TensorBoard"
    MLflow = "MLflow"


def _logger_list(value: Any) -> Any:
    if not isinstance(value, list | tuple):
        raise spec_error(f"Loggers must be a list such as [TensorBoard, MLflow] (got {value!r})")
    return value


def _distinct_loggers(loggers: tuple[Logger, ...]) -> tuple[Logger, ...]:
    for index, logger in enumerate(loggers):
        if logger in loggers[:index]:
            raise spec_error(f"Logger '{logger.value}' is listed twice")
    return loggers


LoggerList = Annotated[
    tuple_of(spec_enum(Logger, "Logger")),
    AfterValidator(_distinct_loggers),
    BeforeValidator(_logger_list),
]
"""A list of distinct loggers (``[TensorBoard, MLflow]``)."""

DEVICE_PATTERN = r"^(auto|cpu|cuda(:\d+)?|mps)$"


def _device_name(value: Any) -> Any:
    """A Device as written; a string that names no device is an error listing the names
    (pydantic's own message would show the pattern)."""
    if isinstance(value, str) and not re.fullmatch(DEVICE_PATTERN, value):
        raise spec_error(f"unknown Device '{value}'; expected auto, cpu, cuda, cuda:N or mps")
    return value


DeviceName = Annotated[str, BeforeValidator(_device_name)]
"""``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``."""


SHARD_AUTO = "Auto"
"""``Distributed.Shard``'s value that shards every weight stored one row per item."""


class DistributedSpec(SpecBase):
    """netcfg extension: how processes started by torchrun split the model."""

    Shard: names_type = spec_field(
        (),
        description="Layers whose weights stored one row per item (a sparse Input's "
        "projection, a sparse Output's weights) are split by rows across the processes, "
        'each keeping its rows and their optimizer state; "Auto" for every such weight. '
        "Default: none (every process holds the whole model).",
    )

    def sharded_layers(self) -> tuple[str, ...] | None:
        """The layers named in ``Shard``; None for ``Auto``."""
        return None if self.Shard == (SHARD_AUTO,) else self.Shard


class TrainingSpec(SpecBase):
    """How the network is trained: optimizer, schedule, batches, epochs, re-feeding."""

    Optimizer: OptimizerSpec = spec_field(
        SGDSpec(), description="Optimizer and its parameters, or just its Type (default SGD)."
    )
    Schedule: ScheduleSpec = spec_field(
        ConstantScheduleSpec(), description="Learning-rate schedule (default Constant)."
    )
    BatchSize: int = spec_field(
        1024, ge=1, aliases=["MiniBatch"], description="Examples per minibatch."
    )
    Epochs: int = spec_field(40, ge=1, description="Passes over the training data.")
    RefeedSteps: int = spec_field(
        0,
        ge=0,
        description="Dense re-feeding steps after each update (Kuchaiev & Ginsburg 2017).",
    )
    GradientClipNorm: float = spec_field(
        0.0, ge=0.0, description="Clip the global gradient norm to this value (0: off)."
    )
    Validation: Holdout = spec_field(
        HoldoutSpec(),
        description="When the data has no validation part: hold one out of the training "
        "part to pick the best epoch and stop early (default: 10% of each user's "
        "interactions; None: keep the last epoch).",
    )
    EarlyStopping: EarlyStoppingSpec | None = spec_field(
        EarlyStoppingSpec(),
        description="Stop when the validation metric stops improving (default: on, patience "
        "10; null: train every epoch, still keeping the best one).",
    )
    Seed: int = spec_field(
        12134,
        ge=0,
        le=MAX_SEED,
        description="Random seed, 0 to 2**64 - 1, the range torch.manual_seed takes "
        "(default DSSTNE's 12134).",
    )
    Deterministic: bool = spec_field(
        False, description="Use deterministic algorithms only (identical runs, slower)."
    )
    Device: DeviceName = spec_field(
        "auto",
        pattern=DEVICE_PATTERN,
        description="auto, cpu, cuda, cuda:N or mps (auto: cuda when available).",
    )
    Threads: int | None = spec_field(
        None,
        ge=1,
        le=MAX_THREADS,
        description="CPU threads for torch (default: the CPUs this process may use, after "
        "its affinity and cgroup quota); the environment variable NETCFG_THREADS overrides it.",
    )
    Precision: PrecisionName = spec_field(
        Precision.fp32, description="fp32, or mixed precision bf16 / fp16."
    )
    CheckpointInterval: int = spec_field(1, ge=1, description="Epochs between checkpoints.")
    DivergenceFactor: float = spec_field(
        100.0,
        ge=0.0,
        description="Stop when a batch loss exceeds this many times its running average "
        "(after 100 steps; 0: off). NaN or infinite losses always stop the run.",
    )
    WeightHistograms: bool = spec_field(
        False, description="Write weight histograms to TensorBoard every epoch."
    )
    Distributed: DistributedSpec = spec_field(
        DistributedSpec(),
        description="Under torchrun: which catalogue-sized weights are split across the "
        "processes (Shard).",
    )
    Loggers: LoggerList = spec_field(
        (Logger.TensorBoard,),
        description="Where parameters and metrics go besides metrics.jsonl: TensorBoard "
        "(events/ of the run directory) and MLflow (pip install 'netcfg[mlflow]'; the store "
        "MLFLOW_TRACKING_URI names, else sqlite mlflow.db beside the run directory); [] for "
        "neither.",
    )


class UnseenPolicy(str, enum.Enum):
    """What evaluation does with held-out entries that training cannot place."""

    Keep = "Keep"
    Drop = "Drop"


UnseenPolicyName = spec_enum(UnseenPolicy, "UnseenItems")


class EvaluationSpec(SpecBase):
    """Which metrics are reported on the validation and test splits."""

    Metrics: tuple_of(MetricText) | None = spec_field(
        None,
        description="Metric names (RMSE, MAE, Precision, Recall, NDCG, HitRate, ARHR, MRR, "
        "Coverage, optionally with @K). Default: RMSE and MAE for explicit ratings, the "
        "ranking metrics for implicit feedback.",
    )
    K: tuple_of(PositiveInt) = spec_field(
        (10,), description="Cut-offs of the ranking metrics that carry no @K."
    )
    ClipPredictions: bool = spec_field(
        True,
        description="Clip predicted ratings to the range of the training values before RMSE "
        "and MAE (as AutoRec does).",
    )
    BatchSize: int = spec_field(
        1024, ge=1, description="Rows per evaluation batch (outputs are dense: rows x items)."
    )
    UnseenItems: UnseenPolicyName = spec_field(
        UnseenPolicy.Keep,
        description="Held-out entries whose item (or user) has no training interaction: "
        "Keep (default; ranking counts them as misses, ratings predict the user's training "
        "mean, else the global mean) or Drop (score only what training covers).",
    )
