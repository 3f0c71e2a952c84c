"""Compiling specs: parameter totals against formulas, widths, and clear compile errors."""

from __future__ import annotations

import pytest
import torch
from helpers import EXAMPLES

from netcfg import CompileError, compile_network, load_config, validate_config
from netcfg.layers import FullyConnected, InputLayer, PairwiseScore

DSSTNE = EXAMPLES / "dsstne"


def _count(network) -> int:
    return sum(p.numel() for p in network.parameters())


def _meta(spec, widths=None):
    with torch.device("meta"):
        return compile_network(spec, widths)


@pytest.mark.parametrize("n", [1682, 27278])
def test_dsstne_sample_totals(n):
    movielens = _meta(load_config(DSSTNE / "movielens.json"), {"gl_input": n, "gl_output": n})
    assert _count(movielens) == (n * 128 + 128) + (128 * n + n)
    config_2 = _meta(load_config(DSSTNE / "config_2.json"), {"input": n, "output": n})
    assert _count(config_2) == (n * 1024 + 1024) + (1024 * 1024 + 1024) + (1024 * n + n)
    config_3 = _meta(load_config(DSSTNE / "config_3.json"), {"input": n})
    assert _count(config_3) == 257 * n + 128
    assert all(p.is_meta for p in config_2.parameters())


def test_widths_from_explicit_n_on_the_same_dataset():
    spec = load_config(DSSTNE / "config_3.json", ["Layers.Input.N=500"])
    network = _meta(spec)
    assert network.shapes["Output"] == (500,)


NETFLIX_ITEMS = 17768


def test_deeprec_netflix_full_untied_and_tied():
    n = NETFLIX_ITEMS
    widths = {"ratings": n}
    untied = _meta(load_config(EXAMPLES / "deeprec-netflix-full.yaml"), widths)
    encoder = n * 512 + 512 * 512 + 512 * 1024
    decoder = 1024 * 512 + 512 * 512 + 512 * n
    biases = 512 + 512 + 1024 + 512 + 512 + n
    assert _count(untied) == encoder + decoder + biases
    tied = _meta(load_config(EXAMPLES / "deeprec-netflix-full-tied.yaml"), widths)
    assert _count(tied) == encoder + biases
    assert [untied.shapes[name] for name in untied.order] == [
        (n,),
        (512,),
        (512,),
        (1024,),
        (512,),
        (512,),
        (n,),
    ]


def test_compiled_modules_are_plain_torch():
    network = compile_network(load_config(DSSTNE / "config_2.json"), {"input": 30, "output": 30})
    assert isinstance(network.layers["Input"], InputLayer)
    assert isinstance(network.layers["Hidden1"], FullyConnected)
    assert sorted(network.state_dict()) == sorted(
        f"layers.{name}.{p}"
        for name in ("Hidden1", "Hidden2", "Output")
        for p in ("projections.0.weight", "bias")
    )


def test_weight_init_follows_the_spec():
    torch.manual_seed(0)
    network = compile_network(load_config(DSSTNE / "config_2.json"), {"input": 500, "output": 400})
    output = network.layers["Output"]
    assert torch.all(output.bias == -10.2)
    assert output.projections[0].weight.std().item() == pytest.approx(0.01, rel=0.05)


def test_unknown_and_contradicting_widths():
    spec = load_config(DSSTNE / "movielens.json")
    with pytest.raises(CompileError) as err:
        _meta(spec, {"gl_input": 10})
    assert [str(i) for i in err.value.issues] == [
        "Layers[2].N: layer 'Output': N is \"auto\" but the width of DataSet 'gl_output' is "
        "unknown; give the data (--data) or a width (--set Layers.Output.N=...)"
    ]
    spec = load_config(DSSTNE / "movielens.json", ["Layers.Input.N=20"])
    with pytest.raises(CompileError) as err:
        _meta(spec, {"gl_input": 10, "gl_output": 10})
    assert [str(i) for i in err.value.issues] == [
        "Layers[0].N: layer 'Input': N is 20 but DataSet 'gl_input' has width 10"
    ]


def _spec(*layers, error="L2"):
    return validate_config({"ErrorFunction": error, "Layers": list(layers)})


def test_spatial_layers_report_shape_problems():
    spec = _spec(
        {"N": [8, 8, 3], "DataSet": "x"},
        {"Name": "Conv", "Type": "Convolutional", "N": [7, 7, 4], "Kernel": [3, 3]},
        {
            "Name": "P",
            "Source": "Input0",
            "Type": "Pooling",
            "Function": "Max",
            "Kernel": [2, 2],
            "KernelStride": [2, 2],
            "N": [4, 4, 2],
        },
        {"N": 8, "DataSet": "x", "Source": "P"},
    )
    with pytest.raises(CompileError) as err:
        _meta(spec)
    assert [str(i) for i in err.value.issues] == [
        "Layers[1].N: N is 7x7x4, but this layer's output grid is 8x8: give the number of "
        "filters, or the dimensions 8x8xFILTERS",
        "Layers[2].N: this Max layer's dimensions are 4x4x3, not 4x4x2; leave N out to derive it",
    ]


def test_shape_problems_are_all_reported():
    spec = _spec(
        {"Name": "A", "Kind": "Input", "N": 6, "DataSet": "a"},
        {"Name": "B", "Kind": "Input", "N": 5, "DataSet": "b"},
        {"Name": "H", "Source": "A", "N": 4},
        {"Name": "Skipper", "Source": "A", "N": 3, "Skip": "H"},
        {"Name": "Dot", "Type": "Pooling", "Function": "DotProduct", "Source": ["A", "B"]},
        {
            "Name": "Out",
            "Kind": "Output",
            "Source": "H",
            "N": 4,
            "DataSet": "o",
            "SharedWeights": {"SourceInputLayer": "A", "SourceOutputLayer": "H"},
        },
    )
    with pytest.raises(CompileError) as err:
        _meta(spec)
    assert [str(i) for i in err.value.issues] == [
        "Layers[3].Skip: Skip layer 'H' has 4 units but this layer has 3",
        "Layers[4].Source: the sources of a DotProduct layer must have equal widths (got 6, 5)",
        "Layers[5].SharedWeights[0]: layer 'Out' needs a 4x4 weight from 'H', but the weight of "
        "'H' from 'A' is 6x4; set \"Transposed\": true?",
    ]


def test_pooling_two_towers():
    spec = load_config(EXAMPLES / "two-tower.yaml")
    network = compile_network(spec, {"user_features": 7, "item_features": 9})
    assert isinstance(network.layers["Score"], PairwiseScore)
    assert network.shapes["Score"] == (1,)
