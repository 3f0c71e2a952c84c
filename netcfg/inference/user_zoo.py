"""The user's zoo of trained models: finished run directories kept under a name.

``register_model`` copies a run directory into ``user_zoo_dir()/NAME``; from then on every
command that takes a run directory accepts ``zoo:NAME``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netcfg.errors import ModelError, NetcfgError
from netcfg.inference.models import resolve_model, user_zoo_dir
from netcfg.zoo import ZOO_PREFIX

__all__ = ["TrainedModel", "check_model_name", "register_model", "trained_models"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


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
        ModelError: a bad or taken name, not a run directory, or a run that did not finish.
        NetcfgError: the copy failed (the zoo is left as it was).
    """
    target = check_model_name(name, replace=replace)
    source = resolve_model(run_dir)
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
        shutil.copytree(source, staged)
        if replace and target.exists():
            os.rename(target, staging / "replaced")
        os.rename(staged, target)
    except OSError as err:
        raise NetcfgError(f"cannot register {source} as {target}: {err}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if not copy:
        shutil.rmtree(source)
    return target


def trained_models() -> list[TrainedModel]:
    """The models of the user zoo, sorted by name."""
    root = user_zoo_dir()
    folders = sorted(root.iterdir()) if root.is_dir() else []
    models = []
    for folder in folders:
        if folder.name.startswith(".") or not (folder / "run.json").is_file():
            continue
        run = _read_json(folder / "run.json")
        config = _read_json(folder / "config.json") if (folder / "config.json").is_file() else {}
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
