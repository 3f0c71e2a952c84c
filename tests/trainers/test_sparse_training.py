"""Sparse and dense training paths: the same losses wherever the mathematics is the same.

The sparse path multiplies CSR batches, computes the output only at observed ratings and
updates the touched rows; the dense path (``Compute: Dense`` on the Input and Output
layers) makes every batch dense, as DeepRecommender does. With the same seed, data and
optimizer they must train the same model.
"""

from __future__ import annotations

import copy

import pytest
import torch

from netcfg import compile_network, validate_config
from netcfg.data.batch import SparseBatch
from netcfg.layers.kernels.backends import backend_for
from netcfg.networks.network import OutputMode
from netcfg.trainers.optimizers import create_optimizer
from netcfg.trainers.step import refeed_step, update

ITEMS, USERS, BATCH, STEPS = 120, 96, 16, 50

CONFIG = {
    "ErrorFunction": "MaskedMSE",
    "Denoising": {"p": 0.2},
    "Layers": [
        {"Name": "Input", "Kind": "Input", "N": "auto", "DataSet": "ratings", "Sparse": True},
        {"Name": "Hidden", "N": 24, "Activation": "Selu"},
        {
            "Name": "Output",
            "Kind": "Output",
            "N": "auto",
            "DataSet": "ratings",
            "Sparse": True,
            "Activation": "Linear",
        },
    ],
    "Training": {"Optimizer": {"Type": "SGD", "LearningRate": 0.01}, "Epochs": 1},
}

EXACT = [
    {"Type": "SGD", "LearningRate": 0.05},
    {"Type": "SGD", "LearningRate": 0.05, "Lazy": True},  # exact: SGD only touches those rows
    {"Type": "SGD", "LearningRate": 0.05, "WeightDecay": 0.01, "L1": 0.001},
    {"Type": "Momentum", "LearningRate": 0.02, "Mu": 0.9},
    {"Type": "Nesterov", "LearningRate": 0.02, "Mu": 0.9},
    {"Type": "AdaGrad", "LearningRate": 0.05},
    {"Type": "AdaGrad", "LearningRate": 0.05, "Lazy": True},
    {"Type": "RMSProp", "LearningRate": 0.005},
    {"Type": "AdaDelta", "LearningRate": 1.0},
    {"Type": "Adam", "LearningRate": 0.005},
    {"Type": "AdamW", "LearningRate": 0.005, "WeightDecay": 0.01},
]


def batches(count: int = STEPS) -> list[SparseBatch]:
    """Rating rows about 6% dense, with some empty rows, values 1 to 5."""
    g = torch.Generator().manual_seed(7)
    ratings = (torch.rand(USERS, ITEMS, generator=g) < 0.06) * torch.randint(
        1, 6, (USERS, ITEMS), generator=g
    )
    ratings[::3, -1] = 4  # the last item is rated too
    ratings[::11] = 0
    return [
        SparseBatch.from_dense(ratings[(i * BATCH) % USERS :][:BATCH].float()) for i in range(count)
    ]


def networks(optimizer: dict, refeed: int = 0, device: str = "cpu"):
    """The sparse-path and the dense-path networks, same initial weights."""
    sparse = copy.deepcopy(CONFIG)
    sparse["Training"]["Optimizer"] = optimizer
    sparse["Training"]["RefeedSteps"] = refeed
    dense = copy.deepcopy(sparse)
    dense["Layers"][0]["Compute"] = "Dense"
    dense["Layers"][2]["Compute"] = "Dense"
    built = []
    for config in (sparse, dense):
        spec = validate_config(config)
        torch.manual_seed(0)
        network = compile_network(spec, {"ratings": ITEMS}).to(device).train()
        built.append(
            (network, create_optimizer(spec.Training.Optimizer, network.named_parameters()))
        )
    return built


