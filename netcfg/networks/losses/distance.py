"""Losses of the distance between activation and target: L1, L2, L2Hinge and Hinge."""

from __future__ import annotations

from torch import Tensor

from netcfg.networks.losses.unitwise import UnitwiseLoss

__all__ = ["HingeLoss", "L1Loss", "L2HingeLoss", "L2Loss"]


class L1Loss(UnitwiseLoss):
    """DSSTNE's L1: ``w * |a - t|`` per unit.

    Args:
        ignore_zero: only nonzero (stored) targets contribute.
        delta_boost: DeltaBoost ``(one, zero)`` for sparse targets.

    Example:
        >>> import torch
        >>> L1Loss()(torch.tensor([[0.5, 0.0]]), torch.tensor([[1.0, 1.0]]))
        tensor(1.5000)
    """

    def unit_loss(self, units: Tensor, t: Tensor) -> Tensor:
        return (units - t).abs()


class L2Loss(UnitwiseLoss):
    """DSSTNE's L2: ``w * (a - t)^2 / 2`` per unit.

    Args:
        ignore_zero: only nonzero (stored) targets contribute.
        delta_boost: DeltaBoost ``(one, zero)`` for sparse targets.

    Example:
        >>> import torch
        >>> L2Loss()(torch.tensor([[0.5, 0.0]]), torch.tensor([[1.0, 1.0]]))
        tensor(0.6250)
    """

    def unit_loss(self, units: Tensor, t: Tensor) -> Tensor:
        return 0.5 * (units - t).square()


class L2HingeLoss(UnitwiseLoss):
    """DSSTNE's L2Hinge: ``w * d^2 / 2`` per unit, ``d = a - |t|`` kept only on one side.

    ``d`` is replaced by ``min(0, d)`` where ``t > 0`` (overshooting a positive target is
    free) and by ``max(0, d)`` elsewhere (undershooting it is free).

    Args:
        ignore_zero: only nonzero (stored) targets contribute.
        delta_boost: DeltaBoost ``(one, zero)`` for sparse targets.

    Example:
        >>> import torch
        >>> L2HingeLoss()(torch.tensor([[2.0, -1.0]]), torch.tensor([[1.0, 0.0]]))
        tensor(0.)
    """

    def unit_loss(self, units: Tensor, t: Tensor) -> Tensor:
        d = units - t.abs()
        return 0.5 * d.clamp(max=0.0).where(t > 0, d.clamp(min=0.0)).square()


class HingeLoss(UnitwiseLoss):
    """DSSTNE's Hinge: ``w * max(0, 1 - t * a)`` per unit; DeltaBoost does not apply.

    The gradient is the true one, ``-w * t`` where ``t * a < 1``; DSSTNE's coded delta is
    ``w * (a < 0 ? -t : 0)`` instead.

    Args:
        ignore_zero: only nonzero (stored) targets contribute.

    Example:
        >>> import torch
        >>> HingeLoss()(torch.tensor([[0.5, 2.0]]), torch.tensor([[1.0, 1.0]]))
        tensor(0.5000)
    """

    def __init__(self, *, ignore_zero: bool = False):
        super().__init__(ignore_zero=ignore_zero)

    def unit_loss(self, units: Tensor, t: Tensor) -> Tensor:
        return (1.0 - t * units).clamp(min=0.0)
