"""SparsenessPenalty against a hand-computed KL sum and DSSTNE's delta (dsstne.md §2)."""

from __future__ import annotations

import math

import pytest
import torch

from netcfg.networks.losses import SparsenessPenalty


def clipped_means(a: torch.Tensor) -> list[float]:
    rows, cols = a.shape
    means = [sum(float(a[b, j]) for b in range(rows)) / rows for j in range(cols)]
    return [min(max(rho, 1e-6), 0.999999) for rho in means]


def kl(p: float, rho: float) -> float:
    out = 0.0
    if p > 0:
        out += p * math.log(p / rho)
    if p < 1:
        out += (1 - p) * math.log((1 - p) / (1 - rho))
    return out


@pytest.mark.parametrize("p", [0.0, 0.05, 0.3, 1.0])
@pytest.mark.parametrize("shape", [(1, 4), (5, 3)])
def test_value_is_beta_times_kl_sum(p, shape):
    g = torch.Generator().manual_seed(1)
    a = torch.rand(shape, generator=g, dtype=torch.float64)
    expected = 2.5 * sum(kl(p, rho) for rho in clipped_means(a))
    assert SparsenessPenalty(p, 2.5)(a).item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("p", [0.0, 0.05, 0.3])
def test_gradient_is_dsstne_delta_over_batch(p):
    g = torch.Generator().manual_seed(2)
    a = torch.rand(4, 3, generator=g, dtype=torch.float64)
    a[:, 1] = 0.0  # a dead unit: its mean is clipped to 1e-6
    a[:, 2] = 1.0  # a saturated unit: clipped to 0.999999
    a.requires_grad_(True)
    beta = 0.7
    (grad,) = torch.autograd.grad(SparsenessPenalty(p, beta)(a), a)
    rhos = clipped_means(a.detach())
    for b in range(4):
        for j in range(3):
            delta = beta * (-p / rhos[j] + (1 - p) / (1 - rhos[j]))
            assert float(grad[b, j]) == pytest.approx(delta / 4, rel=1e-9)


def test_dead_units_are_clipped_not_infinite():
    a = torch.zeros(3, 2, requires_grad=True)
    penalty = SparsenessPenalty(0.05, 1.0)(a)
    expected = 2 * (0.05 * math.log(0.05 / 1e-6) + 0.95 * math.log(0.95 / (1 - 1e-6)))
    assert penalty.item() == pytest.approx(expected, rel=1e-5)
    (grad,) = torch.autograd.grad(penalty, a)
    assert torch.isfinite(grad).all()
    assert grad[0, 0].item() == pytest.approx((-0.05 / 1e-6 + 0.95 / (1 - 1e-6)) / 3, rel=1e-5)


def test_penalty_is_zero_at_the_target_mean():
    a = torch.tensor([[0.1, 0.3], [0.3, 0.1]])
    assert SparsenessPenalty(0.2, 3.0)(a).item() == pytest.approx(0.0, abs=1e-6)


def test_invalid_parameters_are_rejected():
    with pytest.raises(ValueError, match="p must be in"):
        SparsenessPenalty(1.5, 1.0)
    with pytest.raises(ValueError, match="beta must be at least 0"):
        SparsenessPenalty(0.1, -1.0)
