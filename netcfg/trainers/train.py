"""A single network's run: from a config to a trained model in a self-contained run directory.

Ensembles and studies are other kinds of run, built on this one (`netcfg.experiments`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import torch

from netcfg.config import load_config, validate_config
from netcfg.config.render import render_config
from netcfg.data.loader import RowLoader
from netcfg.errors import ConfigError, Issue
from netcfg.networks.compile import compile_network
from netcfg.networks.spec import ModelSpec
from netcfg.networks.summary import format_table, layer_rows
from netcfg.trainers.bindings import bind_data
from netcfg.trainers.checkpoint import WEIGHTS, LoopState, load_checkpoint, load_weights
from netcfg.trainers.console import progress_interval
from netcfg.trainers.distributed import World, data_parallel_note, joined_world, share_state
from netcfg.trainers.evaluation import Evaluator, default_metrics
from netcfg.trainers.hparams import config_hparams
from netcfg.trainers.lock import hold_run_dir, sigterm_interrupts
from netcfg.trainers.loop import TrainingLoop
from netcfg.trainers.mlflow_logger import require_mlflow
from netcfg.trainers.monitoring import check_monitoring, monitored_metric
from netcfg.trainers.notes import data_notes, unseen_note
from netcfg.trainers.optimizers import create_optimizer
from netcfg.trainers.reporting import Reporter, SilentReporter
from netcfg.trainers.run_files import (
    clear_outputs,
    prepare_run_dir,
    recording_status,
    set_status,
    write_run_files,
)
from netcfg.trainers.rundir import RunDir, default_run_dir
from netcfg.trainers.sharding import RowSharding, sharding_note, tables_to_shard
from netcfg.trainers.spec import Logger
from netcfg.trainers.threads import configure_threads

__all__ = ["TrainResult", "train"]


@dataclass
class TrainResult:
    """What a finished run gives back (also written to the run directory)."""

    run_dir: Path
    epochs: int
    best_epoch: int | None
    validation: dict[str, float] = field(default_factory=dict)
    test: dict[str, float] = field(default_factory=dict)
    members: dict[str, dict] = field(default_factory=dict)
    """For an ensemble: each member's weight and test metrics, by name."""
    monitor: str | None = None
    """The validation metric that chose the epoch (None without validation)."""
    stopped: str | None = None
    """Why the run stopped before its epochs ran out, when ``on_epoch`` stopped it."""


def _load(config, overrides: Sequence[str], data: Sequence[str]) -> ModelSpec:
    """The spec, each ``--data`` replacing its DataSets' sources before ``--set`` applies."""
    if isinstance(config, Mapping):
        return validate_config(config, overrides, bind=data)
    return load_config(config, overrides, data=data)


