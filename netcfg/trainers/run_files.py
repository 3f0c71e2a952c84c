"""The files a single run writes at its start and end: the run directory made or checked
for resuming, ``config.json``, ``run.json`` (data shapes, widths, status), the id indexes
and the layer table."""

from __future__ import annotations

import datetime

from netcfg import __version__
from netcfg.config.render import render_config
from netcfg.errors import ConfigError, Issue
from netcfg.networks.spec import ModelSpec
from netcfg.trainers.bindings import RunData
from netcfg.trainers.rundir import RunDir

__all__ = ["prepare_run_dir", "set_status", "write_run_files"]


def prepare_run_dir(run_dir: RunDir, spec: ModelSpec, resume: bool) -> None:
    """Create the run directory, or check that a resumed run has the config it started
    with (only ``Training.Epochs`` may change).

    Raises:
        ConfigError: the directory exists and is not empty (without ``resume``), or the
            config differs from the resumed run's.
    """
    root = run_dir.root
    if resume:
        saved = run_dir.read_json("config.json")
        now = render_config(spec)
        for rendered in (saved, now):
            rendered["Training"].pop("Epochs", None)
        if saved != now:
            raise ConfigError(
                [
                    Issue(
                        (),
                        f"the config differs from the one {root} was started "
                        "with (only Training.Epochs may change when resuming)",
                    )
                ]
            )
        return
    if root.exists() and any(root.iterdir()):
        raise ConfigError(
            [
                Issue(
                    (),
                    f"run directory {root} already exists; resume it with "
                    "--resume, or choose another --out",
                )
            ]
        )
    root.mkdir(parents=True, exist_ok=True)


def write_run_files(run_dir: RunDir, spec: ModelSpec, run_data: RunData, table: str) -> None:
    """Write the resolved config, the id indexes, ``run.json`` (status ``running``) and the
    layer table."""
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
    run_dir.write_json(
        "run.json",
        {
            "netcfg": __version__,
            "created": datetime.datetime.now().isoformat(timespec="seconds"),
            "status": "running",
            "widths": run_data.widths(),
            "datasets": datasets,
        },
    )
    (run_dir.root / "layers.txt").write_text(table + "\n", encoding="utf-8")


def set_status(run_dir: RunDir, status: str, **fields) -> None:
    """Record the run's status (and final fields such as metrics) in ``run.json``."""
    run = run_dir.read_json("run.json")
    run.update(status=status, **fields)
    run_dir.write_json("run.json", run)
