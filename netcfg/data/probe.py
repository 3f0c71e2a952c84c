"""Find a dataset's width (its number of distinct items, or users) from a raw file.

This is what ``netcfg validate --data`` needs to resolve ``"auto"`` widths. It reads
rating triples (``user item [value [time]]`` separated by tabs, commas, ``::`` or spaces,
with an optional header line) and DSSTNE's text format (``sample<TAB>f[,v]:f[,v]:...``).
"""

from __future__ import annotations

import re
from pathlib import Path

from netcfg.data.spec import Orientation
from netcfg.errors import DataError, Location

__all__ = ["dataset_width"]

_SEPARATORS = re.compile(r"::|\t|,|\s+")
_HEADER_WORDS = {
    "user",
    "userid",
    "item",
    "itemid",
    "movieid",
    "rating",
    "value",
    "timestamp",
    "time",
    "sample",
    "feature",
}


def dataset_width(path: str | Path, orientation: Orientation = Orientation.User) -> int:
    """Number of distinct columns of the matrix a file holds, in the given orientation.

    User orientation (rows are users) counts distinct items; Item orientation counts
    distinct users.

    Raises:
        DataError: missing or unreadable file, malformed line (with its number), no data.

    Example:
        >>> dataset_width("../shared/data/ml-100k/u.data")
        1682
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(
            "no such data file" if not path.exists() else "not a file", Location(str(path))
        )
    column = 1 if orientation is Orientation.User else 0
    seen: set[str] = set()
    offset = 0
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            where = Location(str(path), number)
            try:
                text = raw.decode("utf-8").strip()
            except UnicodeDecodeError as err:
                raise DataError(f"not UTF-8 text (byte {offset + err.start})", where) from None
            offset += len(raw)
            if not text or text.startswith("#"):
                continue
            if "\t" in text and ":" in text.split("\t", 1)[1]:
                _dsstne_line(text, orientation, seen, where)
                continue
            fields = _SEPARATORS.split(text)
            if len(fields) < 2:
                raise DataError(f"expected at least 'user item' fields, got {text[:80]!r}", where)
            if number == 1 and _is_header(fields):
                continue
            seen.add(fields[column])
    if not seen:
        raise DataError("no interactions in file", Location(str(path)))
    return len(seen)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_header(fields: list[str]) -> bool:
    """A first line such as ``userId,movieId,rating,timestamp``: named columns, no data."""
    named = any(f.lower().replace("_", "") in _HEADER_WORDS for f in fields)
    return named or (len(fields) >= 3 and not _is_number(fields[2]))


def _dsstne_line(text: str, orientation: Orientation, seen: set[str], where: Location) -> None:
    sample, features = text.split("\t", 1)
    if orientation is Orientation.Item:
        seen.add(sample)
        return
    for feature in features.strip(":").split(":"):
        name = feature.split(",", 1)[0]
        if not name:
            raise DataError(f"empty feature in {text[:80]!r}", where)
        seen.add(name)
