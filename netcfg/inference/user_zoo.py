"""The user's zoo of trained models: finished run directories kept under a name.

``register_model`` copies a run directory into ``user_zoo_dir()/NAME``; from then on every
command that takes a run directory accepts ``zoo:NAME``. ``reserve_model_name`` keeps a name
for one process (``netcfg train --save-as`` holds it from before training to the
registration): a lock on ``.NAME.reserved`` in the zoo, released when the process ends
however it ends.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netcfg.errors import ModelError, NetcfgError
from netcfg.inference.models import resolve_model, user_zoo_dir
from netcfg.spec_base import did_you_mean
from netcfg.trainers.lock import exclusive
from netcfg.zoo import ZOO_NAME, ZOO_PREFIX

__all__ = [
    "TrainedModel",
    "check_model_name",
    "register_model",
    "reserve_model_name",
    "trained_models",
]

_NAME = ZOO_NAME  # the rule every zoo:NAME lookup applies
_HELD: set[Path] = set()
"""The reservations this process holds (``reserve_model_name`` is re-entrant)."""


@dataclass(frozen=True)
class TrainedModel:
    """A model in the user zoo.

    Attributes:
        name: its name, as in ``zoo:NAME``.
        path: its run directory.
        config: the ``Name`` of the config it was trained from.
        created: when its training started (ISO date and time).
        metrics: the final metrics of the run, by part (``validation``, ``test``).
    """

    name: str
    path: Path
    config: str
    created: str
    metrics: dict[str, dict[str, float]]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ModelError(f"{path}: cannot read: {err}") from None


def check_model_name(name: str, *, replace: bool = False) -> Path:
    """The folder a trained model named ``NAME`` (or ``zoo:NAME``) takes in the user zoo.

    Raises:
        ModelError: the name has characters other than letters, digits, ``-_.`` (or does not
            begin with a letter or digit), or it is taken and ``replace`` is false.
    """
    bare = name.removeprefix(ZOO_PREFIX)
    if not _NAME.fullmatch(bare):
        raise ModelError(
            f"invalid model name '{name}': use up to 100 letters, digits, '-', '_' and '.', "
            "beginning with a letter or digit"
        )
    folder = user_zoo_dir() / bare
    if folder.exists() and not replace:
        raise ModelError(
            f"'{bare}' is already in the user zoo ({folder}); choose another name, or "
            f"replace it with: netcfg zoo add RUN_DIR {bare} --replace"
        )
    return folder


@contextmanager
def reserve_model_name(name: str, *, replace: bool = False) -> Iterator[Path]:
    """Keep the name ``NAME`` for this process until the block ends: another process that
    reserves or registers it meanwhile fails at once. Yields the folder the model will take
    (`check_model_name`). Re-entrant: `register_model` inside the block uses this reservation.

    Raises:
        ModelError: a bad or taken name, or one reserved by another process.
        NetcfgError: the user zoo cannot be created or written.
    """
    target = check_model_name(name, replace=replace)
    reservation = target.parent / f".{target.name}.reserved"
    if reservation in _HELD:
        yield target
        return

    def busy(holder: str) -> ModelError:
        return ModelError(
            f"'{target.name}' is reserved by another netcfg process{holder} that will "
            "register a model under that name; choose another name, or wait for it to finish"
        )

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise NetcfgError(f"{target.parent}: cannot create the user zoo: {err.strerror}") from err
    with exclusive(reservation, busy, f"reserve the name '{target.name}'"):
        _HELD.add(reservation)
        try:
            yield target
        finally:
            _HELD.discard(reservation)


def register_model(
    run_dir: str | Path, name: str, *, copy: bool = True, replace: bool = False
) -> Path:
    """Add a finished run to the user zoo as ``NAME``, atomically.

    The run is copied into a temporary folder beside the zoo entry, then renamed into place,
    so a crash leaves no half-written model.

    Args:
        run_dir: a run directory of a completed training (or ``zoo:OTHER``).
        name: letters, digits, ``-``, ``_`` and ``.``.
        copy: keep the run directory; when false it is removed once the model is registered.
        replace: replace a model registered under the same name.

    Returns:
        The registered run directory, ``user_zoo_dir()/NAME``.

    Raises:
        ModelError: a bad, taken or reserved name, not a run directory, or a run that did
            not finish.
        NetcfgError: the copy failed (the zoo is left as it was).
    """
    check_model_name(name, replace=replace)
    source = resolve_model(run_dir)
    with reserve_model_name(name, replace=replace) as target:
        _register(source, target, replace)
    if not copy:
        shutil.rmtree(source)
    return target


def remove_model(name: str) -> Path:
    """Remove the trained model ``NAME`` (or ``zoo:NAME``) from the user zoo, atomically:
    it is renamed aside under the name's reservation, then deleted.

    Returns:
        The folder the model had.

    Raises:
        ModelError: a bad name, no such model (with the closest names), or a name reserved
            by another process.
        NetcfgError: the folder cannot be removed.
    """
    with reserve_model_name(name, replace=True) as target:
        if not target.is_dir():
            known = sorted(p.name for p in target.parent.iterdir() if not p.name.startswith("."))
            raise ModelError(
                f"no trained model '{target.name}' in {target.parent}"
                f"{did_you_mean(target.name, known)}; 'netcfg zoo list --trained' lists them"
            )
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            os.rename(target, staging / "removed")
        except OSError as err:
            shutil.rmtree(staging, ignore_errors=True)
            raise NetcfgError(f"cannot remove {target}: {err.strerror}") from None
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _register(source: Path, target: Path, replace: bool) -> None:
    """Copy a completed run to ``target`` (reserved), atomically."""
    status = _read_json(source / "run.json").get("status")
    if status != "completed":
        raise ModelError(
            f"{source}: the run is {status or 'of unknown status'}, not completed; only a "
            f"finished run can be registered (continue it with: netcfg train CONFIG --out "
            f"{source} --resume)"
        )
    if target.exists() and target.resolve() == source.resolve():
        raise ModelError(f"{source} is already registered as '{target.name}'")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        staged = staging / target.name
        shutil.copytree(source, staged, copy_function=_copy_file)
        if replace and target.exists():
            os.rename(target, staging / "replaced")
        os.rename(staged, target)
    except (OSError, _CopyFailed) as err:
        failure = err.args[0] if isinstance(err, _CopyFailed) else err
        # the cause without the paths of the staging folder, which goes
        reason = (
            f"[Errno {failure.errno}] {failure.strerror}"
            if failure.errno is not None and failure.strerror
            else str(failure)
        )
        raise NetcfgError(f"cannot register {source} as {target}: {reason}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


class _CopyFailed(Exception):
    """The OSError of one file's copy (``args[0]``), carried through `shutil.copytree`,
    which would otherwise copy on and gather every file's failure into one long message."""


