"""What a run reports while it trains: lines on stderr, ``metrics.jsonl``, and the loggers
of ``Training.Loggers`` (TensorBoard events, an MLflow run)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from torch import nn

from netcfg.trainers.checkpoint import disk_errors
from netcfg.trainers.console import Console
from netcfg.trainers.rundir import RunDir
from netcfg.trainers.spec import Logger
from netcfg.trainers.tensorboard_logger import TensorBoardLogger

__all__ = ["Reporter", "SilentReporter"]


class Reporter:
    """Reports a run: a line per epoch and progress on stderr (`Console`), a line per epoch
    in ``metrics.jsonl``, TensorBoard events (`TensorBoardLogger`) and an MLflow run
    (`netcfg.trainers.mlflow_logger`), as ``loggers`` asks.

    A file that cannot be written (a full disk) raises `NetcfgError` naming ``events`` or
    ``metrics.jsonl`` and the cause.

    Args:
        run_dir: the run directory.
        progress: show progress within epochs on stderr (a bar on a terminal, else a plain
            line every ``NETCFG_PROGRESS_INTERVAL`` seconds).
        quiet: print nothing (messages are still kept in TensorBoard's text ``messages``).
        histograms: also write weight histograms each epoch.
        purge_step: when resuming, drop events logged after this step by the killed run.
        monitor: the validation metric that picks the epoch (shown on epoch lines).
        loggers: where parameters and metrics go (``Training.Loggers``).
        params: the run's hyper-parameters (`config_hparams`).
        config: the resolved config (logged as text ``config``).
    """

    def __init__(
        self,
        run_dir: RunDir,
        *,
        progress: bool,
        quiet: bool = False,
        histograms: bool = False,
        purge_step: int | None = None,
        monitor: str | None = None,
        loggers: Sequence[Logger] = (Logger.TensorBoard,),
        params: dict[str, Any] | None = None,
        config: dict[str, Any] | None = None,
    ):
        self.run_dir = run_dir
        self.console = Console(monitor=monitor, progress=progress, quiet=quiet)
        self.params = params or {}
        self.config = config
        self.loggers = tuple(loggers)
        self.quiet = quiet
        self._messages: list[str] = []
        self._step = purge_step or 0
        self.mlflow = None
        self.tensorboard = None
        if Logger.TensorBoard in loggers:
            self.tensorboard = TensorBoardLogger(
                run_dir.events, histograms=histograms, purge_step=purge_step
            )

    def start(self) -> None:
        """Start logging the run: the config as TensorBoard text, an MLflow run with the
        parameters (called where a failure is recorded in ``run.json``, see
        `recording_status`).

        Raises:
            UsageError: MLflow refused its store (a bad MLFLOW_TRACKING_URI).
            NetcfgError: the store could not be reached, or an event not written.
        """
        if self.tensorboard is not None and self.config is not None:
            self.tensorboard.text("config", json.dumps(self.config, indent=2))
        if Logger.MLflow in self.loggers:
            from netcfg.trainers.mlflow_logger import MlflowLogger

            name = (self.config or {}).get("Name") or self.run_dir.root.name
            self.mlflow = MlflowLogger(
                self.run_dir,
                experiment=name,
                params=self.params,
                message=self.message,
                quiet=self.quiet,
            )

    def text(self, tag: str, text: str) -> None:
        """A TensorBoard text entry (shown as markdown; kept monospaced)."""
        if self.tensorboard is not None:
            self.tensorboard.text(tag, text)

    def batches(self, iterable: Iterable, *, epoch: int, epochs: int, total: int) -> Iterator:
        """Iterate over one epoch's batches, showing its progress (when enabled)."""
        return self.console.batches(iterable, epoch=epoch, epochs=epochs, total=total)

    def step(
        self,
        step: int,
        *,
        loss: float,
        learning_rate: float,
        grad_norm: float,
        examples_per_second: float,
    ) -> None:
        """Per-step scalars, and the progress shown."""
        self._step = step
        if self.tensorboard is not None:
            self.tensorboard.step(step, loss=loss, learning_rate=learning_rate, grad_norm=grad_norm)
        self.console.step(loss, examples_per_second)

    def epoch(
        self, record: dict[str, Any], step: int, network: nn.Module, *, best: bool = False
    ) -> None:
        """An epoch ended: its line on stderr, its scalars (and histograms), and a line of
        ``metrics.jsonl``; ``best``: its validation metric is the best so far."""
        self._step = step
        if self.tensorboard is not None:
            self.tensorboard.epoch(record, step, network)
        if self.mlflow is not None:
            self.mlflow.epoch(record)
        self.append(record)
        self.console.epoch(record, best=best)

    def append(self, record: dict[str, Any]) -> None:
        """Append one record to ``metrics.jsonl``; a failed write (a full disk) takes back
        the part of the line it wrote, so the file never ends in half a record."""
        line = (json.dumps(record) + "\n").encode("utf-8")
        path = self.run_dir.metrics
        with disk_errors(path), path.open("ab", buffering=0) as out:
            start = out.seek(0, os.SEEK_END)
            try:
                view = memoryview(line)
                while view:
                    view = view[out.write(view) :]
            except OSError:
                out.truncate(start)
                raise

    def rewrite(self, records: list[dict[str, Any]]) -> None:
        """Replace ``metrics.jsonl`` by these records (when resuming), atomically."""
        with disk_errors(self.run_dir.metrics):
            self.run_dir.write_text(
                self.run_dir.metrics.name, "".join(json.dumps(r) + "\n" for r in records)
            )

    def finish(
        self, results: dict[str, dict[str, float]], *, epochs: int, best_epoch: int | None
    ) -> None:
        """The final metrics of each part (``{"test": {"RMSE": ...}}``): ``test/<metric>``
        scalars, the hyper-parameters with the final metrics, MLflow's final metrics; then
        the event files are closed (`close` ends the MLflow run, once ``run.json`` holds
        the run's status)."""
        if self.tensorboard is not None:
            self.tensorboard.finish(self.params, results, self._step)
        if self.mlflow is not None:
            self.mlflow.finish(results, epochs, best_epoch)
        self._close_events()

    def close(self) -> None:
        """Keep the messages as text ``messages`` and close the event files (once), then end
        the MLflow run as ``run.json`` says the run ended.

        Raises:
            NetcfgError: an event could not be written.
        """
        try:
            self._close_events()
        finally:
            if self.mlflow is not None:
                self.mlflow.close()

    def _close_events(self) -> None:
        if self.tensorboard is None:
            return
        try:
            if self._messages and not self.tensorboard.closed:
                self.tensorboard.text("messages", "\n".join(self._messages))
                self._messages = []
        finally:
            self.tensorboard.close()

    def message(self, text: str) -> None:
        """A line for the user, printed without breaking the progress bar (not when quiet),
        and kept for TensorBoard's text ``messages``."""
        self._messages.append(text)
        self.console.message(text)


class SilentReporter(Reporter):
    """The reporter of a data-parallel process other than rank 0: it prints, logs and
    writes nothing (rank 0 reports the run)."""

    def __init__(self, run_dir: RunDir):
        super().__init__(run_dir, progress=False, quiet=True, loggers=())

    def append(self, record: dict[str, Any]) -> None:
        """Nothing: rank 0 writes ``metrics.jsonl``."""

    def rewrite(self, records: list[dict[str, Any]]) -> None:
        """Nothing: rank 0 writes ``metrics.jsonl``."""
