"""Resuming after SIGKILL ends exactly where an uninterrupted run ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import TINY


def _config(tmp_path):
    config = json.loads(json.dumps(TINY))
    config["Data"]["ratings"]["Synthetic"].update(Users=4000, Items=400, Density=0.05)
    config["Training"].update(Epochs=5, BatchSize=16, RefeedSteps=1)
    path = tmp_path / "model.json"
    path.write_text(json.dumps(config))
    return path


def _train(config, out, *extra, env):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "netcfg",
            "train",
            str(config),
            "--out",
            str(out),
            "--no-progress",
            *extra,
        ],
        env=env,
        capture_output=True,
        text=True,
    )


def _final(out):
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return json.loads(lines[-1])


def test_sigkill_in_epoch_3_then_resume_matches(tmp_path):
    env = {**os.environ, "NETCFG_DATA": str(tmp_path / "cache")}
    config = _config(tmp_path)
    reference = _train(config, tmp_path / "whole", env=env)
    assert reference.returncode == 0, reference.stderr
    killed = tmp_path / "killed"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "netcfg",
            "train",
            str(config),
            "--out",
            str(killed),
            "--no-progress",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    state = killed / "checkpoint" / "state.json"
    deadline = time.time() + 120
    while time.time() < deadline:
        if state.is_file() and json.loads(state.read_text())["epoch"] == 2:
            break
        time.sleep(0.01)
    else:
        process.kill()
        pytest.fail("the run never finished epoch 2")
    time.sleep(0.2)  # well inside epoch 3
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert json.loads(state.read_text())["epoch"] == 2
    assert json.loads((killed / "run.json").read_text())["status"] == "running"
    resumed = _train(config, killed, "--resume", env=env)
    assert resumed.returncode == 0, resumed.stderr
    whole, again = _final(tmp_path / "whole"), _final(killed)
    assert again["best_epoch"] == whole["best_epoch"]
    for part in ("validation", "test"):
        for name, value in whole[part].items():
            assert again[part][name] == pytest.approx(value, rel=1e-6, abs=1e-6)
    epochs = [
        json.loads(line)["epoch"]
        for line in (killed / "metrics.jsonl").read_text().splitlines()[:-1]
    ]
    assert epochs == [1, 2, 3, 4, 5]  # no record of the killed epoch is left behind
