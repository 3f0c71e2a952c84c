"""RBMs for collaborative filtering: the CD update, free energy, predictions, resume, config.

The references are written here in numpy from the paper's formulas (Salakhutdinov, Mnih
and Hinton 2007), over dense one-hot visible units, independently of the module's sparse
entry-wise computation.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from netcfg import ConfigError, compile_network, validate_config
from netcfg.cli import main
from netcfg.config.render import render_config
from netcfg.data.batch import SparseBatch
from netcfg.errors import DataError
from netcfg.inference.models import open_model
from netcfg.networks.rbm import RatingRBM, RBMNetwork
from netcfg.networks.rbm_spec import ContrastiveDivergenceSpec, cd_steps
from netcfg.trainers.checkpoint import WEIGHTS
from netcfg.trainers.optimizers import create_optimizer
from netcfg.trainers.step import update
from netcfg.trainers.train import train

LEVELS = [1.0, 2.0, 3.0]

RBM = {
    "Kind": "RBM",
    "RBM": {"Levels": LEVELS},
    "Layers": [
        {"Name": "Visible", "Kind": "Input", "N": "auto", "DataSet": "ratings", "Sparse": True},
        {"Name": "Hidden", "N": 3},
        {"Name": "Output", "Kind": "Output", "N": "auto", "DataSet": "ratings"},
    ],
}

# 3 users x 4 items on levels 1..3; 0: not rated
RATINGS = np.array([[1, 0, 3, 2], [0, 2, 0, 0], [3, 3, 1, 0]], dtype=np.float32)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _one_hot(ratings, levels):
    """Dense visible units [users, items, K]: zeros where a user has no rating."""
    levels = np.asarray(levels)
    return (ratings[..., None] == levels).astype(np.float64)


def _numpy_params(net: RBMNetwork, k: int):
    rbm = net.rbm
    w = rbm.weight.detach().double().numpy().reshape(rbm.columns, k, rbm.hidden)
    b = rbm.visible_bias.detach().double().numpy().reshape(rbm.columns, k)
    return w, b, rbm.hidden_bias.detach().double().numpy()


def _numpy_cd1_gradients(w, b, c, ratings, hidden_draws, visible_draws):
    """CD-1 from the paper's formulas; visible draws in row-major order of the entries."""
    v0 = _one_hot(ratings, LEVELS)
    h0 = _sigmoid(c + np.einsum("uik,ikf->uf", v0, w))
    h_sample = (hidden_draws < h0).astype(np.float64)
    p = _softmax(b + np.einsum("uf,ikf->uik", h_sample, w))
    v1 = np.zeros_like(v0)
    users, items = np.nonzero(ratings)
    for draw, u, i in zip(visible_draws, users, items, strict=True):
        v1[u, i, np.argmax(np.cumsum(p[u, i]) >= draw)] = 1.0
    h1 = _sigmoid(c + np.einsum("uik,ikf->uf", v1, w))
    n = len(ratings)
    dw = (np.einsum("uik,uf->ikf", v0, h0) - np.einsum("uik,uf->ikf", v1, h1)) / n
    db = (v0.sum(axis=0) - v1.sum(axis=0)) / n
    dc = (h0.sum(axis=0) - h1.sum(axis=0)) / n
    return -dw, -db, -dc


class Draws:
    """Hands out prepared uniform draws in order, checking the shapes asked for."""

    def __init__(self, arrays):
        self.arrays = list(arrays)

    def __call__(self, shape):
        array = self.arrays.pop(0)
        assert tuple(shape) == array.shape
        return torch.from_numpy(array).float()


def _network(seed: int = 0, config: dict = RBM) -> RBMNetwork:
    torch.manual_seed(seed)
    net = compile_network(validate_config(config), {"ratings": RATINGS.shape[1]})
    with torch.no_grad():  # biases away from 0, so that their part of the update shows
        net.rbm.visible_bias.normal_(0.0, 0.5)
        net.rbm.hidden_bias.normal_(0.0, 0.5)
        net.rbm.weight.normal_(0.0, 0.5)
    return net


