"""Put every key of a config into its canonical spelling, as DSSTNE's parser would read it.

DSSTNE lower-cases keys before matching them, knows aliases (``Slope``, ``LRN``) and
rejects unknown keys. Here each key is matched case-insensitively against the fields and
aliases of the spec classes that apply at its place; an unknown key gets a close-match
suggestion, a key that DSSTNE's docs show but its parser rejects gets the accepted
spelling, and a key given twice in different spellings is reported. All problems are
collected; the offending keys are left out so that validation reports the rest.
"""

from __future__ import annotations

import functools
from typing import Any

from netcfg.config.navigate import Slot, slot_of
from netcfg.config.tree import LocDict, LocList
from netcfg.errors import Issue
from netcfg.spec_base import did_you_mean, key_table

__all__ = ["applicable_models", "canonicalize"]


def canonicalize(
    node: Any, annotation: Any, path: tuple[str | int, ...], issues: list[Issue]
) -> Any:
    """A copy of ``node`` with canonical keys wherever ``annotation`` expects a spec.

    Args:
        node: located config data.
        annotation: the spec type expected at ``path`` (e.g. ``ModelSpec``).
        path: JSON path of ``node``.
        issues: problems found are appended here.

    Returns:
        The canonical tree; locations are kept.
    """
    slot = slot_of(annotation)
    if isinstance(node, LocDict):
        if slot.models:
            return _mapping(node, slot, path, issues)
        if slot.values is not None:
            out = LocDict(loc=node.loc)
            for key, value in node.items():
                child = canonicalize(value, slot.values, (*path, key), issues)
                out.put(key, child, node.key_locs.get(key))
            return out
        if slot.items is not None:  # one object where a list is expected
            return canonicalize(node, slot.items, path, issues)
    if isinstance(node, LocList) and slot.items is not None:
        items = [
            canonicalize(item, slot.items, (*path, index), issues)
            for index, item in enumerate(node)
        ]
        return LocList(items, node.item_locs, loc=node.loc)
    return node


@functools.cache
def _tables(models: tuple) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """For spec classes: spelling -> key, rejected spelling -> message, and the keys."""
    table: dict[str, str] = {}
    rejected: dict[str, str] = {}
    for cls in models:
        table.update(key_table(cls))
        rejected.update(cls.rejected_keys)
    return table, rejected, list(dict.fromkeys(table.values()))


def applicable_models(node: LocDict, slot: Any) -> tuple:
    """The spec classes that apply to ``node``: its union member when the tag says which."""
    if slot.union is None:
        return slot.models
    table = _tables(slot.models)[0]
    rough = {table[k.lower()]: v for k, v in node.items() if k.lower() in table}
    member = slot.union.members.get(slot.union.tag_of(rough) or "")
    return (member,) if member is not None else slot.models


def _mapping(node: LocDict, slot: Any, path: tuple[str | int, ...], issues: list[Issue]) -> LocDict:
    members = applicable_models(node, slot)
    table, rejected, names = _tables(members)
    out = LocDict(loc=node.loc)
    spelled: dict[str, str] = {}
    for key, value in node.items():
        loc = node.key_locs.get(key)
        canonical = table.get(key.lower())
        if canonical is None:
            message = (
                rejected.get(key.lower())
                or _elsewhere(key, members, slot)
                or _unknown(key, names, slot)
            )
            issues.append(Issue((*path, key), message, loc))
            continue
        if canonical in spelled:
            issues.append(
                Issue(
                    (*path, key),
                    f"'{key}' and '{spelled[canonical]}' are the same key ({canonical}); "
                    "give it once",
                    loc,
                )
            )
            continue
        spelled[canonical] = key
        child = canonicalize(
            value, Slot(models=members).field(canonical), (*path, canonical), issues
        )
        out.put(canonical, child, loc)
    return out


def _elsewhere(key: str, members: tuple, slot: Any) -> str | None:
    """For a tagged union: a key of other members than the one the tag chose."""
    if slot.union is None or len(members) != 1:
        return None
    others = [
        tag
        for tag, cls in slot.union.members.items()
        if cls not in members and key.lower() in key_table(cls)
    ]
    if not others:
        return None
    tag = next(t for t, cls in slot.union.members.items() if cls is members[0])
    what = slot.union.describe.get(tag, tag)
    if len(others) == 1:
        owners = f"{others[0]} has it"
    else:
        owners = ", ".join(others[:-1]) + f" and {others[-1]} have it"
    return f"key '{key}' does not apply to {what} ({owners})"


def _unknown(key: str, names: list[str], slot: Any) -> str:
    hint = did_you_mean(key, names)
    if not hint:
        nested = _nested_home(key, names, slot)
        hint = (
            f"; it belongs under '{nested}'" if nested else "; expected one of " + ", ".join(names)
        )
    return f"unknown key '{key}'{hint}"


def _nested_home(key: str, names: list[str], slot: Any) -> str | None:
    """The field one level down whose spec knows ``key`` (``Optimizer`` for LearningRate)."""
    for name in names:
        inner = slot_of(slot.field(name))
        for cls in inner.models:
            if key.lower() in key_table(cls):
                return f"{name}.{key_table(cls)[key.lower()]}"
    return None
