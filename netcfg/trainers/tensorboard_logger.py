"""A run's TensorBoard events: scalars, weight histograms, text, and the run's
hyper-parameters with its final metrics for the HPARAMS tab, which compares runs."""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2, summary_v2
from tensorboard.summary.writer import event_file_writer
from torch import nn
from torch.utils.tensorboard import SummaryWriter

from netcfg.trainers.checkpoint import disk_errors

__all__ = ["HPARAMS_RUN", "TensorBoardLogger"]

HPARAMS_RUN = "hparams"
"""The sub-folder of ``events`` holding the run's hyper-parameters and final metrics."""


class TensorBoardLogger:
    """Writes a run's TensorBoard events into ``events``.

    Tags: ``train/loss``, ``train/learning_rate``, ``train/grad_norm`` (per step),
    ``train/epoch_loss``, ``train/examples_per_second``, ``validation/<metric>`` (per
    epoch), ``test/<metric>`` (once, at the end, for the weights the run keeps); text entries
    (``config``, ``layers``, ``messages``). The sub-run ``events/hparams`` holds the
    hyper-parameters (numbers, booleans and strings as such) with the final metrics as
    ``hparam/<part>/<metric>``; no experiment summary is written, so that TensorBoard
    gathers the columns of every run it shows, whatever their layers.

    A file that cannot be written (a full disk) raises `NetcfgError` naming ``events``.

    Args:
        events: the events folder.
        histograms: also write weight histograms each epoch.
        purge_step: when resuming, drop events logged after this step by the killed run.
    """

    def __init__(self, events: Path, *, histograms: bool = False, purge_step: int | None = None):
        self.events = events
        self.histograms = histograms
        _quiet_writer_threads()
        with disk_errors(events):
            self.writer = SummaryWriter(str(events), purge_step=purge_step)
        self.closed = False

    def text(self, tag: str, text: str) -> None:
        """A text entry (shown as markdown; kept monospaced)."""
        with disk_errors(self.events):
            self.writer.add_text(tag, "    " + text.replace("\n", "\n    "))

    def step(self, step: int, *, loss: float, learning_rate: float, grad_norm: float) -> None:
        """Per-step scalars (the gradient norm when it was measured)."""
        with disk_errors(self.events):
            self.writer.add_scalar("train/loss", loss, step)
            self.writer.add_scalar("train/learning_rate", learning_rate, step)
            if math.isfinite(grad_norm):
                self.writer.add_scalar("train/grad_norm", grad_norm, step)

    def epoch(self, record: dict[str, Any], step: int, network: nn.Module) -> None:
        """Per-epoch scalars, and weight histograms when asked."""
        with disk_errors(self.events):
            self.writer.add_scalar("train/epoch_loss", record["train_loss"], step)
            self.writer.add_scalar("train/examples_per_second", record["examples_per_second"], step)
            for part in ("validation", "test"):
                for name, value in record.get(part, {}).items():
                    self.writer.add_scalar(f"{part}/{name}", value, step)
            if self.histograms:
                for name, parameter in network.named_parameters():
                    self.writer.add_histogram(name, parameter.detach().cpu(), step)

    def finish(
        self, params: dict[str, Any], results: dict[str, dict[str, float]], step: int
    ) -> None:
        """The test metrics as ``test/<metric>`` at ``step``, and the hyper-parameters with
        every part's final metrics in ``events/hparams``."""
        with disk_errors(self.events):
            for name, value in results.get("test", {}).items():
                self.writer.add_scalar(f"test/{name}", value, step)
            if not params:
                return
            with SummaryWriter(str(self.events / HPARAMS_RUN)) as writer:
                writer.file_writer.add_summary(summary_v2.hparams_pb(params))
                for part, values in results.items():
                    for name, value in values.items():
                        writer.add_scalar(f"hparam/{part}/{name}", value, step)
                end = plugin_data_pb2.SessionEndInfo(status=api_pb2.Status.STATUS_SUCCESS)
                writer.file_writer.add_summary(
                    _plugin_summary(
                        metadata.SESSION_END_INFO_TAG,
                        plugin_data_pb2.HParamsPluginData(session_end_info=end),
                    )
                )

    def close(self) -> None:
        """Flush and close the event files (once).

        Raises:
            NetcfgError: an event could not be written (also one that the writer's thread
                failed to write after the last call: ``close`` alone would not tell).
        """
        if self.closed:
            return
        self.closed = True
        try:
            with disk_errors(self.events):
                self.writer.flush()
        finally:
            self.writer.close()


def _plugin_summary(tag: str, data: plugin_data_pb2.HParamsPluginData) -> Summary:
    """A summary holding hparams plugin data under ``tag``."""
    value = Summary.Value(tag=tag, metadata=metadata.create_summary_metadata(data))
    value.tensor.CopyFrom(metadata.NULL_TENSOR)
    return Summary(value=[value])


_WRITER_THREAD = getattr(event_file_writer, "_AsyncWriterThread", ())
"""The class of TensorBoard's writer threads (none if a version renames it)."""


def _quiet_writer_threads() -> None:
    """Keep the traceback of a failed TensorBoard writer thread (a full disk) off stderr.

    The writer raises the thread's error again in the main thread at its next call
    (`TensorBoardLogger.close` flushes to make sure), where it is reported as a fault of the
    machine; the thread's own traceback would only repeat it, as if netcfg had crashed.
    Other threads' errors are reported as before.
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
