"""Interaction data to and from ``scipy.sparse`` matrices, and scipy's ``.npz`` files.

A scipy matrix holds what netcfg calls `Interactions` but for the ids: its rows and columns
are numbered 0..n-1. `interactions_from_scipy` pairs a matrix with id lists (by default
the row and column numbers themselves, as integers, the way numeric ids of text files are
kept); `to_scipy` gives the matrix and the ids back. A canonical CSR matrix whose column
indices are int32 and values float32 (netcfg's own dtypes) is taken without copying its
entries; only the row pointers (one per row) are widened to int64. Stored zeros are
entries, as scipy stores them; duplicated (row, column) pairs of a COO matrix are summed,
as scipy sums them.

``.npz`` files are those ``scipy.sparse.save_npz`` writes (`read_npz`); a matrix given to
``netcfg.train`` from Python is saved once as a dataset directory in the cache and bound
like a path (`bind_matrices`), so its run can be resumed and its config names its data.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from netcfg.data.id_files import read_id_lines
from netcfg.data.ids import IdIndex
from netcfg.data.interactions import DuplicatePolicy, Interactions
from netcfg.errors import DataError, Location

__all__ = [
    "NPZ_SUFFIX",
    "bind_matrices",
    "interactions_from_scipy",
    "is_npz",
    "read_id_file",
    "read_npz",
    "to_scipy",
]

NPZ_SUFFIX = ".npz"


def _id_index(ids: Sequence | np.ndarray | None, count: int, what: str) -> IdIndex:
    """The ids of ``count`` rows (or columns): ``0..count-1`` when None."""
    if ids is None:
        return IdIndex(np.arange(count, dtype=np.int64))
    index = ids if isinstance(ids, IdIndex) else IdIndex.of(ids)
    if len(index) != count:
        raise DataError(f"{len(index)} {what} ids for a matrix with {count} {what}s")
    if len(np.unique(index.ids.astype(str) if not index.numeric else index.ids)) != count:
        raise DataError(f"the {what} ids repeat an id: each {what} needs its own")
    return index


def _finite(values: np.ndarray) -> None:
    if not np.isfinite(values).all():
        raise DataError("the matrix holds values that are not finite (NaN or infinity)")


def interactions_from_scipy(
    matrix: Any,
    row_ids: Sequence | np.ndarray | IdIndex | None = None,
    col_ids: Sequence | np.ndarray | IdIndex | None = None,
    *,
    implicit: bool = False,
    orientation: str = "user",
    duplicates: DuplicatePolicy = DuplicatePolicy.sum,
) -> Interactions:
    """`Interactions` holding a ``scipy.sparse`` matrix (any format), with ids.

    Args:
        matrix: rows are users (items when ``orientation`` is ``"item"``).
        row_ids: the id of each row (ints or strings); default ``0..rows-1``.
        col_ids: the id of each column; default ``0..columns-1``.
        implicit: ignore the values (every stored entry counts as 1).
        orientation: ``"user"`` or ``"item"``, what the rows are.
        duplicates: what to do with a (row, column) pair stored twice (only a matrix not
            in canonical form has them); scipy's own reading is ``sum``.

    Returns:
        The interactions. A canonical CSR matrix with int32 indices and float32 data
        shares its ``indices`` and ``data`` arrays with the result (no copy).

    Raises:
        DataError: not a scipy sparse matrix, ids of the wrong count or repeated, values
            that are not finite.

    Example:
        >>> ratings = interactions_from_scipy(csr, user_ids, item_ids)
        >>> ratings.shape == csr.shape
        True
    """
    if not sp.issparse(matrix) or matrix.ndim != 2:
        raise DataError(f"expected a 2-D scipy.sparse matrix, got {type(matrix).__name__}")
    n_rows, n_cols = matrix.shape
    rows = _id_index(row_ids, n_rows, "row")
    columns = _id_index(col_ids, n_cols, "column")
    if matrix.format == "csr" and matrix.has_canonical_format and n_cols <= 2**31:
        values = None if implicit else np.asarray(matrix.data, dtype=np.float32)
        if values is not None:
            _finite(values)
        return Interactions(
            indptr=np.asarray(matrix.indptr, dtype=np.int64),
            indices=np.asarray(matrix.indices, dtype=np.int32),
            values=values,
            times=None,
            rows=rows,
            columns=columns,
            orientation=orientation,
            meta={"source": {"format": "scipy.sparse"}},
        )
    coo = matrix.tocoo()
    values = None if implicit else coo.data.astype(np.float32)
    if values is not None:
        _finite(values)
    built, dropped = Interactions.from_coo(
        coo.row.astype(np.int64),
        coo.col.astype(np.int64),
        values,
        None,
        rows,
        columns,
        duplicates=duplicates,
        orientation=orientation,
    )
    meta = {
        "source": {"format": "scipy.sparse"},
        "duplicates": {"policy": duplicates.value, "dropped": dropped},
    }
    return Interactions(**{**built.__dict__, "meta": meta})


def to_scipy(interactions: Interactions, fmt: str = "csr") -> tuple[Any, np.ndarray, np.ndarray]:
    """The interactions as a ``scipy.sparse`` array, with the ids of its rows and columns.

    Args:
        interactions: the matrix.
        fmt: ``"csr"`` (``scipy.sparse.csr_array``) or ``"coo"`` (``coo_array``).

    Returns:
        ``(matrix, row_ids, column_ids)``. The CSR array shares the column indices and
        values (float32) of ``interactions`` when its entries fit int32 row pointers;
        implicit data gets values of 1.

    Example:
        >>> csr, users, items = to_scipy(load_dataset("data/ml-100k"))
        >>> csr.shape, csr.nnz
        ((943, 1682), 100000)
    """
    if fmt not in ("csr", "coo"):
        raise ValueError(f"fmt must be 'csr' or 'coo', got {fmt!r}")
    index_dtype = np.int32 if interactions.nnz < 2**31 else np.int64
    csr = sp.csr_array(
        (
            interactions.values_or_ones(),
            np.asarray(interactions.indices, dtype=index_dtype),
            np.asarray(interactions.indptr, dtype=index_dtype),
        ),
        shape=interactions.shape,
        copy=False,
    )
    matrix = csr if fmt == "csr" else csr.tocoo()
    return matrix, interactions.rows.ids, interactions.columns.ids


def is_npz(path: str | Path) -> bool:
    """Whether ``path`` is named ``*.npz`` (what ``scipy.sparse.save_npz`` writes)."""
    return Path(path).suffix.lower() == NPZ_SUFFIX


def read_id_file(path: str | Path, what: str) -> IdIndex:
    """Ids, one per line (blank lines ignored): integers when every line is one, else
    strings, as ids in interaction files are kept.

    Raises:
        DataError: unreadable, or an id given twice (file and line).
    """
    lines = [fields[0] for fields in read_id_lines(path, f"{what} id file", (f"{what} id",))]
    try:
        ids: np.ndarray = np.array([int(line) for line in lines], dtype=np.int64)
    except (ValueError, OverflowError):
        ids = np.array(lines, dtype=object)
    seen: dict = {}
    for number, value in enumerate(ids.tolist(), start=1):
        if value in seen:
            raise DataError(
                f"{what} id {str(value)[:40]!r} is given twice (first as id {seen[value]})",
                Location(str(path)),
            )
        seen[value] = number
    return IdIndex(ids)


def read_npz(
    path: str | Path,
    row_ids: str | Path | None = None,
    col_ids: str | Path | None = None,
    *,
    implicit: bool = False,
    duplicates: DuplicatePolicy = DuplicatePolicy.sum,
    value_range: tuple[float, float] | None = None,
) -> Interactions:
    """Read a matrix saved by ``scipy.sparse.save_npz`` (rows are users).

    Args:
        path: the ``.npz`` file.
        row_ids: a file of row ids, one per line (default: ``0..rows-1``).
        col_ids: a file of column ids (default: ``0..columns-1``).
        implicit: ignore the values.
        duplicates: a (row, column) pair stored twice (a COO matrix): sum, as scipy does.
        value_range: allowed (low, high) values; others are an error.

    Raises:
        DataError: not a scipy sparse ``.npz`` file, ids that do not fit, bad values.
    """
    where = Location(str(path))
    if not Path(path).is_file():
        raise DataError("no such file" if not Path(path).exists() else "not a file", where)
    try:
        matrix = sp.load_npz(path)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
        raise DataError(
            f"not a sparse matrix saved by scipy.sparse.save_npz ({err})", where
        ) from None
    rows = None if row_ids is None else read_id_file(row_ids, "row")
    columns = None if col_ids is None else read_id_file(col_ids, "column")
    try:
        found = interactions_from_scipy(
            matrix, rows, columns, implicit=implicit, duplicates=duplicates
        )
    except DataError as err:  # about the matrix and its ids: the file is the place
        raise DataError(str(err), where) from None
    if value_range is not None and found.values is not None:
        low, high = value_range
        outside = int(((found.values < low) | (found.values > high)).sum())
        if outside:
            raise DataError(f"{outside:,} values are outside [{low:g}, {high:g}]", where)
    source = {"path": str(path), "format": "npz"}
    return Interactions(**{**found.__dict__, "meta": {**found.meta, "source": source}})


def _dataset_of(matrix: Any) -> Path:
    """The cache's dataset directory holding ``matrix`` (a scipy matrix or `Interactions`),
    written once: its name is the hash of the entries, values and ids."""
    from netcfg.data.fetch import cache_dir
    from netcfg.data.store import is_dataset, save_dataset

    found = matrix if isinstance(matrix, Interactions) else interactions_from_scipy(matrix)
    digest = hashlib.sha256(found.orientation.encode())
    for array in (found.indptr, found.indices, found.values, found.times):
        digest.update(b"-" if array is None else np.ascontiguousarray(array).tobytes())
    for index in (found.rows, found.columns):
        digest.update(repr((index.numeric, index.ids.tolist())).encode())
    folder = cache_dir() / "python" / digest.hexdigest()[:24]
    if not is_dataset(folder):
        save_dataset(found, folder)
    return folder


def _is_matrix(value: Any) -> bool:
    return isinstance(value, Interactions) or sp.issparse(value)


def bind_matrices(data: Any) -> tuple[str, ...]:
    """``--data`` strings for ``netcfg.train``'s ``data``: a matrix held in Python (a
    scipy sparse matrix or `Interactions`) is saved in the cache (once) and bound by path.

    Args:
        data: ``--data`` strings; or one matrix (bound to every DataSet); or a mapping
            DataSet name -> matrix or path.

    Example:
        >>> bind_matrices({"ratings": csr})
        ('ratings=/home/me/.cache/netcfg/python/3f0c...',)
    """
    if data is None:
        return ()
    if _is_matrix(data):
        return (str(_dataset_of(data)),)
    if isinstance(data, Mapping):
        return tuple(
            f"{name}={_dataset_of(value) if _is_matrix(value) else value}"
            for name, value in data.items()
        )
    if isinstance(data, str | Path):
        return (str(data),)
    return tuple(str(item) for item in data)
