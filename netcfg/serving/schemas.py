"""The JSON the endpoints accept and answer, and their validation.

Requests are pydantic models with unknown keys forbidden and strict types; a body is
parsed by `parse_body` and validated by `validate`, which turn the first problem into a
`RequestError` naming the field (``k``, ``[2].user``, ``interactions[3]``): 400 for a body
that is not JSON, 422 for one that breaks a rule. The answer models exist for the OpenAPI
description only (`/openapi.json`, `/docs`).
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError

from netcfg.errors import format_path
from netcfg.serving.errors import RequestError
from netcfg.serving.settings import MAX_K
from netcfg.spec_base import did_you_mean, shown

__all__ = [
    "MAX_PAIRS",
    "MAX_REQUESTS",
    "ErrorAnswer",
    "Recommendation",
    "RecommendRequest",
    "ScoreAnswer",
    "ScoreRequest",
    "parse_body",
    "validate",
]

MAX_REQUESTS = 1000
"""The most requests one /recommend body may hold."""

MAX_PAIRS = 100_000
"""The most pairs one /score body may hold."""

MAX_ID_LENGTH = 256


def _id(value: Any) -> str | int:
    """A user or item id: a non-empty string (at most 256 characters) or an integer."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"must be an id, a string or an integer (got {shown(value)})")
    if isinstance(value, str) and not 0 < len(value) <= MAX_ID_LENGTH:
        raise ValueError(f"must be an id of 1 to {MAX_ID_LENGTH} characters (got {shown(value)})")
    return value


def _interaction(value: Any) -> tuple[str | int, float | None]:
    """``[item, value]`` (a finite number) or a bare ``item`` (an implicit interaction)."""
    if isinstance(value, list):
        if len(value) != 2:
            raise ValueError(f"must be [item, value] or an item id (got {shown(value)})")
        item, number = value
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise ValueError(f"the value must be a number (got {shown(number)})")
        if not math.isfinite(number):
            raise ValueError(f"the value must be finite (got {shown(number)})")
        return _id(item), float(number)
    return _id(value), None


def _pair(value: Any) -> tuple[str | int, str | int]:
    """``[user, item]``."""
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"must be [user, item] (got {shown(value)})")
    return _id(value[0]), _id(value[1])


_ID_SCHEMA = str | int
Id = Annotated[str | int, PlainValidator(_id, json_schema_input_type=_ID_SCHEMA)]
Interaction = Annotated[
    tuple[str | int, float | None],
    PlainValidator(_interaction, json_schema_input_type=list[str | int | float] | str | int),
]
Pair = Annotated[
    tuple[str | int, str | int], PlainValidator(_pair, json_schema_input_type=list[str | int])
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ItemFilterRequest(_Strict):
    """Items removed before ranking, for this request's user."""

    allow: list[Id] | None = Field(None, description="recommend only these items")
    deny: list[Id] = Field([], description="never recommend these items")


class RecommendRequest(_Strict):
    """One user's top-K request."""

    model: str | None = Field(None, description="a served model's name (default: the default)")
    user: Id = Field(description="the user's original id")
    k: int = Field(10, ge=1, le=MAX_K, description="list length")
    exclude_seen: bool = Field(False, description="never recommend an item of the input")
    filter: ItemFilterRequest | None = None
    interactions: list[Interaction] | None = Field(
        None,
        min_length=1,
        description="the user's interactions, [item, value] or item: a new or returning "
        "user is folded in from them (user-based models); without them, a known user's "
        "training interactions are the input",
    )


class ScoreRequest(_Strict):
    """Scores of (user, item) pairs, as ``netcfg predict --pairs``."""

    model: str | None = None
    pairs: list[Pair] = Field(min_length=1, max_length=MAX_PAIRS)
    clip: bool = Field(True, description="clip ratings to the training range")
    strict: bool = Field(False, description="unknown users or items are an error (404)")


class Recommendation(BaseModel):
    """One user's list, best first."""

    model: str
    user: str | int
    items: list[str | int]
    scores: list[float]
    warnings: list[str] = []


class ScoreAnswer(BaseModel):
    """One score per pair, in order; null where the user or item is unknown."""

    model: str
    scores: list[float | None]
    unknown_users: int
    unknown_items: int


class ErrorAnswer(BaseModel):
    """A refused request: what is wrong, and the field at fault."""

    error: str
    field: str | None


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def parse_body(raw: bytes) -> Any:
    """The JSON value of a request body.

    Raises:
        RequestError: 400 for a body that is not UTF-8 JSON (``NaN`` and ``Infinity``
            included).
    """
    if not raw.strip():
        raise RequestError(400, "body", "empty; send a JSON object")
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise RequestError(400, "body", "not UTF-8 text") from None
    except ValueError as err:
        raise RequestError(400, "body", f"not valid JSON: {err}") from None


Model = TypeVar("Model", bound=BaseModel)


def validate(schema: type[Model], value: Any, prefix: tuple = ()) -> Model:
    """``value`` as a ``schema`` request.

    Args:
        schema: the request model.
        value: the parsed JSON.
        prefix: the path of ``value`` within the body (its index in a list of requests).

    Raises:
        RequestError: 422 naming the first field at fault (an unknown key before the
            others).
    """
    if not isinstance(value, dict):
        where = format_path(prefix) if prefix else "body"
        raise RequestError(422, where, f"must be a JSON object (got {_kind(value)})")
    try:
        return schema.model_validate(value)
    except ValidationError as err:
        errors = err.errors()
        # a misspelt key explains the missing one it was meant to be
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        raise _request_error(schema, first, prefix) from None


def _request_error(schema: type[BaseModel], error: dict, prefix: tuple) -> RequestError:
    """The one-line error of pydantic's first ``error``."""
    loc = tuple(error["loc"])
    field = format_path(prefix + loc) if prefix + loc else "body"
    kind = error["type"]
    if kind == "extra_forbidden":
        known = _fields_at(schema, loc[:-1])
        return RequestError(422, field, "unknown field" + did_you_mean(str(loc[-1]), known))
    if kind == "missing":
        return RequestError(422, field, "missing; this field is needed")
    message = error["msg"]
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
    else:
        message = message[:1].lower() + message[1:] + f" (got {shown(error.get('input'))})"
    return RequestError(422, field, message)


def _fields_at(schema: type[BaseModel], loc: tuple) -> list[str]:
    """The field names of the model at ``loc`` within ``schema`` (for close matches)."""
    model = schema
    for part in loc:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation if part in model.model_fields else None
        inner = [a for a in getattr(annotation, "__args__", (annotation,)) if _is_model(a)]
        if not inner:
            return []
        model = inner[0]
    return list(model.model_fields)


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _kind(value: Any) -> str:
    """A JSON value's kind, in words."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null" if value is None else type(value).__name__
