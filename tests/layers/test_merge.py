"""Merge layers (Product, Sum, Average, Max, Concat) against numpy and hand computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from netcfg.config import validate_config
from netcfg.data.batch import SparseBatch
from netcfg.errors import CompileError
from netcfg.layers.merge import Merge, MergeFunction, MergeLayerSpec
from netcfg.networks.compile import compile_network

NUMPY = {
    MergeFunction.Product: lambda xs: np.prod(xs, axis=0),
    MergeFunction.Sum: lambda xs: np.sum(xs, axis=0),
    MergeFunction.Average: lambda xs: np.mean(xs, axis=0),
    MergeFunction.Max: lambda xs: np.max(xs, axis=0),
    MergeFunction.Concat: lambda xs: np.concatenate(xs, axis=1),
}


def sources(count: int, seed: int, width: int = 4) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(3, width)) for _ in range(count)]


@pytest.mark.parametrize("function", list(MergeFunction))
@pytest.mark.parametrize("count", [2, 3])
def test_values_match_numpy(function, count):
    xs = sources(count, seed=count)
    out = Merge(function)([torch.from_numpy(x) for x in xs])
    np.testing.assert_allclose(out.numpy(), NUMPY[function](np.stack(xs)), rtol=1e-12)


def test_hand_computed_product_is_ncf_gmf():
    user = torch.tensor([[1.0, -2.0, 0.5]])
    item = torch.tensor([[3.0, 4.0, 2.0]])
    assert Merge(MergeFunction.Product)([user, item]).tolist() == [[3.0, -8.0, 1.0]]


@pytest.mark.parametrize("function", list(MergeFunction))
def test_gradients_match_hand_derivatives(function):
    xs = sources(3, seed=7)
    leaves = [torch.tensor(x, requires_grad=True) for x in xs]
    weights = torch.from_numpy(
        np.random.default_rng(8).normal(size=(3, 12 if function is MergeFunction.Concat else 4))
    )
    (Merge(function)(leaves) * weights).sum().backward()
    w = weights.numpy()
    if function is MergeFunction.Product:
        expected = [w * np.prod([x for j, x in enumerate(xs) if j != i], axis=0) for i in range(3)]
    elif function is MergeFunction.Sum:
        expected = [w] * 3
    elif function is MergeFunction.Average:
        expected = [w / 3] * 3
    elif function is MergeFunction.Max:
        winner = np.argmax(np.stack(xs), axis=0)
        expected = [np.where(winner == i, w, 0.0) for i in range(3)]
    else:
        expected = [w[:, 4 * i : 4 * (i + 1)] for i in range(3)]
    for leaf, grad in zip(leaves, expected, strict=True):
        np.testing.assert_allclose(leaf.grad.numpy(), grad, rtol=1e-12)


def test_sparse_sources_are_made_dense_and_skips_added():
    dense = torch.tensor([[0.0, 2.0], [3.0, 0.0]])
    other = torch.tensor([[5.0, 7.0], [1.0, 1.0]])
    skip = torch.tensor([[1.0, 1.0], [1.0, 1.0]])
    out = Merge(MergeFunction.Product)([SparseBatch.from_dense(dense), other], [skip])
    assert out.tolist() == [[1.0, 15.0], [4.0, 1.0]]


def test_activation_applies_after_the_merge():
    layer = Merge(MergeFunction.Sum, activation=torch.nn.Sigmoid())
    out = layer([torch.tensor([[1.0]]), torch.tensor([[-1.0]])])
    assert out.tolist() == [[0.5]]


def config(merge: dict) -> dict:
    return {
        "ErrorFunction": "CrossEntropy",
        "Layers": [
            {"Name": "User", "Kind": "Input", "N": "auto", "DataSet": "user", "Sparse": True},
            {"Name": "Item", "Kind": "Input", "N": "auto", "DataSet": "item", "Sparse": True},
            {"Name": "U", "Source": "User", "N": 4, "Activation": "Linear"},
            {"Name": "I", "Source": "Item", "N": 4, "Activation": "Linear"},
            {"Name": "M", "Type": "Merge", "Source": ["U", "I"], **merge},
            {"Name": "Score", "Kind": "Output", "Source": "M", "N": 1, "DataSet": "clicked"},
        ],
    }


WIDTHS = {"user": 5, "item": 7, "clicked": 1}


@pytest.mark.parametrize(("function", "width"), [("Product", 4), ("Concat", 8), ("Max", 4)])
def test_compiled_width_comes_from_the_sources(function, width):
    network = compile_network(validate_config(config({"Function": function})), WIDTHS)
    assert network.shapes["M"] == (width,)
    users = SparseBatch.from_dense(torch.eye(5)[:2])
    items = SparseBatch.from_dense(torch.eye(7)[[3, 6]])
    out = network({"user": users, "item": items}).outputs["Score"]
    assert out.shape == (2, 1)


def test_aliases_and_spec_rules():
    spec = validate_config(config({"Function": "Multiply"}))
    assert spec.layer("M").Function is MergeFunction.Product
    with pytest.raises(ValidationError, match="at least 2 sources"):
        MergeLayerSpec(Name="M", Kind="Hidden", Source=["U"], Function="Sum")


def test_compile_errors_name_the_problem():
    unequal = config({"Function": "Sum"})
    unequal["Layers"][3]["N"] = 3
    with pytest.raises(CompileError, match="equal widths .*got 4, 3.*Concat"):
        compile_network(validate_config(unequal), WIDTHS)
    with pytest.raises(CompileError, match="give it N = 8, not 5"):
        compile_network(validate_config(config({"Function": "Concat", "N": 5})), WIDTHS)
