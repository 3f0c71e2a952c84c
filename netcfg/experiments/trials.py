"""The objective of a study's trials: a network trained with sampled parameters, or an
ensemble's members re-weighted on their validation predictions."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import optuna

from netcfg.ensembles.rundir import (
    ensemble_spec,
    member_predictions,
    member_status,
    rating_metrics,
)
from netcfg.errors import ConfigError
from netcfg.experiments.ensemble import train_ensemble
from netcfg.experiments.study_plan import StudyPlan
from netcfg.trainers.loop import TrainingDiverged
from netcfg.trainers.train import train as train_network

__all__ = ["ensemble_objective", "network_objective"]


def network_objective(plan: StudyPlan) -> Callable[[optuna.Trial], float]:
    """Each trial trains the base config with its sampled parameters into its own run
    directory (validation metrics only), reporting the monitored metric every epoch so that
    the pruner can stop it."""

    def objective(trial: optuna.Trial) -> float:
        values = {path: p.suggest(trial, path) for path, p in plan.search.items()}
        folder = plan.trial_dir(trial.number)
        trial.set_user_attr("run_dir", str(folder))
        started = time.perf_counter()

        def on_epoch(epoch: int, record: dict) -> str | None:
            value = record.get("validation", {}).get(plan.monitor)
            if value is None:
                return None
            trial.report(value, epoch)
            trial.set_user_attr("epochs", epoch)
            if plan.pruning and trial.should_prune():
                return (
                    f"pruned by the study: {plan.monitor} {value:.4f} is worse than the "
                    "median of earlier trials at this epoch"
                )
            return None

        overrides = [f"{path}={json.dumps(value)}" for path, value in values.items()]
        try:
            result = train_network(
                {**plan.base, "Search": plan.rendered_search()},
                overrides,
                out=folder,
                on_epoch=on_epoch,
                parts=("validation",),
                quiet=True,
            )
        except (TrainingDiverged, ConfigError) as err:  # the study goes on without this trial
            trial.set_user_attr("error", str(err))
            raise
        finally:
            trial.set_user_attr("seconds", round(time.perf_counter() - started, 2))
        trial.set_user_attr("best_epoch", result.best_epoch)
        if result.stopped:
            raise optuna.TrialPruned(result.stopped)
        return result.validation[plan.monitor]

    return objective


def ensemble_objective(plan: StudyPlan, *, quiet: bool = False) -> Callable[[optuna.Trial], float]:
    """Train the ensemble's members once (``ensemble/`` of the study directory, validation
    metrics only; ``quiet``: without their epoch lines); each trial then scores a choice of
    member weights on the members' validation predictions, without retraining."""
    root = plan.out / "ensemble"
    if member_status(root) != "completed":
        train_ensemble(
            plan.config,
            plan.overrides,
            data=plan.data,
            out=root,
            resume=(root / "run.json").is_file(),
            parts=("validation",),
            space=plan.space,
            quiet=quiet,
        )
    spec = ensemble_spec(root)
    validation = member_predictions(root, ("validation",)).get("validation")
    if validation is None:
        raise optuna.exceptions.OptunaError(f"{root}: the members' data has no validation part")

    def objective(trial: optuna.Trial) -> float:
        weights = [
            plan.search[path].suggest(trial, path) if path in plan.search else member.Weight
            for path, member in (
                (f"Members.{index}.Weight", member) for index, member in enumerate(spec.Members)
            )
        ]
        total = sum(weights)
        trial.set_user_attr("run_dir", str(root))
        combined = validation.combined([w / total for w in weights])
        return rating_metrics(combined, validation.actual, [plan.monitor])[plan.monitor]

    return objective
