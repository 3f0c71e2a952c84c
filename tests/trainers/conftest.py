"""Fixtures of the trainer tests."""

from __future__ import annotations

import copy

import pytest
from helpers import TINY


@pytest.fixture(autouse=True)
def data_cache(tmp_path, monkeypatch):
    """Synthetic datasets are generated into a temporary cache."""
    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "cache"))


@pytest.fixture
def tiny():
    """A fresh copy of a tiny autoencoder config on synthetic ratings."""
    return copy.deepcopy(TINY)
