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
        raise DataError("no such data file" if not path.exists() else "not a file",
                        Location(str(path)))
    column = 1 if orientation is Orientation.User else 0
    seen: set[str] = set()
    try:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                text = line.strip()
                if not text or text.startswith("#"):
                    continue
                if "\t" in text and ":" in text.split("\t", 1)[1]:
                    _dsstne_line(text, orientation, seen, Location(str(path), number))
                    continue
                fields = _SEPARATORS.split(text)
                if len(fields) < 2:
                    raise DataError(f"expected at least 'user item' fields, got {text[:80]!r}",
                                    Location(str(path), number))
                if number == 1 and not fields[0].isdigit() and not fields[1].isdigit():
                    continue  # a header such as userId,movieId,rating,timestamp
                seen.add(fields[column])
    except UnicodeDecodeError as err:
        raise DataError(f"not UTF-8 text (byte {err.start})", Location(str(path))) from None
    if not seen:
        raise DataError("no interactions in file", Location(str(path)))
    return len(seen)


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
