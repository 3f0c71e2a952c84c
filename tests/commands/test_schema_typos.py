"""The schema reports typical typos where the loader does: at the same JSON path, naming
the key, rather than in a branch the user never meant (an ensemble, a string shorthand)."""

from __future__ import annotations

import jsonschema
import pytest
from jsonschema.exceptions import best_match

from netcfg.config.load import validate_config
from netcfg.config.schema import config_json_schema
from netcfg.errors import ConfigError

VALIDATOR = jsonschema.Draft202012Validator(config_json_schema())

LAYERS = [
    {"N": "auto", "DataSet": "in", "Sparse": True},
    {"N": 128, "Activation": "Sigmoid"},
    {"N": "auto", "DataSet": "in"},
]

TYPOS = {
    "unknown top-level key": ({"Layers": LAYERS, "Activaton": "Sigmoid"}, "Activaton"),
    "wrong enum value": ({"Layers": LAYERS, "ErrorFunction": "Sigmod"}, "Sigmod"),
    "wrong type": ({"Layers": LAYERS, "Training": {"Epochs": "ten"}}, "ten"),
    "optimizer key": (
        {"Layers": LAYERS, "Training": {"Optimizer": {"Type": "adam", "LearningRat": 0.1}}},
        "LearningRat",
    ),
    "layer key": (
        {"Layers": [LAYERS[0], {"N": 128, "Activaton": "Sigmoid"}, LAYERS[2]]},
        "Activaton",
    ),
}


def _loader_path(config):
    with pytest.raises(ConfigError) as caught:
        validate_config(config)
    (issue,) = caught.value.issues
    return tuple(issue.path)


def _schema_path(error):
    """The path of the offending value; an unknown key's own name for additionalProperties."""
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties":
        (unknown,) = [k for k in error.instance if f"'{k}'" in error.message]
        path += (unknown,)
    return path


@pytest.mark.parametrize("name", TYPOS)
def test_best_match_names_the_key_at_the_loaders_path(name):
    config, word = TYPOS[name]
    error = best_match(VALIDATOR.iter_errors(config))
    assert error is not None
    assert _schema_path(error) == _loader_path(config)
    assert f"'{word}'" in error.message
    assert "is not valid under any of the given schemas" not in error.message


@pytest.mark.parametrize("name", TYPOS)
def test_every_error_is_at_the_loaders_path(name):
    """No other branch adds noise: each error the schema gives is about the typo."""
    config, _ = TYPOS[name]
    paths = {_schema_path(e) for e in VALIDATOR.iter_errors(config)}
    assert paths == {_loader_path(config)}


def test_an_ensemble_typo_is_reported_against_the_ensemble():
    ensemble = {"kind": "ENSEMBLE", "Members": [{"Network": "a.json"}, {"Network": "b.json"}]}
    assert list(VALIDATOR.iter_errors(ensemble)) == []
    error = best_match(VALIDATOR.iter_errors({**ensemble, "Memebers": []}))
    assert error.validator == "additionalProperties" and "'Memebers'" in error.message
    assert "Layers" not in error.message


INPUT = {"Kind": "Input", "N": "auto", "DataSet": "in", "Sparse": True}


@pytest.mark.parametrize(
    ("change", "accepted"),
    [
        ({"Training": {"Optimizer": {"Type": "AdamW", "Beta1": 0.8}}}, True),
        ({"Training": {"Optimizer": {"type": "ADAM", "Beta1": 0.8}}}, True),
        ({"Training": {"Optimizer": {"Beta1": 0.8}}}, False),  # SGD, the default Type
        ({"Training": {"Optimizer": {"Type": "SGD", "Beta1": 0.8}}}, False),
        ({"Training": {"Optimizer": "rmsprop"}}, True),
        ({"Training": {"Optimizer": "Adamm"}}, False),
        ({"Training": {"Schedule": {"Type": "Step", "Interval": 3}}}, True),
        ({"Training": {"Schedule": {"Type": "Cosine", "Interval": 3}}}, False),
        ({"Layers": [INPUT, *LAYERS[1:]]}, True),
        ({"Layers": [{**INPUT, "Skip": "Hidden1"}, *LAYERS[1:]]}, False),
        ({"Layers": [{**LAYERS[0], "N": True}, *LAYERS[1:]]}, False),
    ],
)
def test_each_union_member_is_chosen_by_its_tag_as_the_loader_chooses(change, accepted):
    """The schema agrees with the loader where any member used to do: Beta1 under an SGD
    optimizer was accepted because the Adam member also accepted ``Type: SGD``."""
    config = {"Layers": LAYERS, **change}
    assert (not list(VALIDATOR.iter_errors(config))) is accepted
    try:
        validate_config(config)
    except ConfigError:
        assert not accepted
    else:
        assert accepted
