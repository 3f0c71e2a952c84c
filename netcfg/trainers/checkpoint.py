"""Checkpoints: weights (safetensors), optimizer state, random state and loop state.

A checkpoint is a folder written to a staging folder, fsynced and renamed into place, so a
run killed at any moment leaves either the previous checkpoint or the new one, whole.
"""

from __future__ import annotations

import io
import json
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from netcfg.data.store import atomic_file, atomic_folder
from netcfg.errors import ModelError, NetcfgError

__all__ = [
    "LoopState",
    "disk_errors",
    "load_checkpoint",
    "load_weights",
    "save_checkpoint",
    "save_weights",
]

WEIGHTS = "weights.safetensors"


@dataclass
class LoopState:
    """Where a run stands: what resuming needs besides weights and optimizer.

    Attributes:
        epoch: epochs completed.
        global_step: optimizer steps done.
        best_value: best monitored validation value so far (None before any).
        best_epoch: epoch (1-based) of the best value.
        stale_epochs: epochs since the best (for early stopping).
        loss_average: running average of the training loss (for the divergence guard).
        history: per-epoch records already written to ``metrics.jsonl``.
    """

    epoch: int = 0
    global_step: int = 0
    best_value: float | None = None
    best_epoch: int | None = None
    stale_epochs: int = 0
    loss_average: float | None = None
    history: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def disk_errors(path: Path) -> Iterator[None]:
    """Report a failure of the machine while writing ``path`` (a full disk, a permission
    denied) as a `NetcfgError` naming the path and the cause."""
    try:
        yield
    except (OSError, SafetensorError) as err:
        cause = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise NetcfgError(f"{path}: cannot write: {cause}") from err


def save_weights(network: nn.Module, path: Path) -> None:
    """Write a module's state (parameters and buffers) as safetensors, atomically.

    Raises:
        NetcfgError: the file cannot be written (disk full, permissions).
    """
    with disk_errors(path):
        _write_weights(network, path)


def _write_weights(network: nn.Module, path: Path) -> None:
    """Write the weights to ``.NAME.tmp`` beside ``path``, fsync, rename; a failed write
    removes the temporary file (`atomic_file`)."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in network.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as temporary:
        save_file(tensors, str(temporary))


def load_weights(network: nn.Module, path: Path) -> None:
    """Load a safetensors state into a module (strictly: every key must match).

    Raises:
        NetcfgError: the file does not fit the network.
    """
    state = load_file(str(path))
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise NetcfgError(f"{path}: the weights do not fit this network: {err}") from None


def save_checkpoint(
    folder: Path, network: nn.Module, optimizer: torch.optim.Optimizer, state: LoopState
) -> None:
    """Write a checkpoint folder atomically.

    Raises:
        NetcfgError: it cannot be written (disk full, permissions); the previous checkpoint
            is kept.
    """
    with disk_errors(folder), atomic_folder(folder) as staging:
        _write_weights(network, staging / WEIGHTS)
        _write_torch(optimizer.state_dict(), staging / "optimizer.pt")
        _write_torch({"torch": torch.get_rng_state()}, staging / "rng.pt")
        (staging / "state.json").write_text(json.dumps(asdict(state), indent=2) + "\n")


def _write_torch(value: Any, path: Path) -> None:
    """``torch.save`` to memory, then write the bytes through a Python file, so that a
    failed write (a full disk) raises OSError with its cause: torch's own writer turns it
    into a RuntimeError ("unexpected pos") that would read as a bug."""
    buffer = io.BytesIO()
    torch.save(value, buffer)
    with path.open("wb") as out:
        out.write(buffer.getbuffer())


def load_checkpoint(
    folder: Path, network: nn.Module, optimizer: torch.optim.Optimizer
) -> LoopState:
    """Restore weights, optimizer and random state; return the loop state.

    Raises:
        NetcfgError: no checkpoint in ``folder``.
        ModelError: a damaged checkpoint file (named; torch's own advice is not passed on).
    """
    if not (folder / "state.json").is_file():
        raise NetcfgError(f"{folder}: no checkpoint to resume from")

    def damaged(path: Path) -> ModelError:
        return ModelError(
            f"{path}: damaged checkpoint; delete {folder} to restart the run from its "
            "beginning with --resume, or train into another --out"
        )

    try:
        load_weights(network, folder / WEIGHTS)
    except (NetcfgError, SafetensorError, OSError, ValueError) as err:
        raise damaged(folder / WEIGHTS) from err
    for name in ("optimizer.pt", "rng.pt"):
        try:
            saved = torch.load(folder / name, weights_only=True)
            if name == "optimizer.pt":
                optimizer.load_state_dict(saved)
            else:
                torch.set_rng_state(saved["torch"])
        except (
            pickle.UnpicklingError,
            RuntimeError,
            EOFError,
            ValueError,
            KeyError,
            TypeError,
            OSError,
        ) as err:
            raise damaged(folder / name) from err
    try:
        return LoopState(**json.loads((folder / "state.json").read_text(encoding="utf-8")))
    except (ValueError, TypeError, UnicodeDecodeError) as err:
        raise damaged(folder / "state.json") from err
