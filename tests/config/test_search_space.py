"""Search spaces beyond one file: inherited through Extends, an ensemble's member weights,
and ``--space`` files replacing a config's Search."""

from __future__ import annotations

import json

import pytest
from helpers import write
from test_search import EVERY_KIND, NETWORK, search_section

from netcfg import ConfigError, load_config
from netcfg.cli import main
from netcfg.ensembles.load import ensemble_tree, load_ensemble
from netcfg.errors import format_path
from netcfg.experiments.spec import CategoricalParameter, FloatParameter, IntParameter


def test_extending_config_adds_to_the_inheritedsearch_section(tmp_path):
    base = search_section(["Layers.Hidden.N: [64, 128]", "Training.BatchSize: [32]"])
    write(tmp_path, "base.yaml", NETWORK + base)
    child = "Extends: base.yaml\nSearch:\n  Training.BatchSize: [16, 32]\n  Training.Epochs: [2]\n"
    spec = load_config(write(tmp_path, "child.yaml", child))
    assert spec.Search == {
        "Layers.Hidden.N": CategoricalParameter(Choices=(64, 128)),
        "Training.BatchSize": CategoricalParameter(Choices=(16, 32)),
        "Training.Epochs": CategoricalParameter(Choices=(2,)),
    }
    assert load_config(tmp_path / "child.yaml", ["Search={}"]).Search == {}


ENSEMBLE = """\
Kind: Ensemble
Members:
  - {Name: items, Network: model.yaml}
  - {Name: users, Network: model.yaml, Set: [Training.Epochs=2]}
"""


def _ensemble(tmp_path, entries: list[str], space=None):
    write(tmp_path, "model.yaml", NETWORK)
    config = write(tmp_path, "ensemble.yaml", ENSEMBLE + search_section(entries))
    return load_ensemble(*ensemble_tree(config), space=space)


def test_ensemble_searches_member_weights(tmp_path):
    entries = [
        "members.items.weight: {Type: Float, Low: 0.1, High: 1}",
        "Members.-1.Weight: [1, 2]",
    ]
    assert _ensemble(tmp_path, entries).spec.Search == {
        "Members.0.Weight": FloatParameter(Low=0.1, High=1.0),
        "Members.1.Weight": CategoricalParameter(Choices=(1, 2)),
    }


def test_ensemble_search_problems(tmp_path):
    entries = [
        "Layers.Hidden.N: [64, 128]",
        "Members.0.Network: [a.yaml, b.yaml]",
        "Members.itemz.Weight: [1, 2]",
        "Members.1.Weight: {Type: Float, Low: 0, High: 1}",
    ]
    with pytest.raises(ConfigError) as caught:
        _ensemble(tmp_path, entries)
    weights_only = (
        "an ensemble's search covers member weights (Members.<index or name>.Weight); a "
        "member's network is tuned from its own config"
    )
    assert [(i.location.line, format_path(i.path), i.message) for i in caught.value.issues] == [
        (6, "Search.Layers.Hidden.N", weights_only),
        (7, "Search.Members.0.Network", weights_only),
        (8, "Search.Members.itemz.Weight", "no member named 'itemz'; did you mean 'items'?"),
        (
            9,
            "Search.Members.1.Weight",
            "Low 0.0 is not a valid value: must be greater than 0 (got 0.0)",
        ),
    ]


SPACE = """\
# the space searched
Layers.Hidden.N: {Type: Int, Low: 16, High: 64}
Training.Optimizer.LearningRate: {Type: Float, Low: 0.001, High: 0.1, Log: true}
"""


def test_space_file_replaces_thesearch_section(tmp_path):
    config = write(tmp_path, "model.yaml", NETWORK + EVERY_KIND)
    assert load_config(config, space=write(tmp_path, "space.yaml", SPACE)).Search == {
        "Layers.Hidden.N": IntParameter(Low=16, High=64),
        "Training.Optimizer.LearningRate": FloatParameter(Low=0.001, High=0.1, Log=True),
    }
    space = write(tmp_path, "space.json", json.dumps({"Search": {"layers.1.n": [32, 64]}}))
    assert load_config(config, space=space).Search == {
        "Layers.Hidden.N": CategoricalParameter(Choices=(32, 64))
    }
    space = write(tmp_path, "weights.yaml", "Search:\n  Members.users.Weight: [1, 3]\n")
    assert _ensemble(tmp_path, ["Members.0.Weight: [1]"], space).spec.Search == {
        "Members.1.Weight": CategoricalParameter(Choices=(1, 3))
    }


def test_space_file_problems_cite_the_space_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "model.yaml", NETWORK + EVERY_KIND)
    space = (
        SPACE.replace("Log: true", "Log: true, Step: 0.01") + "Layers.Hidden.Activaton: [Tanh]\n"
    )
    write(tmp_path, "space.yaml", space)
    assert main(["validate", "model.yaml", "--space", "space.yaml"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "space.yaml:3: Search.Training.Optimizer.LearningRate: Log and Step cannot be "
        "combined (Optuna forbids it); drop one\n"
        "space.yaml:4: Search.Layers.Hidden.Activaton: unknown key 'Activaton'; did you mean "
        "'Activation'?\n"
    )


def test_space_file_with_search_and_other_keys(tmp_path):
    config = write(tmp_path, "model.yaml", NETWORK)
    space = write(tmp_path, "space.yaml", "Training.Epochs: [1]\nSearch:\n  Training.Epochs: [2]\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config, space=space)
    assert [str(issue) for issue in caught.value.issues] == [
        f"{space}:2: a space file holds a Search key alone, or only paths"
    ]
