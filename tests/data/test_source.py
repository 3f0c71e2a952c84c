"""Opening what a config's Data entry binds: datasets, splits, raw files, fetchable names."""

from __future__ import annotations

import pytest
from helpers import write

from netcfg.data.importer import import_file
from netcfg.data.source import open_source
from netcfg.data.spec import DataSourceSpec
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
