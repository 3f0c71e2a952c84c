"""Mutated valid configs and data lines: `netcfg validate` and `netcfg data import` answer
with exit 0 or 2 and a message, never an internal error or an exception."""

from __future__ import annotations

import copy
import json
import uuid

from hostile_corpus import bounded
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netcfg.cli import main

VALID = {
    "Name": "m",
    "Kind": "AutoEncoder",
    "ErrorFunction": "MaskedMSE",
    "Denoising": {"p": 0.2},
    "Layers": [
        {"Name": "Input", "Kind": "Input", "N": "auto", "DataSet": "ratings", "Sparse": True},
        {"Name": "Hidden", "N": 16, "Activation": "Selu", "pDropout": 0.1},
        {"Name": "Output", "Kind": "Output", "N": "auto", "DataSet": "ratings", "Sparse": True},
    ],
    "Data": {"ratings": {"Synthetic": {"Users": 20, "Items": 10, "Density": 0.2, "Seed": 0}}},
    "Training": {
        "Optimizer": {"Type": "Adam", "LearningRate": 0.01},
        "BatchSize": 8,
        "Epochs": 1,
        "EarlyStopping": {"Patience": 3},
    },
    "Evaluation": {"Metrics": ["RMSE"]},
    "Search": {"Layers.Hidden.N": {"Type": "Int", "Low": 4, "High": 32}},
}

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["auto", "Sigmoid", "Input", "ratings", "zoo:quickstart", "../x", "Hidden"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _places(tree, path=()):
    """Every (container, key) in the tree."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield tree, key
            yield from _places(value, (*path, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            yield tree, index
            yield from _places(value, (*path, index))


@st.composite
def mutated_configs(draw):
    """The valid config with one to three values replaced, keys removed or keys added."""
    config = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 3))):
        places = list(_places(config))
        container, key = draw(st.sampled_from(places))
        action = draw(st.sampled_from(["replace", "remove", "add"]))
        if action == "replace":
            container[key] = draw(VALUES)
        elif action == "remove":
            del container[key]
        elif isinstance(container, dict):
            container[draw(st.text(min_size=1, max_size=10))] = draw(VALUES)
        else:
            container.append(draw(VALUES))
    return config


@settings(
    max_examples=300,
    derandomize=True,  # the same examples in every CI run
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(config=mutated_configs())
def test_mutated_configs_are_valid_or_cleanly_rejected(config, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "cache"))
    path = tmp_path / "m.json"
    path.write_text(json.dumps(config, allow_nan=True), encoding="utf-8")
    with bounded():
        code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code in (0, 2), err
    assert "internal error" not in err and "Traceback" not in err
    if code == 2:
        assert str(path) in err or "--set" in err  # the problem names the file


LINES = st.lists(
    st.one_of(
        st.tuples(st.integers(-5, 10**12), st.integers(-5, 10**12), st.floats()).map(
            lambda t: f"{t[0]}\t{t[1]}\t{t[2]}"
        ),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30),
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(lines=LINES)
def test_mutated_data_lines_import_or_are_cleanly_rejected(lines, tmp_path, capsys):
    path = tmp_path / "r.tsv"
    path.write_text("1\t10\t4\n" + "\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / f"out-{uuid.uuid4().hex}"  # the examples share tmp_path
    with bounded():
        code = main(["data", "import", str(path), "-o", str(out)])
    err = capsys.readouterr().err
    assert code in (0, 2), err
    assert "internal error" not in err and "Traceback" not in err
