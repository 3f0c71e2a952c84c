"""The KL sparsity penalty of a hidden layer (DSSTNE's SparsenessPenalty)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["RHO_MAX", "RHO_MIN", "SparsenessPenalty"]

RHO_MIN = 1e-6
"""DSSTNE clips the mean activation to [RHO_MIN, RHO_MAX]."""
RHO_MAX = 0.999999
"""DSSTNE clips the mean activation to [RHO_MIN, RHO_MAX]."""


def _xlogx(x: float) -> float:
    return x * math.log(x) if x > 0 else 0.0


class SparsenessPenalty(nn.Module):
    """``beta * sum_j KL(p || rho_j)``: pulls each unit's mean activation towards ``p``.

    ``rho_j`` is unit j's mean activation over the batch, clipped to [1e-6, 0.999999], and
    ``KL(p || rho) = p log(p / rho) + (1 - p) log((1 - p) / (1 - rho))`` (with
    ``0 log 0 = 0``). The clip is straight-through: its value is used, but the gradient
    passes as if unclipped. So the gradient with respect to ``a_ij`` is
    ``beta * (-p / rho_j + (1 - p) / (1 - rho_j)) / B`` with the clipped ``rho_j``: DSSTNE's
    delta (added to every example before the activation derivative) divided by the batch
    size, as the output losses divide DSSTNE's summed loss by B. DSSTNE leaves the penalty
    out of its reported loss; this module returns its value.

    Args:
        p: the target mean activation, in [0, 1].
        beta: the weight of the penalty, at least 0.

    Example:
        >>> import torch
        >>> penalty = SparsenessPenalty(p=0.5, beta=1.0)
        >>> penalty(torch.tensor([[0.0, 1.0], [1.0, 0.0]]))
        tensor(0.)
    """

    def __init__(self, p: float, beta: float):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"SparsenessPenalty p must be in [0, 1], got {p}")
        if beta < 0.0:
            raise ValueError(f"SparsenessPenalty beta must be at least 0, got {beta}")
        self.p = p
        self.beta = beta

    def forward(self, a: Tensor) -> Tensor:
        """The penalty of a batch of activations.

        Args:
            a: the hidden layer's activations, [B, N] (or [B, ...]: every non-batch
                position is a unit).

        Returns:
            A scalar tensor.
        """
        rho = a.flatten(1).mean(dim=0)
        rho = rho + (rho.clamp(RHO_MIN, RHO_MAX) - rho).detach()
        p = self.p
        kl = _xlogx(p) + _xlogx(1.0 - p) - p * torch.log(rho) - (1.0 - p) * torch.log1p(-rho)
        return self.beta * kl.sum()

    def extra_repr(self) -> str:
        return f"p={self.p}, beta={self.beta}"
