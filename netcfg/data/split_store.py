"""Split directories: the parts of a split, each a dataset directory, plus ``meta.json``."""

from __future__ import annotations

import json
from pathlib import Path

from netcfg.data.splits import SplitSet
from netcfg.data.store import atomic_folder, load_dataset, save_dataset
from netcfg.data.unseen import UnseenEntries
from netcfg.errors import DataError, Location

__all__ = ["SPLIT_FORMAT", "is_split", "load_split", "save_split"]

SPLIT_FORMAT = "netcfg-split"


def is_split(path: str | Path) -> bool:
    """Whether ``path`` is a split directory."""
    meta = Path(path) / "meta.json"
    try:
        return meta.is_file() and json.loads(meta.read_text()).get("format") == SPLIT_FORMAT
    except (OSError, ValueError):
        return False


def save_split(split: SplitSet, folder: str | Path, *, orientation: str = "user") -> dict:
    """Write every part and the split's metadata; the folder appears whole or not at all.

    Args:
        split: the parts.
        folder: the split directory to create (replaced if it exists).
        orientation: how models read it by default: ``user`` rows, or ``item`` rows
            (item-based models such as I-AutoRec).
    """
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
    """
    folder = Path(folder)
    if not is_split(folder):
        raise DataError(
            "not a netcfg split directory (create one with 'netcfg data split')",
            Location(str(folder)),
        )
    meta = json.loads((folder / "meta.json").read_text())
    orientation = orientation or meta["orientation"]
    parts = {}
    for name in meta["parts"]:
        part = load_dataset(folder / name)
        parts[name] = part.transpose() if part.orientation != orientation else part
    unseen = {}
    saved = meta.get("unseen", {"parts": []})  # splits written before 0.2 kept none
    for name in saved["parts"]:
        entries = UnseenEntries.load(folder / f"unseen-{name}.npz")
        unseen[name] = entries.transpose() if saved["orientation"] != orientation else entries
    kept = {k: v for k, v in meta.items() if k not in ("format", "parts", "unseen")}
    return SplitSet(parts, kept, unseen)