def test_cd1_update_with_momentum_and_weight_decay_matches_numpy():
    net = _network()
    rate, mu, decay = 0.1, 0.9, 0.01
    spec = validate_config(
        {
            **RBM,
            "Training": {
                "Optimizer": {
                    "Type": "Momentum",
                    "LearningRate": rate,
                    "Mu": mu,
                    "WeightDecay": decay,
                }
            },
        }
    ).Training.Optimizer
    optimizer = create_optimizer(spec, net.named_parameters())
    batch = {"ratings": SparseBatch.from_dense(torch.from_numpy(RATINGS))}
    rng = np.random.default_rng(1)
    k = len(LEVELS)
    w, b, c = _numpy_params(net, k)
    velocity = [np.zeros_like(w), np.zeros_like(b), np.zeros_like(c)]
    nnz = int((RATINGS != 0).sum())
    for _ in range(2):  # the second update carries the first one's momentum
        hidden_draws = rng.random((3, 3)).astype(np.float32)
        visible_draws = rng.random(nnz).astype(np.float32)
        gradients = _numpy_cd1_gradients(w, b, c, RATINGS, hidden_draws, visible_draws)
        optimizer.zero_grad(set_to_none=True)
        net.estimate_gradients(batch, epoch=0, uniform=Draws([hidden_draws, visible_draws]))
        update(net, optimizer, None)
        params = [w, b, c]
        for index, gradient in enumerate(gradients):
            regularized = gradient + (decay * params[index] if index == 0 else 0.0)
            velocity[index] = mu * velocity[index] - rate * regularized
            params[index] = params[index] + velocity[index]
        w, b, c = params
        got = _numpy_params(net, k)
        for name, mine, reference in zip(("weight", "visible", "hidden"), got, params, strict=True):
            np.testing.assert_allclose(mine, reference, rtol=1e-4, atol=1e-6, err_msg=name)


def test_a_chain_that_returns_the_data_estimates_a_zero_gradient():
    """Draws that pick the data's levels again (0: the first level, 1: the last) give
    v1 = v0, so h1 = p(h | v1) = h0 and the data and model statistics cancel."""
    net = _network()
    offsets = torch.tensor([0, 2])
    items, levels = torch.tensor([0, 3]), torch.tensor([0, 2])
    draws = Draws([np.zeros((1, 3), np.float32), np.array([0.0, 1.0], np.float32)])
    gradients, _ = net.rbm.cd_gradients(offsets, items, levels, 1, draws)
    assert all(torch.count_nonzero(g) == 0 for g in gradients.values())
    draws = Draws([np.zeros((1, 3), np.float32), np.array([1.0, 1.0], np.float32)])
    gradients, _ = net.rbm.cd_gradients(offsets, items, levels, 1, draws)
    assert torch.count_nonzero(gradients["visible_bias"]) == 2  # item 0: level 1 -> 3


def _free_energy_reference(w, b, c, ratings):
    v = _one_hot(ratings, LEVELS)
    x = c + np.einsum("uik,ikf->uf", v, w)
    return -np.einsum("uik,ik->u", v, b) - np.logaddexp(0.0, x).sum(axis=1)


def test_free_energy_matches_numpy_and_decreases_on_training_data():
    rng = np.random.default_rng(0)
    taste = rng.integers(0, 2, size=(60, 1))  # two groups of users with opposite tastes
    liked = np.where(np.arange(12) < 6, 3.0, 1.0)
    ratings = np.where(taste == 1, liked, 4.0 - liked)
    ratings = np.where(rng.random(ratings.shape) < 0.6, ratings, 0.0).astype(np.float32)
    config = copy.deepcopy(RBM)
    config["Layers"][1]["N"] = 4
    torch.manual_seed(0)
    net = compile_network(validate_config(config), {"ratings": 12})
    batch = SparseBatch.from_dense(torch.from_numpy(ratings))
    levels = (batch.values - 1).long()

    def mean_free_energy():
        with torch.no_grad():
            energy = net.rbm.free_energy(batch.offsets, batch.indices, levels)
        np.testing.assert_allclose(
            energy.numpy(), _free_energy_reference(*_numpy_params(net, 3), ratings), rtol=1e-5
        )
        return float(energy.mean())

    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.5)
    before = mean_free_energy()
    for _ in range(100):
        optimizer.zero_grad(set_to_none=True)
        net.estimate_gradients({"ratings": batch}, epoch=0)
        optimizer.step()
    after = mean_free_energy()
    assert after < before - 3.0
    noise = torch.from_numpy(rng.integers(0, 3, batch.nnz))  # random levels, same items
    with torch.no_grad():
        random_levels = net.rbm.free_energy(batch.offsets, batch.indices, noise)
    assert after < float(random_levels.mean()) - 3.0


