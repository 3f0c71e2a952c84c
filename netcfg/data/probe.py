"""The width of a dataset: its number of columns (items, or users for item-major data).

This is what ``netcfg validate --data`` needs to resolve ``"auto"`` widths. It accepts
whatever a ``Data`` entry accepts: a dataset or split directory, or a raw file.
"""

from __future__ import annotations

from pathlib import Path

from netcfg.data.source import open_source
from netcfg.data.spec import DataSourceSpec, Orientation

__all__ = ["dataset_width"]


def dataset_width(path: str | Path, orientation: Orientation = Orientation.User) -> int:
    """Number of columns of the matrix a path holds, in the given orientation.

    User orientation (rows are users) counts distinct items; Item orientation counts
    distinct users.

    Raises:
        DataError: missing or unreadable data, a malformed line (with its number).

    Example:
        >>> dataset_width("../shared/data/ml-100k/u.data")
        1682
    """
    source = DataSourceSpec(Path=str(path), Orientation=orientation)
    return open_source(source).train.shape[1]
