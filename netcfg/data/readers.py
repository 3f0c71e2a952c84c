"""Read interaction files into columns: user ids, item ids, values, timestamps.

Delimited files go through pyarrow's multithreaded CSV reader (millions of lines per
second); when it rejects the file, the exact line reader (`linescan`) finds and names
the bad line, or skips bad lines when asked to. DSSTNE's text format is read line by line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from netcfg.data.dsstne_text import dsstne_entry_lines, read_dsstne
from netcfg.data.formats import (
    TextFormat,
    first_lines,
    guess_format,
    parse_format,
    text_format,
)
from netcfg.data.linescan import entry_lines, scan_lines, split_fields
from netcfg.data.spec import DataFormat
from netcfg.errors import DataError, Location

__all__ = ["RawInteractions", "entry_line_numbers", "read_interactions"]


@dataclass
class RawInteractions:
    """Columns read from a file, one entry per interaction, in file order.

    Attributes:
        users: user ids (int64 numpy array, or pyarrow strings).
        items: item ids, likewise.
        values: float32 values, or None when the file has none (implicit feedback).
        times: int64 timestamps, or None.
        skipped: bad lines skipped (with ``skip_bad_lines``).
        source: where the data came from (path, format), for the dataset's metadata.
        read_with: the file, resolved format and reading options (for `entry_line_numbers`).
    """

    users: Any
    items: Any
    values: np.ndarray | None
    times: np.ndarray | None
    skipped: int = 0
    source: dict = field(default_factory=dict)
    read_with: tuple | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.users)


def read_interactions(
    path: str | Path,
    fmt: DataFormat | TextFormat | str = DataFormat.auto,
    *,
    skip_bad_lines: bool = False,
    value_range: tuple[float, float] | None = None,
) -> RawInteractions:
    """Read an interaction file.

    Args:
        path: the file.
        fmt: a built-in format, ``auto`` (guess from name and first line), or a custom
            `TextFormat` (delimiter, header, column mapping).
        skip_bad_lines: skip malformed lines and count them instead of failing.
        value_range: allowed (low, high) values; others are errors (or skipped).

    Raises:
        DataError: missing or empty file, or a bad line: file, line number and text.

    Example:
        >>> raw = read_interactions("../shared/data/ml-100k/u.data", DataFormat.movielens_100k)
        >>> len(raw)
        100000
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file" if not path.exists() else "not a file", Location(str(path)))
    if not isinstance(fmt, TextFormat):
        fmt = parse_format(fmt)
        fmt = guess_format(path) if fmt is DataFormat.auto else fmt
    if not isinstance(fmt, TextFormat):
        if fmt is DataFormat.dsstne:
            raw = _read_dsstne(path, skip_bad_lines, value_range)
            raw.read_with = (path, fmt, skip_bad_lines, value_range)
            return raw
        if fmt is DataFormat.netcfg:
            raise DataError("a netcfg dataset is a directory, not a file", Location(str(path)))
        fmt = text_format(fmt)
    if fmt.header and len(first_lines(path, 2)) < 2:
        raise DataError(
            "no interactions: the file has a header line but no data lines", Location(str(path))
        )
    fmt = _fit_columns(path, fmt)
    try:
        raw = _read_fast(path, fmt, skip_bad_lines, value_range)
    except (pa.ArrowInvalid, pa.ArrowKeyError, UnicodeDecodeError):
        raw = _from_scan(path, fmt, skip_bad_lines, value_range)
    if not len(raw):
        reason = f" ({raw.skipped:,} bad lines skipped)" if raw.skipped else ""
        raise DataError(f"no interactions in file: no data lines{reason}", Location(str(path)))
    raw.source = {"path": str(path), "format": fmt.name, "lines": len(raw) + raw.skipped}
    raw.read_with = (path, fmt, skip_bad_lines, value_range)
    return raw


def entry_line_numbers(raw: RawInteractions, entries: list[int]) -> dict[int, int]:
    """The file line of each given entry of ``raw`` (positions in its columns), found by
    reading the file again as it was read; empty when ``raw`` did not come from a file."""
    if raw.read_with is None:
        return {}
    path, fmt, skip_bad_lines, value_range = raw.read_with
    if isinstance(fmt, TextFormat):
        return entry_lines(
            path, fmt, entries, skip_bad_lines=skip_bad_lines, value_range=value_range
        )
    return dsstne_entry_lines(path, entries, value_range)


def _fit_columns(path: Path, fmt: TextFormat) -> TextFormat:
    """Generic formats without a column mapping read as many roles as the first line has."""
    if fmt.name not in ("csv", "tsv") or any(isinstance(c, str) for c in fmt.columns.values()):
        return fmt
    with path.open("rb") as handle:
        lines = [raw.decode("utf-8", errors="replace").strip() for raw in handle.readlines(1 << 16)]
    data = [line for line in lines if line][1 if fmt.header else 0 :]
    if not data:
        return fmt
    count = len(split_fields(fmt, data[0]))
    roles = {r: c for r, c in fmt.columns.items() if c < count or r in ("user", "item")}
    return fmt.with_options(columns=roles)


