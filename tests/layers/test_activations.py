"""Activation modules against the formulas of dsstne.md §1 "Activations", written out here."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from netcfg.layers.activations import (
    SELU_ALPHA,
    SELU_LAMBDA,
    ActivationKind,
    Capped,
    LeakyRelu,
    ScaledElu,
    SoftMax,
    create_activation,
)

Act = ActivationKind


def grid() -> torch.Tensor:
    """Values on both sides of 0, including 0 and large magnitudes, as float64."""
    torch.manual_seed(0)
    fixed = torch.tensor([-30.0, -7.5, -2.0, -1.0, -0.25, 0.0, 0.25, 1.0, 2.0, 7.5, 30.0])
    return torch.cat([fixed, 4.0 * torch.randn(89)]).double().view(4, 25)


def elementwise(f, x: torch.Tensor) -> torch.Tensor:
    """Apply a scalar Python function to every element."""
    return torch.tensor([f(v) for v in x.flatten().tolist()], dtype=x.dtype).view_as(x)


def check(module: nn.Module, f) -> None:
    x = grid()
    torch.testing.assert_close(module(x), elementwise(f, x), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- elementwise kinds


def test_sigmoid_tanh_linear_relu():
    check(create_activation(Act.Sigmoid), lambda v: 1.0 / (1.0 + math.exp(-v)))
    check(create_activation(Act.Tanh), math.tanh)
    check(create_activation(Act.Linear), lambda v: v)
    check(create_activation(Act.Relu), lambda v: max(v, 0.0))


@pytest.mark.parametrize("slope", [0.1, 0.01, 0.5])
def test_lrelu_is_max_of_x_and_slope_x(slope):
    module = create_activation(Act.LRelu, slope=slope)
    assert isinstance(module, LeakyRelu)
    check(module, lambda v: max(v, slope * v))
    out = module(torch.tensor([-1.0, 2.0]))
    torch.testing.assert_close(out, torch.tensor([-slope, 2.0]))


def test_lrelu_with_slope_one_is_the_identity():
    x = grid()
    torch.testing.assert_close(create_activation(Act.LRelu, slope=1.0)(x), x, rtol=0, atol=0)
    # The network default RELUSlope is 1.0 as well.
    torch.testing.assert_close(create_activation(Act.LRelu)(x), x, rtol=0, atol=0)


@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.0])
def test_elu_with_alpha(alpha):
    check(
        create_activation(Act.Elu, alpha=alpha),
        lambda v: v if v > 0 else alpha * (math.exp(v) - 1.0),
    )


@pytest.mark.parametrize(
    ("alpha", "lam"), [(1.0, SELU_LAMBDA), (SELU_ALPHA, SELU_LAMBDA), (0.7, 1.3)]
)
def test_selu_formula(alpha, lam):
    module = create_activation(Act.Selu, alpha=alpha, lam=lam)
    check(module, lambda v: lam * v if v > 0 else lam * alpha * (math.exp(v) - 1.0))


def test_selu_defaults():
    assert SELU_LAMBDA == pytest.approx(1.050701)
    assert SELU_ALPHA == pytest.approx(1.6732632, abs=1e-7)
    # DSSTNE's ELUAlpha default is 1.0 and SELULambda 1.050701.
    check(
        create_activation(Act.Selu),
        lambda v: 1.050701 * v if v > 0 else 1.050701 * (math.exp(v) - 1.0),
    )
    # The module's own defaults are the self-normalizing constants.
    check(
        ScaledElu(),
        lambda v: SELU_LAMBDA * v if v > 0 else SELU_LAMBDA * SELU_ALPHA * (math.exp(v) - 1.0),
    )


def test_softplus_is_log_one_plus_exp_not_identity():
    module = create_activation(Act.SoftPlus)
    check(module, lambda v: math.log1p(math.exp(v)) if v < 30 else v + math.log1p(math.exp(-v)))
    x = torch.tensor([-2.0, 0.0, 1.0])
    # DSSTNE computes the identity for SoftPlus; netcfg computes the function.
    assert not torch.allclose(module(x), x)
    assert module(torch.tensor([0.0])).item() == pytest.approx(math.log(2.0))


def test_softsign_is_x_over_one_plus_abs_x_not_identity():
    module = create_activation(Act.SoftSign)
    check(module, lambda v: v / (1.0 + abs(v)))
    x = torch.tensor([-2.0, 0.5, 3.0])
    assert not torch.allclose(module(x), x)
    torch.testing.assert_close(module(x), torch.tensor([-2.0 / 3.0, 0.5 / 1.5, 0.75]))


@pytest.mark.parametrize("cap", [6.0, 1.0, 2.5])
def test_relumax_is_min_of_relu_and_cap(cap):
    module = create_activation(Act.ReluMax, cap=cap)
    assert isinstance(module, Capped)
    check(module, lambda v: min(max(v, 0.0), cap))


@pytest.mark.parametrize("cap", [6.0, 1.0, 2.5])
def test_linearmax_is_min_of_x_and_cap(cap):
    module = create_activation(Act.LinearMax, cap=cap)
    check(module, lambda v: min(v, cap))
    # Negative values pass unchanged (no ReLU).
    assert module(torch.tensor([-5.0])).item() == -5.0


def test_relumax_and_linearmax_default_cap_is_six():
    x = torch.tensor([-3.0, 3.0, 9.0])
    torch.testing.assert_close(create_activation(Act.ReluMax)(x), torch.tensor([0.0, 3.0, 6.0]))
    torch.testing.assert_close(create_activation(Act.LinearMax)(x), torch.tensor([-3.0, 3.0, 6.0]))


def test_every_kind_has_a_module_and_keeps_the_shape():
    x = torch.randn(3, 7)
    for kind in Act:
        module = create_activation(kind)
        assert isinstance(module, nn.Module)
        assert module(x).shape == x.shape


# ---------------------------------------------------------------- SoftMax


def softmax_reference(x: torch.Tensor) -> torch.Tensor:
    """Per example over all units: exp(x - max) / sum exp(x - max), written out."""
    flat = x.reshape(x.shape[0], -1)
    rows = []
    for row in flat.tolist():
        m = max(row)
        e = [math.exp(v - m) for v in row]
        s = sum(e)
        rows.append([v / s for v in e])
    return torch.tensor(rows, dtype=x.dtype).view_as(x)


def test_softmax_per_example_matches_formula_and_sums_to_one():
    x = grid()
    module = create_activation(Act.SoftMax)
    assert isinstance(module, SoftMax)
    out = module(x)
    torch.testing.assert_close(out, softmax_reference(x), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(out.sum(dim=1), torch.ones(x.shape[0], dtype=x.dtype))


def test_softmax_is_over_all_units_of_a_multidimensional_example():
    torch.manual_seed(1)
    x = torch.randn(2, 3, 4, dtype=torch.float64)
    out = SoftMax()(x)
    assert out.shape == x.shape
    torch.testing.assert_close(out, softmax_reference(x))
    torch.testing.assert_close(out.sum(dim=(1, 2)), torch.ones(2, dtype=x.dtype))
    # Not a softmax over the last axis only.
    assert not torch.allclose(out.sum(dim=2), torch.ones(2, 3, dtype=x.dtype))


def test_softmax_is_stable_for_large_inputs():
    x = torch.tensor([[1000.0, 1001.0, 1002.0], [-1000.0, -1000.0, -1000.0]])
    out = SoftMax()(x)
    assert torch.isfinite(out).all()
    e = [math.exp(-2.0), math.exp(-1.0), 1.0]
    expected = torch.tensor([[v / sum(e) for v in e], [1.0 / 3.0] * 3])
    torch.testing.assert_close(out, expected)


def test_softmax_is_invariant_to_a_per_example_shift():
    torch.manual_seed(2)
    x = torch.randn(4, 6, dtype=torch.float64)
    shift = torch.tensor([[0.0], [50.0], [-80.0], [300.0]], dtype=torch.float64)
    torch.testing.assert_close(SoftMax()(x + shift), SoftMax()(x))
