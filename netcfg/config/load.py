"""Load a config: file -> located tree -> canonical keys -> Extends -> --set -> ModelSpec.

Every stage collects its problems; validation runs even when keys were wrong, so a user
sees every problem of a file at once. Cross-field checks run on the validated spec; then
every value the ``Search`` section may try is checked the same way (`netcfg.config.search`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from netcfg.config.data_sources import absolute_data_paths, data_overrides
from netcfg.config.extends import merge_configs
from netcfg.config.issues import validation_issues
from netcfg.config.keys import canonicalize
from netcfg.config.limits import (
    MAX_LAYERS,
    collector_paused,
    depth_message,
    layers_message,
    nests_deeper,
)
from netcfg.config.overrides import apply_overrides, located
from netcfg.config.reader import read_config_file, resolve_config_path
from netcfg.config.search import check_search, pop_search, replace_search
from netcfg.config.tree import LocDict, LocList, locate, to_plain
from netcfg.errors import ConfigError, Issue, Location
from netcfg.networks.checks import check_model
from netcfg.networks.spec import ModelSpec, default_kind, default_name
from netcfg.zoo import is_zoo_name, zoo_entry

__all__ = ["load_config", "load_tree", "validate_config", "validate_tree"]


def load_config(
    path: str | Path,
    overrides: Sequence[str] = (),
    *,
    data: Sequence[str] = (),
    space: str | Path | None = None,
) -> ModelSpec:
    """Load, validate and check a JSON or YAML config file.

    Args:
        path: a config file, or a folder holding ``model.json``/``model.yaml``.
        overrides: ``KEY=VALUE`` strings, as given to ``--set``.
        data: ``PATH`` (every DataSet) or ``NAME=PATH`` strings, as given to ``netcfg train
            --data``: each replaces the source of its DataSets (keeping Orientation and the
            other treatment keys), before the ``overrides`` apply.
        space: a search space file (JSON or YAML: the mapping of paths, or one ``Search``
            key) that replaces the config's ``Search``.

    Returns:
        The frozen, fully resolved spec.

    Raises:
        ConfigError: every problem found, each with its JSON path and file line; a file
            past the limits of `netcfg.config.limits` (size, nesting, YAML aliases,
            layers) stops with that problem alone.

    Example:
        >>> spec = load_config("zoo/quickstart", overrides=["Layers.Hidden1.N=64"])
    """
    issues: list[Issue] = []
    with collector_paused():
        tree = load_tree(path, issues)
        if space is not None:
            replace_search(tree, space, issues)
        return validate_tree(tree, [*data_overrides(_datasets(tree), data), *overrides], issues)


def validate_config(
    data: Mapping[str, Any],
    overrides: Sequence[str] = (),
    source: str = "<config>",
    *,
    bind: Sequence[str] = (),
) -> ModelSpec:
    """Validate a config given as a Python mapping (keys in any case, DSSTNE aliases).

    ``Extends`` and relative data paths are resolved against the current directory;
    ``bind`` holds ``--data`` strings, as `load_config`'s ``data``.

    Raises:
        ConfigError: the config is invalid (also when it nests past `MAX_DEPTH` levels).
    """
    if nests_deeper(data):
        raise ConfigError([Issue((), depth_message(), Location(source))])
    issues: list[Issue] = []
    with collector_paused():
        tree = _complete(located(dict(data), Location(source)), Path.cwd() / source, (), issues)
        return validate_tree(tree, [*data_overrides(_datasets(tree), bind), *overrides], issues)


def load_tree(path: str | Path, issues: list[Issue], chain: tuple[Path, ...] = ()) -> LocDict:
    """Read a config file into a canonical, located tree with ``Extends`` applied.

    Problems that do not stop reading (unknown keys, a broken ``Extends``) are appended to
    ``issues``, so that validation can report them together with its own.

    Raises:
        ConfigError: the file (or a file it extends) cannot be read or parsed.
    """
    file = resolve_config_path(path)
    return _complete(read_config_file(file), file, chain, issues)


def _complete(tree: LocDict, file: Path, chain: tuple[Path, ...], issues: list[Issue]) -> LocDict:
    _check_layer_count(tree, next((k for k in tree if k.lower() == "layers"), "Layers"), issues)
    tree = canonicalize(tree, ModelSpec, (), issues)
    absolute_data_paths(tree, file.parent)
    if "Extends" in tree:
        tree = _extend(tree, file, chain, issues)
    _fill_names(tree)
    return tree


def validate_tree(
    tree: LocDict, overrides: Sequence[str] = (), issues: Sequence[Issue] = ()
) -> ModelSpec:
    """Apply overrides to a canonical tree, validate it, run the cross-field checks and
    check its ``Search`` section against it (`netcfg.config.search`).

    Args:
        tree: a canonical tree from `load_tree`.
        overrides: ``KEY=VALUE`` strings.
        issues: problems found while loading, reported together with validation's.
    """
    if any(issue.path == ("Extends",) for issue in issues):
        raise ConfigError(issues)  # without its base, the config is incomplete
    issues = [*issues, *apply_overrides(tree, overrides, ModelSpec)]
    _check_layer_count(tree, "Layers", issues)
    _fill_names(tree)
    search = pop_search(tree)
    try:
        spec = ModelSpec.model_validate(to_plain(tree))
    except ValidationError as err:
        issues += validation_issues(err, ModelSpec, tree)
        spec = None
    if spec is not None and not issues:
        issues = [Issue(i.path, i.message, locate(tree, i.path)) for i in check_model(spec)]
    checker = _model_problems if spec is not None and not issues else None
    space, problems = check_search(search, tree, ModelSpec, checker)
    issues += problems
    if issues or spec is None:
        raise ConfigError(issues)
    return spec.model_copy(update={"Search": space}) if space else spec


def _check_layer_count(tree: LocDict, key: str, issues: Sequence[Issue]) -> None:
    """Stop at once (with the problems found so far) when ``tree[key]`` holds more than
    `MAX_LAYERS` layers: nothing more is worth the time it would take."""
    layers = tree.get(key)
    if isinstance(layers, list) and len(layers) > MAX_LAYERS:
        where = tree.key_locs.get(key, tree.loc)
        raise ConfigError([*issues, Issue(("Layers",), layers_message(len(layers)), where)])


def _model_problems(tree: LocDict) -> list[Issue]:
    """Every problem of a canonical tree: validation's, then the cross-field checks'."""
    try:
        spec = ModelSpec.model_validate(to_plain(tree))
    except ValidationError as err:
        return validation_issues(err, ModelSpec, tree)
    return check_model(spec)


def _extend(tree: LocDict, file: Path, chain: tuple[Path, ...], issues: list[Issue]) -> LocDict:
    reference = tree.pop("Extends")
    where = tree.key_locs.get("Extends", tree.loc)
    if not isinstance(reference, str):
        issues.append(Issue(("Extends",), "must be a file path or 'zoo:NAME'", where))
        return tree
    try:
        base_file = resolve_config_path(
            zoo_entry(reference) if is_zoo_name(reference) else file.parent / reference
        )
    except (KeyError, ConfigError) as err:
        reason = err.args[0] if isinstance(err, KeyError) else err.issues[0].message
        issues.append(Issue(("Extends",), f"cannot extend '{reference}': {reason}", where))
        return tree
    here = file.resolve()
    if base_file.resolve() in (*chain, here):
        names = " -> ".join(p.name for p in (*chain, here, base_file.resolve()))
        issues.append(Issue(("Extends",), f"Extends forms a cycle: {names}", where))
        return tree
    try:
        base = load_tree(base_file, issues, (*chain, here))
    except ConfigError as err:
        issues.extend(err.issues)
        return tree
    return merge_configs(base, tree, ModelSpec)


def _datasets(tree: LocDict) -> list[str]:
    """The DataSet names the tree's layers use, in order."""
    layers = tree.get("Layers")
    names = [
        layer.get("DataSet")
        for layer in (layers if isinstance(layers, LocList) else ())
        if isinstance(layer, LocDict)
    ]
    return list(dict.fromkeys(n for n in names if isinstance(n, str)))


def _fill_names(tree: LocDict) -> None:
    layers = tree.get("Layers")
    if isinstance(layers, LocDict):
        layers = LocList([layers], [tree.key_locs.get("Layers")], loc=layers.loc)
        tree.put("Layers", layers, tree.key_locs.get("Layers"))
    if not isinstance(layers, LocList):
        return
    for index, layer in enumerate(layers):
        if not isinstance(layer, LocDict):
            continue
        if "Kind" not in layer:
            layer.put("Kind", default_kind(index, len(layers)), None)
        if "Name" not in layer and default_name(layer["Kind"], index):
            layer.put("Name", default_name(layer["Kind"], index), None)
