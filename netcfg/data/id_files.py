"""Small files of ids given on the command line: users to recommend for, item filters.

Each non-empty line holds one id, or a few ids separated by tabs; every problem is reported
with the file and line (a folder, bytes that are not UTF-8, a NUL byte, too many fields).
"""

from __future__ import annotations

from pathlib import Path

from netcfg.errors import DataError, Location

__all__ = ["read_id_lines"]


def read_id_lines(path: str | Path, what: str, fields: tuple[str, ...]) -> list[list[str]]:
    """The non-empty lines of an id file, each split at tabs into at most ``len(fields)``
    non-empty ids.

    Args:
        path: the file.
        what: what the file is, for messages (``users file``, ``filter file``).
        fields: the names of the fields a line may have, e.g. ``("item", "user<TAB>item")``
            (one name per count of fields, for messages).

    Raises:
        DataError: no such file, a folder, not UTF-8, a NUL byte, an empty id or too many
            fields (file and line).

    Example:
        >>> read_id_lines("deny.txt", "filter file", ("item", "user<TAB>item"))
        [['1001'], ['7', '1002']]
    """
    path = Path(path)
    if path.is_dir():
        raise DataError(f"a folder, not a {what}: give a file of ids", Location(str(path)))
    if not path.is_file():
        raise DataError(f"no such {what}", Location(str(path)))
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise DataError(
            f"not UTF-8 text: a {what} holds ids, one per line", Location(str(path), line)
        ) from None
    lines = []
    expected = " or ".join(f"'{name}'" for name in fields)
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.strip()
        if not line:
            continue
        where = Location(str(path), number)
        if "\x00" in line:
            raise DataError(f"a NUL byte in the line: expected {expected}", where)
        parts = [part.strip() for part in line.split("\t")]
        if len(parts) > len(fields) or not all(parts):
            raise DataError(f"expected {expected}, found {line[:80]!r}", where)
        lines.append(parts)
    return lines
