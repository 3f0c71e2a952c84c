"""``Data`` entries in the config layer: a new source replaces the old one; paths absolute.

A data source entry's keys are *source* keys (which data, how it is split) and *treatment*
keys (how it is used: Orientation, Binarize...), as `netcfg.data.spec.DATA_KEY_GROUPS`
says. When an extending config, a ``--set`` override or ``--data`` gives a source (Path,
Fetch or Synthetic, or the plain-string shorthand for Path), every inherited source key
is dropped and the inherited treatment keys are kept unless the new value gives them.
Overrides that give no source merge key by key.

Every path stored in a spec is absolute: paths from a config file are resolved against the
file's folder, paths from ``--set``/``--data`` against the current directory.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from netcfg.config.navigate import slot_of
from netcfg.config.tree import LocDict
from netcfg.data.spec import DATA_KEY_GROUPS, DataSourceSpec
from netcfg.errors import Location

__all__ = [
    "PATH_KEYS",
    "SOURCE_GIVERS",
    "absolute_data_paths",
    "absolute_paths",
    "data_overrides",
    "gives_source",
    "is_data_source",
    "replace_source",
    "start_new_source",
]

SOURCE_GIVERS = ("Path", "Fetch", "Synthetic")
"""The keys that name a source; giving one starts a new source."""

PATH_KEYS = ("Path", "Test", "Validation")
"""The keys holding file paths (made absolute)."""


def is_data_source(annotation: Any) -> bool:
    """Whether a value at ``annotation`` is a data source entry."""
    return DataSourceSpec in slot_of(annotation).models


def gives_source(value: Any) -> bool:
    """Whether an entry names a source: a path string, or an object with a source key."""
    return isinstance(value, str) or (
        isinstance(value, dict) and any(key in value for key in SOURCE_GIVERS)
    )


def replace_source(old: Any, new: Any, loc: Location | None = None) -> Any:
    """``new`` (an entry that gives a source) over the inherited entry ``old``.

    The result holds ``old``'s treatment keys that ``new`` does not give, then ``new``'s
    keys; it is located where ``new`` was written (``loc`` for a plain string), so a
    problem of the new source is reported there.
    """
    treatment = DATA_KEY_GROUPS["treatment"]
    inherited = old if isinstance(old, LocDict) else {}
    kept = [key for key in inherited if key in treatment and not _has(new, key)]
    if not kept:
        return new
    if isinstance(new, str):
        path, new = new, LocDict(loc=loc)
        new.put("Path", path, loc)
    result = LocDict(loc=new.loc or loc)
    for key in kept:
        result.put(key, old[key], old.key_locs.get(key))
    for key, value in new.items():
        result.put(key, value, new.key_locs.get(key))
    return result


def start_new_source(entry: LocDict, where: Location) -> None:
    """Drop an entry's source keys in place, before a ``--set`` gives a new source key by
    key; the entry is then located at that override."""
    for key in [k for k in entry if k in DATA_KEY_GROUPS["source"]]:
        del entry[key]
        entry.key_locs.pop(key, None)
    entry.loc = where


def absolute_paths(entry: Any, folder: Path, keys: tuple[str, ...] = PATH_KEYS) -> Any:
    """``entry`` with its relative paths (``keys``, or the entry itself when it is a
    string) joined to ``folder``, which is made absolute first."""
    folder = folder.absolute()
    if isinstance(entry, str):
        return _joined(entry, folder)
    if isinstance(entry, LocDict):
        for key in keys:
            value = entry.get(key)
            if isinstance(value, str):
                entry.put(key, _joined(value, folder), entry.key_locs.get(key))
    return entry


def absolute_data_paths(tree: LocDict, folder: Path) -> None:
    """Make every path of a config tree's ``Data`` section absolute, relative ones
    resolved against ``folder``."""
    data = tree.get("Data")
    if not isinstance(data, LocDict):
        return
    for name, source in data.items():
        data.put(name, absolute_paths(source, folder), data.key_locs.get(name))


def data_overrides(datasets: Sequence[str], data: Sequence[str]) -> list[str]:
    """``--data`` arguments as ``--set`` overrides of ``Data``.

    ``NAME=PATH`` binds the DataSet ``NAME``; anything else is a path bound to every
    DataSet in ``datasets``. A path that would not read back as itself (``null``, ``1.5``)
    is quoted as JSON.
    """
    from netcfg.config.overrides import parse_value

    overrides = []
    for text in data:
        name, sep, path = text.partition("=")
        targets = [name] if sep and name in datasets else datasets
        path = path if sep and name in datasets else text
        try:
            plain = parse_value(path) == path
        except ValueError:  # nested or aliased past the limits: surely not a plain path
            plain = False
        value = path if plain else json.dumps(path)
        overrides += [f"Data.{target}={value}" for target in targets]
    return overrides


def _joined(value: str, folder: Path) -> str:
    if not value or Path(value).is_absolute():
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else folder / path)


def _has(entry: Any, key: str) -> bool:
    return isinstance(entry, dict) and key in entry
