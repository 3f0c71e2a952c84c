"""The ``Data`` section: binds each DataSet name of the layers to a source of data."""

from __future__ import annotations

import enum
from typing import Annotated

from pydantic import BeforeValidator, model_validator

from netcfg.spec_base import SpecBase, StringShorthand, spec_enum, spec_error, spec_field

__all__ = [
    "DataFormat",
    "DataFormatName",
    "DataSource",
    "DataSourceSpec",
    "FetchName",
    "Orientation",
]


class DataFormat(str, enum.Enum):
    """Formats a data source may be in; ``auto`` guesses from the path."""

    auto = "auto"
    netcfg = "netcfg"
    movielens_100k = "movielens-100k"
    movielens_dat = "movielens-dat"
    movielens_csv = "movielens-csv"
    csv = "csv"
    tsv = "tsv"
    dsstne = "dsstne"


class FetchName(str, enum.Enum):
    """Public datasets netcfg can download."""

    movielens_100k = "movielens-100k"
    movielens_1m = "movielens-1m"
    movielens_20m = "movielens-20m"
    movielens_latest_small = "movielens-latest-small"


class Orientation(str, enum.Enum):
    """Whether rows are users (user-based) or items (item-based, as I-AutoRec)."""

    User = "User"
    Item = "Item"


OrientationName = spec_enum(
    Orientation,
    "Orientation",
    aliases={"UserBased": "User", "user-based": "User", "ItemBased": "Item", "item-based": "Item"},
)


FetchNameName = spec_enum(FetchName, "Fetch")
DataFormatName = spec_enum(
    DataFormat,
    "data Format",
    aliases={
        "movielens-1m": "movielens-dat",
        "movielens-10m": "movielens-dat",
        "movielens-20m": "movielens-csv",
        "movielens-25m": "movielens-csv",
        "movielens-latest": "movielens-csv",
        "movielens-latest-small": "movielens-csv",
    },
)
"""A data format name (case-insensitive; MovieLens release names are aliases)."""


class DataSourceSpec(SpecBase):
    """Where a dataset comes from: a path (dataset directory or raw file) or a fetchable name."""

    Path: str | None = spec_field(
        None, description="A dataset directory or a raw file (relative to the config file)."
    )
    Fetch: FetchNameName | None = spec_field(
        None, description="A public dataset to download into the cache (e.g. movielens-100k)."
    )
    Format: DataFormatName = spec_field(
        DataFormat.auto, description="Format of a raw file (default: guessed from the path)."
    )
    Orientation: OrientationName = spec_field(
        Orientation.User, description="Rows are users (User) or items (Item)."
    )
    Split: str | None = spec_field(
        None, description="Which split of a split dataset to use (e.g. train); default all."
    )
    SparseIgnoreZero: bool = spec_field(
        False, description="Targets: only stored entries count in the loss (DSSTNE's flag)."
    )

    @model_validator(mode="after")
    def _one_source(self) -> DataSourceSpec:
        if (self.Path is None) == (self.Fetch is None):
            raise spec_error("give exactly one of Path and Fetch")
        return self


_PATH_SHORTHAND = StringShorthand("Path")
DataSource = Annotated[DataSourceSpec, BeforeValidator(_PATH_SHORTHAND), _PATH_SHORTHAND]
"""A data source, or just its path as a string."""
