"""Loading whole configs: DSSTNE's samples verbatim, spellings, defaults, render round trip."""

from __future__ import annotations

import json

import pytest
from helpers import EXAMPLES, REPO, write
from pydantic import ValidationError

from netcfg import ConfigError, load_config, validate_config
from netcfg.config.render import render_config
from netcfg.ensembles.load import ensemble_tree
from netcfg.layers.activations import SELU_ALPHA, ActivationKind
from netcfg.layers.common import LayerKind, WeightInitScheme
from netcfg.networks.losses import ErrorFunctionKind

DSSTNE = sorted((EXAMPLES / "dsstne").glob("*.json"))
ALL_CONFIGS = sorted(
    p
    for pattern in (
        "examples/**/*.json",
        "examples/**/*.yaml",
        "zoo/*/model.json",
        "zoo/*/model.yaml",
        "tests/fixtures/good/*",
    )
    for p in REPO.glob(pattern)
)
NETWORK_CONFIGS = [p for p in ALL_CONFIGS if ensemble_tree(p) is None]
"""The repository's configs of one network (the others are ensembles of them)."""


@pytest.mark.parametrize("path", DSSTNE, ids=lambda p: p.name)
def test_dsstne_samples_load_unchanged(path):
    spec = load_config(path)
    raw = json.loads(path.read_text())
    assert [layer.Name for layer in spec.Layers] == [layer["Name"] for layer in raw["Layers"]]
    assert spec.ErrorFunction.value == raw["ErrorFunction"]


def test_movielens_sample_values():
    spec = load_config(EXAMPLES / "dsstne" / "movielens.json")
    assert spec.Version == 0.7 and spec.ShuffleIndices is False
    assert (spec.SparsenessPenalty.p, spec.SparsenessPenalty.beta) == (0.5, 2.0)
    assert spec.Denoising.p == 0.2
    assert spec.ScaledMarginalCrossEntropy.oneTarget == 1.0
    hidden = spec.layer("Hidden")
    assert hidden.Source == ("Input",) and hidden.Activation is ActivationKind.Sigmoid
    assert hidden.WeightInit.Scheme is WeightInitScheme.Xavier


def test_specs_are_frozen():
    spec = load_config(EXAMPLES / "dsstne" / "movielens.json")
    with pytest.raises(ValidationError):
        spec.Name = "changed"
    with pytest.raises(ValidationError):
        spec.Layers[1].N = 3


def test_keys_and_values_are_case_insensitive_with_aliases():
    spec = validate_config(
        {
            "errorfunction": "cross entropy",
            "slope": 0.25,
            "lrn": {"k": 3},
            "datascaledmarginalcrossentropy": {"onescale": 30},
            "layers": [
                {"kind": "INPUT", "n": "AUTO", "dataset": "d", "sparse": True},
                {"n": 8, "activation": "rectifiedlinear", "weightinit": {"scheme": "caffexavier"}},
                {"kind": "output", "n": 5, "dataset": "d", "activation": "SIGMOID"},
            ],
        }
    )
    assert spec.ErrorFunction is ErrorFunctionKind.CrossEntropy
    assert spec.LocalResponseNormalization.k == 3 and spec.ScaledMarginalCrossEntropy.oneScale == 30
    assert spec.Layers[0].N == "auto"
    assert spec.Layers[1].Activation is ActivationKind.Relu
    assert spec.Layers[1].RELUSlope == 0.25  # inherited from the network's Slope
    assert spec.Layers[1].WeightInit.Scheme is WeightInitScheme.CaffeXavier


def test_positional_defaults():
    spec = validate_config(
        {
            "Layers": [
                {"N": 4, "DataSet": "x"},
                {"N": 3, "Activation": "Selu"},
                {"N": 2, "Activation": "Elu"},
                {"N": 4, "DataSet": "x"},
            ],
            "ErrorFunction": "L2",
        }
    )
    assert [layer.Kind for layer in spec.Layers] == [
        LayerKind.Input,
        LayerKind.Hidden,
        LayerKind.Hidden,
        LayerKind.Output,
    ]
    assert [layer.Name for layer in spec.Layers] == ["Input0", "Hidden1", "Hidden2", "Output3"]
    assert spec.Layers[2].Source == ("Hidden1",)
    # Selu without ELUAlpha anywhere is the self-normalizing SELU; Elu keeps DSSTNE's 1.0
    assert spec.Layers[1].ELUAlpha == SELU_ALPHA and spec.Layers[2].ELUAlpha == 1.0


