"""Compiled networks against hand-written dense PyTorch computations."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from helpers import EXAMPLES

from netcfg import compile_network, load_config, validate_config
from netcfg.data import SparseBatch


def _sparse_rows(rows: int, cols: int, density: float, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(rows, cols, generator=g) < density
    return torch.where(mask, torch.randint(1, 6, (rows, cols), generator=g).float(), 0.0)


def _weights(network, layer):
    module = network.layers[layer]
    return [p.matrix() for p in module.projections], module.bias


def test_autoencoder_forward_and_loss_match_a_dense_computation():
    spec = validate_config(
        {
            "ErrorFunction": "CrossEntropy",
            "Layers": [
                {"Name": "In", "N": 20, "DataSet": "x", "Sparse": True},
                {"Name": "H", "N": 8, "Activation": "Relu"},
                {"Name": "Out", "N": 20, "DataSet": "x", "Activation": "Sigmoid"},
            ],
        }
    )
    torch.manual_seed(0)
    network = compile_network(spec).eval()
    dense = _sparse_rows(6, 20, 0.3, seed=1)
    target = (dense > 0).float()
    (w1,), b1 = _weights(network, "H")
    (w2,), b2 = _weights(network, "Out")
    a = torch.sigmoid(torch.relu(dense @ w1 + b1) @ w2 + b2)
    expected = -(target * a.log() + (1 - target) * (1 - a).log()).sum() / 6
    for batch in (dense, SparseBatch.from_dense(dense)):
        out = network({"x": batch}, {"x": SparseBatch.from_dense(target)})
        torch.testing.assert_close(out.outputs["Out"], a)
        torch.testing.assert_close(out.losses["Out"], expected)
        torch.testing.assert_close(out.loss, expected)


def test_multiple_sources_and_skips_are_summed():
    spec = validate_config(
        {
            "ErrorFunction": "L2",
            "Layers": [
                {"Name": "A", "Kind": "Input", "N": 5, "DataSet": "a"},
                {"Name": "B", "Kind": "Input", "N": 3, "DataSet": "b"},
                {"Name": "HA", "Source": "A", "N": 4, "Activation": "Tanh"},
                {
                    "Name": "Out",
                    "Kind": "Output",
                    "Source": ["A", "B"],
                    "Skip": "HA",
                    "N": 4,
                    "DataSet": "o",
                    "Activation": "Linear",
                },
            ],
        }
    )
    network = compile_network(spec)
    xa, xb = torch.randn(3, 5), torch.randn(3, 3)
    (wa,), ba = _weights(network, "HA")
    (w_a, w_b), bias = _weights(network, "Out")
    expected = xa @ w_a + xb @ w_b + bias + torch.tanh(xa @ wa + ba)
    torch.testing.assert_close(network({"a": xa, "b": xb}).outputs["Out"], expected)


def test_tied_decoder_uses_the_transposed_encoder_weight():
    spec = load_config(EXAMPLES / "deeprec-netflix-full-tied.yaml")
    network = compile_network(spec, {"ratings": 40})
    encoder = network.layers["Encoder1"].projections[0].weight
    output = network.layers["Output"].projections[0]
    assert output.matrix().data_ptr() == encoder.data_ptr()
    assert torch.equal(output.matrix(), encoder.t())
    x = SparseBatch.from_dense(_sparse_rows(4, 40, 0.2, seed=3))
    out = network.train()({"ratings": x}, {"ratings": x})
    out.loss.backward()
    assert encoder.grad is not None and torch.isfinite(encoder.grad).all()
    assert "layers.Output.projections.0.weight" not in network.state_dict()


def test_masked_mse_refers_to_observed_ratings_only():
    spec = load_config(EXAMPLES / "deeprec-netflix-full.yaml")
    network = compile_network(spec, {"ratings": 30}).eval()
    ratings = _sparse_rows(5, 30, 0.25, seed=4)
    out = network(
        {"ratings": SparseBatch.from_dense(ratings)}, {"ratings": SparseBatch.from_dense(ratings)}
    )
    observed = ratings != 0
    expected = ((out.outputs["Output"] - ratings)[observed] ** 2).mean()
    torch.testing.assert_close(out.losses["Output"], expected)


def test_sparseness_penalty_only_in_training():
    spec = load_config(EXAMPLES / "dsstne" / "movielens.json", ["Denoising.p=0"])
    network = compile_network(spec, {"gl_input": 25, "gl_output": 25})
    dense = (_sparse_rows(8, 25, 0.3, seed=5) > 0).float()
    x = SparseBatch.from_dense(dense)
    train = network.train()({"gl_input": x}, {"gl_output": x})
    assert set(train.losses) == {"Output", "Hidden.SparsenessPenalty"}
    assert set(network.eval()({"gl_input": x}, {"gl_output": x}).losses) == {"Output"}
    # beta * sum_j KL(p || rho_j), rho_j the batch mean of hidden unit j (p 0.5, beta 2)
    (w,), b = _weights(network, "Hidden")
    rho = torch.sigmoid(dense @ w + b).mean(0).clamp(1e-6, 0.999999)
    kl = 0.5 * torch.log(0.5 / rho) + 0.5 * torch.log(0.5 / (1 - rho))
    torch.testing.assert_close(train.losses["Hidden.SparsenessPenalty"], 2.0 * kl.sum())


def test_denoising_changes_inputs_in_training_only():
    spec = load_config(EXAMPLES / "dsstne" / "movielens.json", ["Denoising.p=0.5"])
    network = compile_network(spec, {"gl_input": 50, "gl_output": 50})
    x = SparseBatch.from_dense((_sparse_rows(16, 50, 0.5, seed=6) > 0).float())
    first = network.eval()({"gl_input": x}).outputs["Output"]
    assert torch.equal(first, network({"gl_input": x}).outputs["Output"])
    assert not torch.equal(first, network.train()({"gl_input": x}).outputs["Output"])


def test_dot_product_two_towers():
    spec = load_config(EXAMPLES / "two-tower.yaml")
    network = compile_network(spec, {"user_features": 7, "item_features": 9}).eval()
    users, items = _sparse_rows(4, 7, 0.5, seed=7), _sparse_rows(4, 9, 0.5, seed=8)
    (wu,), bu = _weights(network, "UserTower")
    (wi,), bi = _weights(network, "ItemTower")
    score = (torch.tanh(users @ wu + bu) * torch.tanh(items @ wi + bi)).sum(1, keepdim=True)
    out = network(
        {"user_features": SparseBatch.from_dense(users), "item_features": items},
        {"clicked": torch.ones(4, 1)},
    )
    torch.testing.assert_close(out.outputs["Score"], torch.sigmoid(score))
    torch.testing.assert_close(out.losses["Score"], -F.logsigmoid(score).sum() / 4)


def test_weight_norm_constraint():
    spec = validate_config(
        {
            "ErrorFunction": "L2",
            "Layers": [
                {"N": 6, "DataSet": "x"},
                {
                    "Name": "H",
                    "N": 4,
                    "WeightNorm": 0.5,
                    "WeightInit": {"Scheme": "Constant", "Scale": 1.0},
                },
                {"N": 6, "DataSet": "x", "WeightInit": {"Scheme": "Constant", "Scale": 1.0}},
            ],
        }
    )
    network = compile_network(spec)
    network.apply_constraints()
    norms = network.layers["H"].projections[0].weight.norm(dim=0)
    torch.testing.assert_close(norms, torch.full((4,), 0.5))
    untouched = network.layers["Output2"].projections[0].matrix()
    torch.testing.assert_close(untouched.norm(dim=0), torch.full((6,), 2.0))  # no WeightNorm


def test_missing_batches_are_named():
    network = compile_network(load_config(EXAMPLES / "dsstne" / "config_3.json"), {"input": 5})
    with pytest.raises(KeyError, match="no batch for DataSet 'input' \\(Input layer 'Input'\\)"):
        network({"inputs": torch.zeros(1, 5)})


def _rating_network():
    spec = validate_config(
        {
            "ErrorFunction": "MaskedMSE",
            "Layers": [
                {"Name": "In", "N": 12, "DataSet": "r", "Sparse": True},
                {"Name": "H", "N": 5},
                {"Name": "Out", "Kind": "Output", "N": 12, "DataSet": "r", "Activation": "Linear"},
            ],
        }
    )
    torch.manual_seed(0)
    return compile_network(spec).eval()


def test_a_lone_batch_stands_for_the_only_dataset():
    network = _rating_network()
    dense = _sparse_rows(4, 12, 0.4, seed=7)
    keyed = network({"r": dense}, {"r": dense})
    for batch in (dense, SparseBatch.from_dense(dense)):
        alone = network(batch, batch)
        torch.testing.assert_close(alone.outputs["Out"], keyed.outputs["Out"])
        torch.testing.assert_close(alone.loss, keyed.loss)


def test_a_lone_batch_is_refused_when_several_datasets_are_read():
    spec = validate_config(
        {
            "Layers": [
                {"Name": "A", "Kind": "Input", "N": 4, "DataSet": "a"},
                {"Name": "B", "Kind": "Input", "N": 4, "DataSet": "b"},
                {"Name": "H", "N": 3, "Source": ["A", "B"]},
                {"Name": "Out", "Kind": "Output", "N": 2, "DataSet": "y", "Source": ["H"]},
            ]
        }
    )
    with pytest.raises(TypeError, match=r"several DataSets \(a, b\)"):
        compile_network(spec)(torch.rand(2, 4))


def test_loss_without_targets_says_what_to_do():
    output = _rating_network()(torch.rand(2, 12))
    with pytest.raises(ValueError, match="called without targets"):
        _ = output.loss


def test_torch_export_traces_the_network():
    network = _rating_network()
    dense = _sparse_rows(3, 12, 0.5, seed=8)
    exported = torch.export.export(network, ({"r": dense},))
    torch.testing.assert_close(
        exported.module()({"r": dense}).outputs["Out"], network({"r": dense}).outputs["Out"]
    )
