"""Small configs and data for trainer tests."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
ML100K = REPO.parent / "shared" / "data" / "ml-100k"

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


@pytest.fixture(autouse=True)
def data_cache(tmp_path, monkeypatch):
    """Synthetic datasets are generated into a temporary cache."""
    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "cache"))


@pytest.fixture
def tiny():
    """A fresh copy of a tiny autoencoder config on synthetic ratings."""
    return copy.deepcopy(TINY)