def test_network_elu_alpha_wins_over_the_selu_constant():
    spec = validate_config(
        {
            "ELUAlpha": 1.5,
            "ErrorFunction": "L2",
            "Layers": [
                {"N": 4, "DataSet": "x"},
                {"N": 3, "Activation": "Selu"},
                {"N": 4, "DataSet": "x"},
            ],
        }
    )
    assert spec.Layers[1].ELUAlpha == 1.5


def test_single_layer_object_is_accepted():
    with pytest.raises(ConfigError) as err:
        validate_config({"Layers": {"N": 4, "DataSet": "x"}})
    assert [i.message for i in err.value.issues] == ["the network has no Output layer"]


def test_all_problems_are_reported_at_once(tmp_path):
    path = write(
        tmp_path,
        "m.json",
        json.dumps(
            {
                "Layers": [
                    {"N": "auto", "DataSet": "x", "Spars": True},
                    {"N": 0, "Activation": "Sigmod"},
                    {"N": "auto", "DataSet": "x"},
                ],
                "Training": {"Epochs": -1},
            },
            indent=1,
        ),
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert [str(i) for i in err.value.issues] == [
        f"{path}:6: Layers[0].Spars: unknown key 'Spars'; did you mean 'Sparse'?",
        f"{path}:9: Layers[1].N: must be a positive integer, a list of 1 to 4 positive "
        'integers, or "auto" (got 0)',
        f"{path}:10: Layers[1].Activation: unknown Activation 'Sigmod'; did you mean 'Sigmoid'?",
        f"{path}:18: Training.Epochs: must be greater than or equal to 1 (got -1)",
    ]


def test_misplaced_key_names_its_home():
    with pytest.raises(ConfigError) as err:
        validate_config({"Training": {"LearningRate": 0.1}, "Layers": []})
    assert err.value.issues[0].message == (
        "unknown key 'LearningRate'; it belongs under 'Optimizer.LearningRate'"
    )


def test_relative_data_paths_follow_the_config_file(tmp_path):
    sub = tmp_path / "configs"
    sub.mkdir()
    path = write(
        sub,
        "m.yaml",
        "ErrorFunction: L2\nData: {x: ../data/ratings.tsv, "
        "y: {Path: /abs/r.tsv, Orientation: item}}\nLayers:\n"
        "  - {N: 3, DataSet: x}\n  - {N: 3, DataSet: y}\n",
    )
    spec = load_config(path)
    assert spec.Data["x"].Path == str(sub / "../data/ratings.tsv")
    assert spec.Data["y"].Path == "/abs/r.tsv" and spec.Data["y"].Orientation.value == "Item"


@pytest.mark.parametrize("path", NETWORK_CONFIGS, ids=lambda p: str(p.relative_to(REPO)))
def test_render_round_trip(path, tmp_path):
    spec = load_config(path)
    rendered = render_config(spec)
    again = load_config(write(tmp_path, "rendered.json", json.dumps(rendered)))
    assert again == spec
    assert "Extends" not in rendered


def test_repository_holds_configs_to_round_trip():
    assert len(ALL_CONFIGS) >= 6


def test_keys_that_do_not_apply_to_the_kind_by_position():
    with pytest.raises(ConfigError) as err:
        validate_config(
            {
                "ErrorFunction": "L2",
                "Layers": [
                    {"N": 3, "DataSet": "x", "Activation": "Relu"},
                    {"N": 3, "DataSet": "x"},
                ],
            }
        )
    assert [f"{i.path}: {i.message}" for i in err.value.issues] == [
        "('Layers', 0, 'Activation'): key 'Activation' does not apply to Input layers"
    ]
