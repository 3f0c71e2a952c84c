"""Checks of a dataset directory on open: its metadata, file sizes, CSR arrays and checksum.

A dataset directory is input like any file: it may be damaged, edited or crafted. Before
anything is mapped, ``meta.json`` is checked (known format version, orientation, shape,
counts, array list with the expected dtypes, file names inside the folder) and every file's
size against it; then the arrays are read once, in chunks, so the time is linear in their
size and no memory beyond one chunk is allocated: ``indptr`` rises from 0 to ``nnz``,
indices lie in ``[0, columns)``, values are finite, and the SHA-256 checksum that
`save_dataset` recorded matches.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from netcfg.errors import DataError, Location

__all__ = ["ARRAYS", "VERSION", "check_arrays", "check_checksum", "check_meta", "read_meta"]

VERSION = 1
ARRAYS = {"indptr": "<i8", "indices": "<i4", "values": "<f4", "times": "<i8"}
"""The arrays of a dataset directory and their dtypes, in checksum order."""
CHUNK = 1 << 18
"""Entries checked at once (the temporary memory is a few times this, whatever the size)."""
_REDO = "the dataset directory is damaged: import or generate it again"


def read_meta(folder: Path) -> dict[str, Any]:
    """``meta.json`` of a dataset directory as an object.

    Raises:
        DataError: the file is not UTF-8 JSON, or not an object (naming it, and the line).
    """
    path = folder / "meta.json"
    try:
        meta = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise DataError(f"not UTF-8 text; {_REDO}", Location(str(path))) from None
    except json.JSONDecodeError as err:
        raise DataError(
            f"not valid JSON ({err.msg}); {_REDO}", Location(str(path), err.lineno, err.colno)
        ) from None
    if not isinstance(meta, dict):
        raise DataError(f"expected a JSON object; {_REDO}", Location(str(path)))
    return meta


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_meta(meta: dict[str, Any], folder: Path) -> dict[str, tuple[Path, int]]:
    """Check ``meta.json`` and the sizes of the files it lists, before any is read.

    Returns:
        Array name -> (file, length) of the arrays present.

    Raises:
        DataError: naming ``meta.json`` and the key at fault, or the file whose size is wrong.
    """
    where = Location(str(folder / "meta.json"))

    def fail(message: str) -> DataError:
        return DataError(f"{message}; {_REDO}", where)

    if meta.get("version") != VERSION:
        raise fail(f"unknown dataset version {meta.get('version')!r} (this netcfg reads {VERSION})")
    if meta.get("orientation") not in ("user", "item"):
        raise fail(f"orientation must be 'user' or 'item', not {meta.get('orientation')!r}")
    shape, nnz = meta.get("shape"), meta.get("nnz")
    if not (isinstance(shape, list) and len(shape) == 2 and all(map(_count, shape))):
        raise fail(f"shape must be [rows, columns], not {shape!r}")
    if not _count(nnz):
        raise fail(f"nnz must be a count, not {nnz!r}")
    if shape[1] >= 1 << 31:
        raise fail(f"{shape[1]} columns do not fit the int32 indices")
    numeric = meta.get("numeric_ids")
    if not isinstance(numeric, dict) or not all(
        isinstance(numeric.get(k), bool) for k in ("rows", "columns")
    ):
        raise fail("numeric_ids must be {rows: true|false, columns: true|false}")
    listed = meta.get("arrays")
    if not isinstance(listed, dict) or set(listed) - set(ARRAYS):
        raise fail(f"arrays must be an object with keys among {', '.join(ARRAYS)}")
    expected_lengths = {"indptr": shape[0] + 1, "indices": nnz, "values": nnz, "times": nnz}
    present = {"indptr": True, "indices": True}
    present["values"] = {"explicit": True, "implicit": False}.get(meta.get("values"))
    present["times"] = meta.get("timestamps") if isinstance(meta.get("timestamps"), bool) else None
    if present["values"] is None or present["times"] is None:
        raise fail("values must be 'explicit' or 'implicit' and timestamps true or false")
    found = {}
    for name, dtype in ARRAYS.items():
        entry = listed.get(name)
        if (entry is not None) != present[name]:
            raise fail(_presence(name, meta, entry is not None))
        if entry is None:
            continue
        path = _confined(entry.get("file") if isinstance(entry, dict) else None, folder, fail)
        if entry.get("dtype") != dtype or entry.get("length") != expected_lengths[name]:
            raise fail(
                f"arrays.{name} must have dtype {dtype} and length {expected_lengths[name]} "
                f"(from shape and nnz), not {entry.get('dtype')!r} and {entry.get('length')!r}"
            )
        size = expected_lengths[name] * np.dtype(dtype).itemsize
        if not path.is_file() or path.stat().st_size != size:
            actual = f"{path.stat().st_size:,} bytes" if path.is_file() else "no file"
            raise DataError(
                f"{path.name} is missing or truncated: expected {size:,} bytes "
                f"({expected_lengths[name]:,} entries of {dtype}), found {actual}; {_REDO}",
                Location(str(folder)),
            )
        found[name] = (path, expected_lengths[name])
    return found


def _presence(name: str, meta: dict, listed: bool) -> str:
    if name == "values":
        kind = meta.get("values")
        return f"values: {kind}, but a values array is {'listed' if listed else 'missing'}"
    if name == "times":
        state = "listed" if listed else "missing"
        return f"timestamps: {str(meta.get('timestamps')).lower()}, but a times array is {state}"
    return f"arrays.{name} is missing"


def _confined(file: Any, folder: Path, fail) -> Path:
    """The path of an array file named in ``meta.json``: a plain name inside the folder."""
    if (
        not isinstance(file, str)
        or file in ("", ".", "..")
        or "/" in file
        or "\\" in file
        or "\x00" in file
    ):
        raise fail(f"array file {file!r} must be a file name inside the dataset directory")
    path = folder / file
    if path.is_symlink() and not path.resolve().is_relative_to(folder.resolve()):
        raise fail(f"array file {file!r} links outside the dataset directory")
    return path


def check_arrays(arrays: dict[str, np.ndarray | None], shape: list[int], folder: Path) -> None:
    """Check the CSR arrays chunk by chunk: ``indptr`` non-decreasing from 0 to nnz,
    indices within ``[0, columns)``, values finite.

    Raises:
        DataError: naming the file and the first bad entry.
    """
    indptr, indices, values = arrays["indptr"], arrays["indices"], arrays["values"]
    nnz = len(indices) if indices is not None else 0
    ends = (int(indptr[0]), int(indptr[-1]))
    if ends != (0, nnz):
        raise _bad(
            folder, "indptr", f"must run from 0 to nnz={nnz}, runs from {ends[0]} to {ends[1]}"
        )
    for start in range(0, len(indptr) - 1, CHUNK):
        chunk = np.asarray(indptr[start : start + CHUNK + 1])
        falls = np.flatnonzero(chunk[1:] < chunk[:-1])
        if len(falls):
            row = start + int(falls[0])
            raise _bad(
                folder,
                "indptr",
                f"entry {row + 1} ({int(indptr[row + 1])}) is below entry {row} "
                f"({int(indptr[row])}): row {row} would end before it starts",
            )
    for start in range(0, nnz, CHUNK):
        chunk = np.asarray(indices[start : start + CHUNK])
        outside = np.flatnonzero((chunk < 0) | (chunk >= shape[1]))
        if len(outside):
            at = start + int(outside[0])
            raise _bad(
                folder,
                "indices",
                f"entry {at} is column {int(indices[at])}, outside [0, {shape[1]})",
            )
        if values is not None:
            bad = np.flatnonzero(~np.isfinite(np.asarray(values[start : start + CHUNK])))
            if len(bad):
                raise _bad(folder, "values", f"entry {start + int(bad[0])} is not finite")


def _bad(folder: Path, name: str, message: str) -> DataError:
    return DataError(f"{message}; {_REDO}", Location(str(folder / f"{name}.bin")))


def check_checksum(meta: dict, files: dict[str, tuple[Path, int]], folder: Path) -> None:
    """Recompute the SHA-256 of the arrays and id files as `save_dataset` computes it.

    Raises:
        DataError: no checksum in ``meta.json``, or a different one.
    """
    stated = meta.get("checksum")
    if not isinstance(stated, str) or not stated.startswith("sha256:"):
        raise DataError(f"no sha256 checksum; {_REDO}", Location(str(folder / "meta.json")))
    digest = hashlib.sha256()
    block = bytearray(1 << 20)
    paths = [files[name][0] for name in ARRAYS if name in files]
    for path in [*paths, folder / "rows.txt", folder / "columns.txt"]:
        with path.open("rb") as handle:
            while size := handle.readinto(block):
                digest.update(memoryview(block)[:size])
    if "sha256:" + digest.hexdigest() != stated:
        raise DataError(
            "the files do not match the checksum in meta.json (changed or damaged since they "
            f"were written); {_REDO}",
            Location(str(folder)),
        )
