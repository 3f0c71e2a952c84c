"""The spec of an ensemble: several configs trained apart, predicting together.

An ensemble file names its members (``Network``: any netcfg config, a file or
``zoo:NAME``, with ``--set``-style overrides of its own) and how much each counts. Every
member must predict the same explicit ratings (one target DataSet of the same data, in
either orientation): the ensemble's rating at a (user, item) pair is the weighted mean of
its members' clipped ratings there.

Example (``model.json``)::

    {"Kind": "Ensemble", "Name": "three views",
     "Members": [{"Name": "items", "Network": "zoo:deeprec-ml100k"},
                 {"Name": "users", "Network": "zoo:deeprec-ml100k",
                  "Set": ["Data.ratings.Orientation=User"]}]}
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import field_validator

from netcfg.experiments.spec import SearchParameter
from netcfg.spec_base import SpecBase, spec_field, tuple_of

__all__ = ["ENSEMBLE_METRICS", "EnsembleEvaluationSpec", "EnsembleSpec", "MemberSpec"]

ENSEMBLE_METRICS = ("RMSE", "MAE")
"""The metrics an ensemble reports (it averages predicted ratings)."""

_MEMBER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class MemberSpec(SpecBase):
    """One member: a config, its overrides and its weight."""

    Name: str = spec_field(
        ..., description="The member's name (its run is saved under members/NAME)."
    )
    Network: str = spec_field(
        ...,
        description="The member's config: a file or folder (relative to the ensemble file), "
        "or zoo:NAME.",
    )
    Set: tuple_of(str) = spec_field(
        (), description="KEY=VALUE overrides of the member's config, as --set takes them."
    )
    Weight: float = spec_field(
        1.0, gt=0.0, description="The member's weight in the mean (normalised to sum to 1)."
    )

    @field_validator("Name")
    @classmethod
    def _folder_name(cls, value: str) -> str:
        if not _MEMBER_NAME.match(value):
            raise ValueError(
                "must start with a letter or digit and hold only letters, digits, '.', '_' "
                "and '-' (it names a folder)"
            )
        return value


class EnsembleEvaluationSpec(SpecBase):
    """What an ensemble reports on the test part."""

    Metrics: tuple_of(Literal["RMSE", "MAE"]) = spec_field(
        ENSEMBLE_METRICS, description="RMSE and/or MAE of the averaged ratings."
    )


class EnsembleSpec(SpecBase):
    """Members trained one after the other; their clipped ratings averaged."""

    Kind: Literal["Ensemble"] = spec_field(..., description="Ensemble.")
    Name: str = spec_field("ensemble", description="A name for the ensemble.")
    Members: tuple_of(MemberSpec) = spec_field(
        ..., min_length=2, description="The member configs (at least two)."
    )
    Evaluation: EnsembleEvaluationSpec = spec_field(
        EnsembleEvaluationSpec(), description="Metrics of the averaged ratings."
    )
    Search: dict[str, SearchParameter] = spec_field(
        {},
        description="The member weights `netcfg tune` searches: Members.<index or name>.Weight "
        "-> a range ({Type: Float, Low, High, Step, Log}) or choices (a list). Empty: no "
        "search.",
    )

    @field_validator("Members")
    @classmethod
    def _distinct_names(cls, members: tuple[MemberSpec, ...]) -> tuple[MemberSpec, ...]:
        names = [m.Name for m in members]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"member names must differ: {', '.join(repeated)} repeated")
        return members

    def weights(self) -> list[float]:
        """The members' weights, normalised to sum to 1."""
        total = sum(m.Weight for m in self.Members)
        return [m.Weight / total for m in self.Members]
