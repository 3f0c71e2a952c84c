"""What a run reports while it trains: a progress bar, TensorBoard events, metrics.jsonl."""

from __future__ import annotations

import json
import math
import os
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from tensorboard.summary.writer import event_file_writer
from torch import nn
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from netcfg.trainers.checkpoint import disk_errors
from netcfg.trainers.rundir import RunDir

__all__ = ["Reporter"]


class Reporter:
    """Writes TensorBoard scalars, hyper-parameters and text, and ``metrics.jsonl``.

    Tags: ``train/loss`` (per step and per epoch as ``train/epoch_loss``),
    ``train/learning_rate``, ``train/grad_norm``, ``train/examples_per_second``,
    ``validation/<metric>`` and ``test/<metric>``; the layer table as text ``layers``;
    hyper-parameters with the final metrics through the hparams plugin.

    A file that cannot be written (a full disk) raises `NetcfgError` naming ``events`` or
    ``metrics.jsonl`` and the cause.

    Args:
        run_dir: the run directory.
        progress: show a progress bar (loss, throughput, ETA) on stderr.
        quiet: print no messages (`message` only keeps them in TensorBoard's text).
        histograms: also write weight histograms each epoch.
        purge_step: when resuming, drop events logged after this step by the killed run.
    """

    def __init__(
        self,
        run_dir: RunDir,
        *,
        progress: bool,
        quiet: bool = False,
        histograms: bool = False,
        purge_step: int | None = None,
    ):
        self.run_dir = run_dir
        self.progress = progress
        self.quiet = quiet
        self._messages: list[str] = []
        self.histograms = histograms
        _quiet_writer_threads()
        with self._events():
            self.writer = SummaryWriter(str(run_dir.events), purge_step=purge_step)
        self._bar: tqdm | None = None

    def text(self, tag: str, text: str) -> None:
        """A text entry (shown as markdown; kept monospaced)."""
        with self._events():
            self.writer.add_text(tag, "    " + text.replace("\n", "\n    "))

    def _events(self):
        """Report a failed write of the event files as a `NetcfgError` naming them."""
        return disk_errors(self.run_dir.events)

    def batches(self, iterable: Iterable, *, epoch: int, epochs: int, total: int) -> Iterator:
        """Iterate with a progress bar for one epoch (when enabled)."""
        if not self.progress:
            yield from iterable
            return
        self._bar = tqdm(
            iterable,
            total=total,
            desc=f"epoch {epoch}/{epochs}",
            unit="batch",
            file=sys.stderr,
            dynamic_ncols=True,
            leave=False,
        )
        try:
            yield from self._bar
        finally:
            self._bar.close()
            self._bar = None

    def step(
        self,
        step: int,
        *,
        loss: float,
        learning_rate: float,
        grad_norm: float,
        examples_per_second: float,
    ) -> None:
        """Per-step scalars (and the bar's postfix)."""
        with self._events():
            self.writer.add_scalar("train/loss", loss, step)
            self.writer.add_scalar("train/learning_rate", learning_rate, step)
            if math.isfinite(grad_norm):
                self.writer.add_scalar("train/grad_norm", grad_norm, step)
        if self._bar is not None:
            self._bar.set_postfix(
                loss=f"{loss:.4g}", ex_s=f"{examples_per_second:,.0f}", refresh=False
            )

    def epoch(self, record: dict[str, Any], step: int, network: nn.Module) -> None:
        """Per-epoch scalars, histograms, and a line of ``metrics.jsonl``."""
        with self._events():
            self.writer.add_scalar("train/epoch_loss", record["train_loss"], step)
            self.writer.add_scalar("train/examples_per_second", record["examples_per_second"], step)
            for part in ("validation", "test"):
                for name, value in record.get(part, {}).items():
                    self.writer.add_scalar(f"{part}/{name}", value, step)
            if self.histograms:
                for name, parameter in network.named_parameters():
                    self.writer.add_histogram(name, parameter.detach().cpu(), step)
        self.append(record)

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

    def finish(self, hparams: dict[str, Any], metrics: dict[str, float]) -> None:
        """Hyper-parameters with the final metrics (hparams plugin), then close."""
        if metrics:
            with self._events():
                self.writer.add_hparams(
                    hparams, {f"hparam/{k}": v for k, v in metrics.items()}, run_name="hparams"
                )
        self.close()

    def close(self) -> None:
        """Keep the messages as text ``messages``, then flush and close the event files.

        Raises:
            NetcfgError: an event could not be written (also one that the writer's thread
                failed to write after the last call: ``close`` alone would not tell).
        """
        try:
            if self._messages:
                self.text("messages", "\n".join(self._messages))
                self._messages = []
            with self._events():
                self.writer.flush()
        finally:
            self.writer.close()

    def message(self, text: str) -> None:
        """A line for the user, printed without breaking the progress bar (not when quiet)."""
        self._messages.append(text)
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr)


_WRITER_THREAD = getattr(event_file_writer, "_AsyncWriterThread", ())
"""The class of TensorBoard's writer threads (none if a version renames it)."""


def _quiet_writer_threads() -> None:
    """Keep the traceback of a failed TensorBoard writer thread (a full disk) off stderr.

    The writer raises the thread's error again in the main thread at its next call (`Reporter.close`
    flushes to make sure), where it is reported as a fault of the machine; the thread's own
    traceback would only repeat it, as if netcfg had crashed. Other threads' errors are
    reported as before.
    """
    previous = threading.excepthook
    if getattr(previous, "_netcfg_writer_filter", False):
        return

    def hook(args: threading.ExceptHookArgs) -> None:
        if isinstance(args.thread, _WRITER_THREAD) and issubclass(args.exc_type, OSError):
            return
        previous(args)

    hook._netcfg_writer_filter = True  # type: ignore[attr-defined]
    threading.excepthook = hook
