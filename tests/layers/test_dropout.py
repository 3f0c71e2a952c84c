"""Dropout with DSSTNE's semantics (dsstne.md §2 "Dropout"), against values computed here."""

from __future__ import annotations

import math

import pytest
import torch

from netcfg.layers.activations import SELU_ALPHA, SELU_LAMBDA, ActivationKind, ScaledElu
from netcfg.layers.dropout import AlphaDropout, FillDropout, create_dropout

Act = ActivationKind


def positive_input(shape=(200, 500), seed: int = 0) -> torch.Tensor:
    """Values in [1, 2): never equal to 0, 0.5 or a scaled copy of one another's fill."""
    g = torch.Generator().manual_seed(seed)
    return 1.0 + torch.rand(shape, generator=g)


# ---------------------------------------------------------------- eval mode


@pytest.mark.parametrize(
    "module",
    [
        FillDropout(0.5),
        FillDropout(0.3, fill=0.5, scale=1.0),
        AlphaDropout(0.2, -1.0),
        AlphaDropout(0.4, -SELU_LAMBDA * SELU_ALPHA),
    ],
    ids=["fill", "sigmoid", "alpha-elu", "alpha-selu"],
)
def test_eval_mode_is_the_identity(module):
    x = positive_input((20, 30))
    module.eval()
    out = module(x)
    assert torch.equal(out, x)


def test_p_zero_in_training_is_the_identity():
    x = positive_input((20, 30))
    assert torch.equal(FillDropout(0.0).train()(x), x)
    assert torch.equal(AlphaDropout(0.0, -1.0).train()(x), x)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_bad_probability_is_rejected(p):
    with pytest.raises(ValueError, match="dropout probability"):
        FillDropout(p)
    with pytest.raises(ValueError, match="dropout probability"):
        AlphaDropout(p, -1.0)


# ---------------------------------------------------------------- Sigmoid and others


def test_sigmoid_dropout_fills_one_half_and_does_not_rescale():
    p = 0.3
    module = create_dropout(p, Act.Sigmoid)
    assert isinstance(module, FillDropout)
    x = positive_input()
    torch.manual_seed(1)
    out = module.train()(x)
    dropped = out == 0.5
    kept = ~dropped
    # Inputs are >= 1, so a 0.5 can only be a dropped unit.
    assert torch.equal(out[kept], x[kept])
    assert (out[dropped] == 0.5).all()
    assert dropped.float().mean().item() == pytest.approx(p, abs=0.01)


@pytest.mark.parametrize(
    ("act", "p"),
    [
        (Act.Relu, 0.1),
        (Act.Relu, 0.5),
        (Act.Relu, 0.8),
        (Act.Tanh, 0.3),
        (Act.Linear, 0.3),
        (Act.LRelu, 0.3),
        (Act.SoftMax, 0.3),
    ],
)
def test_inverted_dropout_for_other_activations(act, p):
    module = create_dropout(p, act)
    assert isinstance(module, FillDropout)
    x = positive_input()
    torch.manual_seed(2)
    out = module.train()(x)
    dropped = out == 0.0
    kept = ~dropped
    torch.testing.assert_close(out[kept], x[kept] * (1.0 / (1.0 - p)))
    # Drop fraction: 100,000 Bernoulli(p) draws; 0.01 is more than 10 standard deviations.
    assert dropped.float().mean().item() == pytest.approx(p, abs=0.01)
    # Different draws per call (not a fixed mask).
    assert not torch.equal(module(x) == 0.0, dropped)


def test_fill_dropout_explicit_fill_and_scale():
    module = FillDropout(0.25, fill=-3.0, scale=2.0).train()
    x = positive_input()
    torch.manual_seed(3)
    out = module(x)
    dropped = out == -3.0
    torch.testing.assert_close(out[~dropped], 2.0 * x[~dropped])
    assert dropped.float().mean().item() == pytest.approx(0.25, abs=0.01)


def test_fill_dropout_default_scale():
    assert FillDropout(0.2).scale == pytest.approx(1.25)
    assert FillDropout(0.5, fill=0.5, scale=1.0).scale == 1.0


# ---------------------------------------------------------------- alpha dropout


