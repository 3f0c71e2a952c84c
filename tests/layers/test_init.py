"""Weight initialization schemes (dsstne.md §1) on a [fan_in, fan_out] weight."""

from __future__ import annotations

import math

import pytest
import torch

from netcfg.layers.common import WeightInitScheme
from netcfg.layers.init import init_weight_

S = WeightInitScheme
FAN_IN, FAN_OUT = 400, 250  # 100,000 draws


def filled(scheme: WeightInitScheme, scale: float, shape=(FAN_IN, FAN_OUT)) -> torch.Tensor:
    torch.manual_seed(0)
    weight = torch.full(shape, float("nan"), dtype=torch.float64)
    out = init_weight_(weight, scheme, scale)
    assert out is weight  # in place
    assert torch.isfinite(weight).all()
    return weight


def check_uniform(w: torch.Tensor, low: float, high: float) -> None:
    """Within [low, high], reaching near both ends, with the mean and std of U(low, high)."""
    width = high - low
    assert w.min().item() >= low
    assert w.max().item() <= high
    assert w.min().item() < low + 0.001 * width
    assert w.max().item() > high - 0.001 * width
    assert w.mean().item() == pytest.approx((low + high) / 2, abs=0.01 * width)
    assert w.std().item() == pytest.approx(width / math.sqrt(12.0), rel=0.01)


@pytest.mark.parametrize("scale", [1.0, 0.5, 3.0])
def test_xavier_is_half_of_the_commented_range(scale):
    half = scale * math.sqrt(6.0 / (FAN_IN + FAN_OUT)) / 2.0
    check_uniform(filled(S.Xavier, scale), -half, half)


def test_xavier_uses_both_fans():
    # [fan_in, fan_out] = [10, 1000] and [1000, 10] have the same bound; [10, 10] a larger one.
    wide = filled(S.Xavier, 1.0, (10, 1000)).abs().max().item()
    tall = filled(S.Xavier, 1.0, (1000, 10)).abs().max().item()
    bound = math.sqrt(6.0 / 1010) / 2.0
    assert wide <= bound and tall <= bound
    assert wide > 0.99 * bound and tall > 0.99 * bound


@pytest.mark.parametrize("scale", [1.0, 0.25, 2.0])
def test_caffe_xavier_uses_fan_out(scale):
    bound = scale * math.sqrt(3.0 / FAN_OUT)
    check_uniform(filled(S.CaffeXavier, scale), -bound, bound)


def test_caffe_xavier_ignores_fan_in():
    bound = math.sqrt(3.0 / 50)
    for fan_in in (20, 2000):
        w = filled(S.CaffeXavier, 1.0, (fan_in, 50))
        assert w.abs().max().item() <= bound
        assert w.abs().max().item() > 0.99 * bound


@pytest.mark.parametrize("scale", [1.0, 0.1, 2.5])
def test_gaussian_std_is_scale(scale):
    w = filled(S.Gaussian, scale)
    assert w.mean().item() == pytest.approx(0.0, abs=0.01 * scale)
    assert w.std().item() == pytest.approx(scale, rel=0.01)
    # Normal, not uniform: about 4.55% of the draws lie beyond 2 sigma.
    assert (w.abs() > 2 * scale).double().mean().item() == pytest.approx(0.0455, abs=0.003)


@pytest.mark.parametrize("scale", [1.0, 0.05, 4.0])
def test_uniform_is_plus_minus_scale(scale):
    check_uniform(filled(S.Uniform, scale), -scale, scale)


@pytest.mark.parametrize("scale", [1.0, 0.3])
def test_unit_ball_is_zero_to_scale(scale):
    check_uniform(filled(S.UnitBall, scale), 0.0, scale)


@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_selu_std_is_scale_over_sqrt_fan_in(scale):
    w = filled(S.SELU, scale)
    std = scale / math.sqrt(FAN_IN)
    assert w.mean().item() == pytest.approx(0.0, abs=0.01 * std)
    assert w.std().item() == pytest.approx(std, rel=0.01)


def test_selu_depends_on_fan_in_only():
    a = filled(S.SELU, 1.0, (100, 1000)).std().item()
    b = filled(S.SELU, 1.0, (1000, 100)).std().item()
    assert a == pytest.approx(0.1, rel=0.02)
    assert b == pytest.approx(math.sqrt(1 / 1000), rel=0.02)


@pytest.mark.parametrize("scale", [1.0, 0.5, -2.0])
def test_constant_is_plus_scale(scale):
    w = filled(S.Constant, scale, (7, 3))
    # DSSTNE fills -Scale (a sign bug); netcfg fills +Scale.
    assert torch.equal(w, torch.full((7, 3), scale, dtype=torch.float64))


def test_default_scale_is_one():
    torch.manual_seed(0)
    w = init_weight_(torch.empty(300, 300), S.Uniform)
    assert w.abs().max().item() <= 1.0
    assert w.abs().max().item() > 0.99


def test_fixed_seed_is_reproducible():
    for scheme in S:
        assert torch.equal(filled(scheme, 1.0, (30, 20)), filled(scheme, 1.0, (30, 20)))


@pytest.mark.parametrize("scheme", list(S))
def test_works_on_a_meta_tensor(scheme):
    weight = torch.empty(1000, 500, device="meta")
    out = init_weight_(weight, scheme, 0.5)
    assert out.shape == (1000, 500)
    assert out.device.type == "meta"


@pytest.mark.parametrize("scheme", list(S))
def test_works_on_a_parameter_without_recording_gradients(scheme):
    weight = torch.nn.Parameter(torch.empty(40, 30))
    init_weight_(weight, scheme, 1.0)
    assert weight.grad_fn is None
    assert weight.requires_grad
    assert torch.isfinite(weight).all()
