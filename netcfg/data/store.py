"""Dataset directories: an interaction matrix on disk, readable without netcfg.

Layout of a dataset directory::

    meta.json     shape, counts, value kind, orientation, provenance, checksum, array list
    indptr.bin    int64 little-endian [rows + 1]
    indices.bin   int32 little-endian [nnz]
    values.bin    float32 little-endian [nnz]   (absent for implicit data)
    times.bin     int64 little-endian [nnz]     (absent without timestamps)
    rows.txt      original id of each row, one per line (users, or items if item-major)
    columns.txt   original id of each column

Arrays are raw little-endian binaries so that they can be memory-mapped (``numpy.memmap``)
and written in pieces; ``meta.json`` names their dtype and length. Writes go to a
temporary directory that is renamed into place, so a dataset is never half-written.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from netcfg.data.ids import IdIndex
from netcfg.data.interactions import Interactions
from netcfg.errors import DataError, Location

__all__ = ["DATASET_FORMAT", "atomic_folder", "is_dataset", "load_dataset", "save_dataset"]

DATASET_FORMAT = "netcfg-dataset"
VERSION = 1
_ARRAYS = {"indptr": "<i8", "indices": "<i4", "values": "<f4", "times": "<i8"}


def is_dataset(path: str | Path) -> bool:
    """Whether ``path`` is a dataset directory."""
    meta = Path(path) / "meta.json"
    if not meta.is_file():
        return False
    try:
        return json.loads(meta.read_text()).get("format") == DATASET_FORMAT
    except (OSError, ValueError):
        return False


@contextmanager
def atomic_folder(folder: str | Path) -> Iterator[Path]:
    """Write a folder atomically: yield a staging folder, then rename it to ``folder``.

    The files are fsynced before the rename; on any error the staging folder is removed
    and an existing ``folder`` is left as it was.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        yield staging
        for file in staging.iterdir():
            if file.is_file():
                with file.open("rb") as handle:
                    os.fsync(handle.fileno())
        staging.chmod(0o755)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def save_dataset(matrix: Interactions, folder: str | Path) -> dict[str, Any]:
    """Write a matrix as a dataset directory (replacing one that is there).

    Returns:
        The metadata written to ``meta.json``.
    """
    with atomic_folder(folder) as staging:
        digest = hashlib.sha256()
        arrays = {}
        for name, dtype in _ARRAYS.items():
            array = getattr(matrix, name)
            if array is None:
                continue
            data = np.ascontiguousarray(array, dtype=dtype)
            data.tofile(staging / f"{name}.bin")
            digest.update(memoryview(data).cast("B"))
            arrays[name] = {"file": f"{name}.bin", "dtype": dtype, "length": int(data.shape[0])}
        for name, index in (("rows", matrix.rows), ("columns", matrix.columns)):
            index.save(staging / f"{name}.txt")
            digest.update((staging / f"{name}.txt").read_bytes())
        meta = {
            "format": DATASET_FORMAT,
            "version": VERSION,
            "shape": list(matrix.shape),
            "nnz": matrix.nnz,
            "orientation": matrix.orientation,
            "values": "explicit" if matrix.values is not None else "implicit",
            "timestamps": matrix.times is not None,
            "numeric_ids": {"rows": matrix.rows.numeric, "columns": matrix.columns.numeric},
            "arrays": arrays,
            "checksum": "sha256:" + digest.hexdigest(),
            **matrix.meta,
        }
        (staging / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def load_dataset(folder: str | Path, *, mmap: bool = True) -> Interactions:
    """Read a dataset directory (arrays memory-mapped unless ``mmap`` is False).

    Raises:
        DataError: not a dataset directory, or files missing or of the wrong size.
    """
    folder = Path(folder)
    where = Location(str(folder))
    if not is_dataset(folder):
        raise DataError(
            "not a netcfg dataset directory (no meta.json); create one with "
            "'netcfg data import' or 'netcfg data synth'",
            where,
        )
    meta = json.loads((folder / "meta.json").read_text())
    arrays: dict[str, np.ndarray | None] = {}
    for name in _ARRAYS:
        entry = meta["arrays"].get(name)
        if entry is None:
            arrays[name] = None
            continue
        path = folder / entry["file"]
        expected = entry["length"] * np.dtype(entry["dtype"]).itemsize
        if not path.is_file() or path.stat().st_size != expected:
            raise DataError(
                f"{entry['file']} is missing or truncated (expected {expected} bytes)", where
            )
        if mmap and entry["length"]:
            arrays[name] = np.memmap(path, dtype=entry["dtype"], mode="r", shape=(entry["length"],))
        else:
            arrays[name] = np.fromfile(path, dtype=entry["dtype"])
    numeric = meta["numeric_ids"]
    rows = IdIndex.load(folder / "rows.txt", numeric["rows"])
    columns = IdIndex.load(folder / "columns.txt", numeric["columns"])
    if (len(rows), len(columns)) != tuple(meta["shape"]):
        raise DataError("id files do not match the shape in meta.json", where)
    provenance = {k: v for k, v in meta.items() if k not in _OWN_KEYS}
    return Interactions(
        arrays["indptr"],
        arrays["indices"],
        arrays["values"],
        arrays["times"],
        rows,
        columns,
        meta["orientation"],
        provenance,
    )


_OWN_KEYS = {
    "format",
    "version",
    "shape",
    "nnz",
    "orientation",
    "values",
    "timestamps",
    "numeric_ids",
    "arrays",
    "checksum",
}
