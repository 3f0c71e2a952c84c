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
temporary directory that is renamed into place, so a dataset is never half-written; a
folder that is not a dataset is never replaced. Loading verifies everything
(`netcfg.data.store_checks`): metadata, file sizes before mapping, CSR structure, checksum.
"""

from __future__ import annotations

import contextlib
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
from netcfg.data.store_checks import (
    ARRAYS,
    VERSION,
    check_arrays,
    check_checksum,
    check_meta,
    read_meta,
)
from netcfg.errors import DataError, Location

__all__ = [
    "DATASET_FORMAT",
    "atomic_file",
    "atomic_folder",
    "check_replaceable",
    "is_dataset",
    "load_dataset",
    "save_dataset",
]

DATASET_FORMAT = "netcfg-dataset"
_ARRAYS = ARRAYS


def is_dataset(path: str | Path) -> bool:
    """Whether ``path`` is a dataset directory: its ``meta.json`` names the format, or is
    damaged (not JSON), so that `load_dataset` names the damage instead of the folder being
    taken for something else."""
    meta = Path(path) / "meta.json"
    if not meta.is_file():
        return False
    try:
        found = json.loads(meta.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return True
    except OSError:
        return False
    return isinstance(found, dict) and found.get("format") == DATASET_FORMAT


@contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Write a file atomically: yield a temporary path beside ``path`` (``.NAME.tmp``) to
    write, then fsync it and rename it to ``path``.

    On any error (a full disk, an interrupt) the temporary file is removed and an existing
    ``path`` is left as it was, so no half-written file is ever left behind.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        yield temporary
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


@contextmanager
def atomic_folder(folder: str | Path, *, keep_existing: bool = False) -> Iterator[Path]:
    """Write a folder atomically: yield a staging folder, then rename it to ``folder``.

    The files are fsynced before the rename; on any error the staging folder is removed
    and an existing ``folder`` is left as it was. ``keep_existing``: a ``folder`` that
    another process put in place meanwhile is kept and the staging folder dropped (a cache
    entry that two processes made at once), instead of being replaced under its readers.
    A system error (a full disk, a read-only file system) names the path it concerns as it
    would be in ``folder`` (``folder`` itself when it names no file), not the staging
    folder, which is gone.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError as err:
        if err.errno is None:
            raise
        raise OSError(err.errno, err.strerror, str(folder)) from err
    try:
        yield staging
        for file in staging.iterdir():
            if file.is_file():
                with file.open("rb") as handle:
                    os.fsync(handle.fileno())
        staging.chmod(0o755)
        if folder.exists():
            if keep_existing:
                shutil.rmtree(staging)
                return
            shutil.rmtree(folder)
        try:
            os.replace(staging, folder)
        except OSError:
            if not (keep_existing and folder.is_dir()):
                raise
            shutil.rmtree(staging)  # another process's folder won the rename
    except BaseException as err:
        shutil.rmtree(staging, ignore_errors=True)
        named = _as_in_folder(err, staging, folder) if isinstance(err, OSError) else err
        if named is not err:
            raise named from err
        raise


def _as_in_folder(err: OSError, staging: Path, folder: Path) -> OSError:
    """``err`` naming the path under ``folder`` instead of under ``staging`` (``folder``
    when it names no file, as a failed write through a Python file does); ``err`` itself
    when it has no error number or names a path elsewhere."""
    if err.errno is None or err.filename2 is not None:
        return err
    if err.filename is None:
        return OSError(err.errno, err.strerror, str(folder))
    try:
        inside = Path(os.fsdecode(err.filename)).relative_to(staging)
    except (TypeError, ValueError):
        return err
    return OSError(err.errno, err.strerror, str(folder / inside))


