"""DSSTNE's weight initialization schemes, on a weight stored as [fan_in, fan_out]."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from netcfg.layers.common import WeightInitScheme

__all__ = ["init_weight_"]


@torch.no_grad()
def init_weight_(weight: Tensor, scheme: WeightInitScheme, scale: float = 1.0) -> Tensor:
    """Fill a weight matrix in place, as DSSTNE's ``NNWeight::Randomize`` does.

    fan_in and fan_out are the widths of the connection's input and output layers, that is
    ``weight.shape[0]`` and ``weight.shape[1]``. Two schemes differ from DSSTNE on purpose
    (README, compatibility): Constant sets ``+scale`` (DSSTNE: ``-scale``) and SELU draws
    N(0, scale / sqrt(fan_in)) (DSSTNE: a standard deviation of 1 / fan_in).

    Args:
        weight: a [fan_in, fan_out] tensor.
        scheme: the scheme.
        scale: the scheme's Scale.

    Returns:
        ``weight``, filled (a tensor on the meta device has no values: it is returned as
        is, so that compiling on meta, as ``netcfg validate`` does, costs no random draws).

    Example:
        >>> w = init_weight_(torch.empty(4, 3), WeightInitScheme.Constant, 0.5)
        >>> w.unique().tolist()
        [0.5]
    """
    if weight.is_meta:
        return weight
    fan_in, fan_out = weight.shape[0], weight.shape[-1]
    if scheme is WeightInitScheme.Xavier:
        half = scale * math.sqrt(6.0 / (fan_in + fan_out)) / 2.0
        return weight.uniform_(-half, half)
    if scheme is WeightInitScheme.CaffeXavier:
        bound = scale * math.sqrt(3.0 / fan_out)
        return weight.uniform_(-bound, bound)
    if scheme is WeightInitScheme.Gaussian:
        return weight.normal_(0.0, scale)
    if scheme is WeightInitScheme.Uniform:
        return weight.uniform_(-scale, scale)
    if scheme is WeightInitScheme.UnitBall:
        return weight.uniform_(0.0, scale)
    if scheme is WeightInitScheme.SELU:
        return weight.normal_(0.0, scale / math.sqrt(fan_in))
    return weight.fill_(scale)
