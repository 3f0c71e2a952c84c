"""Dense re-feeding against a hand-written loop of the same algorithm, step by step."""

from __future__ import annotations

import copy

import numpy as np
import torch

from netcfg import compile_network, validate_config
from netcfg.data.ids import IdIndex
from netcfg.data.interactions import Interactions
from netcfg.data.loader import RowLoader
from netcfg.trainers.checkpoint import LoopState
from netcfg.trainers.loop import TrainingLoop
from netcfg.trainers.optimizers import create_optimizer
from netcfg.trainers.reporting import Reporter
from netcfg.trainers.rundir import RunDir

CONFIG = {
    "ErrorFunction": "MaskedMSE",
    "Layers": [
        {"Name": "In", "Kind": "Input", "N": 12, "DataSet": "r", "Sparse": True},
        {"Name": "H", "N": 5, "Activation": "Tanh"},
        {"Name": "Out", "Kind": "Output", "N": 12, "DataSet": "r", "Activation": "Linear"},
    ],
    "Training": {
        "Optimizer": {"Type": "SGD", "LearningRate": 0.05},
        "BatchSize": 6,
        "Epochs": 4,
        "RefeedSteps": 2,
        "DivergenceFactor": 0,
    },
}


def _ratings():
    rng = np.random.default_rng(1)
    dense = np.where(rng.random((6, 12)) < 0.4, rng.integers(1, 6, (6, 12)), 0).astype(np.float32)
    dense[:, 0] = 3.0  # no empty row
    rows, cols = np.nonzero(dense)
    matrix, _ = Interactions.from_coo(
        rows, cols, dense[rows, cols], None, IdIndex(np.arange(6)), IdIndex(np.arange(12))
    )
    return matrix, torch.from_numpy(dense)


def _hand_written_epoch(network, dense, lr, refeed_steps):
    """One update on the observed ratings, then the re-feeding updates, in plain torch."""

    def sgd(loss):
        network.zero_grad()
        loss.backward()
        with torch.no_grad():
            for parameter in network.parameters():
                parameter -= lr * parameter.grad

    output = network({"r": dense}).outputs["Out"]
    observed = dense != 0
    sgd(((output - dense)[observed] ** 2).mean())
    target = output.detach()
    for _ in range(refeed_steps):
        again = network({"r": target}).outputs["Out"]
        sgd(((again - target) ** 2).mean())  # every entry counts; the target is held constant
        target = again.detach()


def test_refeeding_matches_a_hand_written_loop(tmp_path):
    spec = validate_config(CONFIG)
    torch.manual_seed(0)
    network = compile_network(spec)
    reference = copy.deepcopy(network)
    matrix, dense = _ratings()
    optimizer = create_optimizer(spec.Training.Optimizer, network.named_parameters())
    reporter = Reporter(RunDir(tmp_path), progress=False)
    snapshots = []
    reporter.epoch = lambda record, step, model, **_: snapshots.append(
        [p.detach().clone() for p in model.parameters()]
    )
    loop = TrainingLoop(
        network,
        optimizer,
        RowLoader({"r": matrix}, 6, shuffle=False),
        training=spec.Training,
        decay=0.0,
        evaluator=None,
        monitor=None,
        run_dir=RunDir(tmp_path),
        reporter=reporter,
        device=torch.device("cpu"),
    )
    loop.fit(LoopState())
    assert len(snapshots) == 4
    for snapshot in snapshots:
        _hand_written_epoch(reference, dense, 0.05, 2)
        for got, expected in zip(snapshot, reference.parameters(), strict=True):
            torch.testing.assert_close(got, expected.detach(), rtol=1e-5, atol=1e-6)
    # re-feeding changes the result: without it the parameters differ
    plain = copy.deepcopy(reference)
    _hand_written_epoch(plain, dense, 0.05, 0)
    _hand_written_epoch(reference, dense, 0.05, 2)
    assert not torch.allclose(next(plain.parameters()), next(reference.parameters()))