def test_predictions_are_expected_ratings_computed_as_numpy_does():
    net = _network().eval()
    w, b, c = _numpy_params(net, 3)
    h = _sigmoid(c + np.einsum("uik,ikf->uf", _one_hot(RATINGS, LEVELS), w))
    expected = _softmax(b + np.einsum("uf,ikf->uik", h, w)) @ np.array(LEVELS)
    sparse = net({"ratings": SparseBatch.from_dense(torch.from_numpy(RATINGS))})
    dense = net(torch.from_numpy(RATINGS))  # the dense input of exports
    for out in (sparse, dense):
        predicted = out.outputs["Output"].detach().numpy()
        np.testing.assert_allclose(predicted, expected, rtol=1e-5)
        assert predicted.min() >= LEVELS[0] and predicted.max() <= LEVELS[-1]
    targets = torch.from_numpy(RATINGS)
    loss = float(net(targets, targets).loss.detach())
    rated = RATINGS != 0
    assert loss == pytest.approx(np.mean((expected[rated] - RATINGS[rated]) ** 2), rel=1e-5)


def test_plain_module_without_netcfg_shapes():
    rbm = RatingRBM(5, [1.0, 2.0], hidden=2)
    assert [p.shape for p in rbm.parameters()] == [(10, 2), (10,), (2,)]
    hidden = rbm.hidden_probabilities(torch.tensor([0, 1, 1]), torch.tensor([4]), torch.tensor([1]))
    assert hidden.shape == (2, 2) and torch.allclose(hidden[1], torch.sigmoid(rbm.hidden_bias))


def test_cd_schedule():
    schedule = ContrastiveDivergenceSpec(Steps=(1, 3, 9), Milestones=(2, 5))
    assert [cd_steps(schedule, epoch) for epoch in range(7)] == [1, 1, 3, 3, 3, 9, 9]


def test_ratings_outside_the_levels_and_implicit_data_are_data_errors():
    net = _network()
    half = SparseBatch.from_dense(torch.tensor([[1.0, 2.5, 0.0, 0.0]]))
    with pytest.raises(DataError, match=r"rating 2.5, which is none of the RBM's Levels"):
        net.estimate_gradients({"ratings": half}, epoch=0)
    implicit = half.with_values(None)
    with pytest.raises(DataError, match="no rating values"):
        net.estimate_gradients({"ratings": implicit}, epoch=0)


def _problems(config) -> list[str]:
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    return [f"{'.'.join(map(str, i.path))}: {i.message}" for i in err.value.issues]


