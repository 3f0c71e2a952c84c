"""Dropout with DSSTNE's semantics: what a dropped unit becomes depends on the activation.

DSSTNE (``kCalculateDropout``) sets a dropped unit of a Sigmoid layer to 0.5 without
rescaling the others, uses inverted dropout (0 and 1/(1-p)) for other activations and
"alpha dropout" for ELU and SELU. Dropout acts only in training mode.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from netcfg.layers.activations import ActivationKind

__all__ = ["AlphaDropout", "FillDropout", "create_dropout"]


class FillDropout(nn.Module):
    """Set each unit to ``fill`` with probability p; multiply kept units by ``scale``."""

    def __init__(self, p: float, fill: float = 0.0, scale: float | None = None):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.fill = fill
        self.scale = 1.0 / (1.0 - p) if scale is None else scale

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.rand_like(x) >= self.p
        return torch.where(keep, x * self.scale, torch.full_like(x, self.fill))

    def extra_repr(self) -> str:
        return f"p={self.p}, fill={self.fill}, scale={self.scale:g}"


class AlphaDropout(nn.Module):
    """Alpha dropout: keeps the mean and variance of self-normalizing activations.

    With q = 1 - p, a' the negative saturation value, A = 1/sqrt(q + a'^2 p q) and
    B = -A p a', dropped units become A a' + B and kept units A x + B.
    """

    def __init__(self, p: float, saturation: float):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.saturation = saturation
        q = 1.0 - p
        self.a = 1.0 / math.sqrt(q + saturation * saturation * p * q)
        self.b = -self.a * p * saturation

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.rand_like(x) >= self.p
        dropped = torch.full_like(x, self.a * self.saturation + self.b)
        return torch.where(keep, self.a * x + self.b, dropped)

    def extra_repr(self) -> str:
        return f"p={self.p}, saturation={self.saturation:g}"


def create_dropout(
    p: float, activation: ActivationKind, *, alpha: float = 1.0, lam: float = 1.0
) -> nn.Module | None:
    """The dropout DSSTNE applies after an activation, or None when p is 0.

    Args:
        p: drop probability.
        activation: the layer's activation.
        alpha: ELUAlpha of the layer.
        lam: SELULambda of the layer (used for Selu only).

    Returns:
        A module, or None for p == 0.

    Example:
        >>> create_dropout(0.5, ActivationKind.Sigmoid)
        FillDropout(p=0.5, fill=0.5, scale=1)
    """
    if p == 0.0:
        return None
    if activation is ActivationKind.Sigmoid:
        return FillDropout(p, fill=0.5, scale=1.0)
    if activation is ActivationKind.Elu:
        return AlphaDropout(p, -alpha)
    if activation is ActivationKind.Selu:
        return AlphaDropout(p, -lam * alpha)
    return FillDropout(p)
