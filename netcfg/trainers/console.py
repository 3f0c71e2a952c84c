"""What a run prints for people, on stderr: a line per epoch that stays on screen; while an
epoch runs, a live bar on a terminal or a plain line every so often elsewhere (a log file,
CI, a job scheduler), where a bar would print nothing readable."""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from tqdm import tqdm

from netcfg.errors import UsageError

__all__ = ["INTERVAL_VARIABLE", "Console", "duration", "progress_interval"]

INTERVAL_VARIABLE = "NETCFG_PROGRESS_INTERVAL"
"""The environment variable that sets the seconds between plain progress lines."""
DEFAULT_INTERVAL = 30.0
"""Seconds between plain progress lines when stderr is not a terminal."""


def progress_interval() -> float:
    """Seconds between plain progress lines: ``NETCFG_PROGRESS_INTERVAL``, default 30.

    Raises:
        UsageError: the variable is not a number of seconds (0 or more).
    """
    text = os.environ.get(INTERVAL_VARIABLE, "").strip()
    if not text:
        return DEFAULT_INTERVAL
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not seconds >= 0 or math.isinf(seconds):
        raise UsageError(
            f"{INTERVAL_VARIABLE}={text}: expected a number of seconds between progress "
            f"lines (0 or more; default {DEFAULT_INTERVAL:g})"
        )
    return seconds


def duration(seconds: float) -> str:
    """A short human duration: ``4.2s``, ``3m 05s``, ``2h 07m``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


class Console:
    """A run's lines on stderr.

    Each epoch ends with a line that stays: ``epoch 3/40  loss 0.8123  validation RMSE
    0.9312 (best)  4.1s  ETA 2m 31s`` (the time of the epoch with its validation, and the
    estimated time to the last epoch at this pace; early stopping may end the run sooner).
    With ``progress``, an epoch shows a live bar when the stream is a terminal, else a plain
    line every ``interval`` seconds (batch, mean loss so far, throughput, ETA).

    Args:
        monitor: the validation metric shown on epoch lines (None: no validation).
        progress: show progress within epochs.
        quiet: print nothing at all.
        interval: seconds between plain progress lines (default: `progress_interval`).
        stream: where lines go (default ``sys.stderr`` at construction).
    """

    def __init__(
        self,
        *,
        monitor: str | None = None,
        progress: bool = False,
        quiet: bool = False,
        interval: float | None = None,
        stream: TextIO | None = None,
    ):
        self.stream = stream if stream is not None else sys.stderr
        self.monitor = monitor
        self.quiet = quiet
        self.live = progress and not quiet and _is_terminal(self.stream)
        self.plain = progress and not quiet and not self.live
        self.interval = progress_interval() if interval is None and self.plain else interval
        self._bar: tqdm | None = None
        self._epochs: tuple[int, int] = (0, 0)  # the epoch running, of how many
        self._epoch_seconds: list[float] = []  # wall time of the epochs this process ran
        self._started = 0.0  # when the running epoch started
        self._last_line = 0.0
        self._batch = (0, 0)  # batches done, of how many
        self._loss = (0.0, 0)  # sum and count of the running epoch's batch losses

    def batches(self, iterable: Iterable, *, epoch: int, epochs: int, total: int) -> Iterator:
        """Iterate over an epoch's batches, timing the epoch and showing its progress."""
        self._epochs = (epoch, epochs)
        self._batch, self._loss = (0, total), (0.0, 0)
        self._started = time.monotonic()
        if not self._last_line:
            self._last_line = self._started
        if not self.live:
            yield from iterable
            return
        self._bar = tqdm(
            iterable,
            total=total,
            desc=f"epoch {epoch}/{epochs}",
            unit="batch",
            file=self.stream,
            dynamic_ncols=True,
            leave=False,
        )
        try:
            yield from self._bar
        finally:
            self._bar.close()
            self._bar = None

    def step(self, loss: float, examples_per_second: float) -> None:
        """A batch is done: update the bar, or print a plain line when one is due."""
        done, total = self._batch[0] + 1, self._batch[1]
        self._batch = (done, total)
        self._loss = (self._loss[0] + loss, self._loss[1] + 1)
        if self._bar is not None:
            self._bar.set_postfix(
                loss=f"{loss:.4g}", ex_s=f"{examples_per_second:,.0f}", refresh=False
            )
            return
        now = time.monotonic()
        if not self.plain or now - self._last_line < self.interval:
            return
        self._last_line = now
        epoch, epochs = self._epochs
        elapsed = now - self._started
        this_epoch = elapsed / done * total if done else 0.0
        remaining = this_epoch - elapsed + self._per_epoch(this_epoch) * (epochs - epoch)
        mean = self._loss[0] / self._loss[1]
        self._print(
            f"epoch {epoch}/{epochs}  batch {done}/{total} ({100 * done / max(total, 1):.0f}%)  "
            f"loss {mean:.4f}  {examples_per_second:,.0f} examples/s  ETA {duration(remaining)}"
        )

    def epoch(self, record: dict[str, Any], *, best: bool = False) -> None:
        """The line of an epoch that ended (``record`` as in ``metrics.jsonl``); ``best``:
        its validation metric is the best so far."""
        seconds = time.monotonic() - self._started if self._started else record["seconds"]
        self._epoch_seconds.append(seconds)
        self._last_line = time.monotonic()
        epochs = self._epochs[1] or record["epoch"]
        parts = [f"epoch {record['epoch']}/{epochs}", f"loss {record['train_loss']:.4f}"]
        value = record.get("validation", {}).get(self.monitor) if self.monitor else None
        if value is not None:
            parts.append(f"validation {self.monitor} {value:.4f}" + (" (best)" if best else ""))
        remaining = self._per_epoch(seconds) * max(epochs - record["epoch"], 0)
        parts += [duration(seconds), f"ETA {duration(remaining)}"]
        self._print("  ".join(parts))

    def _per_epoch(self, default: float) -> float:
        """The mean wall time of the epochs this process ran (``default`` before the first)."""
        if not self._epoch_seconds:
            return default
        return sum(self._epoch_seconds) / len(self._epoch_seconds)

    def message(self, text: str) -> None:
        """A line for the user, printed without breaking the bar (not when quiet)."""
        self._print(text)

    def _print(self, text: str) -> None:
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)
