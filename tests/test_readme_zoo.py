"""The README's zoo block runs as written in a fresh folder: list and show the shipped
entries, then train ``zoo:quickstart`` (synthetic data, no download) and keep it as
``zoo:qs`` in the user zoo."""

from __future__ import annotations

import json

import pytest
from helpers import readme_block, run_netcfg_commands

pytestmark = pytest.mark.slow


def test_the_readme_zoo_block_runs_as_written(tmp_path):
    zoo = tmp_path / "user-zoo"
    commands = readme_block("readme-zoo")
    assert [c.split()[1] for c in commands] == ["zoo", "zoo", "train"]
    run_netcfg_commands(
        commands,
        tmp_path,
        NETCFG_THREADS="2",
        NETCFG_DATA=str(tmp_path / "cache"),
        NETCFG_ZOO=str(zoo),
    )
    run = json.loads((zoo / "qs" / "run.json").read_text())
    assert run["status"] == "completed"