def _device(name: str) -> torch.device:
    """The torch device of ``Training.Device``.

    Raises:
        ConfigError: the device is not on this machine (no CUDA, no such CUDA device
            number, no MPS).
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    missing = None
    if name.startswith("cuda"):
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = int(name.partition(":")[2] or 0)
        if not count:
            missing = "no CUDA"
        elif index >= count:
            missing = f"its CUDA devices are cuda:0 to cuda:{count - 1}"
    elif name == "mps" and not torch.backends.mps.is_available():
        missing = "no MPS"
    if missing is not None:
        raise ConfigError(
            [
                Issue(
                    ("Training", "Device"),
                    f"device '{name}' is not available on this machine ({missing}); "
                    "use auto or cpu",
                )
            ]
        )
    return torch.device(name)


def train(
    config: str | Path | Mapping,
    overrides: Sequence[str] = (),
    *,
    data: Sequence[str] = (),
    out: str | Path | None = None,
    resume: bool = False,
    progress: bool = False,
    on_epoch: Callable[[int, dict], str | None] | None = None,
    parts: Sequence[str] | None = None,
    quiet: bool = False,
) -> TrainResult:
    """Train the network a config describes and save everything in a run directory.

    Args:
        config: a config file, a folder, ``zoo:NAME``, or a config mapping.
        overrides: ``KEY=VALUE`` strings (``--set``).
        data: ``PATH`` (bound to every DataSet) or ``NAME=PATH`` (``--data``).
        out: the run directory (default ``runs/<name>-<date-time>``).
        resume: continue the run in ``out`` from its last checkpoint (from epoch 0 when
            it was killed before its first one).
        progress: show a progress bar on stderr.
        on_epoch: called after each epoch with the epochs done and the epoch's record
            (``validation`` holds its metrics); a returned string stops the run there, for
            that reason (``TrainResult.stopped``; status ``stopped`` in ``run.json``).
        quiet: print nothing (the notes still go to TensorBoard's text and run.json).
        parts: the parts whose final metrics are computed (default: every part; a search
            gives ``["validation"]`` so that no trial looks at the test part).

    The run directory is held for the whole run (`hold_run_dir`); ``run.json`` records how
    the run ended (``interrupted`` for KeyboardInterrupt and SIGTERM, ``failed`` with the
    message of any other exception, which goes on).

    Raises:
        ConfigError: a bad config (exit status 2 in the CLI), or ``out`` in use by another
            process.
        DataError: bad or missing data.
        TrainingDiverged: the loss became NaN or exploded; the last checkpoint is kept.
        NetcfgError: a checkpoint or run file cannot be written (disk full, permissions).

    Example:
        >>> result = train("zoo:quickstart", overrides=["Training.Epochs=3"])
        >>> result.test["RMSE"]
    """
    if resume and out is None:
        raise ConfigError([Issue((), "resuming needs the run directory: give --out RUN_DIR")])
    spec = _load(config, overrides, data)
    if progress and not quiet:
        progress_interval()  # a bad NETCFG_PROGRESS_INTERVAL stops the run before it starts
    if Logger.MLflow in spec.Training.Loggers:
        require_mlflow()
    device = _device(spec.Training.Device)
    with joined_world(device.type) as world:
        if world.distributed and device.type == "cuda":
            device = torch.device("cuda", world.local_rank)
        root = Path(out) if out else default_run_dir(spec, str(config))
        run_dir = RunDir(world.broadcast(root))  # rank 0's clock names it
        if resume and not run_dir.root.is_dir():
            raise ConfigError([Issue((), f"{run_dir.root}: no such run directory to resume")])
        held = hold_run_dir(run_dir.root, create=not resume) if world.main else nullcontext()
        with held, sigterm_interrupts():
            return _run(spec, run_dir, resume, progress, on_epoch, parts, quiet, world, device)


def _run(
    spec: ModelSpec,
    run_dir: RunDir,
    resume: bool,
    progress: bool,
    on_epoch: Callable[[int, dict], str | None] | None,
    parts: Sequence[str] | None,
    quiet: bool,
    world: World,
    device: torch.device,
) -> TrainResult:
    """`train`, in the run directory it holds (rank 0 of data-parallel processes holds and
    writes it; the others train beside it, see `netcfg.trainers.distributed`)."""
    training = spec.Training
    threads, origin = configure_threads(training.Threads)
    continuing = world.broadcast(prepare_run_dir(run_dir, spec, resume) if world.main else None)
    torch.manual_seed(training.Seed)
    torch.use_deterministic_algorithms(training.Deterministic)
    if not world.main:  # rank 0 fetches or generates what the cache lacks, once
        world.broadcast(None)
    run_data = bind_data(spec, spec.input_datasets(), spec.target_datasets())
    if world.main:
        world.broadcast(None)
    network = compile_network(spec, run_data.widths()).to(device)
    if network.baseline is not None:  # a checkpoint, if resuming, overrides this start
        network.baseline.start_at(
            run_data.train()[network.baseline_dataset].values_or_ones().mean()
        )
    _check_refeed(spec, network)
    optimizer = create_optimizer(training.Optimizer, network.named_parameters())
    loader = RowLoader(
        run_data.train(),
        training.BatchSize,
        shuffle=spec.ShuffleIndices,
        seed=training.Seed,
        shard=(world.rank, world.size),
    )
    metrics = default_metrics(spec.Evaluation, run_data.implicit())
    evaluator = Evaluator(
        run_data,
        metrics,
        batch_size=spec.Evaluation.BatchSize,
        clip=spec.Evaluation.ClipPredictions,
        device=device,
        unseen=spec.Evaluation.UnseenItems,
    )
    has_validation = "validation" in run_data.parts()
    monitor = monitored_metric(spec, run_data)
    check_monitoring(spec, monitor, metrics, has_validation, len(loader))
    state = LoopState()
    if continuing and world.main:
        state = load_checkpoint(run_dir.checkpoint, network, optimizer)
    state = share_state(world, network, optimizer, state, continuing)
    shard = tables_to_shard(training.Distributed, network)
    sharding = None
    if shard and world.size > 1:
        sharding = RowSharding(network, optimizer, network.row_tables(), shard, world)
    make_loop = partial(
        TrainingLoop,
        network,
        optimizer,
        loader,
        training=training,
        decay=spec.Decay,
        evaluator=evaluator if has_validation else None,
        monitor=monitor,
        run_dir=run_dir,
        device=device,
        world=world,
        sharding=sharding,
        tables=shard,
    )
    if not world.main:  # train beside rank 0, writing and printing nothing
        follower = make_loop(reporter=SilentReporter(run_dir))
        state = follower.fit(state)
        return TrainResult(run_dir.root, state.epoch, None, stopped=follower.stopped)
    table = format_table(layer_rows(spec, network), sum(p.numel() for p in network.parameters()))
    if continuing:
        set_status(run_dir, "running", world_size=world.size)
    else:  # a new run, or one killed before its first checkpoint, started again
        clear_outputs(run_dir)
        write_run_files(run_dir, spec, run_data, table, world.size)
    reporter = Reporter(
        run_dir,
        progress=progress,
        quiet=quiet,
        histograms=training.WeightHistograms,
        purge_step=state.global_step if continuing else None,
        monitor=monitor.name if monitor else None,
        loggers=training.Loggers,
        params=config_hparams(spec, network.shapes),
        config=render_config(spec),
    )
    with recording_status(run_dir, reporter.close):
        reporter.start()
        reporter.rewrite(state.history)
        reporter.text("layers", table)
        if resume and not continuing:
            reporter.message(f"{run_dir.root} has no checkpoint yet: it restarts from epoch 0")
        reporter.message(f"threads: {threads} CPU threads for torch ({origin})")
        if world.distributed:
            reporter.message(data_parallel_note(world, training.BatchSize))
        if sharding is not None:
            reporter.message(sharding_note(sharding))
        elif shard:
            reporter.message("Training.Distributed.Shard: one process holds every table")
        if not continuing:
            for line in data_notes(spec, run_data, monitor):
                reporter.message(line)
        loop = make_loop(reporter=reporter, on_epoch=on_epoch)
        state = loop.fit(state)
        load_weights(network, run_dir.best / WEIGHTS)
        result = TrainResult(
            run_dir.root,
            state.epoch,
            state.best_epoch if monitor else None,
            monitor=monitor.name if monitor else None,
            stopped=loop.stopped,
        )
        unseen = {}
        for part in [p for p in run_data.parts() if parts is None or p in parts]:
            setattr(result, part, evaluator.evaluate(network, part))
            unseen[part] = evaluator.unseen_counts(part)
            if unseen[part]["entries"]:
                reporter.message(unseen_note(part, unseen[part], run_data.implicit()))
        reporter.append(
            {
                "final": True,
                "best_epoch": result.best_epoch,
                "epochs": state.epoch,
                "validation": result.validation,
                "test": result.test,
            }
        )
        reporter.finish(
            {p: m for p, m in (("validation", result.validation), ("test", result.test)) if m},
            epochs=state.epoch,
            best_epoch=result.best_epoch,
        )
        set_status(
            run_dir,
            "stopped" if loop.stopped else "completed",
            **({"stopped": loop.stopped} if loop.stopped else {}),
            best_epoch=result.best_epoch,
            epochs=state.epoch,
            validation=result.validation,
            test=result.test,
            unseen=unseen,
        )
    reporter.close()  # after run.json holds the status: MLflow ends the run as it says
    return result


def _check_refeed(spec: ModelSpec, network) -> None:
    if not spec.Training.RefeedSteps:
        return
    (input_layer,) = network.inputs
    (output_layer,) = network.outputs
    if network.data_shape(input_layer) != network.shapes[output_layer]:
        raise ConfigError(
            [
                Issue(
                    ("Training", "RefeedSteps"),
                    (
                        f"re-feeding needs the output '{output_layer}' as wide as the input "
                        f"'{input_layer}' ({network.shapes[output_layer]} vs "
                        f"{network.data_shape(input_layer)})"
                    ),
                )
            ]
        )
