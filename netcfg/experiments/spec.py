"""The ``Search`` section: the hyper-parameters a study tunes, one search range per path.

Each key is a dotted path as ``--set`` takes it (``Layers.Hidden.N``); each value is a
range or a set of choices, a tagged union on ``Type``::

    Search:
      Layers.Hidden.N: {Type: Int, Low: 100, High: 1000, Step: 50}
      Training.Optimizer.LearningRate: {Type: Float, Low: 1.0e-4, High: 1.0e-2, Log: true}
      Layers.Hidden.Activation: {Type: Categorical, Choices: [Sigmoid, Selu, Tanh]}
      Training.BatchSize: [64, 128, 256]        # a list is a Categorical

The ranges follow Optuna's distributions (``suggest`` calls them on a trial); whether each
value fits the config is checked when the config loads (`netcfg.config.search`).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, GetJsonSchemaHandler, field_validator, model_validator

from netcfg.spec_base import SpecBase, shown, spec_enum, spec_error, spec_field
from netcfg.spec_unions import tagged_union

__all__ = [
    "CategoricalParameter",
    "FloatParameter",
    "IntParameter",
    "SearchKind",
    "SearchParameter",
    "describe_search",
]


class SearchKind(str, enum.Enum):
    """The kinds of search parameter."""

    Int = "Int"
    Float = "Float"
    Categorical = "Categorical"


SearchKindName = spec_enum(SearchKind, "Search Type")


class _Range(SpecBase):
    """What Int and Float ranges share: the cross checks Optuna makes, made early."""

    def check_values(self) -> tuple[tuple[str, Any], ...]:
        """The values to check against the config, each with its name: Low and High."""
        return (("Low", self.Low), ("High", self.High))

    def describe(self) -> str:
        """A short description: ``int 100..1000 step 50``, ``float 0.0001..0.01 log``."""
        step = f" step {self.Step:g}" if self.stepped() else ""
        log = " log" if self.Log else ""
        return f"{self.Type.value.lower()} {self.Low:g}..{self.High:g}{step}{log}"

    @model_validator(mode="after")
    def _optuna_rules(self) -> Any:
        if self.Low >= self.High:
            raise spec_error(f"Low ({self.Low:g}) must be below High ({self.High:g})")
        if self.Log and self.stepped():
            raise spec_error("Log and Step cannot be combined (Optuna forbids it); drop one")
        if self.Log and self.Low <= 0:
            raise spec_error(f"Log needs Low > 0 (got {self.Low:g})")
        if self.stepped() and self.Step > self.High - self.Low:
            raise spec_error(
                f"Step ({self.Step:g}) is larger than the range High - Low "
                f"({self.High - self.Low:g})"
            )
        return self


class IntParameter(_Range):
    """Integers from Low to High (both included), on a grid of Step, or log-uniform."""

    Type: SearchKindName = spec_field(SearchKind.Int, description="Int.")
    Low: int = spec_field(..., description="The smallest value.")
    High: int = spec_field(..., description="The largest value (included).")
    Step: int = spec_field(1, ge=1, description="Values are Low, Low + Step, ... up to High.")
    Log: bool = spec_field(False, description="Sample on a log scale (Low >= 1, Step 1).")

    def stepped(self) -> bool:
        """Whether values lie on a grid coarser than every integer."""
        return self.Step != 1

    def suggest(self, trial: Any, name: str) -> int:
        """This parameter's value in an Optuna ``trial``, named ``name``."""
        return trial.suggest_int(name, self.Low, self.High, step=self.Step, log=self.Log)


