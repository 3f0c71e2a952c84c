"""The ``Search`` section checked against the config it searches, before any trial runs.

Each key is a ``--set`` path; each of its values a study may try (Low and High of a range,
every choice) is set into a copy of the config by the ``--set`` code itself and validated
with the cross-field checks, so a range outside a field's bounds, a choice of the wrong
type or a value that breaks another key is reported at the Search key's line (up to
`CHECKED_LAYERS` layers' worth of values; a trial checks its own values anyway). Keys come
out canonical (``layers.1.n`` -> ``Layers.Hidden.N``), ready to name Optuna parameters and
to be given back as ``--set PATH=VALUE``. An ensemble searches its member weights only.

A ``--space`` file holds a search space apart: the mapping of paths, or ``{Search: ...}``;
it replaces the config's own ``Search`` (`replace_search`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from netcfg.config.issues import validation_issues
from netcfg.config.keys import canonicalize
from netcfg.config.overrides import apply_override, located
from netcfg.config.reader import read_config_file
from netcfg.config.tree import LocDict, LocList, to_plain
from netcfg.data.spec import DATA_KEY_GROUPS
from netcfg.ensembles.spec import EnsembleSpec
from netcfg.errors import ConfigError, Issue, Location
from netcfg.experiments.spec import SearchParameter
from netcfg.spec_base import SpecBase, close_match, shown, spec_field

__all__ = ["check_search", "pop_search", "replace_search"]

Checker = Callable[[LocDict], list[Issue]]
"""Validates a whole config tree; returns its problems (paths, messages)."""

CHECKED_LAYERS = 100_000
"""Each value checked validates the whole network once: values beyond this many layers'
worth (in Search order) are left for the trials that use them, so that a large network
with many choices validates in seconds, not hours."""

MIN_CHECKED = 20
"""Values always checked, however large the network."""

_ENSEMBLE_ONLY = (
    "an ensemble's search covers member weights (Members.<index or name>.Weight); a "
    "member's network is tuned from its own config"
)
_SOURCE = (
    "the data source cannot be searched; search how the data is used instead "
    "(Orientation, Binarize, ...)"
)


class _Section(SpecBase):
    """The Search section alone, to validate its entries apart from the config."""

    Search: dict[str, SearchParameter] = spec_field({}, description="The search space.")


def pop_search(tree: LocDict) -> LocDict:
    """Remove a canonical tree's ``Search`` and return it as ``{"Search": ...}`` (located;
    empty when there is none), for `check_search` once the rest is validated."""
    section = LocDict(loc=tree.loc)
    if "Search" in tree:
        section.put("Search", tree.pop("Search"), tree.key_locs.pop("Search", None))
    return section


def replace_search(tree: LocDict, space: str | Path, issues: list[Issue]) -> None:
    """Put the search space of a ``--space`` file in place of a canonical tree's Search.

    The file (JSON or YAML) holds the mapping of paths, or a mapping whose only key is
    ``Search``; its problems are appended to ``issues``, located in the file.
    """
    try:
        root = read_config_file(space)
    except ConfigError as err:
        issues.extend(err.issues)
        root = LocDict()
    found = [key for key in root if key.lower() == "search"]
    search: Any = root
    if found and len(root) > 1:
        where = root.key_locs.get(found[0], root.loc)
        issues.append(Issue((), "a space file holds a Search key alone, or only paths", where))
        search = LocDict(loc=root.loc)
    elif found:
        search = root[found[0]]
    search = canonicalize(search, dict[str, SearchParameter], ("Search",), issues)
    tree.put("Search", search, getattr(search, "loc", None) or root.loc)


def check_search(
    section: LocDict, tree: LocDict, root: type[SpecBase], checker: Checker | None
) -> tuple[dict[str, Any], list[Issue]]:
    """Validate a Search section (from `pop_search`) against the config it searches.

    Args:
        section: ``{"Search": ...}``, located.
        tree: the canonical config without its Search, layer names filled in.
        root: the spec class of ``tree`` (``ModelSpec`` or ``EnsembleSpec``).
        checker: validates a tree with one value set; None when ``tree`` itself is
            invalid: the values are then not checked, only the entries and their paths.

    Returns:
        The parameters by canonical path, and every problem found, each at its Search
        key (path ``("Search", KEY)``) with the offending value named.
    """
    search = section.get("Search")
    if not search:
        return {}, []
    if not isinstance(search, LocDict):
        return {}, _section_issues(section)
    issues: list[Issue] = []
    space: dict[str, Any] = {}
    written: dict[str, str] = {}
    layers = tree.get("Layers")
    budget = max(
        MIN_CHECKED, CHECKED_LAYERS // max(len(layers) if isinstance(layers, list) else 1, 1)
    )
    for key in search:
        where = search.key_locs.get(key) or search.loc or Location("Search")
        param = _parse(section, key, issues)
        found = _resolve(tree, key, root, param, where)
        if isinstance(found, str):
            issues.append(Issue(("Search", key), found, where))
            continue
        segments, canonical = found
        if canonical in written:
            message = f"'{key}' and '{written[canonical]}' are the same parameter ({canonical})"
            issues.append(Issue(("Search", key), f"{message}; give it once", where))
            continue
        written[canonical] = key
        if param is None:
            continue
        space[canonical] = param
        if checker is not None and budget > 0:
            values = param.check_values()[:budget]
            budget -= len(values)
            problems = _value_problems(tree, segments, values, root, checker, where)
            issues += [Issue(("Search", key), m, where) for m in dict.fromkeys(problems)]
    return space, issues


def _section_issues(section: LocDict) -> list[Issue]:
    """The problems of a Search section that is not a mapping."""
    try:
        _Section.model_validate(to_plain(section))
    except ValidationError as err:
        return validation_issues(err, _Section, section)
    return []


def _parse(section: LocDict, key: str, issues: list[Issue]) -> Any:
    """The parameter of one key, validated (None, its problems in ``issues``, if bad)."""
    entry = {"Search": {key: to_plain(section["Search"][key])}}
    try:
        return _Section.model_validate(entry).Search[key]
    except ValidationError as err:
        issues += validation_issues(err, _Section, section)
        return None


def _resolve(
    tree: LocDict, key: str, root: type[SpecBase], param: Any, where: Location
) -> tuple[list[str], str] | str:
    """The key's path segments as ``--set`` resolves them and its canonical spelling, or
    why it cannot be searched."""
    segments = key.split(".")
    if not all(s.strip() for s in segments):
        return "expected a dotted path as --set takes it, e.g. Layers.Hidden.N"
    if root is EnsembleSpec:
        return _member_weight(tree, segments)
    value = param.check_values()[0][1] if param is not None else None
    path, problems = apply_override(
        copy.deepcopy(tree), segments, located(value, where), root, where
    )
    if path is None:
        return problems[0].message
    if path[0] == "Data" and (len(path) < 3 or path[2] in DATA_KEY_GROUPS["source"]):
        return _SOURCE
    if path[0] in ("Search", "Extends"):
        return f"'{path[0]}' cannot be searched"
    return [str(part) for part in path], _dotted(tree, path)


def _member_weight(tree: LocDict, segments: list[str]) -> tuple[list[str], str] | str:
    """``Members.<index or name>.Weight`` resolved to ``Members.<index>.Weight``."""
    if len(segments) != 3 or [segments[0].lower(), segments[2].lower()] != ["members", "weight"]:
        return _ENSEMBLE_ONLY
    members = tree.get("Members")
    members = members if isinstance(members, LocList) else LocList()
    names = [m.get("Name") if isinstance(m, dict) else None for m in members]
    wanted = segments[1]
    if wanted.lstrip("-").isdigit():
        index = int(wanted)
        if not -len(members) <= index < len(members):
            return f"member index {index} is out of range ({len(members)} members)"
        index %= len(members)
    else:
        matches = [
            i for i, n in enumerate(names) if isinstance(n, str) and n.lower() == wanted.lower()
        ]
        if len(matches) != 1:
            known = [n for n in names if isinstance(n, str)]
            match = close_match(wanted, known)
            hint = f"did you mean '{match}'?" if match else "members are " + ", ".join(known)
            return f"no member named '{wanted}'; {hint}"
        index = matches[0]
    return ["Members", str(index), "Weight"], f"Members.{index}.Weight"


def _dotted(tree: LocDict, path: Sequence[str | int]) -> str:
    """A JSON path as a ``--set`` path: a layer by its name, other items by index."""
    parts = [str(part) for part in path]
    layers = tree.get("Layers")
    if len(path) > 1 and path[0] == "Layers" and isinstance(layers, LocList):
        layer = layers[path[1]] if isinstance(path[1], int) else None
        if isinstance(layer, dict) and isinstance(layer.get("Name"), str):
            parts[1] = layer["Name"]
    return ".".join(parts)


def _value_problems(
    tree: LocDict,
    segments: list[str],
    values: Sequence[tuple[str, Any]],
    root: type[SpecBase],
    checker: Checker,
    where: Location,
) -> list[str]:
    """What goes wrong with each value (labelled) the parameter may take, one message each."""
    messages = []
    for label, value in values:
        trial = copy.deepcopy(tree)
        path, _ = apply_override(trial, segments, located(value, where), root, where)
        problems = checker(trial)
        direct = [issue for issue in problems if tuple(issue.path[: len(path)]) == path]
        head = f"{label} {shown(value)}"
        messages += [f"{head} is not a valid value: {issue.message}" for issue in direct]
        for issue in problems:
            if issue in direct or (direct and path[: len(issue.path)] == tuple(issue.path)):
                continue  # the value's own problem, or its echo on an enclosing object
            place = _dotted(tree, issue.path) or "the config"
            messages.append(f"{head} makes the config invalid: {place}: {issue.message}")
    return messages
