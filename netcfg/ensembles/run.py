"""Train an ensemble's members and score their averaged ratings.

An ensemble run directory holds ``config.json`` (the ensemble), ``run.json`` (status and
metrics, of the ensemble and of each member) and ``members/<name>/``: each member's own,
complete run directory, which every command that takes a run directory accepts. The
ensemble is scored again from those folders alone (`evaluate_ensemble`).
"""

from __future__ import annotations

import datetime
import math
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from netcfg.ensembles.load import ensemble_tree, load_ensemble
from netcfg.ensembles.spec import EnsembleSpec
from netcfg.errors import ConfigError, DataError, Issue, ModelError, NetcfgError
from netcfg.trainers.bindings import bind_data
from netcfg.trainers.evaluation import Evaluator
from netcfg.trainers.rundir import RunDir, default_run_dir, load_model

__all__ = ["MEMBERS", "evaluate_ensemble", "is_ensemble_run", "train_ensemble"]

MEMBERS = "members"
"""The folder of an ensemble run that holds its members' run directories."""


def is_ensemble_run(folder: str | Path) -> bool:
    """Whether ``folder`` is an ensemble's run directory."""
    return (Path(folder) / MEMBERS).is_dir() and (Path(folder) / "run.json").is_file()


def train_ensemble(
    config: str | Path | Mapping,
    overrides: Sequence[str] = (),
    *,
    data: Sequence[str] = (),
    out: str | Path | None = None,
    resume: bool = False,
    progress: bool = False,
):
    """Train every member (in order, each into ``members/<name>``), then score the ensemble.

    With ``resume``, members that completed are kept and an interrupted one continues
    from its last checkpoint.

    Returns:
        A `TrainResult` whose ``test`` holds the ensemble's metrics.

    Raises:
        ConfigError: a bad ensemble or member config, or a run directory in the way.
        DataError: members whose test entries differ, or ratings that are not explicit.
    """
    from netcfg.trainers.train import TrainResult, train

    found = ensemble_tree(config)
    if found is None:
        raise ConfigError([Issue(("Kind",), "not an ensemble config (Kind: Ensemble)")])
    ensemble = load_ensemble(*found, overrides)
    run_dir = RunDir(Path(out) if out else default_run_dir(ensemble.spec, str(config)))
    _prepare(run_dir, ensemble.spec, resume)
    for member in ensemble.members:
        folder = run_dir.root / MEMBERS / member.name
        if _status(folder) == "completed":
            continue
        started = (folder / "run.json").is_file()
        if folder.exists() and not started:
            shutil.rmtree(folder)  # created, but stopped before its first file
        train(
            member.config,
            member.overrides,
            data=data,
            out=folder,
            resume=resume and started,
            progress=progress,
        )
    results = evaluate_ensemble(run_dir.root)
    run = run_dir.read_json("run.json")
    run.update(status="completed", test=results["test"], members=results["members"])
    run_dir.write_json("run.json", run)
    return TrainResult(run_dir.root, 0, None, test=results["test"], members=results["members"])


def _prepare(run_dir: RunDir, spec: EnsembleSpec, resume: bool) -> None:
    root = run_dir.root
    config = spec.model_dump(mode="json")
    if resume:
        if not is_ensemble_run(root) or run_dir.read_json("config.json") != config:
            raise ConfigError(
                [Issue((), f"{root} is not a run of this ensemble; it cannot be resumed")]
            )
        return
    if root.exists() and any(root.iterdir()):
        raise ConfigError(
            [
                Issue(
                    (),
                    f"run directory {root} already exists; resume it with --resume, or "
                    "choose another --out",
                )
            ]
        )
    (root / MEMBERS).mkdir(parents=True, exist_ok=True)
    run_dir.write_json("config.json", config)
    from netcfg import __version__

    created = datetime.datetime.now().isoformat(timespec="seconds")
    run_dir.write_json(
        "run.json",
        {"netcfg": __version__, "kind": "ensemble", "created": created, "status": "training"},
    )


def _status(folder: Path) -> str | None:
    try:
        return RunDir(folder).read_json("run.json").get("status")
    except (OSError, ValueError, NetcfgError):
        return None


def evaluate_ensemble(folder: str | Path, parts: Sequence[str] = ("test",)) -> dict:
    """The ensemble's metrics on those of ``parts`` that the members' data holds.

    Returns:
        ``{part: {metric: value}, ..., "members": {name: {"weight": w, part: {...}}}}``.

    Raises:
        ModelError: not an ensemble run, or a member that did not complete.
        DataError: none of ``parts`` in the data, members whose entries differ, or ratings
            that are not explicit.
    """
    root = Path(folder)
    if not is_ensemble_run(root):
        raise ModelError(f"{root} is not an ensemble's run directory")
    spec = EnsembleSpec.model_validate(RunDir(root).read_json("config.json"), strict=False)
    totals, members = {}, {}
    first = spec.Members[0].Name
    for member, weight in zip(spec.Members, spec.weights(), strict=True):
        folder = root / MEMBERS / member.Name
        if _status(folder) != "completed":
            raise ModelError(f"member '{member.Name}' ({folder}) has not completed its training")
        ratings = _member_ratings(folder, parts)
        if member.Name == first:
            totals = {
                part: (users, items, actual, np.zeros_like(predicted))
                for part, (users, items, predicted, actual) in ratings.items()
            }
        members[member.Name] = {"weight": weight}
        for part, (users, items, predicted, actual) in ratings.items():
            expected = totals.get(part)
            if set(ratings) != set(totals) or not (
                np.array_equal(users, expected[0])
                and np.array_equal(items, expected[1])
                and len(predicted) == len(expected[3])
            ):
                raise DataError(
                    f"member '{member.Name}' was evaluated on other {part} entries than "
                    f"'{first}': the members must share their data and split"
                )
            expected[3][:] += weight * predicted
            members[member.Name][part] = _metrics(predicted, actual, spec)
    scores = {part: _metrics(total, actual, spec) for part, (_, _, actual, total) in totals.items()}
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


def _metrics(predicted: np.ndarray, actual: np.ndarray, spec: EnsembleSpec) -> dict[str, float]:
    error = predicted - actual
    found = {
        "RMSE": math.sqrt(float(np.mean(error**2))) if len(error) else math.nan,
        "MAE": float(np.mean(np.abs(error))) if len(error) else math.nan,
    }
    return {name: found[name] for name in spec.Evaluation.Metrics}
