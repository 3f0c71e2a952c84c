"""The Search section: parameters of every kind, canonical keys, located problems, --space."""

from __future__ import annotations

import json
import time

import jsonschema
import pytest
import yaml
from helpers import write

from netcfg import ConfigError, load_config
from netcfg.cli import main
from netcfg.config.render import render_config
from netcfg.config.schema import config_json_schema
from netcfg.errors import format_path
from netcfg.experiments.spec import CategoricalParameter, FloatParameter, IntParameter

NETWORK = """\
Name: searched
ErrorFunction: MaskedMSE
Layers:
  - {Name: Input, Kind: Input, N: auto, DataSet: ratings, Sparse: true}
  - {Name: Hidden, N: 128, Activation: Selu, pDropout: 0.2}
  - {Name: Output, Kind: Output, N: auto, DataSet: ratings, Sparse: true, Activation: Linear}
Data:
  ratings:
    Synthetic: {Users: 100, Items: 50, Density: 0.1, Seed: 0}
Training:
  Optimizer: {Type: Adam, LearningRate: 0.003}
  Epochs: 3
"""
FIRST = NETWORK.count("\n") + 2  # the line of the first Search entry

EVERY_KIND = """\
search:
  layers.hidden.n: {type: int, low: 100, high: 1000, step: 50}
  Training.Epochs: {Type: Int, Low: 1, High: 64, Log: true}
  Layers.1.pDropout: {Type: Float, Low: 0.0, High: 0.8, Step: 0.1}
  Training.Optimizer.LearningRate: {Type: Float, Low: 1.0e-4, High: 1.0e-2, Log: true}
  Layers.Hidden.Activation: {Type: Categorical, Choices: [Sigmoid, Selu, Tanh]}
  Training.BatchSize: [64, 128, 256]
  Data.ratings.Binarize: [null, 0.5]
"""
EXPECTED_SPACE = {
    "Layers.Hidden.N": IntParameter(Low=100, High=1000, Step=50),
    "Training.Epochs": IntParameter(Low=1, High=64, Log=True),
    "Layers.Hidden.pDropout": FloatParameter(Low=0.0, High=0.8, Step=0.1),
    "Training.Optimizer.LearningRate": FloatParameter(Low=1e-4, High=1e-2, Log=True),
    "Layers.Hidden.Activation": CategoricalParameter(Choices=("Sigmoid", "Selu", "Tanh")),
    "Training.BatchSize": CategoricalParameter(Choices=(64, 128, 256)),
    "Data.ratings.Binarize": CategoricalParameter(Choices=(None, 0.5)),
}
SEARCH_LINE = (
    "search: 7 parameters (Layers.Hidden.N int 100..1000 step 50, Training.Epochs int 1..64 "
    "log, Layers.Hidden.pDropout float 0..0.8 step 0.1, Training.Optimizer.LearningRate "
    "float 0.0001..0.01 log, Layers.Hidden.Activation categorical [Sigmoid, Selu, Tanh], "
    "Training.BatchSize categorical [64, 128, 256], Data.ratings.Binarize categorical "
    "[null, 0.5])\n"
)


def test_every_kind_validates_with_canonical_keys(tmp_path):
    spec = load_config(write(tmp_path, "model.yaml", NETWORK + EVERY_KIND))
    assert spec.Search == EXPECTED_SPACE
    assert list(spec.Search) == list(EXPECTED_SPACE)
    assert spec.layer("Hidden").N == 128  # the config itself is unchanged


def test_render_round_trips_thesearch_section(tmp_path):
    spec = load_config(write(tmp_path, "model.yaml", NETWORK + EVERY_KIND))
    rendered = render_config(spec)
    assert rendered["Search"]["Training.BatchSize"] == {
        "Type": "Categorical",
        "Choices": [64, 128, 256],
    }
    assert rendered["Search"]["Layers.Hidden.pDropout"] == {
        "Type": "Float",
        "Low": 0.0,
        "High": 0.8,
        "Step": 0.1,
        "Log": False,
    }
    assert load_config(write(tmp_path, "rendered.json", json.dumps(rendered))) == spec


