"""Paths and small helpers shared by the tests (imported as ``helpers``)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
ML100K = REPO.parent / "shared" / "data" / "ml-100k"


# A tiny autoencoder on synthetic ratings (300 x 80): the trainer tests' config; deep-copy
# it before changing it.
TINY = {
    "Name": "tiny",
    "ErrorFunction": "MaskedMSE",
    "Layers": [
        {"Name": "Input", "Kind": "Input", "N": "auto", "DataSet": "ratings", "Sparse": True},
        {"Name": "Hidden", "N": 16, "Activation": "Selu"},
        {
            "Name": "Output",
            "Kind": "Output",
            "N": "auto",
            "DataSet": "ratings",
            "Sparse": True,
            "Activation": "Linear",
        },
    ],
    "Data": {
        "ratings": {
            "Synthetic": {"Users": 300, "Items": 80, "Density": 0.1, "Seed": 0},
            "Protocol": {"Type": "random", "Fractions": [0.8, 0.1, 0.1], "Seed": 0},
        }
    },
    "Training": {
        "Optimizer": {"Type": "Adam", "LearningRate": 0.01},
        "BatchSize": 32,
        "Epochs": 4,
        "Seed": 3,
    },
    "Evaluation": {"Metrics": ["RMSE", "MAE"]},
}


def write(tmp_path: Path, name: str, text: str) -> Path:
    """Write a config file into tmp_path and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def two_tower_layers(width: int) -> list[dict]:
    """The two-tower network (User/Item one-hot towers of ``width``, a DotProduct score
    predicting ``clicked``) on the DataSets ``user``, ``item`` and ``clicked``."""
    sparse = {"Kind": "Input", "N": "auto", "Sparse": True}
    return [
        {"Name": "User", **sparse, "DataSet": "user"},
        {"Name": "Item", **sparse, "DataSet": "item"},
        {"Name": "UserTower", "Source": "User", "N": width, "Activation": "Tanh"},
        {"Name": "ItemTower", "Source": "Item", "N": width, "Activation": "Tanh"},
        {
            "Name": "Score",
            "Kind": "Output",
            "Type": "Pooling",
            "Function": "DotProduct",
            "Source": ["UserTower", "ItemTower"],
            "Activation": "Sigmoid",
            "DataSet": "clicked",
        },
    ]


def readme_block(marker: str) -> list[str]:
    """The commands of the README's bash block that follows ``<!-- marker -->``."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(rf"<!-- {marker} -->\n```bash\n(.*?)```", text, re.S)
    assert block, f"README.md has no {marker} block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def run_netcfg_commands(commands: list[str], cwd: Path, **environment: str) -> None:
    """Run ``netcfg ...`` command lines as a user would (a new process each, in ``cwd``),
    asserting that each exits 0 without an internal error."""
    env = {**os.environ, **environment}
    for command in commands:
        words = shlex.split(command, comments=True)
        assert words[0] == "netcfg"
        done = subprocess.run(
            [sys.executable, "-m", "netcfg", *words[1:]],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, f"{command}\n{done.stderr}"
        assert "internal error" not in done.stderr
