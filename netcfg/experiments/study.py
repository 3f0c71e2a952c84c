"""``netcfg.tune``: an Optuna study over a config's ``Search`` space, stored in a database.

The study lives in a directory (`netcfg.experiments.study_plan`) and an Optuna storage
(SQLite ``DIR/study.db`` by default). Started again with the same arguments, it continues:
finished trials are kept, a trial that a killed process left running is marked failed and
retried with the same parameters, and ``trials`` counts the finished (complete or pruned)
trials of the whole study. Every tune process holds a shared lock on ``DIR/.lock``; only a
process that finds no other one there (an exclusive lock succeeds) fails the trials left
running. Trials of processes on other machines sharing a storage URL are failed by Optuna's
heartbeat instead (after a grace period of a few minutes), without a retry.
"""

from __future__ import annotations

import fcntl
import math
import multiprocessing
import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import optuna
import sqlalchemy.exc
from optuna.storages import RDBStorage
from optuna.study import MaxTrialsCallback
from optuna.trial import TrialState
from sqlalchemy.engine import make_url

from netcfg.errors import ConfigError, Issue, NetcfgError, UsageError
from netcfg.experiments.spec import describe_search
from netcfg.experiments.study_plan import StudyPlan, make_plan, write_plan
from netcfg.experiments.study_report import finish_study, progress_line
from netcfg.experiments.trials import ensemble_objective, network_objective
from netcfg.trainers.loop import TrainingDiverged
from netcfg.trainers.run_files import set_status
from netcfg.trainers.rundir import RunDir
from netcfg.trainers.threads import ENV_VARIABLE, usable_cpus

__all__ = ["tune"]

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
"""The trial states that count towards the requested number of trials."""
PRUNER_STARTUP_TRIALS = 5
"""Trials that run to their end before the pruner compares curves."""
PRUNER_WARMUP = (3, 0.1)
"""Epochs of each trial that are never pruned: at least 3, and a tenth of its epochs (early
epochs say little about where a slow-starting trial will end)."""
HEARTBEAT_SECONDS = 30
MAX_SEED = 2**32 - 1
"""The largest seed Optuna's samplers take (numpy's legacy seeds)."""


