"""Masked mean squared error over observed entries (DeepRec's MMSE)."""

from __future__ import annotations

from torch import Tensor

from netcfg.data.batch import SparseBatch
from netcfg.networks.losses.base import OutputLoss

__all__ = ["MaskedMSELoss"]


class MaskedMSELoss(OutputLoss):
    """Mean of ``(a - t)^2`` over the observed entries of the target.

    Observed entries are the stored entries of a `SparseBatch` (whatever their value) and
    the nonzero entries of a dense target. Data weights multiply each entry's square by its
    row's weight in the numerator only; the denominator is the plain count of observed
    entries. With no observed entry the loss is a zero still connected to ``a``. The loss
    is already masked, so DeltaBoost and SparseIgnoreZero do not apply.

    Example:
        >>> import torch
        >>> MaskedMSELoss()(torch.tensor([[0.5, 0.3]]), torch.tensor([[1.0, 0.0]]))
        tensor(0.2500)
    """

    def compute(
        self, a: Tensor, target: Tensor | SparseBatch, z: Tensor | None, weight: Tensor
    ) -> Tensor:
        if isinstance(target, SparseBatch):
            rows = target.row_ids()
            error = a[rows, target.indices] - target.values_or_ones(a.dtype)
            return (weight[rows] * error.square()).sum() / max(target.nnz, 1)
        observed = target != 0
        squares = (weight[:, None] * (a - target).square()).where(observed, 0.0)
        return squares.sum() / observed.sum().clamp(min=1)

    def count(self, target: Tensor | SparseBatch) -> float:
        """The observed entries of ``target`` (the denominator of the mean)."""
        if isinstance(target, SparseBatch):
            return float(target.nnz)
        return float((target != 0).sum())

    @property
    def observed_only(self) -> bool:
        """Always: only the stored entries of a sparse target are observed."""
        return True

    def compute_entries(
        self, a: Tensor, target: SparseBatch, z: Tensor | None, weight: Tensor
    ) -> Tensor:
        error = a - target.values_or_ones(a.dtype)
        return (weight[target.row_ids()] * error.square()).sum() / max(target.nnz, 1)
