"""Tiny configs with a search space, for the study tests."""

from __future__ import annotations

import pytest

TINY = """\
Name: tiny
Kind: AutoEncoder
ErrorFunction: MaskedMSE
Layers:
  - {Name: Input, Kind: Input, N: auto, DataSet: ratings, Sparse: true}
  - {Name: Hidden, N: 16, Activation: Sigmoid}
  - {Name: Output, Kind: Output, N: auto, DataSet: ratings, Sparse: true, Activation: Linear}
Data:
  ratings:
    Synthetic: {Users: 120, Items: 60, Density: 0.1, Seed: 0}
    Protocol: {Type: random, PerUser: true, Fractions: [0.8, 0.1, 0.1], Seed: 0}
Training:
  Optimizer: {Type: Adam, LearningRate: 0.01}
  BatchSize: 32
  Epochs: EPOCHS
  Threads: 1
Search:
  Layers.Hidden.N: {Type: Int, Low: 8, High: 32, Step: 8}
  Training.Optimizer.LearningRate: {Type: Float, Low: 0.001, High: 0.05, Log: true}
"""


@pytest.fixture(autouse=True)
def data_cache(tmp_path, monkeypatch):
    """Synthetic datasets are generated into a temporary cache."""
    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "cache"))


@pytest.fixture
def tiny_config(tmp_path):
    """Write the tiny searchable config with a number of epochs; returns its path."""

    def make(epochs: int = 3, name: str = "m.yaml"):
        path = tmp_path / name
        path.write_text(TINY.replace("EPOCHS", str(epochs)), encoding="utf-8")
        return path

    return make
