"""What a study tunes, and its directory: the plan every trial and worker process shares.

A study directory holds ``study.json`` (this plan, to refuse continuing a study with
another config), ``study.db`` (the Optuna storage, unless another storage URL is given),
``trials/NNNN/`` (each trial's run directory), ``best.json`` and ``summary.json``.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from netcfg.config import load_config
from netcfg.config.render import render_config
from netcfg.data.store import atomic_file
from netcfg.ensembles.load import ensemble_tree, load_ensemble
from netcfg.errors import ConfigError, Issue, UsageError, environment_fault, unusable_folder
from netcfg.trainers.bindings import bind_data
from netcfg.trainers.monitoring import monitored_metric
from netcfg.trainers.spec import HoldoutProtocol

__all__ = ["SAMPLERS", "StudyPlan", "default_study_dir", "make_plan", "write_plan"]

SAMPLERS = ("tpe", "random")
"""Optuna samplers a study can use: TPE (the default) or random search."""


@dataclass(frozen=True)
class StudyPlan:
    """A study's fixed settings (picklable, for worker processes).

    Attributes:
        base: the complete config every trial starts from (rendered, with ``--data`` and
            ``--set`` applied and data paths absolute); a trial adds its parameters as
            overrides.
        search: parameter path (canonical, as ``--set`` takes it) -> search parameter.
        ensemble: the config is an ensemble (trials re-weight its trained members).
        config, overrides, data, space: what the user gave (to train an ensemble's members).
        monitor: the validation metric tuned; ``direction`` "minimize" or "maximize".
        out: the study directory; ``storage``: the Optuna storage URL; ``name``: the study.
        sampler: "tpe" or "random"; ``pruning``: stop hopeless trials; ``seed``: the
            sampler's seed (worker ``k`` uses ``seed + k``).
    """

    base: dict
    search: dict
    ensemble: bool
    config: str
    overrides: tuple[str, ...]
    data: tuple[str, ...]
    space: str | None
    monitor: str
    direction: str
    out: Path
    storage: str
    name: str
    sampler: str = "tpe"
    pruning: bool = True
    seed: int = 0

    def rendered_search(self) -> dict[str, dict]:
        """The search space as a config's ``Search`` section."""
        return {path: p.model_dump(mode="json") for path, p in self.search.items()}

    def identity(self) -> dict[str, Any]:
        """What must not change when a study is continued."""
        return {
            "base": self.base,
            "search": self.rendered_search(),
            "monitor": self.monitor,
            "direction": self.direction,
        }

    def trial_dir(self, number: int) -> Path:
        """The run directory of trial ``number``."""
        return self.out / "trials" / f"{number:04d}"


def make_plan(
    config: str | Path | Mapping,
    overrides: Sequence[str] = (),
    *,
    data: Sequence[str] = (),
    space: str | Path | None = None,
    out: str | Path | None = None,
    storage: str | None = None,
    name: str | None = None,
    sampler: str = "tpe",
    pruning: bool = True,
    seed: int = 0,
) -> StudyPlan:
    """Load and check the config and its search space, and choose the study's metric.

    A network config that keeps no validation (``Training.Validation: None``: its final
    model trains on all of its training data for a fixed number of epochs, as a refit) is
    searched on netcfg's default hold-out instead, so that its trials can be compared.

    Raises:
        ConfigError: a bad config or search space, no search space, or data without a
            validation part (a study never looks at the test part).
    """
    if sampler not in SAMPLERS:
        raise ConfigError([Issue((), f"unknown sampler '{sampler}'; use one of {SAMPLERS}")])
    space = str(Path(space).resolve()) if space is not None else None
    found = ensemble_tree(config)
    if found is not None:
        spec = load_ensemble(*found, overrides, space=space).spec
        base = spec.model_dump(mode="json")
        monitor, direction = spec.Evaluation.Metrics[0], "minimize"
    else:
        spec = load_config(config, overrides, data=data, space=space)
        if spec.Training.Validation.Protocol is HoldoutProtocol.none:
            overrides = (*overrides, "Training.Validation=PerUser")
            spec = load_config(config, overrides, data=data, space=space)
        base = render_config(spec)
        monitor, direction = _monitor(spec)
    if not spec.Search:
        raise ConfigError(
            [
                Issue(
                    ("Search",),
                    "nothing to tune: the config has no Search section; add one (see "
                    "netcfg tune --help) or give a search space file with --space",
                )
            ]
        )
    base.pop("Search", None)
    label = name or re.sub(r"[^A-Za-z0-9._-]+", "-", spec.Name or "study").strip("-") or "study"
    folder = Path(out) if out is not None else default_study_dir(label)
    folder = folder.resolve()
    return StudyPlan(
        base=base,
        search=dict(spec.Search),
        ensemble=found is not None,
        config=str(config) if not isinstance(config, Mapping) else "<config>",
        overrides=tuple(overrides),
        data=tuple(data),
        space=space,
        monitor=monitor,
        direction=direction,
        out=folder,
        storage=storage or f"sqlite:///{folder / 'study.db'}",
        name=label,
        sampler=sampler,
        pruning=pruning,
        seed=seed,
    )


def _monitor(spec) -> tuple[str, str]:
    run_data = bind_data(spec, spec.input_datasets(), spec.target_datasets())
    monitor = monitored_metric(spec, run_data)
    if monitor is None:
        raise ConfigError(
            [
                Issue(
                    ("Training", "Validation"),
                    "a study chooses on a validation part and never on the test part, and "
                    "this data has none: give it one (a Protocol with a validation fraction, "
                    "or a Validation file), or keep netcfg's default hold-out "
                    "(Training.Validation)",
                )
            ]
        )
    return monitor.name, "maximize" if monitor.higher_is_better else "minimize"


def default_study_dir(name: str) -> Path:
    """The study directory of a study named ``name`` when no ``--out`` is given."""
    return Path("studies") / name


def write_plan(plan: StudyPlan) -> None:
    """Create the study directory with ``study.json``, or check that an existing study
    tunes the same thing.

    Raises:
        ConfigError: the directory holds a study of another config or search space.
        UsageError: the directory cannot be created (a file is in the way).
    """
    try:
        plan.out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        if environment_fault(err) is not None:
            raise
        problem = f"cannot create the study directory: {unusable_folder(err)}"
        raise UsageError(f"--out {plan.out}: {problem}") from None
    path = plan.out / "study.json"
    if path.is_file():
        saved = json.loads(path.read_text(encoding="utf-8"))
        if {k: saved.get(k) for k in plan.identity()} != plan.identity():
            raise ConfigError(
                [
                    Issue(
                        (),
                        f"{plan.out} holds a study of another config or search space; "
                        "continue it with the command that started it, or choose another --out",
                    )
                ]
            )
        return
    record = {**asdict(plan), **plan.identity(), "out": str(plan.out)}
    record["created"] = datetime.datetime.now().isoformat(timespec="seconds")
    with atomic_file(path) as temporary:
        temporary.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
