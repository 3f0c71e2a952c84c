"""Acceptance on MovieLens 100K u1.base/u1.test (about 30 s together on 2 cores)."""

from __future__ import annotations

import pytest
from helpers import EXAMPLES, ML100K

import netcfg

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (ML100K / "u1.base").is_file(), reason="MovieLens 100K not found"),
]


def test_deeprec_user_based_autoencoder(tmp_path):
    result = netcfg.train(EXAMPLES / "ml100k-deeprec.yaml", out=tmp_path / "run")
    assert result.test["RMSE"] <= 0.95


def test_item_based_autorec(tmp_path):
    result = netcfg.train(EXAMPLES / "ml100k-autorec.yaml", out=tmp_path / "run")
    assert result.test["RMSE"] <= 0.92
