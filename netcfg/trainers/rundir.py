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
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from netcfg.config import validate_config
from netcfg.data.ids import IdIndex
from netcfg.data.store import atomic_file
from netcfg.errors import Location, ModelError
from netcfg.networks.compile import compile_network
from netcfg.networks.network import Network
from netcfg.networks.spec import ModelSpec
from netcfg.trainers.checkpoint import WEIGHTS

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
        """Write a JSON file atomically (temporary file, fsync, rename; the temporary file
        is removed when the write fails)."""
        self.write_text(name, json.dumps(data, indent=2) + "\n")

    def write_text(self, name: str, text: str) -> None:
        """Write a UTF-8 text file of the run (``name`` relative to the root) atomically:
        a failed write (a full disk) leaves the previous file, or none, never half of one."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(path) as temporary:
            temporary.write_text(text, encoding="utf-8", newline="\n")

    def read_json(self, name: str) -> dict[str, Any]:
        """Read a JSON object file of the run.

        Raises:
            ModelError: the file is missing, not UTF-8 JSON, or not an object.
        """
        path = self.root / name
        if not path.is_file():
            raise ModelError(f"{self.root}: not a netcfg run directory (no {name})")
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError:
            raise ModelError(f"{path}: damaged: not UTF-8 text; {_REDO}") from None
        except json.JSONDecodeError as err:
            raise ModelError(
                f"{Location(str(path), err.lineno, err.colno)}: damaged: not valid JSON "
                f"({err.msg}); {_REDO}"
            ) from None
        if not isinstance(data, dict):
            raise ModelError(f"{path}: damaged: expected a JSON object; {_REDO}")
        return data

    def save_ids(self, dataset: str, rows: IdIndex, columns: IdIndex) -> None:
        """Keep the original ids of a DataSet's rows and columns."""
        folder = self.root / "ids" / dataset
        folder.mkdir(parents=True, exist_ok=True)
        for name, index in (("rows.txt", rows), ("columns.txt", columns)):
            with atomic_file(folder / name) as temporary:  # never half an id file
                index.save(temporary)

    def load_ids(self, dataset: str, numeric: dict[str, bool]) -> tuple[IdIndex, IdIndex]:
        """The original ids of a DataSet's rows and columns.

        Raises:
            DataError: an id file is missing or damaged (not UTF-8, an id given twice, ...).
        """
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
    """Rebuild a trained network from its run directory alone, checking every file.

    Args:
        folder: the run directory.
        which: ``best`` (weights of the best epoch) or ``last`` (latest checkpoint).

    Raises:
        ModelError: a file is missing or damaged (named): ``run.json`` or ``config.json``
            that is not a JSON object of the expected shape, weights that are not
            safetensors, do not fit the network or are not finite, ids whose count is not
            the width the weights were trained with.
        ConfigError: the saved config is not valid.
        DataError: an id file is damaged (an id given twice, a bad line).

    Example:
        >>> model = load_model("runs/quickstart-20261122-101500")
        >>> model.network.eval()
    """
    run_dir = RunDir(Path(folder))
    run = run_dir.read_json("run.json")
    widths, datasets = _run_layout(run, run_dir.root / "run.json")
    config = run_dir.read_json("config.json")
    spec = validate_config(config, source=str(run_dir.root / "config.json"))
    network = compile_network(spec, widths)
    weights = (run_dir.best if which == "best" else run_dir.checkpoint) / WEIGHTS
    if not weights.is_file():
        raise ModelError(f"{Location(str(weights))}: no {which} weights in this run")
    _load_weights(network, weights)
    ids = {}
    for name, info in datasets.items():
        ids[name] = run_dir.load_ids(name, info["numeric_ids"])
        _check_ids(run_dir.root / "ids" / name, ids[name], info, widths.get(name))
    return LoadedModel(spec, network.eval(), run, ids)


_REDO = "the run directory is damaged: train the model again (or restore the file)"


def _run_layout(run: dict, path: Path) -> tuple[dict[str, int], dict[str, dict]]:
    """The widths and DataSets of ``run.json``, checked for the keys loading needs."""
    widths, datasets = run.get("widths"), run.get("datasets")
    if not isinstance(widths, dict) or not all(
        isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in widths.values()
    ):
        raise ModelError(f"{path}: damaged: 'widths' must map DataSets to positive integers")
    if not isinstance(datasets, dict):
        raise ModelError(f"{path}: damaged: 'datasets' must be an object; {_REDO}")
    for name, info in datasets.items():
        numeric = info.get("numeric_ids") if isinstance(info, dict) else None
        shape = info.get("shape") if isinstance(info, dict) else None
        if (
            not isinstance(numeric, dict)
            or not all(isinstance(numeric.get(k), bool) for k in ("rows", "columns"))
            or info.get("orientation") not in ("user", "item")
            or not (shape is None or _is_shape(shape))
        ):
            raise ModelError(
                f"{path}: damaged: datasets.{name} needs 'orientation' (user or item), "
                f"'numeric_ids' (rows, columns: true or false) and a 'shape'; {_REDO}"
            )
    return widths, datasets


def _is_shape(shape: Any) -> bool:
    return (
        isinstance(shape, list)
        and len(shape) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
    )


def _load_weights(network: Network, path: Path) -> None:
    """Load safetensors weights strictly, refusing a damaged file or non-finite values."""
    try:
        state = load_file(str(path))
    except SafetensorError as err:
        raise ModelError(f"{path}: damaged: not a safetensors file ({err}); {_REDO}") from None
    for name, tensor in state.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ModelError(
                f"{path}: tensor '{name}' has NaN or infinite values (the training diverged, "
                "or the file is damaged); train again, e.g. with a lower learning rate"
            )
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise ModelError(f"{path}: the weights do not fit this network: {err}") from None


def _check_ids(folder: Path, ids: tuple[IdIndex, IdIndex], info: dict, width: int | None):
    """The id files have as many ids as the run's shape and the weights' width."""
    expected = [*info["shape"]] if info.get("shape") else [None, None]
    if width is not None:
        expected[1] = width
    for file, index, count in zip(("rows.txt", "columns.txt"), ids, expected, strict=True):
        if count is not None and len(index) != count:
            raise ModelError(
                f"{folder / file}: {len(index):,} ids, but the model was trained with "
                f"{count:,} (run.json); {_REDO}"
            )