class FloatParameter(_Range):
    """Real numbers from Low to High, uniform, on a grid of Step, or log-uniform."""

    Type: SearchKindName = spec_field(SearchKind.Float, description="Float.")
    Low: float = spec_field(..., description="The smallest value.")
    High: float = spec_field(..., description="The largest value (included).")
    Step: float | None = spec_field(
        None, gt=0.0, description="Values are Low, Low + Step, ... up to High (none: any)."
    )
    Log: bool = spec_field(False, description="Sample on a log scale (Low > 0, no Step).")

    def stepped(self) -> bool:
        """Whether values lie on a grid."""
        return self.Step is not None

    def suggest(self, trial: Any, name: str) -> float:
        """This parameter's value in an Optuna ``trial``, named ``name``."""
        return trial.suggest_float(name, self.Low, self.High, step=self.Step, log=self.Log)


_SCALARS = (str, bool, int, float, type(None))


class CategoricalParameter(SpecBase):
    """One of a list of values (strings, numbers, true/false or null)."""

    Type: SearchKindName = spec_field(SearchKind.Categorical, description="Categorical.")
    Choices: tuple[str | bool | int | float | None, ...] = spec_field(
        ..., description="The values to choose from (at least one, all different)."
    )

    @field_validator("Choices", mode="before")
    @classmethod
    def _scalars(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise spec_error(f"Choices must be a list of values (got {shown(value)})")
        if not value:
            raise spec_error("Choices must hold at least one value")
        bad = [v for v in value if not isinstance(v, _SCALARS)]
        if bad:
            raise spec_error(
                f"a choice must be a string, a number, true/false or null (got {shown(bad[0])})"
            )
        spelled = [json.dumps(v) for v in value]
        repeated = [v for i, v in enumerate(spelled) if v in spelled[:i]]
        if repeated:
            raise spec_error(f"Choices must differ: {repeated[0]} is repeated")
        return tuple(value)

    def check_values(self) -> tuple[tuple[str, Any], ...]:
        """The values to check against the config, each with its name: every choice."""
        return tuple(("choice", choice) for choice in self.Choices)

    def describe(self) -> str:
        """A short description: ``categorical [Sigmoid, Tanh]``."""
        shown_choices = (c if isinstance(c, str) else json.dumps(c) for c in self.Choices)
        return f"categorical [{', '.join(shown_choices)}]"

    def suggest(self, trial: Any, name: str) -> Any:
        """This parameter's value in an Optuna ``trial``, named ``name``."""
        return trial.suggest_categorical(name, list(self.Choices))


class _Shorthand:
    """Annotation marker: a list stands for ``{Type: Categorical, Choices: list}``; a
    mapping must say its Type."""

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return {"Type": SearchKind.Categorical.value, "Choices": value}
        if isinstance(value, Mapping) and "Type" not in value:
            raise spec_error("missing key 'Type' (Int, Float or Categorical)")
        return value

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler):
        choices = {"type": "array", "minItems": 1, "items": {"type": _JSON_SCALARS}}
        return {"anyOf": [choices, handler(core_schema)]}


_JSON_SCALARS = ["string", "number", "integer", "boolean", "null"]
_SPELLINGS = {kind.value.lower(): kind.value for kind in SearchKind}


def _tag_of(value: Mapping[str, Any]) -> str | None:
    raw = value.get("Type")
    raw = getattr(raw, "value", raw)
    return _SPELLINGS.get(raw.strip().lower(), raw) if isinstance(raw, str) else None


_shorthand = _Shorthand()
SearchParameter = Annotated[
    tagged_union(
        "search_type",
        {"Int": IntParameter, "Float": FloatParameter, "Categorical": CategoricalParameter},
        key="Type",
        what="Search Type",
        tag_of=_tag_of,
        spellings=tuple(kind.value for kind in SearchKind),
        describe={kind.value: f"{kind.value} parameters" for kind in SearchKind},
    ),
    BeforeValidator(_shorthand),
    _shorthand,
]
"""A search parameter of any kind: a value of the ``Search`` mapping."""


def describe_search(search: Mapping[str, Any]) -> str:
    """One line describing a search space: ``3 parameters (Layers.Hidden.N int 1..9, ...)``."""
    count = f"{len(search)} parameter{'s' if len(search) != 1 else ''}"
    return f"{count} ({', '.join(f'{path} {p.describe()}' for path, p in search.items())})"
