"""The CDAE zoo entry (zoo/cdae-ml100k) against a hand-written dense PyTorch CDAE.

Issue 12, item 9: the entry ranked below item popularity on an implicit play-count dataset.
These tests pin what its training step computes, independently of netcfg's sparse paths:
``x -> denoise(p) -> sigmoid(x W1 + b1) -> sigmoid(h W2 + b2)``, and the logistic loss
summed over EVERY item (stored entries are ones, all other items zeros), divided by the
batch size; one SGD step with weight decay on the weights only.
(The entry's own optimizer is Adam since; its output biases start at -6.)
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from netcfg import compile_network, load_config
from netcfg.data import SparseBatch
from netcfg.networks.network import OutputMode
from netcfg.trainers.optimizers import create_optimizer

ITEMS = 30
ROWS = 5
HIDDEN = "Hidden"
OUTPUT = "Output"


def _batch(seed: int) -> SparseBatch:
    """Indicator rows (values None), as Binarize gives; one row with a single item."""
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(ROWS, ITEMS, generator=g) < 0.2
    mask[1] = False
    mask[1, 7] = True
    rows, cols = mask.nonzero(as_tuple=True)
    offsets = torch.zeros(ROWS + 1, dtype=torch.int64)
    offsets[1:] = torch.cumsum(torch.bincount(rows, minlength=ROWS), 0)
    return SparseBatch(offsets, cols, None, ITEMS)


def _network(overrides: tuple[str, ...] = ()):
    spec = load_config("zoo:cdae-ml100k", list(overrides))
    torch.manual_seed(0)
    network = compile_network(spec, {"ratings": ITEMS})
    return spec, network


def _matrices(network) -> dict[str, Tensor]:
    """Copies of W1 [items, hidden], b1, W2 [hidden, items], b2 as leaf tensors."""
    hidden, output = network.layers[HIDDEN], network.layers[OUTPUT]
    (p1,), (p2,) = hidden.projections, output.projections
    return {
        "W1": p1.matrix().detach().clone().requires_grad_(),
        "b1": hidden.bias.detach().clone().requires_grad_(),
        "W2": p2.matrix().detach().clone().requires_grad_(),
        "b2": output.bias.detach().clone().requires_grad_(),
    }


def _netcfg_grads(network) -> dict[str, Tensor]:
    """netcfg's gradients in the reference's layouts (dense, [in, out])."""
    hidden, output = network.layers[HIDDEN], network.layers[OUTPUT]
    out = {}
    for key, layer in (("1", hidden), ("2", output)):
        (projection,) = layer.projections
        grad = projection.weight.grad
        grad = grad.to_dense() if grad.is_sparse else grad
        out[f"W{key}"] = grad if projection.rows == "in" else grad.t()
        bias = layer.bias.grad
        out[f"b{key}"] = bias.to_dense() if bias.is_sparse else bias
    return out


def _reference_loss(m: dict[str, Tensor], x: Tensor, target: Tensor) -> Tensor:
    """Dense CDAE without the user node; BCE over all items, summed, / batch."""
    h = torch.sigmoid(x @ m["W1"] + m["b1"])
    z = h @ m["W2"] + m["b2"]
    return F.binary_cross_entropy_with_logits(z, target, reduction="sum") / x.shape[0]


def _denoised_dense(batch: SparseBatch, p: float, seed: int) -> Tensor:
    """The input after denoising, drawn as netcfg draws it (one uniform per stored entry)."""
    torch.manual_seed(seed)
    keep = (torch.rand(batch.nnz) >= p).float() / (1.0 - p)
    dense = torch.zeros(ROWS, ITEMS)
    dense[batch.row_ids(), batch.indices] = keep
    return dense


@pytest.mark.parametrize("mode", [OutputMode.Sparse, OutputMode.Dense])
def test_cdae_loss_and_gradients_match_dense_reference(mode):
    spec, network = _network()
    p = spec.Denoising.p
    assert p == 0.5
    batch = _batch(3)
    target = batch.to_dense()
    reference = _matrices(network)
    network.train()
    torch.manual_seed(11)
    out = network({"ratings": batch}, {"ratings": batch}, mode=mode)
    out.loss.backward()
    loss = _reference_loss(reference, _denoised_dense(batch, p, 11), target)
    loss.backward()
    torch.testing.assert_close(out.loss.detach(), loss.detach())
    got = _netcfg_grads(network)
    for key, tensor in reference.items():
        torch.testing.assert_close(got[key], tensor.grad, msg=key)


def test_cdae_loss_counts_unobserved_items_as_negatives():
    """The output bias gradient at an item no row stored is mean(sigmoid(z)) > 0: it is
    pushed down. A loss on the stored entries alone would leave it at zero."""
    _, network = _network(("Denoising.p=0",))
    batch = _batch(5)
    never = torch.ones(ITEMS, dtype=torch.bool)
    never[batch.indices] = False
    assert never.any()
    network.train()
    network({"ratings": batch}, {"ratings": batch}, mode=OutputMode.Sparse).loss.backward()
    grad = network.layers[OUTPUT].bias.grad
    grad = grad.to_dense() if grad.is_sparse else grad
    with torch.no_grad():
        a = network({"ratings": batch}).outputs[OUTPUT]
    torch.testing.assert_close(grad[never], a[:, never].mean(0))
    assert (grad[never] > 0).all()


def test_cdae_sgd_step_matches_dense_reference():
    """One SGD step (DSSTNE's train defaults, the entry's optimizer until it moved to Adam):
    w -= lr * (g + wd * w) on weights, b -= lr * g."""
    sgd = 'Training.Optimizer={"Type": "SGD", "LearningRate": 0.025, "WeightDecay": 0.0001}'
    spec, network = _network(("Denoising.p=0", sgd))
    lr, wd = spec.Training.Optimizer.LearningRate, spec.Training.Optimizer.WeightDecay
    optimizer = create_optimizer(spec.Training.Optimizer, network.named_parameters())
    batch = _batch(7)
    reference = _matrices(network)
    network.train()
    network({"ratings": batch}, {"ratings": batch}, mode=OutputMode.Sparse).loss.backward()
    optimizer.step()
    _reference_loss(reference, batch.to_dense(), batch.to_dense()).backward()
    after = _matrices(network)
    with torch.no_grad():
        for key, w in reference.items():
            decay = wd * w if key.startswith("W") else 0.0
            torch.testing.assert_close(after[key], w - lr * (w.grad + decay), msg=key)
