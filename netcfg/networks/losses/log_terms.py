"""Activations with their logarithms, for the cross-entropy losses."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from netcfg.layers.activations import ActivationKind

__all__ = ["LOG_FLOOR", "LogTerms"]

LOG_FLOOR = 1e-12
"""DSSTNE takes logs of max(1e-12, x)."""


def _floored_log(x: Tensor) -> Tensor:
    return torch.log(torch.clamp_min(x, LOG_FLOOR))


@dataclass(frozen=True)
class LogTerms:
    """Activations ``a`` with ``log a`` and ``log(1 - a)``, elementwise.

    Attributes:
        a: activations.
        log_a: ``log a``.
        log_1ma: ``log(1 - a)``.
    """

    a: Tensor
    log_a: Tensor
    log_1ma: Tensor

    @classmethod
    def of(cls, a: Tensor, z: Tensor | None, activation: ActivationKind) -> LogTerms:
        """The logs of ``a``: from ``z`` when possible, else as DSSTNE does.

        With pre-activations of a Sigmoid output, ``log a = logsigmoid(z)`` and
        ``log(1 - a) = logsigmoid(-z)``; of a SoftMax output, ``log a = log_softmax(z)``
        over the units (``log(1 - a)`` is never needed there and stays floored). These keep
        their gradients when the activation saturates. Otherwise the logs are of
        ``max(1e-12, x)``, whose gradient vanishes below the floor.

        Args:
            a: activations [B, N].
            z: pre-activations [B, N], or None.
            activation: the output activation.

        Returns:
            The activations with their logs.

        Example:
            >>> z = torch.tensor([[-40.0]])
            >>> LogTerms.of(torch.sigmoid(z), z, ActivationKind.Sigmoid).log_a
            tensor([[-40.]])
        """
        if z is not None and activation is ActivationKind.Sigmoid:
            return cls(a, F.logsigmoid(z), F.logsigmoid(-z))
        if z is not None and activation is ActivationKind.SoftMax:
            return cls(a, F.log_softmax(z, dim=1), _floored_log(1 - a))
        return cls(a, _floored_log(a), _floored_log(1 - a))

    def __getitem__(self, index: tuple[Tensor, Tensor]) -> LogTerms:
        """The entries at an index, as a tensor's: ``terms[rows, cols]``."""
        return LogTerms(self.a[index], self.log_a[index], self.log_1ma[index])
