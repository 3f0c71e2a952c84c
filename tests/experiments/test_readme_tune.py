"""The README's tuning example runs as written, and its best.json reproduces the best trial."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys

import pytest
from helpers import REPO


def tune_commands() -> list[str]:
    """The commands of the bash block that follows the ``readme-tune`` marker."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- readme-tune -->\n```bash\n(.*?)```", text, re.S)
    assert block, "README.md has no readme-tune block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_the_readme_tuning_example_runs_as_written(tmp_path):
    env = {**os.environ, "NETCFG_THREADS": "1", "NETCFG_DATA": str(tmp_path / "cache")}
    commands = tune_commands()
    assert [c.split()[1] for c in commands] == ["tune", "train"]
    for command in commands:
        words = shlex.split(command)
        assert words[0] == "netcfg"
        done = subprocess.run(
            [sys.executable, "-m", "netcfg", *words[1:]],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, f"{command}\n{done.stderr}"
        assert "internal error" not in done.stderr
    summary = json.loads((tmp_path / "studies/quickstart/summary.json").read_text())
    assert sum(summary["trials"].values()) == 4
    again = json.loads((tmp_path / "runs/quickstart-tuned/run.json").read_text())
    assert again["validation"]["RMSE"] == pytest.approx(summary["validation"]["RMSE"], abs=1e-6)
