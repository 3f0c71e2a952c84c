"""Ensemble run directories: their layout, and the score of their averaged ratings.

An ensemble run directory holds ``config.json`` (the ensemble), ``run.json`` (status and
metrics, of the ensemble and of each member) and ``members/<name>/``: each member's own,
complete run directory, which every command that takes a run directory accepts. The
ensemble is scored again from those folders alone (`evaluate_ensemble`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from netcfg.ensembles.spec import EnsembleSpec
from netcfg.errors import DataError, ModelError, NetcfgError
from netcfg.trainers.bindings import bind_data
from netcfg.trainers.evaluation import Evaluator
from netcfg.trainers.rundir import RunDir, load_model

__all__ = [
    "MEMBERS",
    "PartPredictions",
    "ensemble_spec",
    "evaluate_ensemble",
    "is_ensemble_run",
    "member_predictions",
    "member_status",
    "rating_metrics",
]

MEMBERS = "members"
"""The folder of an ensemble run that holds its members' run directories."""


def is_ensemble_run(folder: str | Path) -> bool:
    """Whether ``folder`` is an ensemble's run directory."""
    return (Path(folder) / MEMBERS).is_dir() and (Path(folder) / "run.json").is_file()


def member_status(folder: Path) -> str | None:
    """The status in a run directory's ``run.json`` (None when it cannot be read)."""
    try:
        return RunDir(folder).read_json("run.json").get("status")
    except (OSError, ValueError, NetcfgError):
        return None


@dataclass(frozen=True)
class PartPredictions:
    """Every member's predicted ratings at the same entries of one part, and the actual ones."""

    actual: np.ndarray
    predicted: dict[str, np.ndarray]
    """By member name, in the ensemble's order."""

    def combined(self, weights: Sequence[float]) -> np.ndarray:
        """The weighted sum of the members' ratings (``weights`` in the members' order)."""
        total = np.zeros_like(self.actual, dtype=np.float64)
        for weight, predicted in zip(weights, self.predicted.values(), strict=True):
            total += weight * predicted
        return total


def member_predictions(folder: str | Path, parts: Sequence[str]) -> dict[str, PartPredictions]:
    """Each member's ratings on those of ``parts`` that the members' data holds.

    Raises:
        ModelError: not an ensemble run, or a member that did not complete.
        DataError: none of ``parts`` in the data, members whose entries differ, or ratings
            that are not explicit.
    """
    root = Path(folder)
    spec = ensemble_spec(root)
    found: dict[str, PartPredictions] = {}
    entries: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    first = spec.Members[0].Name
    for member in spec.Members:
        folder = root / MEMBERS / member.Name
        if member_status(folder) != "completed":
            raise ModelError(f"member '{member.Name}' ({folder}) has not completed its training")
        ratings = _member_ratings(folder, parts)
        if member.Name == first:
            entries = {part: (users, items) for part, (users, items, _, _) in ratings.items()}
            found = {part: PartPredictions(r[3], {}) for part, r in ratings.items()}
        for part, (users, items, predicted, _) in ratings.items():
            expected = entries.get(part)
            if set(ratings) != set(entries) or not (
                np.array_equal(users, expected[0])
                and np.array_equal(items, expected[1])
                and len(predicted) == len(found[part].actual)
            ):
                raise DataError(
                    f"member '{member.Name}' was evaluated on other {part} entries than "
                    f"'{first}': the members must share their data and split"
                )
            found[part].predicted[member.Name] = predicted
    return found


def ensemble_spec(folder: str | Path) -> EnsembleSpec:
    """The spec saved in an ensemble's run directory.

    Raises:
        ModelError: not an ensemble run.
    """
    root = Path(folder)
    if not is_ensemble_run(root):
        raise ModelError(f"{root} is not an ensemble's run directory")
    return EnsembleSpec.model_validate(RunDir(root).read_json("config.json"), strict=False)


def evaluate_ensemble(folder: str | Path, parts: Sequence[str] = ("test",)) -> dict:
    """The ensemble's metrics on those of ``parts`` that the members' data holds.

    Returns:
        ``{part: {metric: value}, ..., "members": {name: {"weight": w, part: {...}}}}``.

    Raises:
        ModelError: not an ensemble run, or a member that did not complete.
        DataError: none of ``parts`` in the data, members whose entries differ, or ratings
            that are not explicit.
    """
    spec = ensemble_spec(folder)
    weights = spec.weights()
    predictions = member_predictions(folder, parts)
    members = {m.Name: {"weight": w} for m, w in zip(spec.Members, weights, strict=True)}
    for part, found in predictions.items():
        for name, predicted in found.predicted.items():
            members[name][part] = rating_metrics(predicted, found.actual, spec.Evaluation.Metrics)
    scores = {
        part: rating_metrics(found.combined(weights), found.actual, spec.Evaluation.Metrics)
        for part, found in predictions.items()
    }
    return {**scores, "members": members}


def _member_ratings(folder: Path, parts: Sequence[str]) -> dict[str, tuple[np.ndarray, ...]]:
    """Per part of ``parts`` in the member's data: (user ids, item ids, predicted, actual)
    of every entry, sorted by user then item; the predicted and actual ratings go on with
    the entries that training cannot place (their fallback ratings, in split order)."""
    model = load_model(folder)
    target = model.spec.target_datasets()[0]
    run_data = bind_data(model.spec, model.spec.input_datasets(), [target])
    if run_data.implicit():
        raise DataError(f"{folder}: an ensemble averages explicit ratings; this data is implicit")
    available = [part for part in parts if part in run_data.parts()]
    if not available:
        raise DataError(f"{folder}: the data has no {' or '.join(parts)} part")
    evaluation = model.spec.Evaluation
    evaluator = Evaluator(
        run_data,
        ["RMSE"],
        batch_size=evaluation.BatchSize,
        clip=evaluation.ClipPredictions,
        unseen=evaluation.UnseenItems,
    )
    train = run_data.splits[target].train
    found = {}
    for part in available:
        entries = evaluator.rating_entries(model.network, part)
        rows = np.asarray(train.rows.ids)[entries["rows"]]
        columns = np.asarray(train.columns.ids)[entries["columns"]]
        users, items = (rows, columns) if train.orientation == "user" else (columns, rows)
        order = np.lexsort((items, users))
        fallback, actual = evaluator.unseen_ratings(part)  # the same for every member
        found[part] = (
            users[order],
            items[order],
            np.concatenate([entries["predicted"][order], fallback]),
            np.concatenate([entries["actual"][order], actual]),
        )
    return found


def rating_metrics(
    predicted: np.ndarray, actual: np.ndarray, names: Sequence[str]
) -> dict[str, float]:
    """RMSE and/or MAE (``names``) of predicted ratings."""
    error = predicted - actual
    found = {
        "RMSE": math.sqrt(float(np.mean(error**2))) if len(error) else math.nan,
        "MAE": float(np.mean(np.abs(error))) if len(error) else math.nan,
    }
    return {name: found[name] for name in names}
