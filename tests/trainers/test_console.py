"""The lines a run prints on stderr (`Console`), with a clock the test moves by hand."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

from netcfg.errors import UsageError
from netcfg.trainers import console as console_module
from netcfg.trainers.console import Console, duration, progress_interval


class Clock:
    """A stand-in for time.monotonic that moves only when told."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(console_module, "time", SimpleNamespace(monotonic=clock))
    return clock


def _epoch(console, clock, number, *, epochs, batches, seconds, loss, rmse, best=False):
    """Run an epoch of ``batches`` batches taking ``seconds`` (validation included)."""
    for _ in console.batches(range(batches), epoch=number, epochs=epochs, total=batches):
        clock.now += seconds / batches
        console.step(loss, 1000.0)
    record = {"epoch": number, "train_loss": loss, "seconds": seconds, "validation": {}}
    if rmse is not None:
        record["validation"] = {"RMSE": rmse, "MAE": 0.5}
    console.epoch(record, best=best)


def test_epoch_lines_give_the_monitored_metric_and_the_eta(clock):
    out = io.StringIO()
    console = Console(monitor="RMSE", progress=False, stream=out)
    _epoch(console, clock, 1, epochs=10, batches=4, seconds=6.0, loss=1.25, rmse=0.95, best=True)
    _epoch(console, clock, 2, epochs=10, batches=4, seconds=10.0, loss=1.0, rmse=0.97)
    lines = out.getvalue().splitlines()
    # ETA: the mean epoch so far times the epochs left: 6 s x 9, then 8 s x 8
    assert lines == [
        "epoch 1/10  loss 1.2500  validation RMSE 0.9500 (best)  6.0s  ETA 54.0s",
        "epoch 2/10  loss 1.0000  validation RMSE 0.9700  10.0s  ETA 1m 04s",
    ]


def test_without_validation_the_line_has_no_metric(clock):
    out = io.StringIO()
    console = Console(monitor=None, progress=True, stream=out, interval=3600)
    _epoch(console, clock, 3, epochs=3, batches=2, seconds=2.0, loss=0.5, rmse=None)
    assert out.getvalue() == "epoch 3/3  loss 0.5000  2.0s  ETA 0.0s\n"


def test_plain_progress_lines_every_interval_when_not_a_terminal(clock):
    out = io.StringIO()
    console = Console(monitor="RMSE", progress=True, stream=out, interval=30)
    # 10 batches of 10 s: a line at 30, 60 and 90 s (the epoch line resets the interval)
    _epoch(console, clock, 1, epochs=2, batches=10, seconds=100.0, loss=2.0, rmse=1.0)
    lines = out.getvalue().splitlines()
    assert lines[:3] == [
        "epoch 1/2  batch 3/10 (30%)  loss 2.0000  1,000 examples/s  ETA 2m 50s",
        "epoch 1/2  batch 6/10 (60%)  loss 2.0000  1,000 examples/s  ETA 2m 20s",
        "epoch 1/2  batch 9/10 (90%)  loss 2.0000  1,000 examples/s  ETA 1m 50s",
    ]
    assert lines[3].startswith("epoch 1/2  loss 2.0000  validation RMSE 1.0000  1m 40s")
    assert len(lines) == 4 and "\r" not in out.getvalue()


def test_the_mean_loss_of_plain_lines_is_the_epochs_so_far(clock):
    out = io.StringIO()
    console = Console(progress=True, stream=out, interval=0)
    for index, _ in enumerate(console.batches(range(3), epoch=1, epochs=1, total=3)):
        clock.now += 1
        console.step([1.0, 2.0, 6.0][index], 10.0)
    losses = [line.split("loss ")[1].split()[0] for line in out.getvalue().splitlines()]
    assert losses == ["1.0000", "1.5000", "3.0000"]


def test_a_terminal_gets_a_bar_and_keeps_the_epoch_line(clock):
    out = Terminal()
    console = Console(monitor="RMSE", progress=True, stream=out)
    assert console.live
    _epoch(console, clock, 1, epochs=1, batches=3, seconds=3.0, loss=1.0, rmse=0.9, best=True)
    text = out.getvalue()
    assert "\r" in text and "epoch 1/1:" in text  # tqdm's bar
    assert text.endswith("epoch 1/1  loss 1.0000  validation RMSE 0.9000 (best)  3.0s  ETA 0.0s\n")


def test_quiet_prints_nothing(clock):
    out = Terminal()
    console = Console(monitor="RMSE", progress=True, quiet=True, stream=out)
    _epoch(console, clock, 1, epochs=2, batches=3, seconds=3.0, loss=1.0, rmse=0.9)
    console.message("a note")
    assert out.getvalue() == ""


def test_messages_are_printed(clock):
    out = io.StringIO()
    Console(stream=out).message("threads: 1")
    assert out.getvalue() == "threads: 1\n"


@pytest.mark.parametrize(
    ("seconds", "text"), [(4.24, "4.2s"), (59.9, "59.9s"), (185, "3m 05s"), (7620, "2h 07m")]
)
def test_durations(seconds, text):
    assert duration(seconds) == text


def test_the_interval_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("NETCFG_PROGRESS_INTERVAL", raising=False)
    assert progress_interval() == 30
    monkeypatch.setenv("NETCFG_PROGRESS_INTERVAL", "5")
    assert progress_interval() == 5
    for bad in ("soon", "-1", "nan", "inf"):
        monkeypatch.setenv("NETCFG_PROGRESS_INTERVAL", bad)
        with pytest.raises(UsageError, match="NETCFG_PROGRESS_INTERVAL"):
            progress_interval()
