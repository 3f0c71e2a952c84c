"""What a study prints and leaves behind: a line per trial, the table of the best trials,
``best.json`` (the best trial's complete config), and the best trial's test metrics,
computed once, after the search (``summary.json``)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

from netcfg.data.store import atomic_file
from netcfg.ensembles.rundir import evaluate_ensemble
from netcfg.errors import DataError
from netcfg.experiments.study_plan import StudyPlan
from netcfg.inference.evaluate import evaluate_model
from netcfg.inference.models import open_model
from netcfg.inference.user_zoo import register_model
from netcfg.trainers.rundir import RunDir

__all__ = ["finish_study", "progress_line"]

TABLE_ROWS = 5
"""How many of the best trials the final table lists."""


def _params(trial: FrozenTrial) -> str:
    return ", ".join(f"{path}={_short(value)}" for path, value in trial.params.items())


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else json.dumps(value)


def _best(study: optuna.Study) -> FrozenTrial | None:
    try:
        return study.best_trial
    except ValueError:  # no completed trial yet
        return None


def progress_line(study: optuna.Study, trial: FrozenTrial, plan: StudyPlan, trials: int) -> str:
    """One line for a trial that just ended: its outcome, the best so far, its parameters."""
    finished = len(
        study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    )
    head = f"trial {trial.number} ({finished}/{trials})"
    seconds = trial.user_attrs.get("seconds")
    took = f"  {seconds:.1f} s" if seconds is not None else ""
    if trial.state is TrialState.COMPLETE:
        epochs = trial.user_attrs.get("best_epoch")
        outcome = f"{plan.monitor} {trial.value:.5f}" + (f" (epoch {epochs})" if epochs else "")
    elif trial.state is TrialState.PRUNED:
        step = trial.last_step
        value = trial.intermediate_values.get(step, math.nan)
        outcome = f"pruned at epoch {step} ({plan.monitor} {value:.5f})"
    else:
        outcome = "failed: " + str(trial.user_attrs.get("error", "see the trial's run directory"))
    best = _best(study)
    so_far = f"  best {best.value:.5f} (trial {best.number})" if best is not None else ""
    return f"{head}: {outcome}{so_far}{took}  {_params(trial)}"


def finish_study(
    study: optuna.Study, plan: StudyPlan, *, save_as: str | None = None, echo=print
) -> optuna.Study:
    """Print the best trials, write ``best.json``, score the best trial on the test part
    (once per best trial: ``summary.json`` keeps it) and register it when asked."""
    best = _best(study)
    if best is None:
        raise DataError(
            f"no trial of study '{plan.name}' completed (see the failed trials' messages "
            f"above and their run directories in {plan.out / 'trials'})"
        )
    echo(_table(study, plan))
    run_dir = Path(best.user_attrs["run_dir"])
    config = _best_config(best, plan, run_dir)
    _write_json(plan.out / "best.json", config)
    summary = _read_summary(plan.out)
    if summary.get("best_trial") != best.number or "test" not in summary:
        summary = {
            "study": plan.name,
            "monitor": plan.monitor,
            "direction": plan.direction,
            "best_trial": best.number,
            "validation": {plan.monitor: best.value},
            "params": best.params,
            "run_dir": str(run_dir),
            "test": _test_metrics(run_dir, plan),
        }
    summary["trials"] = {
        state.name.lower(): len(study.get_trials(deepcopy=False, states=(state,)))
        for state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    }
    _write_json(plan.out / "summary.json", summary)
    scores = "  ".join(f"{k} {v:.4f}" for k, v in summary["test"].items()) or "no test part"
    echo(f"best trial {best.number}: validation {plan.monitor} {best.value:.5f}; test {scores}")
    echo(f"best config: {plan.out / 'best.json'} (netcfg train {plan.out / 'best.json'})")
    echo(f"best run: {run_dir}")
    if save_as is not None:
        path = register_model(run_dir, save_as)
        echo(f"registered zoo:{path.name} in {path}")
    return study


def _best_config(best: FrozenTrial, plan: StudyPlan, run_dir: Path) -> dict:
    """The complete config of the best trial, without the search space."""
    if plan.ensemble:
        config = json.loads(json.dumps(plan.base))
        for path, value in best.params.items():
            index = int(path.split(".")[1])
            config["Members"][index]["Weight"] = value
        _reweight(run_dir, config)
        return config
    config = RunDir(run_dir).read_json("config.json")
    config.pop("Search", None)
    return config


def _reweight(root: Path, config: dict) -> None:
    """Give the ensemble's run directory the tuned weights, so that it scores as best.json."""
    saved = RunDir(root).read_json("config.json")
    for member, tuned in zip(saved["Members"], config["Members"], strict=True):
        member["Weight"] = tuned["Weight"]
    RunDir(root).write_json("config.json", saved)


def _test_metrics(run_dir: Path, plan: StudyPlan) -> dict[str, float]:
    """The best trial's test metrics (none when the data has no test part)."""
    if plan.ensemble:
        try:
            return evaluate_ensemble(run_dir, ("test",)).get("test", {})
        except DataError:  # the members' data has no test part
            return {}
    results, _ = evaluate_model(open_model(run_dir), parts=("test",), required=False)
    return results.get("test", {})


def _table(study: optuna.Study, plan: StudyPlan) -> str:
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    reverse = plan.direction == "maximize"
    rows = sorted(done, key=lambda t: t.value, reverse=reverse)[:TABLE_ROWS]
    lines = [f"best trials by validation {plan.monitor}:", "  trial  value      epochs  parameters"]
    for trial in rows:
        epochs = trial.user_attrs.get("best_epoch") or ""
        lines.append(f"  {trial.number:>5}  {trial.value:<9.5f}  {epochs!s:>6}  {_params(trial)}")
    return "\n".join(lines)


def _read_summary(folder: Path) -> dict:
    try:
        return json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_json(path: Path, value: dict) -> None:
    with atomic_file(path) as temporary:
        temporary.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
