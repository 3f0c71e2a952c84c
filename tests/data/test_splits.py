"""Split protocols against their definitions, on MovieLens 100K and on small matrices."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import ML100K

from netcfg.data import transforms
from netcfg.data.importer import import_file
from netcfg.data.readers import read_interactions
from netcfg.data.split_store import load_split, save_split
from netcfg.data.splits import (
    split_files,
    split_heldout_users,
    split_leave_last_out,
    split_random,
    split_temporal,
    split_user_temporal,
)
from netcfg.errors import DataError


@pytest.fixture(scope="module")
def ratings():
    if not (ML100K / "u.data").is_file():
        pytest.skip("MovieLens 100K not found")
    return import_file(ML100K / "u.data")


def _pairs(matrix):
    return set(zip(matrix.row_of_entries().tolist(), matrix.indices.tolist(), strict=True))


def _check_partition(matrix, split):
    """Parts are disjoint, within the data, and share the ids."""
    seen = set()
    for part in split.parts.values():
        assert part.rows == matrix.rows and part.columns == matrix.columns
        pairs = _pairs(part)
        assert not pairs & seen
        seen |= pairs
    assert seen <= _pairs(matrix)
    dropped = sum(d["unseen_users"] + d["unseen_items"] for d in split.meta["dropped"].values())
    assert len(seen) + dropped == matrix.nnz or split.meta["protocol"] == "temporal"


def test_given_files_u1(ml100k):
    train = import_file(ml100k / "u1.base")
    split = split_files(train, {"test": read_interactions(ml100k / "u1.test")})
    assert split.train.nnz == 80000
    test_items = {line.split("\t")[1] for line in (ml100k / "u1.test").read_text().splitlines()}
    train_items = {str(i) for i in train.columns.ids.tolist()}
    unseen = [
        line
        for line in (ml100k / "u1.test").read_text().splitlines()
        if line.split("\t")[1] not in train_items
    ]
    assert split.meta["dropped"]["test"] == {"unseen_users": 0, "unseen_items": len(unseen)}
    assert split.parts["test"].nnz == 20000 - len(unseen)
    assert len(test_items - train_items) > 0
    # the test part is indexed by the train ids: user 1's test ratings, read independently
    user1 = {
        (int(i), float(r))
        for u, i, r, _ in (
            line.split("\t") for line in (ml100k / "u1.test").read_text().splitlines()
        )
        if u == "1"
    }
    test = split.parts["test"]
    row = train.rows.position(1)
    got = zip(
        train.columns.ids[test.indices[test.indptr[row] : test.indptr[row + 1]]].tolist(),
        test.values[test.indptr[row] : test.indptr[row + 1]].tolist(),
        strict=True,
    )
    assert set(got) == user1


def test_random_fractions_and_seed(ratings):
    split = split_random(ratings, (0.8, 0.1, 0.1), seed=3)
    _check_partition(ratings, split)
    assert abs(split.train.nnz - 80000) < 600 and abs(split.parts["test"].nnz - 10000) < 400
    again = split_random(ratings, (0.8, 0.1, 0.1), seed=3)
    assert all(again.parts[k] == split.parts[k] for k in split.parts)
    assert split_random(ratings, (0.8, 0.1, 0.1), seed=4).train != split.train


def test_per_user_random_keeps_each_users_share(ratings):
    positives = transforms.binarize(ratings, 4)
    assert positives.values is None and positives.nnz == 34174 + 21201
    split = split_random(positives, (0.8, 0.0, 0.2), seed=0, per_user=True)
    assert set(split.parts) == {"train", "test"}
    counts = positives.row_counts()
    test = split.parts["test"].row_counts()  # dropped unseen items aside: about 20% each
    big = counts >= 10
    share = test[big] / counts[big]
    assert np.all(np.abs(share - 0.2) <= 0.1)


def test_temporal_cut(ratings):
    split = split_temporal(ratings, cut_fraction=0.8, seed=0)
    cut = split.meta["params"]["cut_time"]
    assert split.train.times.max() < cut
    for name in ("validation", "test"):
        part = split.parts[name]
        assert part.times.min() >= cut
        assert set(np.flatnonzero(part.row_counts())) <= set(
            np.flatnonzero(split.train.row_counts())
        )
    validation_users = set(np.flatnonzero(split.parts["validation"].row_counts()))
    assert not validation_users & set(np.flatnonzero(split.parts["test"].row_counts()))


def test_user_temporal_and_leave_last_out(ratings):
    split = split_user_temporal(ratings, train_fraction=0.7)
    _check_partition(ratings, split)
    rows = split.train.row_of_entries()
    latest_train = np.zeros(ratings.shape[0], dtype=np.int64)
    np.maximum.at(latest_train, rows, split.train.times)
    for name in ("validation", "test"):
        part = split.parts[name]
        assert np.all(part.times >= latest_train[part.row_of_entries()])
    last = split_leave_last_out(ratings)
    _check_partition(ratings, last)
    assert last.parts["test"].row_counts().max() == 1
    assert last.parts["test"].nnz + last.meta["dropped"]["test"]["unseen_items"] == 943
    test = last.parts["test"]
    newest = np.zeros(ratings.shape[0], dtype=np.int64)
    np.maximum.at(newest, ratings.row_of_entries(), ratings.times)
    assert np.all(test.times == newest[test.row_of_entries()])


def test_heldout_users(ratings):
    split = split_heldout_users(ratings, 50, fold_in=0.8, seed=1)
    train_users = set(np.flatnonzero(split.train.row_counts()))
    for name in ("validation", "test"):
        users = set(np.flatnonzero(split.parts[name].row_counts()))
        inputs = set(np.flatnonzero(split.parts[f"{name}_input"].row_counts()))
        assert len(inputs) == 50 and users <= inputs and not inputs & train_users
        seen = split.train.column_counts() > 0
        assert seen[split.parts[name].indices].all()
    with pytest.raises(DataError, match="cannot hold out"):
        split_heldout_users(ratings, 500)


def test_split_directories_round_trip(ratings, tmp_path):
    split = split_random(ratings, (0.7, 0.1, 0.2), seed=0)
    save_split(split, tmp_path / "s", orientation="item")
    loaded = load_split(tmp_path / "s")
    assert loaded.parts["test"] == split.parts["test"].transpose()
    assert load_split(tmp_path / "s", orientation="user").parts["train"] == split.train
    assert loaded.meta["counts"] == split.meta["counts"]


def test_temporal_needs_timestamps(ratings):
    with pytest.raises(DataError, match="needs timestamps"):
        split_leave_last_out(ratings.__class__(**{**ratings.__dict__, "times": None}))


def test_transforms(ratings):
    logged = transforms.log1p(ratings)
    np.testing.assert_allclose(logged.values, np.log1p(ratings.values))
    filtered = transforms.min_counts(ratings, rows=100, columns=50)
    assert filtered.shape == ratings.shape
    assert (filtered.column_counts()[filtered.column_counts() > 0] >= 1).all()
    assert ((filtered.row_counts() == 0) | (filtered.row_counts() >= 100)).all()
