"""A run SIGKILLed at several points (after its first files, inside epochs and checkpoint
writes) and resumed until it completes ends with the metrics of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from trainer_configs import TINY

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
