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


def _message(error: dict[str, Any], path: tuple, tag: str | None) -> tuple[tuple, str]:
    kind = error["type"]
    if kind == "netcfg":
        return path, error["msg"]
    if kind == "missing":
        return path, f"missing required key '{path[-1]}'" if path else "missing required key"
    if kind == "extra_forbidden":
        info = union_by_discriminator(error.get("__union__", "")) if tag is None else None
        what = info.describe.get(tag, "") if info else ""
        return path, f"key '{path[-1]}' does not apply to {what or tag or 'this object'}"
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
    message = error["msg"].removeprefix("Value error, ")
    message = message.replace("Input should be", "must be").replace("Input ", "value ")
    return path, f"{message} (got {shown(error['input'])})"


def validation_issues(error: ValidationError, root: type[SpecBase], tree: Any) -> list[Issue]:
    """One `Issue` per pydantic error, located in ``tree`` (the data that was validated)."""
    issues = []
    for item in error.errors(include_url=False):
        path, tag = spec_path(root, item["loc"])
        if item["type"] == "extra_forbidden" and tag is not None:
            path, message = path, _extra_message(path, tag, root, item["loc"])
        else:
            path, message = _message(item, path, tag)
        issues.append(Issue(path, message, locate(tree, path)))
    return issues


def _extra_message(path: tuple, tag: str, root: type[SpecBase], loc: tuple) -> str:
    from netcfg.config.navigate import slot_of

    annotation: Any = root
    describe = tag
    for part in loc:
        slot = slot_of(annotation)
        if slot.union is not None and part in slot.union.members:
            describe = slot.union.describe.get(str(part), str(part))
            annotation = slot.union.members[part]
        elif slot.models and isinstance(part, str) and slot.field(part) is not None:
            annotation = slot.field(part)
        elif slot.items is not None:
            annotation = slot.items
        elif slot.values is not None:
            annotation = slot.values
    return f"key '{path[-1]}' does not apply to {describe}"
