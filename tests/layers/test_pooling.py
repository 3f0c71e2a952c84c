"""PairwiseScore (DotProduct and Cosine pooling) against manual computations."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from netcfg.data.batch import SparseBatch
from netcfg.layers.dropout import FillDropout
from netcfg.layers.pooling import PairwiseScore


def sources(count: int, batch: int = 5, width: int = 6, seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, width, generator=g, dtype=torch.float64) for _ in range(count)]


def dot(u: list[float], v: list[float]) -> float:
    return sum(a * b for a, b in zip(u, v, strict=True))


def cosine(u: list[float], v: list[float]) -> float:
    return dot(u, v) / (math.sqrt(dot(u, u)) * math.sqrt(dot(v, v)))


def manual(xs: list[torch.Tensor], f) -> torch.Tensor:
    """Score of source 0 against each other source, per example, in plain Python."""
    anchor = xs[0].tolist()
    rows = []
    for b in range(len(anchor)):
        rows.append([f(anchor[b], other.tolist()[b]) for other in xs[1:]])
    return torch.tensor(rows, dtype=torch.float64)


@pytest.mark.parametrize("count", [2, 3, 4])
def test_dot_product(count):
    xs = sources(count, seed=count)
    out = PairwiseScore()(xs)
    assert out.shape == (5, count - 1)
    torch.testing.assert_close(out, manual(xs, dot))


@pytest.mark.parametrize("count", [2, 3])
def test_cosine(count):
    xs = sources(count, seed=10 + count)
    out = PairwiseScore(cosine=True)(xs)
    assert out.shape == (5, count - 1)
    torch.testing.assert_close(out, manual(xs, cosine))
    assert (out.abs() <= 1.0 + 1e-12).all()


def test_cosine_is_scale_invariant_and_dot_is_not():
    xs = sources(3, seed=20)
    scaled = [xs[0] * 7.0, xs[1] * 0.1, xs[2]]
    torch.testing.assert_close(PairwiseScore(cosine=True)(scaled), PairwiseScore(cosine=True)(xs))
    torch.testing.assert_close(PairwiseScore()(scaled)[:, 0], PairwiseScore()(xs)[:, 0] * 0.7)


def test_hand_computed_values():
    a = torch.tensor([[1.0, 2.0, 2.0]])
    b = torch.tensor([[2.0, 0.0, 1.0]])
    c = torch.tensor([[-1.0, -2.0, -2.0]])
    torch.testing.assert_close(PairwiseScore()([a, b, c]), torch.tensor([[4.0, -9.0]]))
    torch.testing.assert_close(
        PairwiseScore(cosine=True)([a, b, c]), torch.tensor([[4.0 / (3.0 * math.sqrt(5.0)), -1.0]])
    )


def test_sparse_batch_inputs_are_accepted():
    xs = sources(3, seed=30)
    xs[1] = torch.where(xs[1] > 0.3, xs[1], torch.zeros(()))
    xs[2] = torch.where(xs[2] < -0.2, xs[2], torch.zeros(()))
    xs[2][1] = 0.0  # one empty row
    mixed = [xs[0], SparseBatch.from_dense(xs[1]), SparseBatch.from_dense(xs[2])]
    # A sparse source is densified as float32 (to_dense's default): float32 precision.
    torch.testing.assert_close(
        PairwiseScore()(mixed).double(), manual(xs, dot), rtol=1e-5, atol=1e-5
    )
    all_sparse = [SparseBatch.from_dense(x) for x in xs]
    torch.testing.assert_close(
        PairwiseScore()(all_sparse).double(), manual(xs, dot), rtol=1e-5, atol=1e-5
    )


def test_cosine_of_an_empty_row_is_zero_not_nan():
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    b = torch.tensor([[0.0, 0.0], [4.0, -3.0]])
    out = PairwiseScore(cosine=True)([a, SparseBatch.from_dense(b)])
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, torch.tensor([[0.0], [0.0]]))


def test_multidimensional_sources_are_flattened():
    xs = [x.view(5, 2, 3) for x in sources(2, seed=40)]
    torch.testing.assert_close(PairwiseScore()(xs), manual([x.reshape(5, 6) for x in xs], dot))


def test_skips_are_added_before_the_activation():
    xs = sources(3, seed=50)
    g = torch.Generator().manual_seed(51)
    skip_a = torch.randn(5, 2, generator=g, dtype=torch.float64)
    skip_b = torch.randn(5, 2, 1, generator=g, dtype=torch.float64)
    module = PairwiseScore(activation=nn.Tanh())
    expected_z = manual(xs, dot) + skip_a + skip_b.view(5, 2)
    torch.testing.assert_close(module.preactivate(xs, [skip_a, skip_b]), expected_z)
    torch.testing.assert_close(module(xs, [skip_a, skip_b]), torch.tanh(expected_z))


def test_dropout_after_activation_in_training_only():
    xs = [torch.ones(400, 3), torch.full((400, 3), 2.0)]  # every score is 6
    module = PairwiseScore(dropout=FillDropout(0.5))
    module.eval()
    torch.testing.assert_close(module(xs), torch.full((400, 1), 6.0))
    module.train()
    torch.manual_seed(52)
    out = module(xs)
    dropped = out == 0.0
    assert dropped.float().mean().item() == pytest.approx(0.5, abs=0.1)
    torch.testing.assert_close(out[~dropped], torch.full((int((~dropped).sum()),), 12.0))


def test_gradients_flow_to_every_source():
    xs = [x.clone().requires_grad_(True) for x in sources(3, seed=60)]
    PairwiseScore()(xs).sum().backward()
    # d/d anchor = sum of the others; d/d other_k = anchor.
    torch.testing.assert_close(xs[0].grad, (xs[1] + xs[2]).detach())
    torch.testing.assert_close(xs[1].grad, xs[0].detach())
    torch.testing.assert_close(xs[2].grad, xs[0].detach())
