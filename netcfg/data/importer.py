"""Import an interaction file into a dataset directory: read, index ids, build CSR, save."""

from __future__ import annotations

from pathlib import Path

from netcfg.data.formats import TextFormat, parse_format
from netcfg.data.ids import factorize
from netcfg.data.info import dataset_info
from netcfg.data.interactions import DuplicateEntryError, DuplicatePolicy, Interactions
from netcfg.data.readers import RawInteractions, entry_line_numbers, read_interactions
from netcfg.data.scipy_io import is_npz, read_npz
from netcfg.data.spec import DataFormat
from netcfg.data.store import check_replaceable, save_dataset
from netcfg.errors import DataError, Location

__all__ = ["import_file", "to_interactions"]


def to_interactions(
    raw: RawInteractions,
    *,
    duplicates: DuplicatePolicy = DuplicatePolicy.latest,
    implicit: bool = False,
) -> Interactions:
    """Number the ids of raw columns and build the user-major CSR matrix.

    Args:
        raw: columns from `read_interactions`.
        duplicates: what to do with a (user, item) pair given more than once.
        implicit: ignore the values (every interaction counts as 1).

    Raises:
        DataError: duplicates under the ``error`` policy (naming the file and both lines
            when ``raw`` was read from a file).
    """
    users, user_ids = factorize(raw.users)
    items, item_ids = factorize(raw.items)
    values = None if implicit else raw.values
    try:
        matrix, dropped = Interactions.from_coo(
            users, items, values, raw.times, user_ids, item_ids, duplicates=duplicates
        )
    except DuplicateEntryError as err:
        lines = entry_line_numbers(raw, list(err.entries))
        if len(lines) < 2:
            raise
        first, second = (lines[entry] for entry in err.entries)
        where = Location(str(raw.read_with[0]), second)
        found = DuplicateEntryError(err.pair, err.entries, f" (first on line {first})")
        raise DataError(str(found), where) from None
    meta = {
        "source": raw.source,
        "lines_skipped": raw.skipped,
        "duplicates": {"policy": duplicates.value, "dropped": dropped},
    }
    return Interactions(**{**matrix.__dict__, "meta": meta})


def import_file(
    path: str | Path,
    out: str | Path | None = None,
    fmt: DataFormat | TextFormat | str = DataFormat.auto,
    *,
    duplicates: DuplicatePolicy = DuplicatePolicy.latest,
    skip_bad_lines: bool = False,
    value_range: tuple[float, float] | None = None,
    implicit: bool = False,
    row_ids: str | Path | None = None,
    column_ids: str | Path | None = None,
) -> Interactions:
    """Read an interaction file and, if ``out`` is given, save it as a dataset directory.

    A ``.npz`` file of ``scipy.sparse.save_npz`` (format ``npz``, or ``auto`` and the
    name) is a whole matrix: its rows and columns take the ids of the files ``row_ids``
    and ``column_ids`` (one per line), else their numbers 0..n-1 (`scipy_io.read_npz`);
    of the other reading options only ``implicit`` and ``value_range`` apply to it.

    The statistics ``netcfg data info`` prints are computed before the directory is
    written, so data they cannot describe never leaves a dataset behind.

    Raises:
        DataError: the file cannot be read, a line is bad (file, line number, text), or
            duplicates are found under the ``error`` policy.

    Example:
        >>> matrix = import_file("../shared/data/ml-100k/u.data", "data/ml-100k")
        >>> matrix.shape, matrix.nnz
        ((943, 1682), 100000)
    """
    if out is not None:
        check_replaceable(out, ("netcfg-dataset",))
    named = fmt if isinstance(fmt, TextFormat) else parse_format(fmt)
    if named is DataFormat.npz or (named is DataFormat.auto and is_npz(path)):
        matrix = read_npz(path, row_ids, column_ids, implicit=implicit, value_range=value_range)
    elif row_ids is not None or column_ids is not None:
        raise DataError("row and column id files go with an .npz matrix only", Location(str(path)))
    else:
        raw = read_interactions(path, fmt, skip_bad_lines=skip_bad_lines, value_range=value_range)
        matrix = to_interactions(raw, duplicates=duplicates, implicit=implicit)
    if out is not None:
        dataset_info(matrix)
        save_dataset(matrix, out)
    return matrix
