"""``Binarize`` with given Test/Validation files: their values are read and binarized as
the training file's are; really implicit data is refused naming the file and the key."""

from __future__ import annotations

import json

import numpy as np
import pytest

from netcfg.data.source import open_source
from netcfg.data.spec import DataSourceSpec
from netcfg.errors import DataError


def _ratings(path, seed: int, users: int = 30, items: int = 20, values: bool = True):
    """Random ratings 1..5 as TSV; returns the (user, item, value) triples written."""
    rng = np.random.default_rng(seed)
    pairs = rng.choice(users * items, users * items // 3, replace=False)
    ratings = rng.integers(1, 6, len(pairs))
    triples = [
        (int(p // items), int(p % items), int(r)) for p, r in zip(pairs, ratings, strict=True)
    ]
    lines = [f"{u}\t{i}\t{r}" if values else f"{u}\t{i}" for u, i, r in triples]
    path.write_text("\n".join(lines) + "\n")
    return triples


def _positives(triples, threshold, known_users, known_items):
    return {
        (u, i) for u, i, r in triples if r >= threshold and u in known_users and i in known_items
    }


def _entries(part) -> set:
    rows = part.rows.ids[part.row_of_entries()]
    columns = part.columns.ids[np.asarray(part.indices)]
    return set(zip(rows.tolist(), columns.tolist(), strict=True))


def test_given_files_are_binarized_like_the_training_file(tmp_path):
    train = _ratings(tmp_path / "train.tsv", 0)
    test = _ratings(tmp_path / "test.tsv", 1)
    validation = _ratings(tmp_path / "validation.tsv", 2)
    source = DataSourceSpec(
        Path=str(tmp_path / "train.tsv"),
        Test=str(tmp_path / "test.tsv"),
        Validation=str(tmp_path / "validation.tsv"),
        Binarize=4,
    )
    split = open_source(source)
    users = {u for u, _, _ in train}
    items = {i for _, i, _ in train}
    assert split.train.values is None and _entries(split.train) == _positives(
        train, 4, users, items
    )
    for name, triples in (("test", test), ("validation", validation)):
        part = split.parts[name]
        assert part.values is None
        expected = _positives(triples, 4, users, items)
        assert part.nnz == len(expected) and _entries(part) == expected
    # the same count as a plain numpy count over the test file
    raw = np.loadtxt(tmp_path / "test.tsv", dtype=np.int64)
    known = np.isin(raw[:, 0], list(users)) & np.isin(raw[:, 1], list(items))
    assert split.parts["test"].nnz == int(((raw[:, 2] >= 4) & known).sum())


def test_item_orientation_and_transform_keep_working(tmp_path):
    _ratings(tmp_path / "train.tsv", 0)
    test = _ratings(tmp_path / "test.tsv", 1)
    source = DataSourceSpec(
        Path=str(tmp_path / "train.tsv"), Test=str(tmp_path / "test.tsv"), Transform="log1p"
    )
    split = open_source(source)
    assert split.parts["test"].values is not None
    assert np.allclose(
        np.sort(split.parts["test"].values),
        np.sort(np.log1p([r for u, i, r in test if (u, i) in _entries(split.parts["test"])])),
    )
    flipped = open_source(
        DataSourceSpec(
            Path=str(tmp_path / "train.tsv"),
            Test=str(tmp_path / "test.tsv"),
            Binarize=3,
            Orientation="Item",
        )
    )
    assert flipped.parts["test"].orientation == "item" and flipped.parts["test"].values is None


def test_implicit_test_file_is_named(tmp_path):
    _ratings(tmp_path / "train.tsv", 0)
    _ratings(tmp_path / "test.tsv", 1, values=False)
    source = DataSourceSpec(
        Path=str(tmp_path / "train.tsv"), Test=str(tmp_path / "test.tsv"), Binarize=4
    )
    with pytest.raises(DataError) as caught:
        open_source(source, name="ratings")
    message = str(caught.value)
    assert str(tmp_path / "test.tsv") in message and "Data.ratings.Binarize" in message
    assert caught.value.location is not None


def test_implicit_training_file_is_named(tmp_path):
    _ratings(tmp_path / "train.tsv", 0, values=False)
    source = DataSourceSpec(Path=str(tmp_path / "train.tsv"), Binarize=4)
    with pytest.raises(DataError, match=r"train\.tsv.*Data\.plays\.Binarize"):
        open_source(source, name="plays")
    with pytest.raises(DataError, match=r"Data\.<DataSet>\.Binarize"):
        open_source(source)


def test_training_through_train(tmp_path):
    from netcfg.trainers.train import train

    train_triples = _ratings(tmp_path / "train.tsv", 0)
    test_triples = _ratings(tmp_path / "test.tsv", 1)
    config = {
        "ErrorFunction": "ScaledMarginalCrossEntropy",
        "Layers": [
            {"Name": "In", "Kind": "Input", "N": "auto", "DataSet": "r", "Sparse": True},
            {"Name": "H", "N": 4, "Activation": "Sigmoid"},
            {"Name": "Out", "Kind": "Output", "N": "auto", "DataSet": "r", "Activation": "Sigmoid"},
        ],
        "Data": {
            "r": {
                "Path": str(tmp_path / "train.tsv"),
                "Test": str(tmp_path / "test.tsv"),
                "Binarize": 4,
            }
        },
        "Training": {"Epochs": 1, "BatchSize": 8, "Optimizer": "Adam"},
    }
    result = train(config, out=tmp_path / "run", progress=False)
    run = json.loads((result.run_dir / "run.json").read_text())
    users = {u for u, _, _ in train_triples}
    items = {i for _, i, _ in train_triples}
    parts = run["datasets"]["r"]["parts"]
    assert parts["test"] == len(_positives(test_triples, 4, users, items))
    held_out = parts.get("validation", 0)  # a validation part may be cut from train
    assert parts["train"] + held_out == len(_positives(train_triples, 4, users, items))


def test_unseen_entries_of_given_files_are_binarized_too(tmp_path):
    _ratings(tmp_path / "train.tsv", 0)
    triples = _ratings(tmp_path / "test.tsv", 1)
    extra = [(999, 1, 5), (999, 2, 2), (3, 777, 4), (3, 778, 1)]  # unknown user / items
    lines = [f"{u}\t{i}\t{r}" for u, i, r in triples + extra]
    (tmp_path / "test.tsv").write_text("\n".join(lines) + "\n")
    source = DataSourceSpec(
        Path=str(tmp_path / "train.tsv"), Test=str(tmp_path / "test.tsv"), Binarize=4
    )
    unseen = open_source(source).unseen["test"]
    assert len(unseen) == 2 and unseen.values is None
