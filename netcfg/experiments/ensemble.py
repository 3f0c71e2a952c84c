"""An ensemble's run: every member trained into ``members/<name>``, then the weighted mean
of their ratings scored (`netcfg.ensembles.rundir`)."""

from __future__ import annotations

import datetime
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from netcfg.ensembles.load import ensemble_tree, load_ensemble
from netcfg.ensembles.rundir import MEMBERS, evaluate_ensemble, is_ensemble_run, member_status
from netcfg.ensembles.spec import EnsembleSpec
from netcfg.errors import ConfigError, Issue
from netcfg.trainers.rundir import RunDir, default_run_dir
from netcfg.trainers.train import TrainResult, train

__all__ = ["train_ensemble"]


def train_ensemble(
    config: str | Path | Mapping,
    overrides: Sequence[str] = (),
    *,
    data: Sequence[str] = (),
    out: str | Path | None = None,
    resume: bool = False,
    progress: bool = False,
    parts: Sequence[str] = ("validation", "test"),
    space: str | Path | None = None,
) -> TrainResult:
    """Train every member (in order, each into ``members/<name>``), then score the ensemble.

    With ``resume``, members that completed are kept and an interrupted one continues
    from its last checkpoint.

    Args:
        config, overrides, data, out, resume, progress: as `netcfg.experiments.run.train`.
        parts: the parts the ensemble is scored on (those its members' data holds).
        space: a search space file replacing the config's ``Search`` (`load_ensemble`).

    Returns:
        A `TrainResult` whose ``validation`` and ``test`` hold the ensemble's metrics.

    Raises:
        ConfigError: a bad ensemble or member config, or a run directory in the way.
        DataError: members whose entries differ, or ratings that are not explicit.
    """
    found = ensemble_tree(config)
    if found is None:
        raise ConfigError([Issue(("Kind",), "not an ensemble config (Kind: Ensemble)")])
    ensemble = load_ensemble(*found, overrides, space=space)
    run_dir = RunDir(Path(out) if out else default_run_dir(ensemble.spec, str(config)))
    _prepare(run_dir, ensemble.spec, resume)
    for member in ensemble.members:
        folder = run_dir.root / MEMBERS / member.name
        if member_status(folder) == "completed":
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
            parts=parts,
        )
    results = evaluate_ensemble(run_dir.root, parts)
    scores = {part: results[part] for part in parts if part in results}
    run = run_dir.read_json("run.json")
    run.update(status="completed", **scores, members=results["members"])
    run_dir.write_json("run.json", run)
    return TrainResult(run_dir.root, 0, None, **scores, members=results["members"])


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