def check_replaceable(folder: str | Path, kinds: tuple[str, ...], option: str = "-o") -> None:
    """Refuse to write over ``folder`` unless it is absent, empty, a netcfg folder whose
    ``meta.json`` names one of ``kinds``, or holds only a dataset's own files (a damaged
    dataset is replaced): saving replaces the whole folder.

    Raises:
        DataError: ``folder`` is a file, or a folder of something else.
    """
    folder = Path(folder)
    if not folder.exists() and not folder.is_symlink():
        return
    if not folder.is_dir():
        raise DataError(
            f"{option}: exists and is not a folder; give a new folder name", Location(str(folder))
        )
    if not any(folder.iterdir()):
        return
    try:
        kind = json.loads((folder / "meta.json").read_text(encoding="utf-8")).get("format")
    except (OSError, ValueError, AttributeError):
        kind = None
    own = {"meta.json", "rows.txt", "columns.txt", *(f"{name}.bin" for name in _ARRAYS)}
    if kind not in kinds and not {p.name for p in folder.iterdir()} <= own:
        raise DataError(
            f"{option}: the folder exists and is not a {' or '.join(kinds)} directory; "
            "writing would replace everything in it: give a new folder name",
            Location(str(folder)),
        )


def save_dataset(
    matrix: Interactions, folder: str | Path, *, keep_existing: bool = False
) -> dict[str, Any]:
    """Write a matrix as a dataset directory (replacing a dataset directory that is there,
    unless ``keep_existing``: see `atomic_folder`).

    Returns:
        The metadata written to ``meta.json``.

    Raises:
        DataError: ``folder`` exists and is not a dataset directory (or an empty folder).
    """
    check_replaceable(folder, (DATASET_FORMAT,))
    with atomic_folder(folder, keep_existing=keep_existing) as staging:
        digest = hashlib.sha256()
        arrays = {}
        for name, dtype in _ARRAYS.items():
            array = getattr(matrix, name)
            if array is None:
                continue
            data = np.ascontiguousarray(array, dtype=dtype)
            # through a Python file: numpy's tofile loses the error number of a failed
            # write (a full disk), which then reads as a bug instead of a fault of the machine
            with (staging / f"{name}.bin").open("wb") as out:
                out.write(memoryview(data).cast("B"))
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
    """Read a dataset directory (arrays memory-mapped unless ``mmap`` is False), verifying
    it in time linear in its size: metadata, file sizes (before mapping), id files, checksum,
    CSR structure (`netcfg.data.store_checks`).

    Raises:
        DataError: not a dataset directory, or a file missing, of the wrong size or damaged
            (naming it).
    """
    folder = Path(folder)
    where = Location(str(folder))
    if not (folder / "meta.json").is_file():
        raise DataError(
            "not a netcfg dataset directory (no meta.json); create one with "
            "'netcfg data import' or 'netcfg data synth'",
            where,
        )
    meta = read_meta(folder)
    if meta.get("format") != DATASET_FORMAT:
        raise DataError(
            f"meta.json: format {meta.get('format')!r} is not {DATASET_FORMAT!r}: not a "
            "netcfg dataset directory",
            where,
        )
    files = check_meta(meta, folder)
    numeric = meta["numeric_ids"]
    rows = IdIndex.load(folder / "rows.txt", numeric["rows"])
    columns = IdIndex.load(folder / "columns.txt", numeric["columns"])
    if [len(rows), len(columns)] != meta["shape"]:
        raise DataError(
            f"rows.txt and columns.txt hold {len(rows)} and {len(columns)} ids, but meta.json "
            f"says the shape is {meta['shape']}",
            where,
        )
    check_checksum(meta, files, folder)
    arrays: dict[str, np.ndarray | None] = dict.fromkeys(_ARRAYS)
    for name, (path, length) in files.items():
        if mmap and length:
            arrays[name] = np.memmap(path, dtype=_ARRAYS[name], mode="r", shape=(length,))
        else:
            arrays[name] = np.fromfile(path, dtype=_ARRAYS[name])
    check_arrays(arrays, meta["shape"], folder)
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
