"""The JSON Schema accepts every config in the repository and describes every key."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml
from helpers import REPO
from test_load import ALL_CONFIGS

from netcfg.config.schema import config_json_schema

SCHEMA = config_json_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def _read(path):
    text = path.read_text()
    return yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("path", ALL_CONFIGS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_repository_config_is_accepted(path):
    errors = [e.message for e in VALIDATOR.iter_errors(_read(path))]
    assert errors == []


def _objects(node, where="#"):
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            yield where, node
        for key, value in node.items():
            yield from _objects(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _objects(value, f"{where}/{index}")


def test_every_field_has_a_description():
    missing = [
        f"{where}.{name}"
        for where, obj in _objects(SCHEMA)
        for name, prop in obj["properties"].items()
        if not prop.get("description")
    ]
    assert missing == []
    assert len(list(_objects(SCHEMA))) >= 20


MOVIELENS = {
    "Layers": [
        {"N": "auto", "DataSet": "in", "Sparse": True},
        {"N": 128, "Activation": "Sigmoid"},
        {"N": "auto", "DataSet": "in"},
    ]
}


@pytest.mark.parametrize(
    "change",
    [
        {"layers": MOVIELENS["Layers"]},
        {"Layers": MOVIELENS["Layers"], "ERRORFUNCTION": "cross entropy", "slope": 0.5},
        {
            "Layers": [
                {"n": "AUTO", "dataset": "x"},
                {"N": 3, "activation": "rectifiedlinear"},
                {"N": 5, "DataSet": "x"},
            ]
        },
        {"Layers": MOVIELENS["Layers"], "Training": {"Optimizer": "Adam", "Schedule": "cosine"}},
    ],
)
def test_spellings_the_loader_accepts_are_accepted(change):
    assert [e.message for e in VALIDATOR.iter_errors(change)] == []


@pytest.mark.parametrize(
    "bad",
    [
        {"Layers": MOVIELENS["Layers"], "Activaton": "Sigmoid"},
        {"Layers": MOVIELENS["Layers"], "ErrorFunction": "Sigmod"},
        {"Layers": [{"N": -3, "DataSet": "x"}]},
        {"Layers": [{"N": 3, "DataSet": "x", "Sparse": "yes"}]},
        {"Layers": MOVIELENS["Layers"], "Training": {"Epochs": 0}},
        {"Layers": MOVIELENS["Layers"], "Training": {"Optimizer": {"Type": "Adamm"}}},
    ],
)
def test_schema_rejects_what_the_loader_rejects(bad):
    assert list(VALIDATOR.iter_errors(bad))
