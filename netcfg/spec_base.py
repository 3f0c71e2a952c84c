"""Building blocks shared by every spec: a frozen pydantic base, DSSTNE-style spellings.

DSSTNE matches keys and enum values case-insensitively and knows aliases (``Slope`` for
``RELUSlope``, ``Relu`` for ``RectifiedLinear``). Keys are put into their canonical spelling
before pydantic sees them (`netcfg.config.keys`), using the tables built here; enum values
are matched by the validators `spec_enum` creates. Both also describe themselves in the
JSON Schema, so an editor accepts every spelling the loader accepts.
"""

from __future__ import annotations

import difflib
import enum
import functools
import json
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "OneOrMany",
    "SpecBase",
    "StringShorthand",
    "case_insensitive_regex",
    "close_match",
    "did_you_mean",
    "key_table",
    "names_type",
    "rejected_key_message",
    "shown",
    "spec_enum",
    "spec_error",
    "spec_field",
    "tuple_of",
]

ALIASES_EXTRA = "x-aliases"


MATCHED_CANDIDATES = 2_000
"""Most candidates `close_match` compares a word with (0.1 s on a slow machine); past
that only a difference of case is found."""


def close_match(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``word`` (case-insensitive), or None when none is close.

    Among more than `MATCHED_CANDIDATES` candidates (a 100,000-layer network), only one
    that differs in case is found: comparing with each would take seconds per word.
    """
    by_lower = {c.lower(): c for c in candidates}
    if len(by_lower) > MATCHED_CANDIDATES:
        return by_lower.get(word.lower())
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[found[0]] if found else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'X'?"`` for the closest candidate, or ``""``."""
    match = close_match(word, candidates)
    return f"; did you mean '{match}'?" if match else ""


def shown(value: Any) -> str:
    """A value as a user wrote it in JSON (``"yes"``, ``[1, 2]``), shortened if long."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def spec_error(message: str) -> PydanticCustomError:
    """A validation error whose message is printed exactly as given."""
    return PydanticCustomError("netcfg", message)


ECMA_SYNTAX_CHARACTERS = frozenset("^$\\.*+?()[]{}|/")
"""The characters a pattern escapes: the only ones JavaScript (unicode mode) lets a
backslash precede, and all that Python's ``re`` needs escaped outside a class."""


def case_insensitive_regex(words: Iterable[str]) -> str:
    """A pattern matching exactly ``words``, whatever the case of their letters.

    Valid both in Python's ``re`` and in ECMA-262 unicode mode (the dialect JSON Schema
    validators in editors use): only `ECMA_SYNTAX_CHARACTERS` are escaped, where
    ``re.escape`` would also escape ``-`` or a space, which ECMA rejects.

    Example:
        >>> case_insensitive_regex(["leave-last-out"])
        '^(?:[lL][eE][aA][vV][eE]-[lL][aA][sS][tT]-[oO][uU][tT])$'
    """

    def one(word: str) -> str:
        return "".join(_char_pattern(c) for c in word)

    return "^(?:" + "|".join(one(w) for w in words) + ")$"


def _char_pattern(c: str) -> str:
    lower, upper = c.lower(), c.upper()
    if lower != upper and len(lower) == len(upper) == 1:
        return f"[{lower}{upper}]"
    return "\\" + c if c in ECMA_SYNTAX_CHARACTERS else c


def _add_spelling_patterns(schema: dict[str, Any], cls: type[BaseModel]) -> None:
    """JSON Schema hook: accept every case variant and alias of each key.

    Each key gets a case-insensitive ``patternProperties`` entry. No key is required: a
    config may inherit any key through ``Extends``, and the loader reports missing ones.
    """
    patterns: dict[str, Any] = {}
    for name, info in cls.model_fields.items():
        prop = schema.get("properties", {}).get(name)
        if prop is None:
            continue
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        prop.pop(ALIASES_EXTRA, None)
        patterns[case_insensitive_regex([name, *extra.get(ALIASES_EXTRA, [])])] = dict(prop)
    if patterns:
        schema["patternProperties"] = patterns
    schema.pop("required", None)


class SpecBase(BaseModel):
    """Base of every spec: frozen, strict types, unknown keys rejected, and every float
    finite (``.inf``, ``1e400``, ``NaN`` are rejected by every float field; a field that
    means to allow them must say so, with ``allow_inf_nan=True``).

    Subclasses may list DSSTNE spellings that its docs show but its parser rejects in
    ``rejected_keys`` (lower-cased key -> message naming the accepted spelling).
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=True,
        allow_inf_nan=False,
        json_schema_extra=_add_spelling_patterns,
        use_enum_values=False,
    )

    rejected_keys: ClassVar[Mapping[str, str]] = {}


class StringShorthand:
    """Annotation marker: a bare string stands for ``{key: string}``.

    The marker converts the value before validation and documents the string form in the
    JSON Schema; the loader reads ``key`` to expand the string when a ``--set`` path or an
    inherited config reaches inside it.
    """

    def __init__(self, key: str):
        self.key = key

    def __call__(self, value: Any) -> Any:
        return {self.key: value} if isinstance(value, str) else value

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler):
        return {"anyOf": [{"type": "string"}, handler(core_schema)]}


class OneOrMany:
    """Annotation marker for a list field: in the JSON Schema, one item is accepted too."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler):
        many = handler(core_schema)
        return {"anyOf": [many, many["items"]]}


def spec_field(
    default: Any = ...,
    *,
    description: str,
    aliases: Iterable[str] = (),
    **kw: Any,
):
    """A pydantic ``Field`` with a description and DSSTNE aliases for its key.

    Args:
        default: the default value (``...``: required).
        description: what the key means; it is shown in the JSON Schema.
        aliases: other spellings DSSTNE accepts for the key.
        **kw: other ``Field`` arguments (constraints such as ``ge``).
    """
    extra = {ALIASES_EXTRA: list(aliases)} if aliases else None
    return Field(default, description=description, json_schema_extra=extra, **kw)


@functools.cache
def key_table(cls: type[SpecBase]) -> dict[str, str]:
    """Map every accepted spelling of a key of ``cls`` (lower-cased) to its field name."""
    table: dict[str, str] = {}
    for name, info in cls.model_fields.items():
        table[name.lower()] = name
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        for alias in extra.get(ALIASES_EXTRA, []):
            table[alias.lower()] = name
    return table


def rejected_key_message(cls: type[SpecBase], key: str) -> str | None:
    """The message for a key DSSTNE's docs show but its parser rejects, if ``key`` is one."""
    return cls.rejected_keys.get(key.lower())


def spec_enum(
    enum_cls: type[enum.Enum],
    what: str,
    *,
    aliases: Mapping[str, str] | None = None,
    rejected: Mapping[str, str] | None = None,
) -> Any:
    """An annotated enum type matched case-insensitively, with aliases and rejected spellings.

    Args:
        enum_cls: a ``str`` enum whose values are the canonical spellings.
        what: the name used in messages (``"Activation"``).
        aliases: alternative spelling -> canonical value.
        rejected: spelling -> message, for spellings that must be refused with advice.

    Example:
        >>> Kind = spec_enum(LayerKind, "Kind", aliases={"In": "Input"})
    """
    aliases = dict(aliases or {})
    rejected = {k.lower(): v for k, v in (rejected or {}).items()}
    table = {m.value.lower(): m for m in enum_cls}
    table.update({a.lower(): enum_cls(v) for a, v in aliases.items()})
    spellings = [m.value for m in enum_cls] + list(aliases)

    def parse(value: Any) -> Any:
        if isinstance(value, enum_cls):
            return value
        if not isinstance(value, str):
            raise spec_error(f"{what} must be a string, one of {_listing(enum_cls)}")
        key = value.strip().lower()
        if key in rejected:
            raise spec_error(rejected[key])
        if key in table:
            return table[key]
        hint = did_you_mean(value, spellings)
        raise spec_error(
            f"unknown {what} '{value}'{hint}"
            if hint
            else f"unknown {what} '{value}'; expected one of {_listing(enum_cls)}"
        )

    json_schema = {  # any case is accepted; a value in no case is told the spellings
        "type": "string",
        "if": {"pattern": case_insensitive_regex(spellings)},
        "else": {"enum": spellings},
    }
    return Annotated[enum_cls, BeforeValidator(parse), WithJsonSchema(json_schema)]


def _listing(enum_cls: type[enum.Enum]) -> str:
    return ", ".join(m.value for m in enum_cls)


def tuple_of(item_type: Any) -> Any:
    """A tuple type that accepts a JSON array (frozen specs hold tuples, not lists)."""

    def to_tuple(value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    return Annotated[tuple[item_type, ...], BeforeValidator(to_tuple)]


def _one_or_many(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(value)
    return value


names_type = Annotated[
    tuple[str, ...],
    BeforeValidator(_one_or_many),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}),
]
"""A layer name or a list of names (``Source``, ``Skip``), held as a tuple."""
