"""Open what a config's ``Data`` entry points to: a dataset, a split, a raw file, a fetch.

Whatever the source, the result is a `SplitSet` (a plain dataset is a split with only a
``train`` part), in the entry's orientation: user rows, or item rows for item-based models.
"""

from __future__ import annotations

from pathlib import Path

from netcfg.data.importer import import_file
from netcfg.data.spec import DataFormat, DataSourceSpec, Orientation
from netcfg.data.split_store import is_split, load_split
from netcfg.data.splits import SplitSet
from netcfg.data.store import is_dataset, load_dataset
from netcfg.errors import DataError, Location

__all__ = ["open_source"]


def open_source(source: DataSourceSpec) -> SplitSet:
    """The data a ``Data`` entry binds.

    A split directory gives its parts; with ``Split`` set, that part is served as
    ``train`` (e.g. ``Split: test`` to look at the test part alone). A dataset directory
    or a raw file (read with ``Format``) gives a ``train`` part only. ``Fetch`` downloads
    (or finds in the cache) a public dataset.

    Raises:
        DataError: a missing path, an unknown split name, or unreadable data.
    """
    orientation = "item" if source.Orientation is Orientation.Item else "user"
    if source.Fetch is not None:
        from netcfg.data.fetch import fetch

        path = fetch(source.Fetch)
    else:
        path = Path(source.Path)
    if is_split(path):
        split = load_split(path, orientation=orientation)
    elif is_dataset(path):
        split = SplitSet(
            {"train": _oriented(load_dataset(path), orientation)}, {"protocol": "none"}
        )
    elif path.is_dir():
        raise DataError(
            "a folder that is neither a netcfg dataset nor a split (no meta.json); "
            "create one with 'netcfg data import'",
            Location(str(path)),
        )
    elif path.is_file():
        fmt = DataFormat.auto if source.Format is DataFormat.netcfg else source.Format
        split = SplitSet(
            {"train": _oriented(import_file(path, None, fmt), orientation)}, {"protocol": "none"}
        )
    else:
        raise DataError("no such file or directory", Location(str(path)))
    if source.Split is not None:
        if source.Split not in split.parts:
            raise DataError(
                f"the split has no part '{source.Split}' (parts: {', '.join(split.parts)})",
                Location(str(path)),
            )
        split = SplitSet({"train": split.parts[source.Split]}, split.meta)
    return split


def _oriented(matrix, orientation: str):
    return matrix.transpose() if matrix.orientation != orientation else matrix
