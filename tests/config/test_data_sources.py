"""A new data source replaces the old one, keeping its treatment (Orientation, Binarize...).

Issue 12: giving a source (Path, Fetch or Synthetic) by ``Extends``, ``--set`` or ``--data``
drops every inherited source key and keeps the inherited treatment keys; key-by-key
overrides without a source merge as before.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import write

from netcfg import ConfigError, load_config
from netcfg.data.spec import DATA_KEY_GROUPS, DataSourceSpec, FetchName, FoldName, Orientation
from netcfg.ensembles.load import ensemble_tree, load_ensemble
from netcfg.trainers.train import _load

ZOO = "zoo:deeprec-ml100k"  # Data.ratings: Fetch movielens-100k, Fold u1, Orientation Item


def _only_path(source: DataSourceSpec, path: Path, test: Path | None = None) -> None:
    assert source.Path == str(path) and source.Test == (str(test) if test else None)
    assert (source.Fetch, source.Fold, source.Synthetic) == (None, None, None)


def test_key_groups_cover_every_data_source_key_once():
    source, treatment = DATA_KEY_GROUPS["source"], DATA_KEY_GROUPS["treatment"]
    assert not source & treatment
    assert source | treatment == set(DataSourceSpec.model_fields)
    assert {"Path", "Fetch", "Synthetic", "Fold", "Test"} <= source
    assert {"Orientation", "Binarize", "SparseIgnoreZero"} <= treatment


def test_set_a_whole_source_keeps_the_orientation(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    value = json.dumps({"Path": "train.tsv", "Test": "test.tsv"})
    source = load_config(ZOO, [f"Data.ratings={value}"]).Data["ratings"]
    assert source.Orientation is Orientation.Item
    _only_path(source, tmp_path / "train.tsv", tmp_path / "test.tsv")


def test_set_the_path_shorthand_keeps_the_orientation(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = load_config(ZOO, ["Data.ratings=r.tsv"]).Data["ratings"]
    assert source.Orientation is Orientation.Item
    _only_path(source, tmp_path / "r.tsv")


def test_set_a_source_key_by_key_replaces_the_source(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = load_config(ZOO, ["Data.ratings.Path=r.tsv", "Data.ratings.Test=t.tsv"]).Data[
        "ratings"
    ]
    assert source.Orientation is Orientation.Item
    _only_path(source, tmp_path / "r.tsv", tmp_path / "t.tsv")


def test_key_by_key_overrides_without_a_source_merge():
    source = load_config(ZOO, ["Data.ratings.Fold=u2"]).Data["ratings"]
    assert (source.Fetch, source.Fold, source.Orientation) == (
        FetchName.movielens_100k,
        FoldName.u2,
        Orientation.Item,
    )
    source = load_config(ZOO, ["Data.ratings.Orientation=User"]).Data["ratings"]
    assert (source.Fetch, source.Fold, source.Orientation) == (
        FetchName.movielens_100k,
        FoldName.u1,
        Orientation.User,
    )


def test_a_new_source_may_give_its_own_treatment():
    value = json.dumps({"Path": "/d/r.tsv", "Orientation": "User", "Binarize": 4})
    source = load_config(ZOO, [f"Data.ratings={value}"]).Data["ratings"]
    assert (source.Orientation, source.Binarize, source.Path) == (Orientation.User, 4, "/d/r.tsv")


@pytest.mark.parametrize("entry", ["{Path: r.tsv}", "r.tsv"])
def test_extends_with_a_new_source(tmp_path, entry):
    config = write(tmp_path, "m.yaml", f"Extends: {ZOO}\nData: {{ratings: {entry}}}\n")
    source = load_config(config).Data["ratings"]
    assert source.Orientation is Orientation.Item
    _only_path(source, tmp_path / "r.tsv")


def test_extends_without_a_source_merges(tmp_path):
    config = write(tmp_path, "m.yaml", f"Extends: {ZOO}\nData: {{ratings: {{Fold: u3}}}}\n")
    source = load_config(config).Data["ratings"]
    assert (source.Fetch, source.Fold, source.Orientation) == (
        FetchName.movielens_100k,
        FoldName.u3,
        Orientation.Item,
    )


def test_an_inconsistent_source_is_reported_where_it_was_written(tmp_path):
    config = write(
        tmp_path,
        "m.yaml",
        f"Extends: {ZOO}\nName: x\nData:\n  ratings: {{Path: r.tsv, Fetch: movielens-1m}}\n",
    )
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert [str(i) for i in err.value.issues] == [
        f"{config}:4: Data.ratings: give exactly one of Path, Fetch and Synthetic"
    ]
    value = json.dumps({"Path": "/r.tsv", "Fold": "u1"})
    with pytest.raises(ConfigError) as err:
        load_config(ZOO, [f"Data.ratings={value}"])
    assert [str(i) for i in err.value.issues] == [
        f"--set Data.ratings={value}: Data.ratings: Fold needs Fetch: movielens-100k "
        "(its canonical splits)"
    ]


def test_train_data_argument_keeps_the_orientation(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = _load(ZOO, [], ["r.tsv"]).Data["ratings"]
    assert source.Orientation is Orientation.Item
    _only_path(source, tmp_path / "r.tsv")
    source = _load(ZOO, [], ["ratings=r2.tsv"]).Data["ratings"]
    assert source.Orientation is Orientation.Item
    _only_path(source, tmp_path / "r2.tsv")


def test_ensemble_set_keeps_each_members_orientation(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    value = json.dumps({"Path": "train.tsv", "Test": "test.tsv"})
    ensemble = load_ensemble(*ensemble_tree("zoo:ensemble-ml100k"), [f"Data.ratings={value}"])
    orientations = {m.name: m.spec.Data["ratings"].Orientation for m in ensemble.members}
    assert orientations == {
        "i-autorec": Orientation.Item,
        "i-deeprec": Orientation.Item,
        "u-deeprec": Orientation.User,
    }
    for member in ensemble.members:
        _only_path(member.spec.Data["ratings"], tmp_path / "train.tsv", tmp_path / "test.tsv")
