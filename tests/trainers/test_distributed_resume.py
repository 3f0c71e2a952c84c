"""A data-parallel run (``netcfg train --nproc 2``) whose rank 1 is SIGKILLed in epoch 2
stops with a message; resumed with 2 processes or with 1, it ends with the metrics of an
uninterrupted 2-process run. Its run directory serves evaluate like any other."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from helpers import TINY

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform != "linux", reason="/proc")]


def _config(tmp_path: Path, sharded: bool) -> Path:
    config = json.loads(json.dumps(TINY))
    config["Data"]["ratings"]["Synthetic"].update(Users=1000, Items=200, Density=0.05)
    config["Training"].update(Epochs=4, BatchSize=8, CheckpointInterval=1, EarlyStopping=None)
    if sharded:  # lazy Adam's state is split too; Compute Auto would choose per share
        config["Training"].update(
            Optimizer={"Type": "Adam", "Lazy": True}, Distributed={"Shard": "Auto"}
        )
        for layer in config["Layers"]:
            if layer.get("Sparse"):
                layer["Compute"] = "Sparse"
    path = tmp_path / "model.json"
    path.write_text(json.dumps(config))
    return path


def _netcfg(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "netcfg", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _rank_pid(token: str, rank: int) -> int | None:
    """The process of this test's run (``TEST_TOKEN`` in its environment) with ``RANK``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            variables = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"TEST_TOKEN={token}".encode() in variables and f"RANK={rank}".encode() in variables:
            return int(entry.name)
    return None


def _epochs(out: Path) -> int:
    try:
        return (out / "metrics.jsonl").read_text().count('"epoch"')
    except OSError:
        return 0


def _final(out: Path) -> dict:
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "completed", run
    return {part: run[part] for part in ("validation", "test")}


@pytest.mark.parametrize("sharded", [False, True], ids=["replicated", "sharded"])
def test_a_killed_rank_stops_the_job_and_resume_with_2_or_1_processes_ends_alike(tmp_path, sharded):
    """Sharded: the item tables and their lazy Adam state are split between the ranks; the
    checkpoint holds them whole, so that 1 process resumes them as well as 2."""
    token = uuid.uuid4().hex
    env = {**os.environ, "NETCFG_DATA": str(tmp_path / "cache"), "NETCFG_THREADS": "1"}
    env["TEST_TOKEN"] = token
    config = _config(tmp_path, sharded)
    whole = _netcfg("train", str(config), "--out", str(tmp_path / "whole"), "--nproc", "2", env=env)
    assert whole.wait(timeout=600) == 0, whole.communicate()[1][-3000:]
    expected = _final(tmp_path / "whole")

    killed = tmp_path / "killed"
    job = _netcfg("train", str(config), "--out", str(killed), "--nproc", "2", env=env)
    deadline = time.monotonic() + 300
    while _epochs(killed) < 1 and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    pid = _rank_pid(token, 1)
    assert pid is not None and _epochs(killed) == 1, "the run did not reach epoch 2"
    os.kill(pid, signal.SIGKILL)
    _, err = job.communicate(timeout=300)
    assert job.returncode != 0
    assert "Signal 9 (SIGKILL) received by PID" in err and "rank      : 1" in err
    assert _epochs(killed) < 4 and json.loads((killed / "run.json").read_text())["status"] != (
        "completed"
    )

    alone = tmp_path / "alone"
    shutil.copytree(killed, alone)
    for out, processes in ((killed, ["--nproc", "2"]), (alone, [])):
        resumed = _netcfg("train", str(config), "--out", str(out), "--resume", *processes, env=env)
        assert resumed.wait(timeout=600) == 0, resumed.communicate()[1][-3000:]
        found = _final(out)
        for part, metrics in expected.items():
            for name, value in metrics.items():
                assert found[part][name] == pytest.approx(value, rel=1e-6, abs=1e-9), (out, name)
    assert json.loads((alone / "run.json").read_text())["world_size"] == 1

    # evaluate reads a data-parallel run directory, split tables or not, as any other
    evaluated = _netcfg("evaluate", str(tmp_path / "whole"), "--part", "test", "--json", env=env)
    stdout, err = evaluated.communicate(timeout=300)
    assert evaluated.returncode == 0, err
    assert json.loads(stdout)["test"]["RMSE"] == pytest.approx(expected["test"]["RMSE"], rel=1e-6)
