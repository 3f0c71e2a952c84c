"""``--set KEY=VALUE`` overrides: dotted paths into a config, checked like the file itself.

Path segments are matched as keys are (case-insensitive, with aliases); a segment under
``Layers`` is a layer ``Name`` or an index (``Layers.Hidden.N=256``, ``Layers.-1.N=10``).
Values are read as JSON, else as YAML scalars (``256``, ``1e-3``, ``true``, ``Sigmoid``,
``[1, 2]``). The new values remember the override that set them, so a value that fails
validation is reported against the ``--set`` argument.

A data source override that gives a source (``Data.ratings=PATH``, ``Data.ratings.Path=...``,
``Data.ratings={"Fetch": ...}``) replaces the entry's source and keeps its treatment
(Orientation, Binarize...); relative paths are resolved against the current directory
(`netcfg.config.data_sources`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from netcfg.config.data_sources import (
    PATH_KEYS,
    SOURCE_GIVERS,
    absolute_paths,
    gives_source,
    is_data_source,
    replace_source,
    start_new_source,
)
from netcfg.config.keys import applicable_models, canonicalize
from netcfg.config.limits import depth_message, digits_message, too_deep
from netcfg.config.navigate import Slot, slot_of
from netcfg.config.tree import LocDict, LocList
from netcfg.config.yaml_reader import YamlLimitError, YamlLoader
from netcfg.errors import Issue, Location
from netcfg.spec_base import close_match, did_you_mean, key_table

__all__ = ["apply_override", "apply_overrides", "located", "parse_value"]


def parse_value(text: str) -> Any:
    """Read an override's value: JSON first, then a YAML scalar or flow collection.

    Raises:
        ValueError: the value nests past `MAX_DEPTH`, its YAML aliases expand past
            their budget, or it holds an integer of too many digits (`netcfg.config.limits`).

    Example:
        >>> parse_value("1e-3"), parse_value("auto"), parse_value("[1, 2]")
        (0.001, 'auto', [1, 2])
    """
    text = text.strip()
    if not text:
        return ""
    if too_deep(text) is not None:
        raise ValueError(depth_message())
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return yaml.load(text, YamlLoader)
    except YamlLimitError as err:
        raise ValueError(err.message) from None
    except yaml.YAMLError:
        return text
    except ValueError:  # YAML read an integer of more digits than int() converts
        digits = max((len(run) for run in re.findall(r"\d+", text)), default=0)
        raise ValueError(digits_message(digits)) from None


def located(value: Any, loc: Location) -> Any:
    """``value`` as a located tree whose every part is at ``loc``."""
    if isinstance(value, dict):
        out = LocDict(loc=loc)
        for key, item in value.items():
            out.put(str(key), located(item, loc), loc)
        return out
    if isinstance(value, list):
        return LocList([located(item, loc) for item in value], [loc] * len(value), loc=loc)
    return value


_EXTENDS_SET = (
    "cannot be set with --set: the base config is merged as the file is read, before "
    "overrides apply; write Extends in the config file"
)


def apply_overrides(tree: LocDict, overrides: Sequence[str], root: Any) -> list[Issue]:
    """Apply ``KEY=VALUE`` overrides to a canonical tree in place.

    Args:
        tree: the canonical config tree, layer names filled in.
        overrides: the ``--set`` arguments.
        root: the root spec class (``ModelSpec``).

    Returns:
        The problems found (bad syntax, unknown keys, unknown layers).
    """
    issues: list[Issue] = []
    for text in overrides:
        where = Location(f"--set {text}")
        key, sep, raw = text.partition("=")
        segments = key.strip().split(".") if key.strip() else []
        if not sep or not segments or not all(segments):
            issues.append(
                Issue((), "expected KEY=VALUE with a dotted KEY, e.g. Layers.Hidden.N=256", where)
            )
            continue
        if segments[0].lower() == "extends":
            issues.append(Issue(("Extends",), _EXTENDS_SET, where))
            continue
        try:
            value = parse_value(raw)
        except ValueError as err:
            issues.append(Issue((), str(err), where))
            continue
        _apply(tree, segments, located(value, where), root, where, issues)
    return issues


def apply_override(
    tree: LocDict, segments: Sequence[str], value: Any, root: Any, where: Location
) -> tuple[tuple[str | int, ...] | None, list[Issue]]:
    """Set one value in a canonical tree in place, the path resolved as ``--set`` does.

    Args:
        tree: the canonical config tree, layer names filled in.
        segments: the dotted path, split (``["Layers", "Hidden", "N"]``).
        value: the located value (`located`).
        root: the root spec class (``ModelSpec``).
        where: where the override comes from.

    Returns:
        The JSON path set (canonical keys, list indexes), or None when the path cannot be
        resolved; and the problems found.
    """
    issues: list[Issue] = []
    return _apply(tree, list(segments), value, root, where, issues), issues


def _apply(
    tree: LocDict, segments: list[str], value: Any, root: Any, where: Location, issues: list[Issue]
) -> tuple[str | int, ...] | None:
    node: Any = tree
    annotation = root
    path: tuple[str | int, ...] = ()
    for position, segment in enumerate(segments):
        last = position == len(segments) - 1
        outer = annotation
        slot = slot_of(annotation)
        if slot.models and isinstance(node, LocDict):
            models = applicable_models(node, slot)
            table: dict[str, str] = {}
            for cls in models:
                table.update(key_table(cls))
            key = table.get(segment.lower())
            if key is None:
                names = list(dict.fromkeys(table.values()))
                hint = did_you_mean(segment, names)
                issues.append(
                    Issue(
                        (*path, segment),
                        f"unknown key '{segment}'{hint or '; expected one of ' + ', '.join(names)}",
                        where,
                    )
                )
                return None
            annotation = Slot(models=models).field(key)
        elif slot.values is not None and isinstance(node, LocDict):
            key, annotation = segment, slot.values
        elif slot.items is not None and isinstance(node, LocList):
            key = _list_index(node, segment, path, where, issues)
            if key is None:
                return None
            annotation = slot.items
        else:
            issues.append(
                Issue(path, f"'{segment}' cannot be set: this value is not an object", where)
            )
            return None
        path = (*path, key)
        if is_data_source(outer) and key in SOURCE_GIVERS and (last or key not in node):
            start_new_source(node, where)
        if last:
            new = canonicalize(value, annotation, path, issues)
            _put(node, key, _data_value(node, key, new, (outer, annotation), where), where)
            return path
        inner = slot_of(annotation)
        child = node[key] if _has(node, key) else None
        if isinstance(child, str) and inner.shorthand:
            child = located({inner.shorthand: child}, where)
            _put(node, key, child, where)
        elif child is None and (inner.models or inner.values is not None):
            child = LocDict(loc=where)
            _put(node, key, child, where)
        if not isinstance(child, LocDict | LocList):
            issues.append(
                Issue(
                    path,
                    f"'{segments[position + 1]}' cannot be set: this value is not an object",
                    where,
                )
            )
            return None
        node = child
    return None


def _data_value(node: Any, key: Any, value: Any, annotations: tuple, where: Location) -> Any:
    """A value set in ``Data``: paths made absolute, a new source replacing the old one."""
    outer, annotation = annotations
    if is_data_source(outer) and key in PATH_KEYS:
        return absolute_paths(value, Path.cwd())
    entries = slot_of(annotation).values
    if entries is not None and is_data_source(entries) and isinstance(value, LocDict):
        for name, entry in value.items():  # the whole Data section
            value.put(name, absolute_paths(entry, Path.cwd()), value.key_locs.get(name))
    if not is_data_source(annotation):
        return value
    value = absolute_paths(value, Path.cwd())
    if gives_source(value) and isinstance(node, LocDict):
        return replace_source(node.get(key), value, where)
    return value


def _has(node: Any, key: str | int) -> bool:
    return key in node if isinstance(node, LocDict) else True


def _put(node: Any, key: str | int, value: Any, where: Location) -> None:
    if isinstance(node, LocDict):
        node.put(key, value, where)
    else:
        node[key] = value
        node.item_locs[key] = where


def _list_index(
    node: LocList, segment: str, path: tuple, where: Location, issues: list[Issue]
) -> int | None:
    names = [item.get("Name") for item in node if isinstance(item, dict)]
    if segment.lstrip("-").isdigit():
        index = int(segment)
        if -len(node) <= index < len(node):
            return index % len(node)
        issues.append(Issue(path, f"index {index} is out of range ({len(node)} items)", where))
        return None
    matches = [i for i, name in enumerate(names) if name == segment] or [
        i
        for i, name in enumerate(names)
        if isinstance(name, str) and name.lower() == segment.lower()
    ]
    if len(matches) == 1:
        return matches[0]
    known = [n for n in names if isinstance(n, str)]
    match = close_match(segment, known)
    hint = f"; did you mean '{match}'?" if match else "; layers are " + ", ".join(known)
    issues.append(Issue(path, f"no layer named '{segment}'{hint}", where))
    return None
