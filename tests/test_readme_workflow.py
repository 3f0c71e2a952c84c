"""The README's workflow block runs as written: train with --out, then evaluate, predict
and export on that run; then its user-zoo block registers, lists, evaluates and removes
that run (MovieLens 100K; skipped where it is not present)."""

from __future__ import annotations

import pytest
from helpers import ML100K, REPO, readme_block, run_netcfg_commands

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (ML100K / "u1.base").is_file(), reason="MovieLens 100K not found"),
]


def test_the_readme_workflow_runs_as_written(tmp_path):
    # a stand-in for the repository root: its examples, with ../shared beside it
    root = tmp_path / "netcfg"
    root.mkdir()
    (root / "examples").symlink_to(REPO / "examples")
    (tmp_path / "shared").symlink_to(ML100K.parents[1])
    commands = readme_block("readme-workflow")
    assert [c.split()[1] for c in commands] == ["train", "evaluate", "predict", "predict", "export"]
    run_netcfg_commands(commands, root, NETCFG_THREADS="2", NETCFG_DATA=str(tmp_path / "cache"))
    recommended = (root / "recs.tsv").read_text().splitlines()
    assert len(recommended) == 10 * 943  # every user of u1.base gets ten items
    scores = (root / "scores.tsv").read_text().splitlines()
    test_lines = (ML100K / "u1.test").read_text().splitlines()
    assert len(scores) - len(test_lines) in (0, 1)  # one score per test pair (and a header)
    assert (root / "model.onnx").stat().st_size > 0

    zoo = tmp_path / "user-zoo"
    commands = readme_block("readme-user-zoo")
    assert [c.split()[1] for c in commands] == ["zoo", "zoo", "evaluate", "zoo"]
    run_netcfg_commands(commands[:-1], root, NETCFG_THREADS="2", NETCFG_ZOO=str(zoo))
    assert (zoo / "autorec-u1").is_dir() and (root / "runs/u1").is_dir()  # copied, not moved
    run_netcfg_commands(commands[-1:], root, NETCFG_ZOO=str(zoo))
    assert not (zoo / "autorec-u1").exists()
