"""Id indexes: original user and item ids <-> dense row and column numbers.

Numeric ids stay integers and are numbered in ascending order; other ids are strings,
numbered in sorted order. Either way the original ids are kept, so data and predictions
speak the ids the user knows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netcfg.errors import DataError, Location

__all__ = ["IdIndex", "factorize"]


@dataclass(frozen=True)
class IdIndex:
    """Original ids, in index order: ``ids[k]`` is the id of row (or column) ``k``.

    Attributes:
        ids: an int64 array (numeric ids) or an object array of str.
    """

    ids: np.ndarray
    _lookup: dict = field(default=None, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.ids)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdIndex) and np.array_equal(self.ids, other.ids)

    @property
    def numeric(self) -> bool:
        """Whether the ids are integers."""
        return self.ids.dtype.kind in "iu"

    def position(self, original) -> int | None:
        """The index of an original id (int or str), or None if unknown."""
        if self._lookup is None:
            object.__setattr__(self, "_lookup", {self._key(v): k for k, v in enumerate(self.ids)})
        return self._lookup.get(self._key(original))

    def positions(self, originals: Iterable) -> np.ndarray:
        """Indexes of many ids; -1 marks unknown ones (vectorized for sorted numeric ids)."""
        values = np.asarray(originals if isinstance(originals, np.ndarray) else list(originals))
        if self.numeric and values.dtype.kind in "iu" and len(self.ids) and self._sorted():
            found = np.searchsorted(self.ids, values).clip(0, len(self.ids) - 1)
            return np.where(self.ids[found] == values, found, -1).astype(np.int64)
        return np.array(
            [-1 if (p := self.position(v)) is None else p for v in values.tolist()], dtype=np.int64
        )

    def _sorted(self) -> bool:
        return bool(np.all(self.ids[1:] > self.ids[:-1]))

    def _key(self, value):
        if self.numeric:
            try:
                return int(value)
            except (TypeError, ValueError):
                return None
        return str(value)

    def save(self, path: Path) -> None:
        """Write one id per line (UTF-8)."""
        with path.open("w", encoding="utf-8", newline="\n") as out:
            out.writelines(f"{v}\n" for v in self.ids.tolist())

    @classmethod
    def load(cls, path: Path, numeric: bool) -> IdIndex:
        """Read a file written by `save`, checking it: UTF-8, one id per line, no empty or
        NUL id, integers when ``numeric``, no id given twice.

        Raises:
            DataError: the file is missing or breaks one of these rules (file and line).
        """
        where = Location(str(path))
        if not path.is_file():
            raise DataError("the id file is missing", where)
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as err:
            line = path.read_bytes().count(b"\n", 0, err.start) + 1
            raise DataError("not UTF-8 text", Location(str(path), line)) from None
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        for number, line in enumerate(lines, start=1):
            if not line or "\x00" in line:
                problem = "an empty id" if not line else "an id with a NUL byte"
                raise DataError(problem, Location(str(path), number))
        ids = _parse_numbers(lines, path) if numeric else np.array(lines, dtype=object)
        _check_unique(ids, path)
        return cls(ids)

    @classmethod
    def of(cls, ids: Sequence) -> IdIndex:
        """An index over the given ids, in the given order."""
        array = np.asarray(ids)
        if array.dtype.kind not in "iu":
            array = np.array([str(v) for v in ids], dtype=object)
        return cls(array.astype(np.int64) if array.dtype.kind in "iu" else array)


def _parse_numbers(lines: list[str], path: Path) -> np.ndarray:
    """The integer ids of ``lines``; DataError at the first line that is not one."""
    ids = np.empty(len(lines), dtype=np.int64)
    for number, line in enumerate(lines, start=1):
        try:
            ids[number - 1] = int(line)
        except (ValueError, OverflowError):
            raise DataError(
                f"id {line[:40]!r} is not a 64-bit integer (the ids are numeric)",
                Location(str(path), number),
            ) from None
    return ids


def _check_unique(ids: np.ndarray, path: Path) -> None:
    """DataError naming the line of the first id given twice."""
    if len(ids) < 2 or (ids.dtype.kind in "iu" and bool(np.all(ids[1:] > ids[:-1]))):
        return
    first: dict = {}
    for number, value in enumerate(ids.tolist(), start=1):
        if value in first:
            raise DataError(
                f"id {str(value)[:40]!r} is given twice (first on line {first[value]})",
                Location(str(path), number),
            )
        first[value] = number


def factorize(values: np.ndarray | pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, IdIndex]:
    """Number the distinct ids of ``values`` (sorted) and map every value to its number.

    Args:
        values: ids as an integer numpy array, or a pyarrow array of strings or integers.

    Returns:
        The int32 number of each value, and the index of the distinct ids.

    Example:
        >>> codes, index = factorize(np.array([30, 10, 30]))
        >>> codes.tolist(), index.ids.tolist()
        ([1, 0, 1], [10, 30])
    """
    if isinstance(values, pa.ChunkedArray | pa.Array):
        if pa.types.is_integer(values.type):
            values = values.to_numpy()
        else:
            return _factorize_strings(values)
    values = np.asarray(values)
    if values.dtype.kind not in "iu":
        return _factorize_strings(pa.array(values.astype(str)))
    low, high = (int(values.min()), int(values.max())) if len(values) else (0, -1)
    if high - low < 8 * len(values) + 1024:  # dense enough: O(n) numbering
        present = np.zeros(high - low + 1, dtype=bool)
        present[values - low] = True
        number = np.cumsum(present, dtype=np.int64) - 1
        codes = number[values - low].astype(np.int32)
        return codes, IdIndex(np.flatnonzero(present).astype(np.int64) + low)
    unique, codes = np.unique(values, return_inverse=True)
    return codes.astype(np.int32), IdIndex(unique.astype(np.int64))


def _factorize_strings(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, IdIndex]:
    encoded = pc.dictionary_encode(values)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.unify_dictionaries().combine_chunks()
    dictionary = encoded.dictionary
    order = pc.sort_indices(dictionary).to_numpy()
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    codes = rank[encoded.indices.to_numpy(zero_copy_only=False)]
    ids = np.array(dictionary.take(pa.array(order)).to_pylist(), dtype=object)
    return codes, IdIndex(ids)
