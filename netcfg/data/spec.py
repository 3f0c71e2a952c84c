"""The ``Data`` section: binds each DataSet name of the layers to a source of data."""

from __future__ import annotations

import enum
from typing import Annotated

from pydantic import BeforeValidator, model_validator

from netcfg.spec_base import (
    SpecBase,
    StringShorthand,
    spec_enum,
    spec_error,
    spec_field,
    tuple_of,
)
from netcfg.spec_unions import type_union

__all__ = [
    "ProtocolSpec",
    "SyntheticSpec",
    "DataFormat",
    "DataFormatName",
    "DataSource",
    "DataSourceSpec",
    "FetchName",
    "FoldName",
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
    npz = "npz"
    """a matrix saved by ``scipy.sparse.save_npz`` (rows are users; ids 0..n-1)"""


class FetchName(str, enum.Enum):
    """Public datasets netcfg can download."""

    movielens_100k = "movielens-100k"
    movielens_1m = "movielens-1m"
    movielens_20m = "movielens-20m"
    movielens_latest_small = "movielens-latest-small"


class FoldName(str, enum.Enum):
    """The canonical splits shipped with MovieLens 100K (``u1.base``/``u1.test`` ...)."""

    u1 = "u1"
    u2 = "u2"
    u3 = "u3"
    u4 = "u4"
    u5 = "u5"
    ua = "ua"
    ub = "ub"


FoldNameType = spec_enum(FoldName, "Fold")


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


class SyntheticSpec(SpecBase):
    """A synthetic dataset, generated into the data cache the first time it is used."""

    Users: int = spec_field(ge=1, description="Number of users.")
    Items: int = spec_field(ge=1, description="Number of items.")
    Density: float = spec_field(gt=0.0, le=1.0, description="Interactions / (users x items).")
    Implicit: bool = spec_field(False, description="Events without ratings.")
    Seed: int = spec_field(0, ge=0, description="Seed of the generator.")


class ProtocolKind(str, enum.Enum):
    """Split protocols (as ``netcfg data split --protocol``)."""

    random = "random"
    temporal = "temporal"
    user_temporal = "user-temporal"
    leave_last_out = "leave-last-out"
    heldout_users = "heldout-users"


ProtocolKindName = spec_enum(ProtocolKind, "Protocol Type")


class RandomProtocolSpec(SpecBase):
    """Split interactions at random into train, validation and test fractions."""

    Type: ProtocolKindName = spec_field(ProtocolKind.random, description="random.")
    Fractions: tuple_of(float) = spec_field(
        (0.8, 0.1, 0.1), description="Train, validation and test fractions (summing to 1)."
    )
    PerUser: bool = spec_field(False, description="Split each user's interactions so.")
    Seed: int = spec_field(0, ge=0, description="Seed of the split.")

    @model_validator(mode="after")
    def _fractions(self) -> RandomProtocolSpec:
        if (
            len(self.Fractions) != 3
            or min(self.Fractions) < 0
            or abs(sum(self.Fractions) - 1) > 1e-6
        ):
            raise spec_error("Fractions must be three numbers >= 0 that sum to 1")
        return self


class TemporalProtocolSpec(SpecBase):
    """A global time cut (DeepRec's Netflix protocol); later users go to validation or test."""

    Type: ProtocolKindName = spec_field(ProtocolKind.temporal, description="temporal.")
    CutFraction: float = spec_field(
        0.9, gt=0.0, lt=1.0, description="Fraction of interactions before the cut."
    )
    ValidationFraction: float = spec_field(
        0.5, ge=0.0, le=1.0, description="Share of later users evaluated in validation."
    )
    Seed: int = spec_field(0, ge=0, description="Seed of the split.")


class UserTemporalProtocolSpec(SpecBase):
    """Each user's earliest interactions train (DeepRec's MovieLens converter)."""

    Type: ProtocolKindName = spec_field(ProtocolKind.user_temporal, description="user-temporal.")
    TrainFraction: float = spec_field(0.7, gt=0.0, lt=1.0, description="Earliest fraction.")
    ValidationFraction: float = spec_field(
        0.5, ge=0.0, le=1.0, description="Share of users evaluated in validation."
    )
    Seed: int = spec_field(0, ge=0, description="Seed of the split.")


class LeaveLastOutProtocolSpec(SpecBase):
    """Each user's last interaction tests, the one before validates."""

    Type: ProtocolKindName = spec_field(ProtocolKind.leave_last_out, description="leave-last-out.")
    Validation: bool = spec_field(True, description="Hold out a validation interaction too.")


class HeldoutUsersProtocolSpec(SpecBase):
    """Held-out users with fold-in (the Mult-VAE protocol)."""

    Type: ProtocolKindName = spec_field(ProtocolKind.heldout_users, description="heldout-users.")
    Heldout: int = spec_field(ge=1, description="Users held out for validation, and for test.")
    FoldIn: float = spec_field(
        0.8, gt=0.0, lt=1.0, description="Share of a held-out user's interactions given as input."
    )
    Seed: int = spec_field(0, ge=0, description="Seed of the split.")


ProtocolSpec = type_union(
    "protocol_type",
    {
        "random": RandomProtocolSpec,
        "temporal": TemporalProtocolSpec,
        "user-temporal": UserTemporalProtocolSpec,
        "leave-last-out": LeaveLastOutProtocolSpec,
        "heldout-users": HeldoutUsersProtocolSpec,
    },
    "Protocol Type",
    ProtocolKind.random,
)
"""How to split a source that is not already split."""


class TransformName(str, enum.Enum):
    """Value transforms."""

    log1p = "log1p"


TransformNameType = spec_enum(TransformName, "Transform")


class DataSourceSpec(SpecBase):
    """A source of interactions and how to prepare and split it."""

    Path: str | None = spec_field(
        None,
        description="A dataset or split directory, or a raw file (relative to the config file).",
    )
    Fetch: FetchNameName | None = spec_field(
        None, description="A public dataset to download into the cache (e.g. movielens-100k)."
    )
    Synthetic: SyntheticSpec | None = spec_field(
        None, description="A synthetic dataset, generated into the cache when missing."
    )
    Fold: FoldNameType | None = spec_field(
        None,
        description="With Fetch movielens-100k: a canonical split (u1..u5, ua, ub), trained "
        "on <fold>.base and tested on <fold>.test.",
    )
    Format: DataFormatName = spec_field(
        DataFormat.auto, description="Format of raw files (default: guessed from the path)."
    )
    Orientation: OrientationName = spec_field(
        Orientation.User, description="Rows are users (User) or items (Item, as I-AutoRec)."
    )
    Test: str | None = spec_field(
        None, description="A file of test interactions, mapped through the training ids."
    )
    Validation: str | None = spec_field(
        None, description="A file of validation interactions, mapped through the training ids."
    )
    Protocol: ProtocolSpec | None = spec_field(
        None, description="How to split a source that is not already split."
    )
    Binarize: float | None = spec_field(
        None, description="Keep values >= this as implicit positives and drop the others."
    )
    Transform: TransformNameType | None = spec_field(
        None, description="Transform the values (log1p)."
    )
    MinUserInteractions: int = spec_field(
        0, ge=0, description="Drop users with fewer interactions before splitting."
    )
    MinItemInteractions: int = spec_field(
        0, ge=0, description="Drop items with fewer interactions before splitting."
    )
    Split: str | None = spec_field(
        None, description="Serve only this part of the split (e.g. test) as the data."
    )
    SparseIgnoreZero: bool = spec_field(
        False, description="Targets: only stored entries count in the loss (DSSTNE's flag)."
    )
    Identity: bool = spec_field(
        False,
        description="netcfg extension: serve the identity of the rows instead of their "
        "entries: row r holds one 1, in column r (width: the number of rows). Bound beside "
        "the interactions of the same source, an Input on it tells the network which user "
        "(item, for Orientation Item) each row is, as an embedding lookup "
        "(netcfg.data.identity); rows the training data lacks cannot be named.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> DataSourceSpec:
        given = [k for k in ("Path", "Fetch", "Synthetic") if getattr(self, k) is not None]
        if len(given) != 1:
            raise spec_error("give exactly one of Path, Fetch and Synthetic")
        if self.Protocol is not None and (self.Test or self.Validation):
            raise spec_error("give either Test/Validation files or a Protocol, not both")
        if self.Fold is not None:
            if self.Fetch is not FetchName.movielens_100k:
                raise spec_error("Fold needs Fetch: movielens-100k (its canonical splits)")
            if self.Protocol is not None or self.Test or self.Validation:
                raise spec_error("a Fold is already a split: give no Protocol, Test or Validation")
        return self


DATA_KEY_GROUPS: dict[str, frozenset[str]] = {
    "source": frozenset(
        {"Path", "Fetch", "Synthetic", "Fold", "Format", "Test", "Validation", "Protocol", "Split"}
    ),
    "treatment": frozenset(
        {
            "Orientation",
            "Binarize",
            "Transform",
            "MinUserInteractions",
            "MinItemInteractions",
            "SparseIgnoreZero",
            "Identity",
        }
    ),
}
"""The keys of a `DataSourceSpec` by role: ``source`` keys say which data and how it is
split, ``treatment`` keys how it is used. A config or override that gives a new source
(Path, Fetch or Synthetic) replaces every inherited source key and keeps the treatment."""


_PATH_SHORTHAND = StringShorthand("Path")
DataSource = Annotated[DataSourceSpec, BeforeValidator(_PATH_SHORTHAND), _PATH_SHORTHAND]
"""A data source, or just its path as a string."""
