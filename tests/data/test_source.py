"""Opening what a config's Data entry binds: datasets, splits, raw files, fetchable names."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import write
from pydantic import ValidationError

from netcfg.data.fetch import seed_cache
from netcfg.data.importer import import_file
from netcfg.data.source import open_source
from netcfg.data.spec import DataSourceSpec, FoldName
from netcfg.data.split_store import save_split
from netcfg.data.splits import split_random
from netcfg.errors import DataError

RATINGS = "1\t10\t5\t1\n1\t20\t3\t2\n2\t10\t4\t3\n3\t30\t1\t4\n2\t30\t2\t5\n"


def test_raw_file_dataset_and_orientation(tmp_path):
    path = write(tmp_path, "r.tsv", RATINGS)
    users = open_source(DataSourceSpec(Path=str(path), Format="tsv"))
    assert list(users.parts) == ["train"] and users.train.shape == (3, 3)
    import_file(path, tmp_path / "d")
    items = open_source(DataSourceSpec(Path=str(tmp_path / "d"), Orientation="Item"))
    assert items.train.shape == (3, 3) and items.train.orientation == "item"
    assert items.train.rows.ids.tolist() == [10, 20, 30]


def test_split_directory_and_part_selection(tmp_path):
    matrix = import_file(write(tmp_path, "r.tsv", RATINGS))
    save_split(split_random(matrix, (0.6, 0.0, 0.4), seed=1), tmp_path / "s")
    split = open_source(DataSourceSpec(Path=str(tmp_path / "s")))
    assert set(split.parts) == {"train", "test"}
    test_only = open_source(DataSourceSpec(Path=str(tmp_path / "s"), Split="test"))
    assert test_only.train == split.parts["test"]
    with pytest.raises(DataError, match="the split has no part 'validation'"):
        open_source(DataSourceSpec(Path=str(tmp_path / "s"), Split="validation"))


def test_fetchable_names_use_the_cache(tmp_path, monkeypatch):
    import_file(write(tmp_path, "r.tsv", RATINGS), tmp_path / "cached")
    calls = []

    def fake_fetch(name):
        calls.append(name.value)
        return tmp_path / "cached"

    monkeypatch.setattr("netcfg.data.fetch.fetch", fake_fetch)
    split = open_source(DataSourceSpec(Fetch="movielens-100k"))
    assert calls == ["movielens-100k"] and split.train.nnz == 5


def test_missing_paths(tmp_path):
    with pytest.raises(DataError, match="no such file or directory"):
        open_source(DataSourceSpec(Path=str(tmp_path / "nope")))


def seeded_folds(tmp_path, monkeypatch):
    """A cache seeded from a hand-written ml-100k folder with a u1 fold."""
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    write(folder, "u.data", RATINGS)
    write(folder, "u1.base", "1\t10\t5\t1\n1\t20\t3\t2\n2\t10\t4\t3\n")
    write(folder, "u1.test", "2\t20\t2\t5\n3\t10\t1\t4\n1\t30\t2\t6\n")
    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "cache"))
    seed_cache("movielens-100k", folder)


def test_fold_trains_on_base_and_tests_on_test(tmp_path, monkeypatch):
    seeded_folds(tmp_path, monkeypatch)
    split = open_source(DataSourceSpec(Fetch="movielens-100k", Fold="u1"))
    train, test = split.train, split.parts["test"]
    assert set(split.parts) == {"train", "test"}
    assert train.rows.ids.tolist() == [1, 2] and train.columns.ids.tolist() == [10, 20]
    assert train.nnz == 3 and train.values.tolist() == [5, 3, 4]
    # user 3 and item 30 are unknown to u1.base: dropped; (2, 20) is mapped through its ids
    assert test.nnz == 1 and (test.row_of_entries()[0], test.indices[0]) == (1, 1)
    assert split.meta["dropped"]["test"] == {"unseen_users": 1, "unseen_items": 1}
    items = open_source(DataSourceSpec(Fetch="movielens-100k", Fold="u1", Orientation="Item"))
    assert items.parts["test"] == test.transpose()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"Fetch": "movielens-1m"}, "Fold needs Fetch: movielens-100k"),
        ({"Path": "u1.base"}, "Fold needs Fetch: movielens-100k"),
        ({"Fetch": "movielens-100k", "Test": "u1.test"}, "a Fold is already a split"),
        ({"Fetch": "movielens-100k", "Validation": "v"}, "a Fold is already a split"),
        ({"Fetch": "movielens-100k", "Protocol": {"Type": "random"}}, "a Fold is already a split"),
    ],
)
def test_fold_refusals(fields, message):
    with pytest.raises(ValidationError, match=message):
        DataSourceSpec(Fold="u1", **fields)


def test_unknown_fold_names_a_close_match():
    with pytest.raises(ValidationError, match="unknown Fold 'u11'; did you mean 'u1'"):
        DataSourceSpec(Fetch="movielens-100k", Fold="u11")
    assert DataSourceSpec(Fetch="movielens-100k", Fold="UB").Fold is FoldName.ub


def implicit_source(path) -> DataSourceSpec:
    """The zoo's implicit protocol: ratings >= 4, each user's positives split 80/20."""
    protocol = {"Type": "random", "PerUser": True, "Fractions": [0.8, 0.0, 0.2], "Seed": 0}
    return DataSourceSpec(Path=str(path), Binarize=4, Protocol=protocol)


def test_implicit_protocol_splits_each_users_positives_80_20(tmp_path):
    lines = [f"1\t{item}\t{4 + item % 2}\t{item}\n" for item in range(10)]  # 10 positives
    lines += [f"1\t{item}\t{item % 4}\t{item}\n" for item in range(10, 14)]  # ratings < 4
    lines += [f"2\t{item}\t5\t{item}\n" for item in range(3, 8)]  # 5 positives
    lines += ["3\t0\t4\t1\n", "3\t1\t5\t2\n"]  # 2 positives: too few to hold one out
    lines += [f"{user}\t{item}\t5\t1\n" for user in (4, 5, 6) for item in range(10)]
    split = open_source(implicit_source(write(tmp_path, "r.tsv", "".join(lines))))
    train, test = split.train, split.parts["test"]
    assert set(split.parts) == {"train", "test"}
    assert train.values is None and test.values is None
    assert split.meta["dropped"]["test"] == {"unseen_users": 0, "unseen_items": 0}
    assert train.row_counts().tolist() == [8, 4, 2, 8, 8, 8]
    assert test.row_counts().tolist() == [2, 1, 0, 2, 2, 2]
    for user, positives in enumerate([set(range(10)), set(range(3, 8)), {0, 1}]):
        held = set(train.indices[train.indptr[user] : train.indptr[user + 1]].tolist())
        out = set(test.indices[test.indptr[user] : test.indptr[user + 1]].tolist())
        ids = {int(train.columns.ids[c]) for c in held | out}
        assert not held & out and ids == positives


def test_implicit_protocol_on_movielens(ml100k):
    split = open_source(implicit_source(ml100k / "u.data"))
    train, test = split.train, split.parts["test"]
    ratings = open_source(DataSourceSpec(Path=str(ml100k / "u.data"))).train
    positives = np.bincount(
        ratings.row_of_entries()[ratings.values >= 4], minlength=ratings.shape[0]
    )
    assert train.nnz + test.nnz + split.meta["dropped"]["test"]["unseen_items"] == 55_375
    assert np.array_equal(train.row_counts(), np.floor(0.8 * positives + 0.5).astype(int))
    assert split.meta["dropped"]["test"]["unseen_users"] == 0
    assert test.row_counts().sum() <= (positives - train.row_counts()).sum()
    again = open_source(implicit_source(ml100k / "u.data"))
    assert again.train == train and again.parts["test"] == test
