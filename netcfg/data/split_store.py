"""Split directories: the parts of a split, each a dataset directory, plus ``meta.json``."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from netcfg.data.splits import SplitSet
from netcfg.data.store import atomic_folder, check_replaceable, load_dataset, save_dataset
from netcfg.data.store_checks import read_meta
from netcfg.data.unseen import UnseenEntries
from netcfg.errors import DataError, Location

__all__ = ["SPLIT_FORMAT", "is_split", "load_split", "save_split"]

SPLIT_FORMAT = "netcfg-split"
_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
"""A part's name: its folder inside the split directory, never a path."""


def is_split(path: str | Path) -> bool:
    """Whether ``path`` is a split directory (its ``meta.json`` names the split format)."""
    meta = Path(path) / "meta.json"
    try:
        found = json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else None
    except (OSError, ValueError):
        return False
    return isinstance(found, dict) and found.get("format") == SPLIT_FORMAT


def save_split(split: SplitSet, folder: str | Path, *, orientation: str = "user") -> dict:
    """Write every part and the split's metadata; the folder appears whole or not at all.

    Args:
        split: the parts.
        folder: the split directory to create (replaced if it exists).
        orientation: how models read it by default: ``user`` rows, or ``item`` rows
            (item-based models such as I-AutoRec).

    Raises:
        DataError: ``folder`` exists and is not a split directory (or an empty folder).
    """
    check_replaceable(folder, (SPLIT_FORMAT,))
    with atomic_folder(folder) as staging:
        for name, part in split.parts.items():
            save_dataset(part, staging / name)
        for name, entries in split.unseen.items():
            entries.save(staging / f"unseen-{name}.npz")
        meta = {
            "format": SPLIT_FORMAT,
            "orientation": orientation,
            "parts": list(split.parts),
            **split.meta,
            "unseen": {"parts": list(split.unseen), "orientation": split.train.orientation},
        }
        (staging / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def load_split(folder: str | Path, *, orientation: str | None = None) -> SplitSet:
    """Read a split directory; parts are transposed when read item-major.

    Args:
        folder: the split directory.
        orientation: ``user`` or ``item`` rows; None uses the orientation saved with it.

    Raises:
        DataError: not a split directory, or a damaged one (naming the file).
    """
    folder = Path(folder)
    if not (folder / "meta.json").is_file():
        raise DataError(
            "not a netcfg split directory (create one with 'netcfg data split')",
            Location(str(folder)),
        )
    meta = read_meta(folder)
    _check_split_meta(meta, folder)
    orientation = orientation or meta["orientation"]
    parts = {}
    for name in meta["parts"]:
        part = load_dataset(folder / name)
        parts[name] = part.transpose() if part.orientation != orientation else part
    unseen = {}
    saved = meta.get("unseen", {"parts": []})  # splits written before 0.2 kept none
    for name in saved["parts"]:
        path = folder / f"unseen-{name}.npz"
        try:
            entries = UnseenEntries.load(path)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
            raise DataError(f"damaged or missing ({err})", Location(str(path))) from None
        unseen[name] = entries.transpose() if saved["orientation"] != orientation else entries
    kept = {k: v for k, v in meta.items() if k not in ("format", "parts", "unseen")}
    return SplitSet(parts, kept, unseen)


def _check_split_meta(meta: dict, folder: Path) -> None:
    """The keys `load_split` reads: format, orientation, part names that are folder names."""
    where = Location(str(folder / "meta.json"))
    if meta.get("format") != SPLIT_FORMAT:
        raise DataError(f"format {meta.get('format')!r} is not {SPLIT_FORMAT!r}", where)
    if meta.get("orientation") not in ("user", "item"):
        raise DataError(
            f"orientation must be 'user' or 'item', not {meta.get('orientation')!r}", where
        )
    unseen = meta.get("unseen", {"parts": [], "orientation": "user"})
    unseen_parts = unseen.get("parts") if isinstance(unseen, dict) else None
    for key, names in (("parts", meta.get("parts")), ("unseen.parts", unseen_parts)):
        if not isinstance(names, list) or not all(
            isinstance(n, str) and _PART.fullmatch(n) for n in names
        ):
            raise DataError(
                f"{key} must be a list of part names (letters, digits, '.', '_', '-'; no "
                f"paths), not {names!r}",
                where,
            )
    if unseen.get("parts") and unseen.get("orientation") not in ("user", "item"):
        raise DataError("unseen.orientation must be 'user' or 'item'", where)
