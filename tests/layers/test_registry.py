"""The layer registry: its tags are exactly those of the LayerSpec union, each with a builder."""

from __future__ import annotations

import typing
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from netcfg.errors import CompileError
from netcfg.layers import (
    LAYER_SPECS,
    FullyConnected,
    FullyConnectedLayerSpec,
    InputLayer,
    InputLayerSpec,
    LayerSpec,
    PairwiseScore,
    PoolingLayerSpec,
    get_builder,
    layer_tags,
)
from netcfg.layers.convolutional import ConvolutionalLayerSpec
from netcfg.layers.registry import BuildContext, Shape, register_layer


def union_tags() -> dict[str, type]:
    """Tag -> class, read from the pydantic ``Tag`` markers of the LayerSpec annotation."""
    union = typing.get_args(LayerSpec)[0]
    found = {}
    for member in typing.get_args(union):
        cls, *meta = typing.get_args(member)
        tags = [m.tag for m in meta if hasattr(m, "tag")]
        assert len(tags) == 1
        found[tags[0]] = cls
    return found


def test_union_tags_equal_the_registry_tags_exactly():
    tags = union_tags()
    assert set(tags) == set(LAYER_SPECS)
    assert frozenset(LAYER_SPECS) == layer_tags()
    assert frozenset(tags) == layer_tags()
    assert layer_tags() == {
        "Input",
        "FullyConnected",
        "Convolutional",
        "Pooling",
        "Variational",
        "Merge",
    }
    for tag, cls in tags.items():
        assert LAYER_SPECS[tag] is cls


def test_every_tag_has_a_callable_builder():
    for tag in layer_tags():
        assert callable(get_builder(tag))
    assert len({id(get_builder(tag)) for tag in layer_tags()}) == len(layer_tags())


def test_misspelled_tag_suggests_the_close_match():
    with pytest.raises(KeyError) as info:
        get_builder("FullyConected")
    message = str(info.value)
    assert "FullyConected" in message
    assert "did you mean 'FullyConnected'" in message


def test_unknown_tag_without_a_close_match():
    with pytest.raises(KeyError) as info:
        get_builder("Recurrent")
    assert "no layer builder registered for 'Recurrent'" in str(info.value)
    assert "did you mean" not in str(info.value)


def test_registering_a_tag_twice_is_refused():
    before = get_builder("Pooling")
    with pytest.raises(ValueError, match="already registered"):
        register_layer("Pooling")(lambda spec, ctx: None)
    assert get_builder("Pooling") is before
    assert layer_tags() == frozenset(LAYER_SPECS)


def test_shape_size_and_text():
    assert Shape((3, 4, 2)).size == 24
    assert Shape((7,)).size == 7
    assert str(Shape((3, 4))) == "3x4"
    assert str(Shape((10,), sparse=True)) == "10 sparse"


# ---------------------------------------------------------------- builders


def context(**kwargs) -> BuildContext:
    model = SimpleNamespace(Denoising=SimpleNamespace(p=0.3))
    return BuildContext(path=("Layers", 1), model=model, **kwargs)


def test_fully_connected_builder():
    spec = FullyConnectedLayerSpec.model_validate(
        {
            "Name": "H",
            "Kind": "Hidden",
            "N": 4,
            "Activation": "Tanh",
            "WeightInit": {"Scheme": "Constant", "Scale": 0.5, "Bias": 0.25},
        }
    )
    built = get_builder("FullyConnected")(
        spec, context(sources=(Shape((3,)), Shape((2,))), dims=(4,))
    )
    assert built.shape == Shape((4,))
    module = built.module
    assert isinstance(module, FullyConnected)
    assert [tuple(p.weight.shape) for p in module.projections] == [(3, 4), (2, 4)]
    assert all(
        torch.equal(p.weight.detach(), torch.full(p.weight.shape, 0.5)) for p in module.projections
    )
    x0, x1 = torch.randn(5, 3), torch.randn(5, 2)
    expected = torch.tanh(0.5 * x0.sum(1, keepdim=True) + 0.5 * x1.sum(1, keepdim=True) + 0.25)
    torch.testing.assert_close(module([x0, x1]), expected.expand(5, 4))


def test_input_builder_uses_network_denoising_for_sparse_inputs_only():
    sparse = InputLayerSpec.model_validate({"Name": "In", "Kind": "Input", "N": 9, "Sparse": True})
    built = get_builder("Input")(sparse, context(dims=(9,)))
    assert isinstance(built.module, InputLayer)
    assert built.shape == Shape((9,), sparse=True)
    assert built.module.denoising == 0.3

    dense = InputLayerSpec.model_validate({"Name": "In", "Kind": "Input", "N": 9})
    built = get_builder("Input")(dense, context(dims=(9,)))
    assert built.shape == Shape((9,))
    assert built.module.denoising == 0.0


def test_pooling_builder_dot_product():
    spec = PoolingLayerSpec.model_validate(
        {
            "Name": "P",
            "Kind": "Output",
            "Type": "Pooling",
            "Function": "DotProduct",
            "Source": ["A", "B", "C"],
        }
    )
    built = get_builder("Pooling")(spec, context(sources=(Shape((6,)), Shape((6,)), Shape((6,)))))
    assert built.shape == Shape((2,))
    assert isinstance(built.module, PairwiseScore)
    assert built.module.cosine is False
    assert isinstance(built.module.activation, nn.Identity)  # Linear by default


def test_convolutional_builder():
    spec = ConvolutionalLayerSpec.model_validate(
        {"Name": "C", "Kind": "Hidden", "Type": "Convolutional", "N": 8, "Kernel": [3, 3]}
        | {"Source": "In"}
    )
    built = get_builder("Convolutional")(spec, context(sources=(Shape((6, 5, 2)),), dims=(8,)))
    assert built.shape == Shape((6, 5, 8))  # stride 1 keeps the grid; N filters last
    assert [tuple(w.shape) for w in built.module.weights] == [(8, 2, 3, 3)]
    with pytest.raises(CompileError, match="output grid is 6x5"):
        get_builder("Convolutional")(spec, context(sources=(Shape((6, 5, 2)),), dims=(5, 5, 8)))