def tune(
    config: str | Path | Mapping,
    overrides: Sequence[str] = (),
    *,
    data: Sequence[str] = (),
    space: str | Path | None = None,
    trials: int = 20,
    timeout: float | None = None,
    study: str | None = None,
    storage: str | None = None,
    out: str | Path | None = None,
    jobs: int = 1,
    sampler: str = "tpe",
    pruning: bool = True,
    seed: int = 0,
    save_as: str | None = None,
    echo=print,
    progress: bool = True,
) -> optuna.Study:
    """Search a config's ``Search`` space for the best validation metric.

    Args:
        config: a config file, folder, ``zoo:NAME`` or mapping, with a ``Search`` section
            (or give ``space``); a network or an ensemble (whose member weights are tuned on
            the members' validation predictions, the members trained once).
        overrides, data: ``--set`` and ``--data``, applied to every trial.
        space: a search space file replacing the config's ``Search``.
        trials: finished trials the study should hold (those of earlier runs count).
        timeout: no trial starts after this many seconds of this call.
        study: the study's name in the storage (default: the config's Name).
        storage: an Optuna storage URL (default ``sqlite:///DIR/study.db``).
        out: the study directory (default ``studies/<study name>``).
        jobs: worker processes training trials at once (they share the CPU threads).
        sampler: "tpe" (seeded TPE) or "random".
        pruning: let Optuna's median pruner stop trials whose validation curve is worse
            than the median of earlier trials at the same epoch.
        seed: the sampler's seed.
        save_as: register the best trial in the user zoo as ``zoo:NAME``.
        echo: where progress lines and the summary go (``print``; None: nowhere).
        progress: echo the study's first line and a line per trial (False: the summary only).

    Returns:
        The Optuna study; ``DIR/best.json`` holds the best trial's complete config and
        ``DIR/summary.json`` its validation and test metrics.

    Raises:
        ConfigError: a bad config or search space, data without validation, a study
            directory that holds another study, or a bad --trials, --jobs, --timeout or
            --seed.
        UsageError: a bad --storage URL, or an --out that cannot be a folder.
    """
    if trials < 1 or jobs < 1:
        raise ConfigError([Issue((), "--trials and --jobs must be at least 1")])
    if timeout is not None and not timeout > 0:  # NaN too
        raise ConfigError(
            [Issue((), f"--timeout must be a positive number of seconds, not {timeout}")]
        )
    if not 0 <= seed <= MAX_SEED:
        raise ConfigError([Issue((), f"--seed must be between 0 and {MAX_SEED:,}, not {seed}")])
    echo = echo or (lambda *args, **kwargs: None)
    plan = make_plan(
        config,
        overrides,
        data=data,
        space=space,
        out=out,
        storage=storage,
        name=study,
        sampler=sampler,
        pruning=pruning,
        seed=seed,
    )
    write_plan(plan)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    with _study_lock(plan.out) as alone:
        found = _open_study(plan)
        if alone:
            _fail_interrupted(found, plan)
        done = _finished(found)
        if progress:
            echo(
                f"study '{plan.name}' in {plan.out}: {plan.direction} validation "
                f"{plan.monitor} over {describe_search(plan.search)}; {done} of {trials} "
                "trials done"
            )
        if done < trials:
            if jobs == 1 or plan.ensemble:
                _optimize(plan, found, trials, timeout, 0, echo if progress else _silent)
            else:
                _run_workers(plan, trials, timeout, jobs, progress)
        return finish_study(found, plan, save_as=save_as, echo=echo)


def _open_study(plan: StudyPlan) -> optuna.Study:
    return optuna.create_study(
        study_name=plan.name,
        storage=_storage(plan.storage),
        direction=plan.direction,
        load_if_exists=True,
    )


def _storage(url: str) -> RDBStorage:
    """The Optuna storage at ``url`` (``--storage``), created if need be.

    Raises:
        UsageError: ``url`` is not a database URL, names a kind of database (or a driver)
            that is not installed, or an SQLite file in a folder that does not exist.
        NetcfgError: the database cannot be opened (exit status 1).
    """
    try:
        parsed = make_url(url)
    except sqlalchemy.exc.ArgumentError:
        raise UsageError(
            f"--storage {url}: not a database URL; give e.g. sqlite:///study.db"
        ) from None
    shown = parsed.render_as_string(hide_password=True)  # never print a password
    file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if file and file != ":memory:" and not Path(file).parent.is_dir():
        raise UsageError(
            f"--storage {shown}: the folder {Path(file).parent} does not exist; create it first"
        )
    engine = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    try:
        return RDBStorage(
            url,
            engine_kwargs=engine,
            heartbeat_interval=HEARTBEAT_SECONDS,
            grace_period=4 * HEARTBEAT_SECONDS,
        )
    except sqlalchemy.exc.NoSuchModuleError:
        raise UsageError(
            f"--storage {shown}: unknown kind of database '{parsed.drivername}'; give e.g. "
            "sqlite:///study.db"
        ) from None
    except ImportError as err:  # the database's driver package
        raise UsageError(f"--storage {shown}: its driver is not installed ({err})") from None
    except sqlalchemy.exc.SQLAlchemyError as err:
        cause = getattr(err, "orig", None) or err
        raise NetcfgError(f"--storage {shown}: cannot open the database: {cause}") from None


