"""Text formats of interaction files: delimiter, header, and which column holds what.

Every format is a `TextFormat` except DSSTNE's ``sample<TAB>feature[,value]:...`` lines,
which have their own reader. ``guess_format`` picks one from a file's name and first line.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from netcfg.data.spec import DataFormat, DataFormatName
from netcfg.errors import DataError, Location

__all__ = [
    "ROLES",
    "TextFormat",
    "first_lines",
    "guess_format",
    "parse_format",
    "text_format",
]

ROLES = ("user", "item", "value", "time")
"""What a column may hold; user and item are required."""


@dataclass(frozen=True)
class TextFormat:
    """A delimited interaction file.

    Attributes:
        name: the format's name, for messages and metadata.
        delimiter: the field separator (``"::"`` is allowed).
        header: whether the first line names the columns.
        columns: role -> column number (0-based) or header name; roles absent are not read.
    """

    name: str
    delimiter: str
    header: bool
    columns: dict[str, int | str]

    def with_options(
        self,
        delimiter: str | None = None,
        header: bool | None = None,
        columns: dict[str, int | str] | None = None,
    ) -> TextFormat:
        """The format with some settings replaced (None keeps the setting)."""
        return replace(
            self,
            delimiter=self.delimiter if delimiter is None else delimiter,
            header=self.header if header is None else header,
            columns=self.columns if columns is None else columns,
        )


_POSITIONAL = {"user": 0, "item": 1, "value": 2, "time": 3}
BUILTIN = {
    DataFormat.movielens_100k: TextFormat("movielens-100k", "\t", False, _POSITIONAL),
    DataFormat.movielens_dat: TextFormat("movielens-dat", "::", False, _POSITIONAL),
    DataFormat.movielens_csv: TextFormat(
        "movielens-csv",
        ",",
        True,
        {"user": "userId", "item": "movieId", "value": "rating", "time": "timestamp"},
    ),
    DataFormat.csv: TextFormat("csv", ",", False, _POSITIONAL),
    DataFormat.tsv: TextFormat("tsv", "\t", False, _POSITIONAL),
}


def parse_format(name: str | DataFormat) -> DataFormat:
    """A format from its name or alias (``movielens-1m`` is ``movielens-dat``).

    Raises:
        DataError: an unknown name, with a close match.
    """
    if isinstance(name, DataFormat):
        return name
    try:
        return TypeAdapter(DataFormatName).validate_python(name)
    except ValidationError as err:
        raise DataError(err.errors()[0]["msg"]) from None


def text_format(fmt: DataFormat) -> TextFormat:
    """The `TextFormat` of a built-in delimited format.

    Raises:
        DataError: ``npz``, which holds a whole matrix, not lines of entries.
    """
    if fmt is DataFormat.npz:
        raise DataError(
            "an .npz file holds a whole matrix, not lines of entries: give it as a Data "
            "entry's Path or to 'netcfg data import', and the other parts as text files"
        )
    return BUILTIN[fmt]


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def guess_format(path: str | Path) -> DataFormat | TextFormat:
    """The format of a file, from its name (``u.data``, ``*.dat``, ``ratings.csv``) and its
    first lines: the delimiter, and whether the first line is a header.

    Raises:
        DataError: the file is empty or its format cannot be told.
    """
    path = Path(path)
    if path.suffix.lower() == ".npz":
        return DataFormat.npz
    _check_text(path)
    lines = first_lines(path, 2)
    if not lines:
        raise DataError("empty file: no interactions", Location(str(path)))
    line = lines[0]
    if path.name == "u.data" or path.suffix in (".base", ".test"):
        return DataFormat.movielens_100k
    if "::" in line:
        return DataFormat.movielens_dat
    if "\t" in line and ":" in line.split("\t", 1)[1]:
        return DataFormat.dsstne
    if line.replace(" ", "").lower().startswith("userid,movieid"):
        return DataFormat.movielens_csv
    for delimiter, fmt in (("\t", DataFormat.tsv), (",", DataFormat.csv), (" ", DataFormat.tsv)):
        if delimiter in line:
            first = line.split(delimiter) if delimiter != " " else line.split()
            # a first line without numbers is a header when the second has some, or when
            # it is the only line (then the file has no data lines, which reading says)
            header = not any(_numeric(f) for f in first) and (
                len(lines) == 1
                or any(
                    _numeric(f)
                    for f in (lines[1].split(delimiter) if delimiter != " " else lines[1].split())
                )
            )
            return BUILTIN[fmt].with_options(delimiter=delimiter, header=header)
    # the line is not shown: the file may be anything (a config pointing at /etc/passwd)
    raise DataError(
        "the format of this file could not be recognised (its first line has no tab, ',', "
        "'::' or space between fields): give the format (--format, or the Data entry's "
        "Format)",
        Location(str(path)),
    )


def _check_text(path: Path) -> None:
    """DataError unless the first line is text (UTF-8 without NUL bytes); the line is not
    shown, it may be anything."""
    with path.open("rb") as handle:
        line = handle.readline(1 << 16)
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        line = b"\x00"
    if b"\x00" in line:
        raise DataError(
            "not a text file of interactions (line 1 has a NUL byte or bytes that are not "
            "UTF-8): give a delimited or DSSTNE text file",
            Location(str(path), 1),
        )


def first_lines(path: Path, count: int) -> list[str]:
    """The first ``count`` non-empty lines of a file, stripped (undecodable bytes replaced)."""
    lines = []
    with path.open("rb") as handle:
        for raw in handle:
            text = raw.decode("utf-8", errors="replace").strip()
            if text:
                lines.append(text)
                if len(lines) == count:
                    break
    return lines