def train(network, optimizer, data, *, mode, refeed: int = 0) -> list[float]:
    """The trainer's steps (`update`, `refeed_step`), the loss of each."""
    losses = []
    device = next(network.parameters()).device
    for step, batch in enumerate(data):
        torch.manual_seed(100 + step)  # the same denoising draws on both paths
        batch = batch.to(device)
        result = network({"ratings": batch}, {"ratings": batch}, mode=mode)
        update(network, optimizer, result.loss, measure=step % 10 == 0)
        losses.append(float(result.loss.detach()))
        output = result.outputs["Output"]
        for _ in range(refeed):
            loss, output = refeed_step(network, output, "ratings", "Output")
            update(network, optimizer, loss, measure=False)
            losses.append(float(loss.detach()))
    return losses


def assert_losses_match(sparse: list[float], dense: list[float]) -> None:
    relative = torch.tensor([abs(s - d) / abs(d) for s, d in zip(sparse, dense, strict=True)])
    assert relative.max() < 1e-5, f"largest relative difference {relative.max():.3g}"


@pytest.mark.parametrize("optimizer", EXACT, ids=lambda o: "-".join(map(str, o.values())))
def test_sparse_and_dense_paths_train_the_same_model(optimizer):
    (sparse_net, sparse_opt), (dense_net, dense_opt) = networks(optimizer)
    data = batches()
    sparse = train(sparse_net, sparse_opt, data, mode=OutputMode.Sparse)
    dense = train(dense_net, dense_opt, data, mode=OutputMode.Sparse)
    assert sparse[-1] < sparse[0]  # it learns
    assert_losses_match(sparse, dense)
    # the sparse path really was sparse: row-sparse gradients on the big weights
    grads = {n: p.grad for n, p in sparse_net.named_parameters() if p.grad is not None}
    assert grads["layers.Hidden.projections.0.weight"].is_sparse
    assert grads["layers.Output.projections.0.weight"].is_sparse
    assert not any(p.grad.is_sparse for p in dense_net.parameters() if p.grad is not None)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("refeed", [0, 1])
@pytest.mark.parametrize(
    "optimizer", [EXACT[0], EXACT[3], EXACT[9]], ids=["SGD", "Momentum", "Adam"]
)
def test_on_a_gpu_the_triton_path_trains_as_the_dense_one(optimizer, refeed):
    """On CUDA the sparse path runs the compiled Triton kernels (atomic weight-gradient sums)."""
    (sparse_net, sparse_opt), (dense_net, dense_opt) = networks(optimizer, refeed, "cuda")
    data = batches(20 if refeed else STEPS)
    mode = OutputMode.SparseLoss if refeed else OutputMode.Sparse
    sparse = train(sparse_net, sparse_opt, data, mode=mode, refeed=refeed)
    dense = train(dense_net, dense_opt, data, mode=mode, refeed=refeed)
    assert sparse[-1] < sparse[0]
    assert_losses_match(sparse, dense)
    weight = sparse_net.get_parameter("layers.Hidden.projections.0.weight")
    assert weight.is_cuda and backend_for(weight).name == "triton"
    assert weight.grad.is_sparse != bool(refeed)  # a re-feeding step's gradient is dense


def test_re_feeding_matches_too():
    (sparse_net, sparse_opt), (dense_net, dense_opt) = networks(
        {"Type": "Momentum", "LearningRate": 0.02}, refeed=1
    )
    data = batches(20)
    sparse = train(sparse_net, sparse_opt, data, mode=OutputMode.SparseLoss, refeed=1)
    dense = train(dense_net, dense_opt, data, mode=OutputMode.SparseLoss, refeed=1)
    assert len(sparse) == 40
    assert_losses_match(sparse, dense)


@pytest.mark.parametrize("kind", ["Momentum", "Adam"])
def test_lazy_variants_change_the_mathematics(kind):
    (sparse_net, sparse_opt), _ = networks({"Type": kind, "LearningRate": 0.02, "Lazy": True})
    (exact_net, exact_opt), _ = networks({"Type": kind, "LearningRate": 0.02})
    data = batches(20)
    lazy = train(sparse_net, sparse_opt, data, mode=OutputMode.Sparse)
    exact = train(exact_net, exact_opt, data, mode=OutputMode.Sparse)
    assert lazy[0] == exact[0]  # same start
    assert max(abs(a - b) / b for a, b in zip(lazy, exact, strict=True)) > 1e-4
    assert lazy[-1] < lazy[0]
