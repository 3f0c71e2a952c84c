"""The files a single run writes at its start and end: the run directory checked (empty
for a new run, the same config for a resumed one, leftovers of a killed run removed),
``config.json``, ``run.json`` (data shapes, widths, status on every way a run ends), the
id indexes and the layer table."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from netcfg import __version__
from netcfg.config.render import render_config
from netcfg.errors import ConfigError, Issue
from netcfg.networks.spec import ModelSpec
from netcfg.trainers.bindings import RunData
from netcfg.trainers.checkpoint import disk_errors
from netcfg.trainers.lock import LOCK_FILE
from netcfg.trainers.loop import TrainingDiverged
from netcfg.trainers.rundir import RunDir

__all__ = [
    "clear_outputs",
    "prepare_run_dir",
    "recording_status",
    "set_status",
    "write_run_files",
]

OUTPUTS = ("metrics.jsonl", "events", "best", "checkpoint")
"""What a run writes as it trains, removed when a run with no checkpoint starts again."""


def prepare_run_dir(run_dir: RunDir, spec: ModelSpec, resume: bool) -> bool:
    """Check the run directory, held with `hold_run_dir`: a new run needs it empty; a
    resumed run needs the config it started with (only ``Training.Epochs`` and
    ``Training.Loggers`` may change).
    Staging folders and temporary files a killed run left are removed.

    Returns:
        Whether the run continues from a checkpoint (false: it starts from epoch 0, also
        when resuming a run killed before its first checkpoint).

    Raises:
        ConfigError: the directory is not empty (without ``resume``), is not a run
            directory (with ``resume``), or the config differs from the resumed run's.
    """
    root = run_dir.root
    entries = [p for p in root.iterdir() if p.name != LOCK_FILE]
    if not resume:
        if entries:
            raise _exists(root)
        return False
    leftovers = [p for p in entries if _is_leftover(p.name)]
    if not (root / "config.json").is_file():
        if len(leftovers) < len(entries):
            raise ConfigError(
                [Issue((), f"{root} is not a netcfg run directory (no config.json) to resume")]
            )
    else:
        _check_config(run_dir, spec)
    if not run_dir.checkpoint.exists():
        _recover_checkpoint(run_dir, leftovers)
    for path in [*leftovers, *root.glob("best/.*.tmp")]:
        if not path.exists():
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    return (run_dir.checkpoint / "state.json").is_file()


def _recover_checkpoint(run_dir: RunDir, leftovers: list[Path]) -> None:
    """A run killed as it replaced its checkpoint (the old one removed, the new one not yet
    renamed into place) left the new one whole in its staging folder: put it in place."""
    for staging in leftovers:
        if staging.name.startswith(".checkpoint.") and staging.is_dir():
            try:
                json.loads((staging / "state.json").read_text())  # written last
            except (OSError, ValueError):
                continue
            os.replace(staging, run_dir.checkpoint)
            return


def _is_leftover(name: str) -> bool:
    """A staging folder (``.checkpoint.*``, ``.best.*``) or temporary file (``.NAME.tmp``)
    of a write that a killed run left unfinished."""
    return name.startswith((".checkpoint.", ".best.")) or (
        name.startswith(".") and name.endswith(".tmp")
    )


def _check_config(run_dir: RunDir, spec: ModelSpec) -> None:
    saved = run_dir.read_json("config.json")
    now = render_config(spec)
    for rendered in (saved, now):
        rendered["Training"].pop("Epochs", None)
        rendered["Training"].pop("Loggers", None)  # where it reports, not what it trains
    if saved != now:
        raise ConfigError(
            [
                Issue(
                    (),
                    f"the config differs from the one {run_dir.root} was started "
                    "with (only Training.Epochs and Training.Loggers may change when resuming)",
                )
            ]
        )


def _exists(root: Path) -> ConfigError:
    return ConfigError(
        [
            Issue(
                (),
                f"run directory {root} already exists; resume it with "
                "--resume, or choose another --out",
            )
        ]
    )


def clear_outputs(run_dir: RunDir) -> None:
    """Remove what a run killed before its first checkpoint wrote as it trained, so that
    it starts again from epoch 0 as a new run would."""
    for name in OUTPUTS:
        path = run_dir.root / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def write_run_files(
    run_dir: RunDir, spec: ModelSpec, run_data: RunData, table: str, world_size: int = 1
) -> None:
    """Write the resolved config, the id indexes, the layer table and, last, ``run.json``
    (status ``running``; ``world_size``: the data-parallel processes training it).

    Raises:
        NetcfgError: a file cannot be written (disk full, permissions).
    """
    with disk_errors(run_dir.root):
        run_dir.write_json("config.json", render_config(spec))
        datasets = {}
        for name, split in run_data.splits.items():
            train = split.train
            run_dir.save_ids(name, train.rows, train.columns)
            datasets[name] = {
                "shape": list(train.shape),
                "orientation": train.orientation,
                "values": "explicit" if train.values is not None else "implicit",
                "numeric_ids": {"rows": train.rows.numeric, "columns": train.columns.numeric},
                "parts": {p: m.nnz for p, m in split.parts.items()},
            }
        run_dir.write_text("layers.txt", table + "\n")
        run_dir.write_json(
            "run.json",
            {
                "netcfg": __version__,
                "created": datetime.datetime.now().isoformat(timespec="seconds"),
                "status": "running",
                "world_size": world_size,
                "widths": run_data.widths(),
                "datasets": datasets,
            },
        )


def set_status(run_dir: RunDir, status: str, **fields) -> None:
    """Record the run's status (and final fields such as metrics) in ``run.json``; the
    ``message`` and ``stopped`` of an earlier end go.

    Raises:
        NetcfgError: ``run.json`` cannot be written (disk full, permissions).
    """
    run = run_dir.read_json("run.json")
    for key in ("message", "stopped"):
        run.pop(key, None)
    run.update(status=status, **fields)
    with disk_errors(run_dir.root / "run.json"):
        run_dir.write_json("run.json", run)


@contextmanager
def recording_status(run_dir: RunDir, close: Callable[[], None]) -> Iterator[None]:
    """Around a run that has started (``run.json`` says ``running``): an exception that
    ends it is recorded in ``run.json`` (``diverged``, ``interrupted`` for
    KeyboardInterrupt and SIGTERM, ``failed`` with its message), ``close`` is called,
    and the exception goes on."""
    try:
        yield
    except BaseException as err:
        if isinstance(err, TrainingDiverged):
            status, fields = "diverged", {"message": str(err)}
        elif isinstance(err, Exception):
            status, fields = "failed", {"message": str(err) or type(err).__name__}
        else:
            status, fields = "interrupted", {}
        with contextlib.suppress(Exception):  # the error that ended the run matters more
            set_status(run_dir, status, **fields)
        with contextlib.suppress(Exception):
            close()
        raise