def alpha_constants(p: float, saturation: float) -> tuple[float, float]:
    """A = 1/sqrt(q + a'^2 p q), B = -A p a' (dsstne.md §2)."""
    q = 1.0 - p
    a = 1.0 / math.sqrt(q + saturation**2 * p * q)
    return a, -a * p * saturation


@pytest.mark.parametrize(
    ("p", "saturation"), [(0.1, -1.0), (0.3, -2.0), (0.5, -SELU_LAMBDA * SELU_ALPHA)]
)
def test_alpha_dropout_values(p, saturation):
    a, b = alpha_constants(p, saturation)
    module = AlphaDropout(p, saturation).train()
    assert module.a == pytest.approx(a)
    assert module.b == pytest.approx(b)
    x = positive_input().double()
    torch.manual_seed(4)
    out = module(x)
    dropped_value = a * saturation + b
    dropped = torch.isclose(out, torch.full_like(out, dropped_value), rtol=0, atol=1e-12)
    kept = ~dropped
    torch.testing.assert_close(out[kept], a * x[kept] + b)
    assert dropped.double().mean().item() == pytest.approx(p, abs=0.01)
    # Kept values (x >= 1) never coincide with the dropped value.
    assert (out[kept] - dropped_value).abs().min() > 1e-3


@pytest.mark.parametrize("p", [0.05, 0.2, 0.5])
def test_alpha_dropout_preserves_selu_mean_and_variance(p):
    g = torch.Generator().manual_seed(5)
    z = torch.randn(1_000_000, generator=g, dtype=torch.float64)
    a = ScaledElu(SELU_ALPHA, SELU_LAMBDA)(z)
    # SELU of standard-normal input is (close to) zero mean, unit variance.
    assert a.mean().item() == pytest.approx(0.0, abs=0.01)
    assert a.var().item() == pytest.approx(1.0, abs=0.02)
    module = create_dropout(p, Act.Selu, alpha=SELU_ALPHA, lam=SELU_LAMBDA)
    assert isinstance(module, AlphaDropout)
    torch.manual_seed(6)
    out = module.train()(a)
    assert out.mean().item() == pytest.approx(0.0, abs=0.01)
    assert out.var().item() == pytest.approx(1.0, abs=0.02)


# ---------------------------------------------------------------- create_dropout


def test_create_dropout_p_zero_is_none():
    for act in Act:
        assert create_dropout(0.0, act) is None


def test_create_dropout_sigmoid_fill():
    module = create_dropout(0.4, Act.Sigmoid)
    assert isinstance(module, FillDropout)
    assert (module.p, module.fill, module.scale) == (0.4, 0.5, 1.0)


@pytest.mark.parametrize(
    "act",
    [
        Act.Tanh,
        Act.Linear,
        Act.Relu,
        Act.LRelu,
        Act.SoftMax,
        Act.SoftPlus,
        Act.SoftSign,
        Act.ReluMax,
        Act.LinearMax,
    ],
)
def test_create_dropout_other_activations_zero_fill(act):
    module = create_dropout(0.4, act)
    assert isinstance(module, FillDropout)
    assert module.fill == 0.0
    assert module.scale == pytest.approx(1.0 / 0.6)


@pytest.mark.parametrize("alpha", [1.0, 0.5, 1.7])
def test_create_dropout_elu_saturation_is_minus_alpha(alpha):
    module = create_dropout(0.2, Act.Elu, alpha=alpha, lam=3.0)
    assert isinstance(module, AlphaDropout)
    assert module.saturation == pytest.approx(-alpha)
    a, b = alpha_constants(0.2, -alpha)
    assert (module.a, module.b) == (pytest.approx(a), pytest.approx(b))


@pytest.mark.parametrize(("alpha", "lam"), [(1.0, SELU_LAMBDA), (SELU_ALPHA, SELU_LAMBDA)])
def test_create_dropout_selu_saturation_is_minus_lambda_alpha(alpha, lam):
    module = create_dropout(0.2, Act.Selu, alpha=alpha, lam=lam)
    assert isinstance(module, AlphaDropout)
    assert module.saturation == pytest.approx(-lam * alpha)
    a, b = alpha_constants(0.2, -lam * alpha)
    assert (module.a, module.b) == (pytest.approx(a), pytest.approx(b))
