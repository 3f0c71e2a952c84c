"""Several machines, as README's command starts them: one torchrun launcher per machine
(here two on this one), joined by a c10d rendezvous, train with split item tables what one
process trains."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from test_distributed import _config, _epochs

import netcfg

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_launchers_joined_by_a_rendezvous_train_what_one_process_trains(tmp_path):
    config = _config("lazy-adam", -1, shard=True)
    path = tmp_path / "model.json"
    path.write_text(json.dumps(config))
    out = tmp_path / "two-machines"
    env = {**os.environ, "NETCFG_DATA": str(tmp_path / "cache"), "NETCFG_THREADS": "1"}
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2"]
    launcher += ["--nproc-per-node", "1", "--rdzv-backend", "c10d"]
    launcher += ["--rdzv-endpoint", f"127.0.0.1:{_free_port()}", "--rdzv-id", "netcfg-test"]
    command = [*launcher, "-m", "netcfg", "train", str(path), "--out", str(out)]
    machines = [
        subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    errors = [machine.communicate(timeout=600)[1] for machine in machines]
    assert [m.returncode for m in machines] == [0, 0], "\n".join(e[-2000:] for e in errors)
    assert sum("sharded across 2 processes" in e for e in errors) == 1  # rank 0's launcher

    one = netcfg.train(_config("lazy-adam", -1), out=tmp_path / "one", quiet=True)
    for mine, reference in zip(_epochs(out), _epochs(Path(one.run_dir)), strict=True):
        assert mine["train_loss"] == pytest.approx(reference["train_loss"], rel=1e-5)
        assert mine["validation"]["RMSE"] == pytest.approx(
            reference["validation"]["RMSE"], rel=1e-5
        )
    run = json.loads((out / "run.json").read_text())
    assert run["world_size"] == 2 and run["test"]["RMSE"] == pytest.approx(one.test["RMSE"])
