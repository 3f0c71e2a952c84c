"""The README's data-parallel block runs as written: ``--nproc 2`` and torchrun train
``zoo:quickstart`` in two processes, into run directories that record it."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import pytest
from helpers import readme_block

pytestmark = pytest.mark.slow


def test_the_readme_distributed_block_runs_as_written(tmp_path):
    env = {**os.environ, "NETCFG_DATA": str(tmp_path / "cache"), "NETCFG_THREADS": "1"}
    for command in readme_block("readme-distributed"):
        words = shlex.split(command)
        if words[0] == "torchrun":  # the console script of the torch installed with netcfg
            words = [sys.executable, "-m", "torch.distributed.run", *words[1:]]
        else:
            words = [sys.executable, "-m", *words]
        done = subprocess.run(words, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{command}\n{done.stderr[-3000:]}"
        assert "data-parallel: 2 processes (gloo)" in done.stderr
    for name in ("quickstart-dp", "quickstart-dp2"):
        run = json.loads((tmp_path / "runs" / name / "run.json").read_text())
        assert run["status"] == "completed" and run["world_size"] == 2