def _read_fast(path: Path, fmt: TextFormat, skip_bad_lines: bool, value_range) -> RawInteractions:
    if fmt.delimiter == " ":  # runs of spaces: the line reader splits on whitespace
        raise pa.ArrowInvalid("whitespace-separated")
    doubled = fmt.delimiter == "::"  # pyarrow splits on one character: '1::2' -> 1, '', 2
    skipped = []
    parse = pa_csv.ParseOptions(
        delimiter=":" if doubled else fmt.delimiter,
        quote_char='"' if fmt.delimiter == "," else False,
        invalid_row_handler=(lambda row: skipped.append(row) or "skip") if skip_bad_lines else None,
    )
    read = pa_csv.ReadOptions(block_size=1 << 24, autogenerate_column_names=not fmt.header)
    names = {}
    for role, column in fmt.columns.items():
        names[role] = column if isinstance(column, str) else f"f{2 * column if doubled else column}"
    types = {names["user"]: pa.int64(), names["item"]: pa.int64()}
    if "value" in names:
        types[names["value"]] = pa.float32()
    if "time" in names:
        types[names["time"]] = pa.int64()
    convert = pa_csv.ConvertOptions(column_types=types, include_columns=list(types))
    try:
        table = pa_csv.read_csv(
            path, read_options=read, parse_options=parse, convert_options=convert
        )
    except pa.ArrowInvalid as err:
        if "conversion error to int64" not in str(err):
            raise
        types[names["user"]] = types[names["item"]] = pa.string()  # ids that are not numbers
        convert = pa_csv.ConvertOptions(column_types=types, include_columns=list(types))
        table = pa_csv.read_csv(
            path, read_options=read, parse_options=parse, convert_options=convert
        )
    raw = RawInteractions(
        users=_ids(table[names["user"]]),
        items=_ids(table[names["item"]]),
        values=_numbers(table, names.get("value"), np.float32),
        times=_numbers(table, names.get("time"), np.int64),
        skipped=len(skipped),
    )
    if raw.values is not None:
        keep = _in_range(raw.values, value_range)
        if not keep.all():
            if not skip_bad_lines:
                raise pa.ArrowInvalid("a value is not finite or out of range")
            raw = RawInteractions(
                _take(raw.users, keep),
                _take(raw.items, keep),
                raw.values[keep],
                None if raw.times is None else raw.times[keep],
                raw.skipped + int((~keep).sum()),
            )
    return raw


def _take(ids: Any, keep: np.ndarray) -> Any:
    return ids.filter(pa.array(keep)) if isinstance(ids, pa.ChunkedArray) else ids[keep]


def _ids(column: pa.ChunkedArray) -> Any:
    if column.null_count:
        raise pa.ArrowInvalid("empty id")
    if pa.types.is_integer(column.type):
        return column.to_numpy()
    if pc.any(pc.equal(pc.utf8_trim_whitespace(column), "")).as_py():
        raise pa.ArrowInvalid("empty id")
    if pc.any(pc.match_substring(column, "\x00")).as_py():
        raise pa.ArrowInvalid("NUL byte in an id")
    return column


def _numbers(table: pa.Table, name: str | None, dtype) -> np.ndarray | None:
    if name is None:
        return None
    column = table[name]
    if column.null_count:
        raise pa.ArrowInvalid(f"empty {name}")
    return column.to_numpy().astype(dtype, copy=False)


def _in_range(values: np.ndarray, value_range) -> np.ndarray:
    keep = np.isfinite(values)
    if value_range is not None:
        keep &= (values >= value_range[0]) & (values <= value_range[1])
    return keep


def _from_scan(path: Path, fmt: TextFormat, skip_bad_lines: bool, value_range) -> RawInteractions:
    scanned = scan_lines(path, fmt, skip_bad_lines=skip_bad_lines, value_range=value_range)
    users, items = (_string_or_int(scanned.users), _string_or_int(scanned.items))
    return RawInteractions(
        users,
        items,
        None if scanned.values is None else np.array(scanned.values, dtype=np.float32),
        None if scanned.times is None else np.array(scanned.times, dtype=np.int64),
        skipped=scanned.skipped,
    )


def _string_or_int(ids: list[str]) -> Any:
    try:
        return np.array([int(v) for v in ids], dtype=np.int64)
    except ValueError:
        return pa.chunked_array([pa.array(ids, type=pa.string())])


def _read_dsstne(path: Path, skip_bad_lines: bool, value_range) -> RawInteractions:
    users, items, values, skipped = read_dsstne(path, skip_bad_lines, value_range)
    return RawInteractions(
        _string_or_int(users),
        _string_or_int(items),
        None if values is None else np.array(values, dtype=np.float32),
        None,
        skipped,
    )
