"""Cross-field checks: each problem names the layer and its JSON path."""

from __future__ import annotations

import pytest

from netcfg import ConfigError, validate_config

INPUT = {"Name": "In", "N": 10, "DataSet": "x", "Sparse": True}
OUTPUT = {"Name": "Out", "Kind": "Output", "N": 10, "DataSet": "x", "Activation": "Sigmoid"}


def _problems(config) -> list[str]:
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    return [f"{'.'.join(map(str, i.path))}: {i.message}" for i in err.value.issues]


def _net(*hidden, **top):
    return {"ErrorFunction": "CrossEntropy", "Layers": [INPUT, *hidden, OUTPUT], **top}


def test_unknown_and_self_references():
    assert _problems(_net({"Name": "H", "N": 4, "Source": "Inn", "Skip": "H"})) == [
        "Layers.1.Source: layer 'H': Source 'Inn' is not a layer; did you mean 'In'?",
        "Layers.1.Skip: layer 'H' cannot name itself in Skip",
    ]


def test_cycles_and_duplicate_names():
    config = _net({"Name": "A", "N": 4, "Source": "B"}, {"Name": "B", "N": 4, "Source": "A"})
    assert _problems(config) == ["Layers.1.Source: layers form a cycle: A -> B -> A"]
    assert _problems(_net({"Name": "H", "N": 4}, {"Name": "H", "N": 4, "Source": "In"})) == [
        "Layers.2.Name: layer name 'H' is already used by Layers[1]"
    ]


def test_shared_weights():
    ok = {"Name": "H", "N": 4}
    assert _problems(
        _net(
            ok,
            {
                "Name": "D",
                "N": 4,
                "SharedWeights": {"SourceInputLayer": "Out", "SourceOutputLayer": "Hx"},
            },
        )
    ) == [
        "Layers.2.SharedWeights.0.SourceOutputLayer: layer 'D': 'Hx' is not a layer; "
        "did you mean 'H'?"
    ]
    assert _problems(
        _net(
            ok,
            {
                "Name": "D",
                "N": 4,
                "SharedWeights": {"SourceInputLayer": "Out", "SourceOutputLayer": "H"},
            },
        )
    ) == ["Layers.2.SharedWeights.0.SourceInputLayer: layer 'D': 'Out' is not a source of 'H'"]
    chained = _net(
        ok,
        {
            "Name": "D",
            "N": 10,
            "SharedWeights": {
                "SourceInputLayer": "In",
                "SourceOutputLayer": "H",
                "Transposed": True,
            },
        },
        {
            "Name": "E",
            "N": 10,
            "Source": "D",
            "SharedWeights": {"SourceInputLayer": "H", "SourceOutputLayer": "D"},
        },
    )
    assert _problems(chained) == [
        "Layers.3.SharedWeights.0: layer 'E': the weights of 'D' from 'H' are themselves "
        "shared; share the original weights"
    ]


def test_kinds_and_datasets():
    assert _problems({"ErrorFunction": "L2", "Layers": [{"N": 3, "DataSet": "x"}]}) == [
        "Layers: the network has no Output layer"
    ]
    assert _problems({"ErrorFunction": "L2", "Layers": [{"N": 3}, {"N": 3, "DataSet": "x"}]}) == [
        "Layers.0: Input layer 'Input0' needs a DataSet"
    ]


def test_loss_pairings():
    assert _problems({**_net(), "Layers": [INPUT, {**OUTPUT, "Activation": "Relu"}]}) == [
        "ErrorFunction: Output layer 'Out': ErrorFunction 'CrossEntropy' is defined only for "
        "Sigmoid or SoftMax outputs (got 'Relu')"
    ]
    assert _problems(_net(ErrorFunction="DataScaledMarginalCrossEntropy")) == [
        "Layers.1.Sparse: Output layer 'Out': DataScaledMarginalCrossEntropy needs sparse "
        'targets ("Sparse": true)'
    ]


def test_data_bindings():
    assert _problems(_net(Data={"y": "ratings.tsv"})) == [
        "Data.y: 'y' is not the DataSet of any layer; DataSets are x",
        "Layers.0.DataSet: layer 'In': DataSet 'x' is not bound under Data (which binds y)",
        "Layers.1.DataSet: layer 'Out': DataSet 'x' is not bound under Data (which binds y)",
    ]
    # a misspelled Data entry is reported once, where the typo is
    assert _problems(_net(Data={"xx": "ratings.tsv"})) == [
        "Data.xx: 'xx' is not the DataSet of any layer; did you mean 'x'?"
    ]


def test_training_settings():
    config = _net(
        Training={
            "Schedule": {"Type": "MultiStep", "Milestones": [5, 3]},
            "EarlyStopping": {"Metric": "ndcg@20"},
        },
        Evaluation={"Metrics": ["NDCG"], "K": [10]},
    )
    assert _problems(config) == [
        "Training.Schedule.Milestones: milestones must be strictly increasing epochs",
        "Training.EarlyStopping.Metric: metric 'NDCG@20' is not computed; add it to "
        "Evaluation.Metrics",
    ]
    two_inputs = {
        "ErrorFunction": "L2",
        "Training": {"RefeedSteps": 1},
        "Layers": [
            INPUT,
            {**INPUT, "Name": "In2", "Kind": "Input"},
            {**OUTPUT, "Source": ["In", "In2"]},
        ],
    }
    assert _problems(two_inputs) == [
        "Training.RefeedSteps: re-feeding feeds the output back as the input: it needs exactly "
        "one Input and one Output layer"
    ]
    # the metric is computed when K supplies the cut-off
    validate_config({**config, "Training": {"EarlyStopping": {"Metric": "NDCG@10"}}})
