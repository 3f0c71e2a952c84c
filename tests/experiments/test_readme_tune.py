"""The README's tuning example runs as written, and its best.json reproduces the best trial."""

from __future__ import annotations

import json

import pytest
from helpers import readme_block, run_netcfg_commands


def test_the_readme_tuning_example_runs_as_written(tmp_path):
    commands = readme_block("readme-tune")
    assert [c.split()[1] for c in commands] == ["tune", "train"]
    run_netcfg_commands(commands, tmp_path, NETCFG_THREADS="1", NETCFG_DATA=str(tmp_path / "cache"))
    summary = json.loads((tmp_path / "studies/quickstart/summary.json").read_text())
    assert sum(summary["trials"].values()) == 4
    again = json.loads((tmp_path / "runs/quickstart-tuned/run.json").read_text())
    assert again["validation"]["RMSE"] == pytest.approx(summary["validation"]["RMSE"], abs=1e-6)
