"""Turn pydantic validation errors into netcfg `Issue`s: JSON path, line, plain message."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from netcfg.config.navigate import spec_path
from netcfg.config.tree import locate
from netcfg.errors import Issue
from netcfg.spec_base import SpecBase, did_you_mean, shown
from netcfg.spec_unions import union_by_discriminator

__all__ = ["validation_issues"]

_OBJECT_TYPES = {"model_type", "model_attributes_type", "dict_type", "union_tag_not_found"}


def _message(error: dict[str, Any], path: tuple, member: str | None) -> tuple[tuple, str]:
    kind = error["type"]
    if kind == "netcfg":
        return path, error["msg"]
    if kind == "missing":
        return path, f"missing required key '{path[-1]}'" if path else "missing required key"
    if kind == "extra_forbidden":
        return path, f"key '{path[-1]}' does not apply to {member or 'this object'}"
    if kind == "union_tag_invalid":
        ctx = error["ctx"]
        info = union_by_discriminator(ctx["discriminator"])
        value = str(ctx["tag"])
        rejected = info.rejected.get(value.strip().lower())
        if rejected:
            return (*path, info.key), rejected
        hint = did_you_mean(value, info.spellings)
        listing = "; expected one of " + ", ".join(info.spellings)
        return (*path, info.key), f"unknown {info.what} '{value}'{hint or listing}"
    if kind == "bool_type":
        return path, f"must be true or false (got {shown(error['input'])})"
    if kind in _OBJECT_TYPES:
        return path, f"must be an object (got {shown(error['input'])})"
    if kind in ("too_short", "too_long"):
        return path, _length_message(error)
    message = error["msg"].removeprefix("Value error, ")
    message = message.replace("Input should be", "must be").replace("Input ", "value ")
    return path, f"{message} (got {shown(error['input'])})"


def _length_message(error: dict[str, Any]) -> str:
    """A list of too few or too many items, counted as written: pydantic counts the items
    that validated ("not 0" when the only one given is wrong) and names Python's types."""
    value, ctx = error["input"], error.get("ctx", {})
    given = len(value) if hasattr(value, "__len__") else ctx.get("actual_length")
    if error["type"] == "too_short":
        bound = f"at least {ctx.get('min_length')}"
    else:
        bound = f"at most {ctx.get('max_length')}"
    return f"must hold {bound} items (got {given})"


def validation_issues(error: ValidationError, root: type[SpecBase], tree: Any) -> list[Issue]:
    """One `Issue` per pydantic error, located in ``tree`` (the data that was validated)."""
    issues = []
    for item in error.errors(include_url=False):
        path, message = _message(item, *spec_path(root, item["loc"]))
        issues.append(Issue(path, message, locate(tree, path)))
    return issues