def _copy_file(source: str, target: str) -> str:
    """`shutil.copy2`, raising its OSError (a full disk) as `_CopyFailed` to stop the copy."""
    try:
        return shutil.copy2(source, target)
    except OSError as err:
        raise _CopyFailed(err) from err


def trained_models(problems: list[str] | None = None) -> list[TrainedModel]:
    """The models of the user zoo, sorted by name.

    Args:
        problems: when given, a folder whose ``run.json`` or ``config.json`` cannot be read
            is left out and its problem appended here, so one damaged entry does not hide
            the others; otherwise it raises.

    Raises:
        ModelError: a damaged entry, when ``problems`` is None.
    """
    root = user_zoo_dir()
    folders = sorted(root.iterdir()) if root.is_dir() else []
    models = []
    for folder in folders:
        if folder.name.startswith(".") or not (folder / "run.json").is_file():
            continue
        try:
            run = _read_json(folder / "run.json")
            has_config = (folder / "config.json").is_file()
            config = _read_json(folder / "config.json") if has_config else {}
            if not isinstance(run, dict) or not isinstance(config, dict):
                raise ModelError(f"{folder}: run.json and config.json must hold JSON objects")
        except ModelError as err:
            if problems is None:
                raise
            problems.append(str(err))
            continue
        models.append(
            TrainedModel(
                name=folder.name,
                path=folder,
                config=str(config.get("Name") or "-"),
                created=str(run.get("created") or "-"),
                metrics={part: run[part] for part in ("validation", "test") if run.get(part)},
            )
        )
    return models