def test_validate_prints_the_search_line(tmp_path, capsys):
    config = write(tmp_path, "model.yaml", NETWORK + EVERY_KIND)
    assert main(["validate", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.endswith(SEARCH_LINE)


def test_validation_is_fast(tmp_path):
    config = write(tmp_path, "model.yaml", NETWORK + EVERY_KIND)
    load_config(config)
    started = time.perf_counter()
    load_config(config)
    assert time.perf_counter() - started < 1.0


def test_json_schema_accepts_search_and_rejects_a_bad_type():
    validator = jsonschema.Draft202012Validator(config_json_schema())
    config = yaml.safe_load(NETWORK + EVERY_KIND)
    assert [e.message for e in validator.iter_errors(config)] == []
    config["search"]["Training.BatchSize"] = {"Type": "Normal", "Low": 1, "High": 2}
    assert list(validator.iter_errors(config))


def test_optuna_draws_within_the_ranges(tmp_path):
    optuna = pytest.importorskip("optuna")
    spec = load_config(write(tmp_path, "model.yaml", NETWORK + EVERY_KIND))
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
    drawn = {path: param.suggest(trial, path) for path, param in spec.Search.items()}
    assert 100 <= drawn["Layers.Hidden.N"] <= 1000 and drawn["Layers.Hidden.N"] % 50 == 0
    assert 1e-4 <= drawn["Training.Optimizer.LearningRate"] <= 1e-2
    assert drawn["Layers.Hidden.Activation"] in ("Sigmoid", "Selu", "Tanh")
    overrides = [f"{path}={json.dumps(value)}" for path, value in drawn.items()]
    tried = load_config(write(tmp_path, "plain.yaml", NETWORK), overrides)
    assert tried.layer("Hidden").N == drawn["Layers.Hidden.N"]
    assert tried.Training.BatchSize == drawn["Training.BatchSize"]


# (entries under Search, [(entry line offset, path, phrase of the message), ...])
BAD = {
    "unknown_key": (
        ["Layers.Hidden.Nn: {Type: Int, Low: 1, High: 9}"],
        [(0, "Search.Layers.Hidden.Nn", "unknown key 'Nn'; did you mean 'N'?")],
    ),
    "unknown_layer": (
        ["Layers.Hiden.N: [64, 128]"],
        [(0, "Search.Layers.Hiden.N", "no layer named 'Hiden'; did you mean 'Hidden'?")],
    ),
    "low_not_below_high": (
        ["Layers.Hidden.N: {Type: Int, Low: 500, High: 500}"],
        [(0, "Search.Layers.Hidden.N", "Low (500) must be below High (500)")],
    ),
    "log_from_zero": (
        ["Training.Optimizer.LearningRate: {Type: Float, Low: 0, High: 0.1, Log: true}"],
        [(0, "Search.Training.Optimizer.LearningRate", "Log needs Low > 0 (got 0)")],
    ),
    "log_with_step": (
        ["Training.Epochs: {Type: Int, Low: 1, High: 64, Log: true, Step: 2}"],
        [(0, "Search.Training.Epochs", "Log and Step cannot be combined")],
    ),
    "float_on_int_field": (
        ["Layers.Hidden.N: [64]", "Training.Epochs: {Type: Float, Low: 1, High: 10}"],
        [
            (1, "Search.Training.Epochs", "Low 1.0 is not a valid value: must be a valid integer"),
            (1, "Search.Training.Epochs", "High 10.0 is not a valid value: must be a valid int"),
        ],
    ),
    "wrong_enum_choice": (
        ["Layers.Hidden.Activation: [Tanh, Relu2]"],
        [
            (
                0,
                "Search.Layers.Hidden.Activation",
                "choice \"Relu2\" is not a valid value: unknown Activation 'Relu2'; "
                "did you mean 'Relu'?",
            )
        ],
    ),
    "probability_above_one": (
        ["Layers.Hidden.pDropout: {Type: Float, Low: 0, High: 1.5}"],
        [
            (
                0,
                "Search.Layers.Hidden.pDropout",
                "High 1.5 is not a valid value: must be less than 1",
            )
        ],
    ),
    "negative_learning_rate": (
        ["Training.Optimizer.LearningRate: {Type: Float, Low: -0.01, High: 0.01}"],
        [(0, "Search.Training.Optimizer.LearningRate", "Low -0.01 is not a valid value")],
    ),
    "string_for_a_float": (
        ["Training.Optimizer.LearningRate: [0.01, fast]"],
        [(0, "Search.Training.Optimizer.LearningRate", 'choice "fast" is not a valid value')],
    ),
    "empty_choices": (
        ["Training.BatchSize: {Type: Categorical, Choices: []}"],
        [(0, "Search.Training.BatchSize.Choices", "Choices must hold at least one value")],
    ),
    "unknown_type": (
        ["Training.BatchSize: {Type: Integer, Low: 16, High: 64}"],
        [
            (
                0,
                "Search.Training.BatchSize.Type",
                "unknown Search Type 'Integer'; did you mean 'Int'?",
            )
        ],
    ),
    "missing_type": (
        ["Training.BatchSize: {Low: 16, High: 64}"],
        [(0, "Search.Training.BatchSize", "missing key 'Type' (Int, Float or Categorical)")],
    ),
    "step_beyond_range": (
        ["Layers.Hidden.N: {Type: Int, Low: 10, High: 20, Step: 11}"],
        [(0, "Search.Layers.Hidden.N", "Step (11) is larger than the range High - Low (10)")],
    ),
    "data_source_key": (
        ["Data.ratings.Path: [a.tsv, b.tsv]"],
        [(0, "Search.Data.ratings.Path", "the data source cannot be searched")],
    ),
    "cross_field_check": (
        ["ErrorFunction: [MaskedMSE, CrossEntropy]"],
        [(0, "Search.ErrorFunction", 'choice "CrossEntropy" is not a valid value: Output layer')],
    ),
    "same_parameter_twice": (
        ["Layers.Hidden.N: [64]", "layers.1.n: [32]"],
        [(1, "Search.layers.1.n", "'layers.1.n' and 'Layers.Hidden.N' are the same parameter")],
    ),
    "three_problems": (
        [
            "Layers.Hidden.N: {Type: Int, Low: 0, High: 10}",
            "Layers.Hidden.Activation: [Selu]",
            "Training.Optimizer.LearningRat: {Type: Float, Low: 0.1, High: 0.2}",
            "Layers.Hidden.pDropout: {Type: Float, Low: 0.5, High: 0.1}",
        ],
        [
            (0, "Search.Layers.Hidden.N", "Low 0 is not a valid value: must be a positive int"),
            (2, "Search.Training.Optimizer.LearningRat", "did you mean 'LearningRate'?"),
            (3, "Search.Layers.Hidden.pDropout", "Low (0.5) must be below High (0.1)"),
        ],
    ),
}


def search_section(entries: list[str]) -> str:
    return "Search:\n" + "".join(f"  {entry}\n" for entry in entries)


@pytest.mark.parametrize("name", list(BAD))
def test_bad_search_is_located(name, tmp_path):
    entries, expected = BAD[name]
    config = write(tmp_path, "model.yaml", NETWORK + search_section(entries))
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    found = [(i.location.line, format_path(i.path), i.message) for i in caught.value.issues]
    assert [(line, path) for line, path, _ in found] == [
        (FIRST + offset, path) for offset, path, _ in expected
    ]
    for (_, _, message), (_, _, phrase) in zip(found, expected, strict=True):
        assert phrase in message
    assert all(i.location.source == str(config) for i in caught.value.issues)


def test_validate_reports_every_problem_at_once(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "model.yaml", NETWORK + search_section(BAD["three_problems"][0]))
    assert main(["validate", "model.yaml"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"model.yaml:{FIRST}: Search.Layers.Hidden.N: Low 0 is not a valid value: must be a "
        'positive integer, a list of 1 to 4 positive integers, or "auto" (got 0)\n'
        f"model.yaml:{FIRST + 2}: Search.Training.Optimizer.LearningRat: unknown key "
        "'LearningRat'; did you mean 'LearningRate'?\n"
        f"model.yaml:{FIRST + 3}: Search.Layers.Hidden.pDropout: Low (0.5) must be below "
        "High (0.1)\n"
    )
