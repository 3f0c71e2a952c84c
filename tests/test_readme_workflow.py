"""The README's workflow block runs as written: train with --out, then evaluate, predict
and export on that run (MovieLens 100K; skipped where it is not present)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import pytest
from helpers import ML100K, REPO

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (ML100K / "u1.base").is_file(), reason="MovieLens 100K not found"),
]


def workflow_commands() -> list[str]:
    """The commands of the bash block that follows the ``readme-workflow`` marker."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- readme-workflow -->\n```bash\n(.*?)```", text, re.S)
    assert block, "README.md has no readme-workflow block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_the_readme_workflow_runs_as_written(tmp_path):
    # a stand-in for the repository root: its examples, with ../shared beside it
    root = tmp_path / "netcfg"
    root.mkdir()
    (root / "examples").symlink_to(REPO / "examples")
    (tmp_path / "shared").symlink_to(ML100K.parents[1])
    env = {**os.environ, "NETCFG_THREADS": "2", "NETCFG_DATA": str(tmp_path / "cache")}
    commands = workflow_commands()
    assert [c.split()[1] for c in commands] == ["train", "evaluate", "predict", "predict", "export"]
    for command in commands:
        words = shlex.split(command)
        assert words[0] == "netcfg"
        done = subprocess.run(
            [sys.executable, "-m", "netcfg", *words[1:]],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, f"{command}\n{done.stderr}"
        assert "internal error" not in done.stderr
    recommended = (root / "recs.tsv").read_text().splitlines()
    assert len(recommended) == 10 * 943  # every user of u1.base gets ten items
    scores = (root / "scores.tsv").read_text().splitlines()
    test_lines = (ML100K / "u1.test").read_text().splitlines()
    assert len(scores) - len(test_lines) in (0, 1)  # one score per test pair (and a header)
    assert (root / "model.onnx").stat().st_size > 0
