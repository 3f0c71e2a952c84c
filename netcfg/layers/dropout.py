"""Dropout with DSSTNE's semantics: what a dropped unit becomes depends on the activation.

DSSTNE (``kCalculateDropout``) sets a dropped unit of a Sigmoid layer to 0.5 without
rescaling the others, uses inverted dropout (0 and 1/(1-p)) for other activations and
"alpha dropout" for ELU and SELU. Dropout acts only in training mode.
"""

from __future__ import annotations

import enum
import math

import torch
from torch import Tensor, nn

from netcfg.layers.activations import ActivationKind
from netcfg.spec_base import spec_enum

__all__ = ["AlphaDropout", "DropoutKind", "DropoutKindName", "FillDropout", "create_dropout"]


class DropoutKind(str, enum.Enum):
    """Which dropout ``pDropout`` uses (netcfg's ``DropoutType`` key)."""

    Auto = "Auto"
    """DSSTNE's choice by activation: 0.5 fill for Sigmoid, alpha dropout for ELU/SELU."""
    Standard = "Standard"
    """Inverted dropout: dropped units are 0, kept ones scaled by 1/(1-p) (PyTorch's)."""
    Alpha = "Alpha"
    """Alpha dropout for self-normalizing networks, whatever the activation."""


DropoutKindName = spec_enum(DropoutKind, "DropoutType")


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
    p: float,
    activation: ActivationKind,
    *,
    alpha: float = 1.0,
    lam: float = 1.0,
    kind: DropoutKind = DropoutKind.Auto,
) -> nn.Module | None:
    """The dropout applied after an activation, or None when p is 0.

    Args:
        p: drop probability.
        activation: the layer's activation.
        alpha: ELUAlpha of the layer.
        lam: SELULambda of the layer (used for Selu only).
        kind: ``Auto`` (DSSTNE's choice by activation), ``Standard`` or ``Alpha``.

    Returns:
        A module, or None for p == 0.

    Example:
        >>> create_dropout(0.5, ActivationKind.Sigmoid)
        FillDropout(p=0.5, fill=0.5, scale=1)
    """
    if p == 0.0:
        return None
    if kind is DropoutKind.Standard:
        return FillDropout(p)
    if kind is DropoutKind.Alpha:
        return AlphaDropout(p, -lam * alpha if activation is ActivationKind.Selu else -alpha)
    if activation is ActivationKind.Sigmoid:
        return FillDropout(p, fill=0.5, scale=1.0)
    if activation is ActivationKind.Elu:
        return AlphaDropout(p, -alpha)
    if activation is ActivationKind.Selu:
        return AlphaDropout(p, -lam * alpha)
    return FillDropout(p)
