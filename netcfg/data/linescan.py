"""A line-by-line reader of delimited interaction files that knows where every problem is.

It is the exact (and slower) twin of the fast columnar reader: used to name the file,
line and text of the first bad line when the fast reader fails, and to skip bad lines
when asked to. Every line is checked the same way: UTF-8, enough fields, ids present,
numbers that parse, values inside the declared range.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from netcfg.data.formats import TextFormat
from netcfg.errors import DataError, Location

__all__ = ["ScannedLines", "column_positions", "entry_lines", "scan_lines", "split_fields"]

FLOAT32_MAX = 3.4028234663852886e38


@dataclass
class ScannedLines:
    """The good lines of a file, as columns of Python values, and how many were bad."""

    users: list[str]
    items: list[str]
    values: list[float] | None
    times: list[int] | None
    skipped: int
    lines: int


def column_positions(fmt: TextFormat, header: list[str] | None, where: Location) -> dict[str, int]:
    """Role -> 0-based field number, resolving header names."""
    positions = {}
    for role, column in fmt.columns.items():
        if isinstance(column, int):
            positions[role] = column
        elif header is None:
            raise DataError(f"column {column!r} is named, but the format has no header line", where)
        elif column in header:
            positions[role] = header.index(column)
        else:
            raise DataError(
                f"the header has no column {column!r} (columns: {', '.join(header)})", where
            )
    return positions


def split_fields(fmt: TextFormat, text: str) -> list[str]:
    """The fields of one line."""
    if fmt.delimiter == ",":
        return next(csv.reader([text]))
    if fmt.delimiter == " ":
        return text.split()
    return text.split(fmt.delimiter)


def _lines(path: Path) -> Iterator[tuple[int, bytes, int]]:
    offset = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            yield number, raw, offset
            offset += len(raw)


def _problem(fields: list[str], positions: dict[str, int], value_range) -> str | None:
    needed = max(positions.values()) + 1
    if len(fields) < needed:
        return f"expected at least {needed} fields, found {len(fields)}"
    for role in ("user", "item"):
        if not fields[positions[role]].strip():
            return f"empty {role} id"
        if "\x00" in fields[positions[role]]:
            return f"the {role} id has a NUL byte"
    if "value" in positions:
        text = fields[positions["value"]].strip()
        try:
            value = float(text)
        except ValueError:
            return f"value {text!r} is not a number"
        if math.isnan(value) or math.isinf(value):
            return f"value {text!r} is not a finite number"
        if abs(value) > FLOAT32_MAX:
            return f"value {text} is too large for a 32-bit float"
        if value_range and not value_range[0] <= value <= value_range[1]:
            return (
                f"value {text} is outside the declared range [{value_range[0]:g}, "
                f"{value_range[1]:g}]"
            )
    if "time" in positions:
        text = fields[positions["time"]].strip()
        try:
            int(text)
        except ValueError:
            return f"timestamp {text!r} is not an integer"
    return None


def scan_lines(
    path: Path,
    fmt: TextFormat,
    *,
    skip_bad_lines: bool = False,
    value_range: tuple[float, float] | None = None,
) -> ScannedLines:
    """Read a delimited file line by line, checking each line.

    Raises:
        DataError: at the first bad line (file, line number and text) unless
            ``skip_bad_lines``; with it, only for problems of the file as a whole.
    """
    result = ScannedLines(
        [], [], [] if "value" in fmt.columns else None, [] if "time" in fmt.columns else None, 0, 0
    )
    for _, fields, positions in _good_lines(path, fmt, skip_bad_lines, value_range, result):
        result.lines += 1
        result.users.append(fields[positions["user"]].strip())
        result.items.append(fields[positions["item"]].strip())
        if result.values is not None:
            result.values.append(float(fields[positions["value"]]))
        if result.times is not None:
            result.times.append(int(fields[positions["time"]]))
    return result


def entry_lines(
    path: Path,
    fmt: TextFormat,
    entries: Iterable[int],
    *,
    skip_bad_lines: bool = False,
    value_range: tuple[float, float] | None = None,
) -> dict[int, int]:
    """The line number of each of the given entries (0-based, in the order `scan_lines`
    returns them), for messages about entries found after reading."""
    wanted, found = set(entries), {}
    counts = ScannedLines([], [], None, None, 0, 0)
    for entry, (number, _, _) in enumerate(
        _good_lines(path, fmt, skip_bad_lines, value_range, counts)
    ):
        if entry in wanted:
            found[entry] = number
            if len(found) == len(wanted):
                break
    return found


def _good_lines(
    path: Path, fmt: TextFormat, skip_bad_lines: bool, value_range, result: ScannedLines
) -> Iterator[tuple[int, list[str], dict[str, int]]]:
    """(line number, fields, role positions) of every good data line; bad ones raise or
    are counted in ``result.skipped``."""
    positions = None if fmt.header else column_positions(fmt, None, Location(str(path)))
    for number, raw, offset in _lines(path):
        where = Location(str(path), number)
        try:
            text = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as err:
            problem, text = f"not UTF-8 text (byte {offset + err.start} of the file)", None
        else:
            if not text.strip():
                continue
            if positions is None:  # the header line
                positions = column_positions(
                    fmt, [f.strip() for f in split_fields(fmt, text)], where
                )
                continue
            fields = split_fields(fmt, text)
            problem = _problem(fields, positions, value_range)
        if problem is not None:
            if not skip_bad_lines:
                shown = "" if text is None else f": {text[:120]!r}"
                raise DataError(problem + shown + _delimiter_hint(fmt, text), where)
            result.skipped += 1
            continue
        yield number, fields, positions


def _delimiter_hint(fmt: TextFormat, text: str | None) -> str:
    if not text or fmt.delimiter in text:
        return ""
    for other, name in (("\t", "tab"), (",", "','"), ("::", "'::'"), (";", "';'"), (" ", "space")):
        if other in text:
            return f" (the line has no {fmt.delimiter!r}; is the delimiter {name}?)"
    return ""
