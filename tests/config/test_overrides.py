"""``--set`` overrides: paths by name or index, value parsing, and errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import EXAMPLES

from netcfg import ConfigError, load_config
from netcfg.config.overrides import parse_value
from netcfg.trainers.optimizer_spec import AdamSpec

MOVIELENS = EXAMPLES / "dsstne" / "movielens.json"


@pytest.mark.parametrize(
    "text, value",
    [
        ("256", 256),
        ("0.005", 0.005),
        ("1e-3", 0.001),
        ("true", True),
        ("auto", "auto"),
        ("Sigmoid", "Sigmoid"),
        ("[1, 2]", [1, 2]),
        ('{"p": 0.2}', {"p": 0.2}),
        ("", ""),
        ("null", None),
        ("a b", "a b"),
    ],
)
def test_parse_value(text, value):
    assert parse_value(text) == value


def test_layers_by_name_index_and_case():
    spec = load_config(
        MOVIELENS,
        [
            "Layers.Hidden.N=256",
            "layers.-1.n=1682",
            "Layers.input.N=1682",
            "Layers.1.activation=tanh",
        ],
    )
    assert spec.layer("Hidden").N == 256 and spec.layer("Hidden").Activation.value == "Tanh"
    assert spec.layer("Output").N == 1682 and spec.layer("Input").N == 1682


def test_nested_sections_are_created_and_aliases_resolve():
    spec = load_config(
        MOVIELENS,
        [
            "Training.Optimizer.Type=Adam",
            "Training.Optimizer.Alpha=0.005",
            "Training.MiniBatch=64",
            "Data.gl_input=ratings.tsv",
            "Data.gl_output.Path=r.tsv",
        ],
    )
    assert isinstance(spec.Training.Optimizer, AdamSpec)
    assert spec.Training.Optimizer.LearningRate == 0.005 and spec.Training.BatchSize == 64
    assert spec.Data["gl_input"].Path == str(Path.cwd() / "ratings.tsv")
    assert spec.Data["gl_output"].Path == str(Path.cwd() / "r.tsv")


def test_a_shorthand_is_expanded_when_a_path_reaches_inside(tmp_path):
    config = tmp_path / "m.yaml"
    config.write_text(
        MOVIELENS.read_text().replace('"Layers"', '"Training": {"Optimizer": "Adam"}, "Layers"')
    )
    spec = load_config(config, ["Training.Optimizer.Beta1=0.5"])
    assert isinstance(spec.Training.Optimizer, AdamSpec) and spec.Training.Optimizer.Beta1 == 0.5


def test_override_values_are_validated_and_located():
    with pytest.raises(ConfigError) as err:
        load_config(MOVIELENS, ["Layers.Hidden.pDropout=1.5", "Denoising.p=x"])
    assert sorted(str(i) for i in err.value.issues) == [
        '--set Denoising.p=x: Denoising.p: must be a valid number (got "x")',
        "--set Layers.Hidden.pDropout=1.5: Layers[1].pDropout: must be less than 1 (got 1.5)",
    ]


@pytest.mark.parametrize(
    "override, message",
    [
        (
            "Layers.Hiden.N=3",
            "--set Layers.Hiden.N=3: Layers: no layer named 'Hiden'; did you mean 'Hidden'?",
        ),
        ("Layers.7.N=3", "--set Layers.7.N=3: Layers: index 7 is out of range (3 items)"),
        (
            "Training.Optimzer.Type=SGD",
            "--set Training.Optimzer.Type=SGD: Training.Optimzer: "
            "unknown key 'Optimzer'; did you mean 'Optimizer'?",
        ),
        ("Name.x=1", "--set Name.x=1: Name: 'x' cannot be set: this value is not an object"),
        (
            "Layers.Hidden.N.x=1",
            "--set Layers.Hidden.N.x=1: Layers[1].N: 'x' cannot be set: "
            "this value is not an object",
        ),
        (
            "Layers.Hidden.N",
            "--set Layers.Hidden.N: expected KEY=VALUE with a dotted KEY, e.g. Layers.Hidden.N=256",
        ),
        ("=3", "--set =3: expected KEY=VALUE with a dotted KEY, e.g. Layers.Hidden.N=256"),
    ],
)
def test_bad_paths(override, message):
    with pytest.raises(ConfigError) as err:
        load_config(MOVIELENS, [override])
    assert [str(i) for i in err.value.issues] == [message]
