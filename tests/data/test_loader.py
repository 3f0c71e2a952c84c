"""The training iterator: every row once per epoch, reproducible shuffles, exact contents."""

from __future__ import annotations

import numpy as np
import pytest

from netcfg.data.ids import IdIndex
from netcfg.data.interactions import Interactions
from netcfg.data.loader import RowLoader


@pytest.fixture
def matrix():
    rng = np.random.default_rng(0)
    dense = np.where(rng.random((50, 30)) < 0.2, rng.integers(1, 6, (50, 30)), 0)
    dense[7] = 0  # an empty row is not served
    rows, cols = np.nonzero(dense)
    m, _ = Interactions.from_coo(
        rows,
        cols,
        dense[rows, cols].astype(np.float32),
        None,
        IdIndex(np.arange(50)),
        IdIndex(np.arange(30)),
    )
    return m, dense


def _served(loader):
    batches = list(loader)
    return batches, np.concatenate([b["x"].to_dense().numpy() for b in batches])


def test_each_nonempty_row_once_per_epoch(matrix):
    m, dense = matrix
    loader = RowLoader({"x": m}, batch_size=8, seed=1)
    batches, served = _served(loader)
    assert len(batches) == len(loader) == 7  # 49 rows
    assert sorted(map(tuple, served.tolist())) == sorted(
        map(tuple, dense[np.flatnonzero(dense.any(1))].tolist())
    )
    assert [b["x"].batch_size for b in batches] == [8] * 6 + [1]


def test_shuffles_are_reproducible_and_change_with_epochs(matrix):
    m, _ = matrix
    first = RowLoader({"x": m}, 10, seed=4).order()
    assert np.array_equal(first, RowLoader({"x": m}, 10, seed=4).order())
    loader = RowLoader({"x": m}, 10, seed=4)
    loader.set_epoch(1)
    assert not np.array_equal(first, loader.order())
    assert np.array_equal(
        RowLoader({"x": m}, 10, shuffle=False).order(), np.flatnonzero(m.row_counts() > 0)
    )


def test_aligned_matrices_and_drop_last(matrix):
    m, dense = matrix
    other = m.with_values(m.values * 2)
    loader = RowLoader({"x": m, "y": other, "z": m}, 16, seed=0, drop_last=True)
    batches = list(loader)
    assert len(batches) == 3
    for batch in batches:
        assert batch["x"] is batch["z"]  # one matrix named twice is cut once
        np.testing.assert_array_equal(
            batch["y"].to_dense().numpy(), 2 * batch["x"].to_dense().numpy()
        )
    with pytest.raises(ValueError, match="different numbers of rows"):
        RowLoader({"x": m, "t": m.transpose()}, 4)