def _sampler(plan: StudyPlan, worker: int, offset: int) -> optuna.samplers.BaseSampler:
    """The seeded sampler of worker ``worker``; ``offset`` (the trials the study already
    holds) moves the seed, so that a continued study does not draw its first points again."""
    seed = (plan.seed + worker + 1000 * offset) % (MAX_SEED + 1)
    if plan.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def _pruner(plan: StudyPlan) -> optuna.pruners.BasePruner:
    if not plan.pruning or plan.ensemble:
        return optuna.pruners.NopPruner()
    least, share = PRUNER_WARMUP
    warmup = max(least, math.ceil(share * plan.base["Training"]["Epochs"]))
    # steps are epoch numbers from 1; Optuna prunes from step n_warmup_steps on
    return optuna.pruners.MedianPruner(
        n_startup_trials=PRUNER_STARTUP_TRIALS, n_warmup_steps=warmup + 1
    )


def _optimize(
    plan: StudyPlan, found: optuna.Study, trials: int, timeout: float | None, worker: int, echo
) -> None:
    """Run trials in this process until the study holds ``trials`` finished ones."""
    study = optuna.load_study(
        study_name=plan.name,
        storage=found._storage,
        sampler=_sampler(plan, worker, len(found.get_trials(deepcopy=False))),
        pruner=_pruner(plan),
    )
    if plan.ensemble:
        objective = ensemble_objective(plan, quiet=echo is _silent)
    else:
        objective = network_objective(plan)

    def report(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        echo(progress_line(study, trial, plan, trials), flush=True)

    study.optimize(
        objective,
        timeout=timeout,
        catch=(TrainingDiverged, ConfigError),
        callbacks=[MaxTrialsCallback(trials, states=FINISHED), report],
    )


def _finished(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=FINISHED))


def _fail_interrupted(study: optuna.Study, plan: StudyPlan) -> None:
    """Mark the trials a killed process left running as failed, and queue their parameters
    again (once: a retry that was interrupted too is not queued a third time)."""
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study._storage.set_trial_user_attr(trial._trial_id, "error", "interrupted")
        study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        if "retry_of" not in trial.user_attrs and trial.params:
            study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})
        _mark_interrupted(plan.trial_dir(trial.number))


def _mark_interrupted(folder: Path) -> None:
    if (folder / "run.json").is_file():
        set_status(RunDir(folder), "interrupted")


class _study_lock:
    """A shared lock on ``DIR/.lock`` for the life of the tune process; entering says
    whether no other tune process holds it (an exclusive lock could be taken first)."""

    def __init__(self, folder: Path):
        self.path = folder / ".lock"

    def __enter__(self) -> bool:
        self.handle = self.path.open("a")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            alone = True
        except BlockingIOError:
            alone = False
        fcntl.flock(self.handle, fcntl.LOCK_SH)  # converts an exclusive lock to a shared one
        return alone

    def __exit__(self, *exc) -> None:
        self.handle.close()


def _silent(*args, **kwargs) -> None:
    """An echo that prints nothing."""


def _run_workers(
    plan: StudyPlan, trials: int, timeout: float | None, jobs: int, progress: bool = True
) -> None:
    """``jobs`` processes, each running trials until the study is done; the CPU threads
    are shared between them unless NETCFG_THREADS says otherwise."""
    given = os.environ.get(ENV_VARIABLE)
    if not given:  # the children inherit the environment at their start
        os.environ[ENV_VARIABLE] = str(max(1, usable_cpus() // jobs))
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_worker, args=(plan, trials, timeout, index, progress))
        for index in range(jobs)
    ]
    try:
        for worker in workers:
            worker.start()
    finally:
        if not given:
            os.environ.pop(ENV_VARIABLE, None)
    for worker in workers:
        worker.join()


def _worker(
    plan: StudyPlan, trials: int, timeout: float | None, index: int, progress: bool = True
) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    study = optuna.load_study(study_name=plan.name, storage=_storage(plan.storage))
    echo = (lambda *a, **k: print(*a, **k, file=sys.stdout)) if progress else _silent
    _optimize(plan, study, trials, timeout, index, echo)
