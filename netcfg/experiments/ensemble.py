"""An ensemble's run: every member trained into ``members/<name>``, then the weighted mean
of their ratings scored (`netcfg.ensembles.rundir`)."""

from __future__ import annotations

import datetime
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from netcfg.ensembles.load import Member, ensemble_tree, load_ensemble
from netcfg.ensembles.rundir import MEMBERS, evaluate_ensemble, is_ensemble_run, member_status
from netcfg.ensembles.spec import EnsembleSpec
from netcfg.errors import ConfigError, Issue
from netcfg.trainers.lock import LOCK_FILE, hold_run_dir, sigterm_interrupts
from netcfg.trainers.run_files import recording_status, set_status
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
    quiet: bool = False,
) -> TrainResult:
    """Train every member (in order, each into ``members/<name>``), then score the ensemble.

    With ``resume``, members that completed are kept and an interrupted one continues
    from its last checkpoint. The run directory is held for the whole run (`hold_run_dir`),
    each member's too; ``run.json`` records how the run ended.

    Args:
        config, overrides, data, out, resume, progress, quiet: as
            `netcfg.experiments.run.train`.
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
    if resume and not run_dir.root.is_dir():
        raise ConfigError([Issue((), f"{run_dir.root}: no such run directory to resume")])
    with hold_run_dir(run_dir.root, create=not resume), sigterm_interrupts():
        _prepare(run_dir, ensemble.spec, resume)
        with recording_status(run_dir, close=lambda: None):
            for member in ensemble.members:
                _train_member(
                    member,
                    run_dir.root / MEMBERS / member.name,
                    data,
                    resume,
                    progress,
                    parts,
                    quiet,
                )
            results = evaluate_ensemble(run_dir.root, parts)
            scores = {part: results[part] for part in parts if part in results}
            set_status(run_dir, "completed", **scores, members=results["members"])
    return TrainResult(run_dir.root, 0, None, **scores, members=results["members"])


def _train_member(
    member: Member,
    folder: Path,
    data: Sequence[str],
    resume: bool,
    progress: bool,
    parts: Sequence[str],
    quiet: bool = False,
) -> None:
    """Train a member into ``folder``, unless it completed (continuing it when it started)."""
    if member_status(folder) == "completed":
        return
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
        quiet=quiet,
    )


def _prepare(run_dir: RunDir, spec: EnsembleSpec, resume: bool) -> None:
    """Check the run directory (held) and, for a new run, write its first files; a run
    killed before its ``run.json`` starts again."""
    root = run_dir.root
    config = spec.model_dump(mode="json")
    entries = [p for p in root.iterdir() if p.name != LOCK_FILE]
    if resume and not (root / "run.json").is_file() and _unstarted(root, entries):
        for path in entries:
            if path.is_dir():
                path.rmdir()  # members/, empty
            else:
                path.unlink()
    elif resume:
        if not is_ensemble_run(root) or run_dir.read_json("config.json") != config:
            raise ConfigError(
                [Issue((), f"{root} is not a run of this ensemble; it cannot be resumed")]
            )
        set_status(run_dir, "training")
        return
    elif entries:
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


def _unstarted(root: Path, entries: list[Path]) -> bool:
    """Whether these are the files of an ensemble run killed before its ``run.json``."""
    known = {MEMBERS, "config.json", ".config.json.tmp", ".run.json.tmp"}
    members = root / MEMBERS
    started = members.is_dir() and any(members.iterdir())
    return all(p.name in known for p in entries) and not started
