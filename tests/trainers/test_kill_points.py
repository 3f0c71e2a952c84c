"""A run SIGKILLed at several points (after its first files, inside epochs and checkpoint
writes, and at set points inside the checkpoint writer) and resumed until it completes ends
with the metrics of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import TINY

pytestmark = pytest.mark.slow

EPOCHS = 6


def _write_config(tmp_path):
    config = json.loads(json.dumps(TINY))
    config["Data"]["ratings"]["Synthetic"].update(Users=600, Items=150, Density=0.05)
    config["Training"].update(Epochs=EPOCHS, BatchSize=8, CheckpointInterval=1)
    config["Training"]["EarlyStopping"] = None
    path = tmp_path / "model.json"
    path.write_text(json.dumps(config))
    return path


def _train(config, out, env, *extra) -> subprocess.Popen:
    command = [sys.executable, "-m", "netcfg", "train", str(config), "--out", str(out)]
    return subprocess.Popen(
        [*command, "--no-progress", *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _epochs_logged(out) -> int:
    try:
        lines = (out / "metrics.jsonl").read_text().splitlines()
    except OSError:
        return -1 if not (out / "run.json").is_file() else 0
    return sum('"epoch"' in line for line in lines)


@pytest.mark.parametrize(("epochs_done", "extra_seconds"), [(0, 0.0), (1, 0.02), (3, 0.05)])
def test_killed_and_resumed_runs_end_where_an_uninterrupted_run_ends(
    tmp_path, epochs_done, extra_seconds
):
    env = {**os.environ, "NETCFG_DATA": str(tmp_path / "cache"), "NETCFG_THREADS": "1"}
    config = _write_config(tmp_path)
    reference = _train(config, tmp_path / "reference", env)
    assert reference.wait(timeout=600) == 0, reference.stderr.read()
    expected = json.loads((tmp_path / "reference" / "run.json").read_text())

    out = tmp_path / "killed"
    process = _train(config, out, env)
    deadline = time.monotonic() + 300
    while _epochs_logged(out) < epochs_done and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    time.sleep(extra_seconds)  # inside the next epoch or its checkpoint write
    process.send_signal(signal.SIGKILL)
    process.wait()
    for _ in range(5):  # resume until the run completes
        resumed = _train(config, out, env, "--resume")
        code = resumed.wait(timeout=600)
        if code == 0:
            break
        assert "internal error" not in resumed.stderr.read()
    assert code == 0
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "completed"
    assert run["best_epoch"] == expected["best_epoch"]
    for part in ("validation", "test"):
        assert run[part] == pytest.approx(expected[part], abs=1e-6)
    lines = (out / "metrics.jsonl").read_text().splitlines()
    epochs = [json.loads(line)["epoch"] for line in lines if '"epoch"' in line]
    assert epochs == list(range(1, EPOCHS + 1))  # each epoch logged once, in order
    assert not [p.name for p in out.iterdir() if p.name.startswith(".checkpoint.")]


KILLER = """
import os, signal, sys
from pathlib import Path

import netcfg.trainers.checkpoint as checkpoint
from netcfg.cli import main

point, at, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
writes = 0


def hit(folder) -> bool:
    # the at-th write of this kind into a checkpoint's staging folder
    global writes
    if not Path(folder).name.startswith(".checkpoint."):
        return False
    writes += 1
    return writes == at


def die():
    os.kill(os.getpid(), signal.SIGKILL)


if point == "weights":  # the staged weights half written
    save_file = checkpoint.save_file

    def save_half(tensors, filename, *args, **kwargs):
        save_file(tensors, filename, *args, **kwargs)
        if hit(Path(filename).parent):
            os.truncate(filename, os.path.getsize(filename) // 2)
            die()

    checkpoint.save_file = save_half
elif point == "state":  # every staged file whole but state.json, written last, half written
    write_text = Path.write_text

    def write_half(self, data, *args, **kwargs):
        if self.name == "state.json" and hit(self.parent):
            write_text(self, data[: len(data) // 2], *args, **kwargs)
            die()
        return write_text(self, data, *args, **kwargs)

    Path.write_text = write_half
elif point == "rename":  # the staging folder whole, the old checkpoint removed, not renamed
    replace = os.replace

    def die_instead(source, target, *args, **kwargs):
        if hit(source):
            die()
        return replace(source, target, *args, **kwargs)

    os.replace = die_instead
sys.exit(main(argv))
"""
"""Runs ``netcfg ARGV`` in a process that SIGKILLs itself inside its ``at``-th checkpoint
write, at ``point``: from outside, by replacing the functions the writer calls."""


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict:
    """run.json of the config of `_write_config`, trained without interruption."""
    root = tmp_path_factory.mktemp("uninterrupted")
    env = {**os.environ, "NETCFG_DATA": str(root / "cache"), "NETCFG_THREADS": "1"}
    reference = _train(_write_config(root), root / "run", env)
    assert reference.wait(timeout=600) == 0, reference.stderr.read()
    return json.loads((root / "run" / "run.json").read_text())


@pytest.mark.parametrize(("point", "at"), [("weights", 1), ("state", 2), ("rename", 2)])
def test_killed_inside_a_checkpoint_write_and_resumed_ends_where_an_uninterrupted_run_ends(
    tmp_path, uninterrupted, point, at
):
    env = {**os.environ, "NETCFG_DATA": str(tmp_path / "cache"), "NETCFG_THREADS": "1"}
    config, out = _write_config(tmp_path), tmp_path / "killed"
    argv = ["train", str(config), "--out", str(out), "--no-progress"]
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, point, str(at), *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (staging,) = [p for p in out.iterdir() if p.name.startswith(".checkpoint.")]
    if point == "weights":  # in the first checkpoint: there is none yet
        assert not (out / "checkpoint").exists()
        assert (staging / ".weights.safetensors.tmp").is_file()
    elif point == "state":  # the previous checkpoint is there, whole
        assert json.loads((out / "checkpoint" / "state.json").read_text())["epoch"] == at - 1
        with pytest.raises(ValueError):
            json.loads((staging / "state.json").read_text())
    else:  # the previous checkpoint is gone; the new one waits whole in its staging folder
        assert not (out / "checkpoint").exists()
        assert json.loads((staging / "state.json").read_text())["epoch"] == at

    resumed = _train(config, out, env, "--resume")
    _, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    # from the checkpoint, put in place when it waited whole in its staging folder
    assert ("it restarts from epoch 0" in err) == (point == "weights"), err
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "completed"
    assert run["best_epoch"] == uninterrupted["best_epoch"]
    for part in ("validation", "test"):
        assert run[part] == pytest.approx(uninterrupted[part], abs=1e-6)
    lines = (out / "metrics.jsonl").read_text().splitlines()
    epochs = [json.loads(line)["epoch"] for line in lines if '"epoch"' in line]
    assert epochs == list(range(1, EPOCHS + 1))
    assert not [p for p in out.rglob(".*")]  # no staging folder, temporary file or lock
