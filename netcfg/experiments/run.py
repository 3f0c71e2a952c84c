"""``netcfg.train``: the one place that decides which kind of run a config asks for."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from netcfg.data.scipy_io import bind_matrices
from netcfg.ensembles.load import ensemble_tree
from netcfg.errors import ConfigError, Issue
from netcfg.experiments.ensemble import train_ensemble
from netcfg.trainers.train import TrainResult
from netcfg.trainers.train import train as train_network

__all__ = ["train"]


def train(
    config: str | Path | Mapping,
    overrides: Sequence[str] = (),
    *,
    data: Sequence[str] | Mapping[str, Any] | Any = (),
    out: str | Path | None = None,
    resume: bool = False,
    progress: bool = False,
    quiet: bool = False,
) -> TrainResult:
    """Train what a config describes and save everything in a run directory.

    A network config trains one network (`netcfg.trainers.train.train`); an ensemble config
    (``Kind: Ensemble``) trains each member into ``members/<name>`` of the run directory
    and scores the weighted mean of their ratings (`netcfg.experiments.ensemble`).

    Args:
        config: a config file, a folder, ``zoo:NAME``, or a config mapping.
        overrides: ``KEY=VALUE`` strings (``--set``); on an ensemble they reach every
            member, except those on the ensemble's own keys.
        data: ``PATH`` (bound to every DataSet) or ``NAME=PATH`` (``--data``); or, from
            Python, a mapping DataSet name -> path or matrix, or one matrix for every
            DataSet. A matrix is a ``scipy.sparse`` matrix (users as rows, ids 0..n-1) or
            `Interactions` (`netcfg.data.scipy_io.interactions_from_scipy` gives it ids);
            it is saved once in the cache and bound by its path there.
        out: the run directory (default ``runs/<name>-<date-time>``).
        resume: continue the run in ``out`` from its last checkpoint.
        progress: show progress within epochs on stderr (a bar on a terminal, else a plain
            line every NETCFG_PROGRESS_INTERVAL seconds, default 30).
        quiet: print nothing on stderr (no epoch lines, progress or notes).

    Raises:
        ConfigError: a bad config (exit status 2 in the CLI).
        DataError: bad or missing data.
        TrainingDiverged: the loss became NaN or exploded; the last checkpoint is kept.

    Example:
        >>> result = train("zoo:quickstart", overrides=["Training.Epochs=3"])
        >>> result.test["RMSE"]
        >>> train("zoo:quickstart", data={"ratings": scipy.sparse.load_npz("ratings.npz")})
    """
    if resume and out is None:
        raise ConfigError([Issue((), "resuming needs the run directory: give --out RUN_DIR")])
    data = bind_matrices(data)
    if ensemble_tree(config) is not None:
        return train_ensemble(
            config, overrides, data=data, out=out, resume=resume, progress=progress, quiet=quiet
        )
    return train_network(
        config, overrides, data=data, out=out, resume=resume, progress=progress, quiet=quiet
    )
