"""Real processes: two runs on one directory (one trains, one is refused), and a run killed
before its first checkpoint, resumed to the end an uninterrupted run reaches."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import TINY


def _config(tmp_path, **training):
    config = json.loads(json.dumps(TINY))
    config["Data"]["ratings"]["Synthetic"].update(Users=1000, Items=200, Density=0.05)
    config["Training"].update(BatchSize=16, RefeedSteps=1, **training)
    path = tmp_path / "model.json"
    path.write_text(json.dumps(config))
    return path


def _command(config, out):
    return [sys.executable, "-m", "netcfg", "train", str(config), "--out", str(out)]


def _start(config, out, env, *extra):
    command = [*_command(config, out), "--no-progress", *extra]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _records(out):
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "NETCFG_DATA": str(tmp_path / "cache"), "NETCFG_THREADS": "1"}


def test_two_runs_started_together_on_one_directory(tmp_path, env):
    config = _config(tmp_path, Epochs=3)
    out = tmp_path / "same"
    processes = [_start(config, out, env) for _ in range(2)]
    done = [(p.wait(timeout=600), *p.communicate()) for p in processes]
    codes = sorted(code for code, _, _ in done)
    assert codes == [0, 2], done
    _, _, refused = next(d for d in done if d[0] == 2)
    assert refused.startswith(f"{out} is in use by another netcfg process (pid ")
    assert refused.rstrip().endswith("choose another --out, or wait for it to finish")
    records = _records(out)
    assert [r["epoch"] for r in records if "epoch" in r] == [1, 2, 3]
    assert sum(r.get("final", False) for r in records) == 1
    assert json.loads((out / "run.json").read_text())["status"] == "completed"
    assert not (out / ".lock").exists()


def test_sigkill_before_the_first_checkpoint_then_resume_matches(tmp_path, env):
    config = _config(tmp_path, Epochs=4, CheckpointInterval=100)
    reference = subprocess.run(
        _command(config, tmp_path / "whole"), env=env, capture_output=True, text=True
    )
    assert reference.returncode == 0, reference.stderr
    killed = tmp_path / "killed"
    process = _start(config, killed, env)
    deadline = time.monotonic() + 300
    while not (killed / "metrics.jsonl").is_file() or not _records(killed):
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, "the run never finished an epoch"
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate()
    assert not (killed / "checkpoint").exists()
    assert (killed / ".lock").is_file()  # left by the killed process; it blocks nothing
    assert json.loads((killed / "run.json").read_text())["status"] == "running"

    resumed = subprocess.run(
        [*_command(config, killed), "--resume", "--no-progress"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"{killed} has no checkpoint yet: it restarts from epoch 0" in resumed.stderr
    whole = json.loads((tmp_path / "whole" / "run.json").read_text())
    again = json.loads((killed / "run.json").read_text())
    assert again["status"] == "completed" and again["best_epoch"] == whole["best_epoch"]
    for part in ("validation", "test"):
        assert again[part].keys() == whole[part].keys()
        for name, value in whole[part].items():
            assert again[part][name] == pytest.approx(value, rel=1e-6, abs=1e-6)
    assert [r["epoch"] for r in _records(killed) if "epoch" in r] == [1, 2, 3, 4]
    assert not (killed / ".lock").exists()
