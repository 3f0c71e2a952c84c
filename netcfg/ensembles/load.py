"""Load an ensemble file: its own keys validated, then every member's config loaded.

``--set`` overrides given to an ensemble go to the ensemble when their first key is one of
its own (``Name``, ``Members``, ``Evaluation``) and to every member otherwise, so that
``--set Data.ratings.Fold=u2`` or ``--set Training.Epochs=1`` changes all members at once.
A member's own ``Set`` list applies before those shared overrides. Member ``Network``
paths are made absolute (relative to the ensemble file, or to the current directory for a
``--set``), so the spec names them wherever it is used from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from netcfg.config.issues import validation_issues
from netcfg.config.keys import canonicalize
from netcfg.config.load import load_config
from netcfg.config.overrides import apply_overrides, located
from netcfg.config.reader import read_config_file, resolve_config_path
from netcfg.config.search import check_search, pop_search, replace_search
from netcfg.config.tree import LocDict, LocList, to_plain
from netcfg.ensembles.spec import EnsembleSpec
from netcfg.errors import ConfigError, Issue, Location
from netcfg.networks.spec import ModelSpec
from netcfg.zoo import is_zoo_name, zoo_entry

__all__ = ["LoadedEnsemble", "Member", "ensemble_tree", "load_ensemble"]

_OWN_KEYS = {"name", "kind", "members", "evaluation", "search"}


@dataclass(frozen=True)
class Member:
    """A member ready to train: its config file and every override it takes."""

    name: str
    config: Path
    overrides: tuple[str, ...]
    weight: float
    spec: ModelSpec


@dataclass(frozen=True)
class LoadedEnsemble:
    """A validated ensemble and its loaded members."""

    spec: EnsembleSpec
    members: tuple[Member, ...]


def ensemble_tree(config: str | Path | Mapping) -> tuple[LocDict, Path] | None:
    """The config's tree, and the folder its member paths are relative to, when it
    describes an ensemble (``Kind: Ensemble``); None for any other config, and for one that
    cannot be found or parsed (loading it as a network then reports the problem)."""
    if isinstance(config, Mapping):
        tree = located(dict(config), Location("<config>"))
        base = Path.cwd()
    else:
        text = str(config)
        try:
            file = resolve_config_path(zoo_entry(text) if is_zoo_name(text) else text)
            tree = read_config_file(file)
        except (KeyError, ConfigError):
            return None  # not readable: the network loader reports why, as it always has
        base = file.parent.absolute()
    if not isinstance(tree, LocDict):
        return None
    kind = next((v for k, v in tree.items() if k.lower() == "kind"), None)
    if not isinstance(kind, str) or kind.lower() != "ensemble":
        return None
    return tree, base


def load_ensemble(
    tree: LocDict,
    base: Path,
    overrides: Sequence[str] = (),
    *,
    space: str | Path | None = None,
) -> LoadedEnsemble:
    """Validate an ensemble tree (from `ensemble_tree`) and load each member's config
    (member paths relative to ``base``). ``space``: a search space file replacing the
    ensemble's ``Search`` (member weights only, as `netcfg.config.load.load_config` takes).

    Raises:
        ConfigError: every problem of the ensemble and of its members; a member's problems
            carry its path (``Members[i].Network...``) and the line of its own file.
    """
    issues: list[Issue] = []
    tree = canonicalize(tree, EnsembleSpec, (), issues)
    for key in [k for k in tree if k.lower() == "kind"]:
        tree[key] = "Ensemble"
    own = [o for o in overrides if o.partition("=")[0].split(".")[0].strip().lower() in _OWN_KEYS]
    shared = tuple(o for o in overrides if o not in own)
    _absolute_networks(tree, base)
    if space is not None:
        replace_search(tree, space, issues)
    issues += apply_overrides(tree, own, EnsembleSpec)
    _absolute_networks(tree, Path.cwd())  # those a --set gave
    search = pop_search(tree)
    spec = _validated(tree, issues)
    checker = _ensemble_problems if spec is not None and not issues else None
    weights, problems = check_search(search, tree, EnsembleSpec, checker)
    issues += problems
    if spec is None or issues:
        _check_raw_members(to_plain(tree), shared, base, issues)  # report theirs too
        raise ConfigError(issues)
    members = []
    for index, (member, weight) in enumerate(zip(spec.Members, spec.weights(), strict=True)):
        loaded = _load_member(member.Network, (*member.Set, *shared), base, index, issues)
        if loaded is not None:
            path, member_spec = loaded
            members.append(Member(member.Name, path, (*member.Set, *shared), weight, member_spec))
    if issues:
        raise ConfigError(issues)
    _check_same_target(members, issues)
    if issues:
        raise ConfigError(issues)
    return LoadedEnsemble(spec.model_copy(update={"Search": weights}), tuple(members))


def _validated(tree: LocDict, issues: list[Issue]) -> EnsembleSpec | None:
    """The ensemble spec of a canonical tree; None, its problems in ``issues``, if invalid."""
    try:
        return EnsembleSpec.model_validate(to_plain(tree))
    except ValidationError as err:
        issues += validation_issues(err, EnsembleSpec, tree)
        return None


def _ensemble_problems(tree: LocDict) -> list[Issue]:
    """The problems of an ensemble tree's own keys (its members' configs not loaded)."""
    problems: list[Issue] = []
    _validated(tree, problems)
    return problems


def _absolute_networks(tree: LocDict, base: Path) -> None:
    """Make the relative member ``Network`` paths of a canonical tree absolute."""
    members = tree.get("Members")
    for member in members if isinstance(members, LocList) else ():
        network = member.get("Network") if isinstance(member, LocDict) else None
        if isinstance(network, str) and network and not is_zoo_name(network):
            path = Path(network).expanduser()
            absolute = path if path.is_absolute() else base.absolute() / path
            member.put("Network", str(absolute), member.key_locs.get("Network"))


def _load_member(
    reference: str, overrides: Sequence[str], base: Path, index: int, issues: list[Issue]
) -> tuple[Path, ModelSpec] | None:
    path: tuple[Any, ...] = ("Members", index, "Network")
    try:
        file = resolve_config_path(
            zoo_entry(reference) if is_zoo_name(reference) else base / reference
        )
        if ensemble_tree(file) is not None:
            issues.append(Issue(path, f"'{reference}' is an ensemble; members are networks"))
            return None
        return file, load_config(file, overrides)
    except KeyError as err:
        issues.append(Issue(path, f"cannot load '{reference}': {err.args[0]}"))
    except ConfigError as err:
        for issue in err.issues:
            issues.append(Issue((*path, *issue.path), issue.message, issue.location))
    return None


def _check_raw_members(
    plain: Mapping[str, Any], shared: Sequence[str], base: Path, issues: list[Issue]
) -> None:
    """Load the members of an ensemble that failed validation, where they can be read."""
    members = plain.get("Members")
    for index, member in enumerate(members if isinstance(members, list) else []):
        config = member.get("Network") if isinstance(member, Mapping) else None
        own = member.get("Set", []) if isinstance(member, Mapping) else []
        if (
            isinstance(config, str)
            and isinstance(own, list)
            and all(isinstance(o, str) for o in own)
        ):
            _load_member(config, (*own, *shared), base, index, issues)


def _check_same_target(members: Sequence[Member], issues: list[Issue]) -> None:
    """Every member must predict one target DataSet, the same data in any orientation."""
    seen = None
    for index, member in enumerate(members):
        targets = member.spec.target_datasets()
        where = ("Members", index, "Network")
        if len(targets) != 1:
            issues.append(Issue(where, f"an ensemble member predicts one DataSet, not {targets}"))
            continue
        source = member.spec.Data.get(targets[0])
        data = None if source is None else source.model_dump(exclude={"Orientation"})
        if seen is None:
            seen = (member.name, targets[0], data)
        elif (targets[0], data) != seen[1:]:
            issues.append(
                Issue(
                    where,
                    f"member '{member.name}' predicts DataSet '{targets[0]}' from other data "
                    f"than member '{seen[0]}' ('{seen[1]}'); members must predict the same "
                    "ratings (only Orientation may differ)",
                )
            )
