"""Run directories: everything needed to reuse a trained model, and nothing outside them.

Layout::

    config.json        the resolved config (netcfg render), with absolute data paths
    run.json           widths and orientation of each DataSet, status, best epoch, metrics
    layers.txt         the layer table
    ids/<DataSet>/     rows.txt and columns.txt: original ids of the rows and columns
    checkpoint/        latest checkpoint (weights, optimizer, random and loop state)
    best/              weights of the best epoch
    metrics.jsonl      one JSON record per epoch, and a final one
    events/            TensorBoard event files
"""

from __future__ import annotations

import datetime
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netcfg.config import validate_config
from netcfg.data.ids import IdIndex
from netcfg.errors import Location, NetcfgError
from netcfg.networks.compile import compile_network
from netcfg.networks.network import Network
from netcfg.networks.spec import ModelSpec
from netcfg.trainers.checkpoint import WEIGHTS, load_weights

__all__ = ["LoadedModel", "RunDir", "default_run_dir", "load_model"]


def default_run_dir(spec: ModelSpec, config: str) -> Path:
    """``runs/<name>-<date-time>`` in the current directory."""
    name = spec.Name or Path(str(config).removeprefix("zoo:")).stem or "run"
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "run"
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{slug}-{stamp}"


@dataclass(frozen=True)
class RunDir:
    """The paths of a run directory."""

    root: Path

    @property
    def checkpoint(self) -> Path:
        """Latest checkpoint folder."""
        return self.root / "checkpoint"

    @property
    def best(self) -> Path:
        """Best weights folder."""
        return self.root / "best"

    @property
    def metrics(self) -> Path:
        """The metrics.jsonl file."""
        return self.root / "metrics.jsonl"

    @property
    def events(self) -> Path:
        """TensorBoard folder."""
        return self.root / "events"

    def write_json(self, name: str, data: dict[str, Any]) -> None:
        """Write a JSON file atomically (temporary file, fsync, rename)."""
        self.root.mkdir(parents=True, exist_ok=True)
        temporary = self.root / f".{name}.tmp"
        with temporary.open("w", encoding="utf-8") as out:
            out.write(json.dumps(data, indent=2) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.root / name)

    def read_json(self, name: str) -> dict[str, Any]:
        """Read a JSON file of the run."""
        path = self.root / name
        if not path.is_file():
            raise NetcfgError(f"{self.root}: not a netcfg run directory (no {name})")
        return json.loads(path.read_text(encoding="utf-8"))

    def save_ids(self, dataset: str, rows: IdIndex, columns: IdIndex) -> None:
        """Keep the original ids of a DataSet's rows and columns."""
        folder = self.root / "ids" / dataset
        folder.mkdir(parents=True, exist_ok=True)
        rows.save(folder / "rows.txt")
        columns.save(folder / "columns.txt")

    def load_ids(self, dataset: str, numeric: dict[str, bool]) -> tuple[IdIndex, IdIndex]:
        """The original ids of a DataSet's rows and columns."""
        folder = self.root / "ids" / dataset
        return (
            IdIndex.load(folder / "rows.txt", numeric["rows"]),
            IdIndex.load(folder / "columns.txt", numeric["columns"]),
        )


@dataclass
class LoadedModel:
    """A trained model read back from its run directory."""

    spec: ModelSpec
    network: Network
    run: dict[str, Any]
    ids: dict[str, tuple[IdIndex, IdIndex]]


def load_model(folder: str | Path, which: str = "best") -> LoadedModel:
    """Rebuild a trained network from its run directory alone.

    Args:
        folder: the run directory.
        which: ``best`` (weights of the best epoch) or ``last`` (latest checkpoint).

    Example:
        >>> model = load_model("runs/quickstart-20261122-101500")
        >>> model.network.eval()
    """
    run_dir = RunDir(Path(folder))
    run = run_dir.read_json("run.json")
    config = run_dir.read_json("config.json")
    spec = validate_config(config, source=str(run_dir.root / "config.json"))
    network = compile_network(spec, run["widths"])
    weights = (run_dir.best if which == "best" else run_dir.checkpoint) / WEIGHTS
    if not weights.is_file():
        raise NetcfgError(f"{Location(str(weights))}: no {which} weights in this run")
    load_weights(network, weights)
    ids = {
        name: run_dir.load_ids(name, info["numeric_ids"]) for name, info in run["datasets"].items()
    }
    return LoadedModel(spec, network.eval(), run, ids)