def test_config_errors_name_the_key_and_what_to_do():
    visible, hidden, output = RBM["Layers"]
    assert _problems({**RBM, "RBM": {"Levles": [1, 2]}}) == [
        "RBM.Levles: unknown key 'Levles'; did you mean 'Levels'?"
    ]
    assert _problems({**RBM, "RBM": {"CD": {"Steps": [1, 3], "Milestones": []}}}) == [
        "RBM.CD: Milestones must hold one epoch fewer than Steps: 2 Steps need 1 Milestones (got 0)"
    ]
    assert _problems({**RBM, "RBM": {"Levels": [3, 2]}}) == [
        "RBM: Levels must hold at least two increasing ratings (got [3.0, 2.0])"
    ]
    assert _problems({**RBM, "Kind": "FeedForward"}) == [
        'RBM: the RBM section applies to Kind "RBM" only; set Kind or remove it'
    ]
    wrong = {
        **RBM,
        "Layers": [
            visible,
            {**hidden, "Activation": "Relu", "pDropout": 0.5},
            {**output, "DataSet": "other"},
        ],
        "Baseline": {},
        "Training": {"RefeedSteps": 1, "Precision": "fp16"},
    }
    assert _problems(wrong) == [
        "Layers.1.pDropout: 'pDropout' does not apply to an RBM's Hidden layer; remove it",
        "Layers.1.Activation: an RBM's hidden units are binary, with Sigmoid probabilities "
        "(got Relu)",
        "Layers.2.DataSet: an RBM predicts the ratings it reads: DataSet must be 'ratings' "
        "(got 'other')",
        "Baseline: an RBM has no Baseline: its visible biases model each item",
        "Training.RefeedSteps: re-feeding does not apply to an RBM; set it to 0",
        "Training.Precision: an RBM estimates its own gradients, which fp16 loss scaling "
        "cannot scale; use fp32 or bf16",
    ]
    extra = {**RBM, "Layers": [visible, hidden, {**hidden, "Name": "H2"}, output]}
    assert _problems(extra) == [
        "Layers: an RBM has three layers: an Input on the ratings, a Hidden layer of N "
        "units reading it, and an Output on the Input's DataSet reading the Hidden layer "
        "(found Input, Hidden, Hidden, Output)"
    ]


def test_rendered_config_validates_to_the_same_spec():
    spec = validate_config({**RBM, "RBM": {"CD": {"Steps": [1, 3], "Milestones": [4]}}})
    assert validate_config(render_config(spec)) == spec


def _synthetic(tmp_path, epochs: int) -> dict:
    config = copy.deepcopy(RBM)
    config["RBM"] = {"Levels": [1, 2, 3, 4, 5], "CD": {"Steps": [1, 2], "Milestones": [2]}}
    config["Layers"][1]["N"] = 8
    config["Data"] = {
        "ratings": {
            "Synthetic": {"Users": 120, "Items": 40, "Density": 0.2, "Seed": 0},
            "Protocol": {"Type": "random", "Fractions": [0.8, 0.1, 0.1], "Seed": 0},
        }
    }
    config["Training"] = {
        "Optimizer": {"Type": "Momentum", "LearningRate": 0.05, "Mu": 0.9, "WeightDecay": 0.001},
        "BatchSize": 16,
        "Epochs": epochs,
        "Seed": 5,
        "EarlyStopping": None,
    }
    return config


def test_resume_continues_exactly_and_the_run_predicts_and_exports(tmp_path, capsys):
    whole = train(_synthetic(tmp_path, 3), out=tmp_path / "whole", quiet=True)
    train(_synthetic(tmp_path, 2), out=tmp_path / "parts", quiet=True)
    resumed = train(_synthetic(tmp_path, 3), out=tmp_path / "parts", resume=True, quiet=True)
    assert resumed.test == whole.test
    for file in (WEIGHTS,):
        a = load_file(str(tmp_path / "whole" / "checkpoint" / file))
        b = load_file(str(tmp_path / "parts" / "checkpoint" / file))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    momentum = [
        torch.load(tmp_path / run / "checkpoint" / "optimizer.pt", weights_only=True)["state"]
        for run in ("whole", "parts")
    ]
    assert momentum[0].keys() == momentum[1].keys() and momentum[0]
    for key, state in momentum[0].items():
        assert torch.equal(state["velocity"], momentum[1][key]["velocity"])
    assert main(["predict", str(tmp_path / "whole"), "--top-k", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    users = [line.split()[0] for line in lines]
    assert len(set(users)) > 100 and all(users.count(user) == 2 for user in set(users))
    assert all(1.0 <= float(line.split()[2]) <= 5.0 for line in lines)
    out = tmp_path / "rbm.pt"
    assert main(["export", str(tmp_path / "whole"), "--format", "torchscript", "-o", str(out)]) == 0
    exported = torch.jit.load(str(out))
    network = open_model(tmp_path / "whole").network
    x = torch.zeros(2, network.rbm.columns)
    x[0, :3], x[1, 5] = torch.tensor([5.0, 2.0, 1.0]), 4.0
    assert torch.allclose(exported(x), network(x).outputs["Output"])
