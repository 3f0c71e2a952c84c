"""What the hostile-input cases run against: two trained runs, a dataset, a split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import netcfg
from netcfg.cli import main
from netcfg.data.importer import import_file


def _ratings(path: Path, seed: int, users: int = 40, items: int = 20) -> Path:
    """user, item, rating, time lines: users 100.., items 1000.., every user rated."""
    rng = np.random.default_rng(seed)
    lines, time = [], 0
    for user in range(users):
        for item in rng.choice(items, size=5, replace=False):
            lines.append(f"{100 + user}\t{1000 + item}\t{rng.integers(1, 6)}\t{time}")
            time += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _config(train: Path, test: Path, orientation: str) -> dict:
    return {
        "ErrorFunction": "MaskedMSE",
        "Layers": [
            {"Name": "In", "Kind": "Input", "N": "auto", "DataSet": "ratings", "Sparse": True},
            {"Name": "H", "N": 4, "Activation": "Tanh"},
            {"Name": "Out", "Kind": "Output", "N": "auto", "DataSet": "ratings"},
        ],
        "Data": {"ratings": {"Path": str(train), "Test": str(test), "Orientation": orientation}},
        "Training": {"Optimizer": "Adam", "Epochs": 1, "BatchSize": 16, "Threads": 1},
    }


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> dict[str, str]:
    """Paths the cases name as ``{User}``, ``{Item}`` (trained runs), ``{dataset}``,
    ``{split}`` and ``{train}`` (the training file)."""
    root = tmp_path_factory.mktemp("hostile-world")
    train = _ratings(root / "train.tsv", 1)
    test = _ratings(root / "test.tsv", 2)
    paths = {"train": str(train)}
    for orientation in ("User", "Item"):
        netcfg.train(_config(train, test, orientation), out=root / orientation)
        paths[orientation] = str(root / orientation)
    import_file(train, root / "dataset")
    paths["dataset"] = str(root / "dataset")
    split = root / "split"
    assert main(["data", "split", str(train), "--protocol", "random", "-o", str(split)]) == 0
    paths["split"] = str(split)
    return paths
