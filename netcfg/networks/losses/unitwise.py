"""Losses that sum a per-unit term: dense and sparse targets, DeltaBoost, SparseIgnoreZero."""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor

from netcfg.data.batch import SparseBatch
from netcfg.networks.losses.base import OutputLoss
from netcfg.networks.losses.log_terms import LogTerms

__all__ = ["UnitwiseLoss"]


class UnitwiseLoss(OutputLoss):
    """A loss ``sum over rows b and units j of f_j * w_b * l(a_bj, t_bj)``, divided by B.

    Subclasses give the per-unit loss ``l`` (``unit_loss``) and what it reads (``units``).
    The factor ``f`` is 1 except under DeltaBoost; ``w`` is the data weight of the row.

    A sparse target is never made dense. As DSSTNE's "raw" and "NonZero" kernels, the loss
    is the sum of ``l(a, 0)`` over all units plus, at each stored position,
    ``l(a, t) - l(a, 0)``. Each column is assumed to be stored at most once per row.

    Args:
        ignore_zero: DSSTNE's ``SparseIgnoreZero`` dataset flag: only the stored positions
            of a sparse target (the nonzero entries of a dense one) contribute.
        delta_boost: DeltaBoost ``(one, zero)``: with a sparse target, the per-unit loss,
            and so its gradient, is scaled by ``one`` at stored positions and by ``zero``
            elsewhere. Dense targets ignore it.
    """

    uses_weights: ClassVar[bool] = True
    """Whether data weights scale the loss (DataScaledMarginalCrossEntropy ignores them)."""

    def __init__(self, *, ignore_zero: bool = False, delta_boost: tuple[float, float] = (1.0, 1.0)):
        super().__init__()
        self.ignore_zero = ignore_zero
        self.delta_boost = (float(delta_boost[0]), float(delta_boost[1]))

    def units(self, a: Tensor, z: Tensor | None) -> Tensor | LogTerms:
        """What ``unit_loss`` reads, indexable as ``units[rows, cols]``: here ``a`` itself.

        Args:
            a: activations [B, N].
            z: pre-activations [B, N], or None.

        Returns:
            ``a``; losses that take logs return `LogTerms`.
        """
        return a

    def unit_loss(self, units: Tensor | LogTerms, t: Tensor) -> Tensor:
        """The unweighted loss of each unit.

        Args:
            units: what ``units`` returned, or entries of it.
            t: targets broadcastable to the units (a 0-d zero for the "raw" term).

        Returns:
            The loss of each unit, of the units' shape.
        """
        raise NotImplementedError

    def compute(
        self, a: Tensor, target: Tensor | SparseBatch, z: Tensor | None, weight: Tensor
    ) -> Tensor:
        units = self.units(a, z)
        if not self.uses_weights:
            weight = weight.new_ones(weight.shape)
        if isinstance(target, SparseBatch):
            total = self._sparse_sum(a, units, target, weight)
        else:
            loss = self.unit_loss(units, target) * weight[:, None]
            if self.ignore_zero:
                loss = loss.where(target != 0, 0.0)
            total = loss.sum()
        return total / a.shape[0]

    @property
    def observed_only(self) -> bool:
        """With ``ignore_zero``, only the stored entries of a sparse target contribute."""
        return self.ignore_zero

    def compute_entries(
        self, a: Tensor, target: SparseBatch, z: Tensor | None, weight: Tensor
    ) -> Tensor:
        if not self.uses_weights:
            weight = weight.new_ones(weight.shape)
        values = target.values_or_ones(a.dtype)
        loss = weight[target.row_ids()] * self.unit_loss(self.units(a, z), values)
        return self.delta_boost[0] * loss.sum() / target.batch_size

    def _sparse_sum(
        self, a: Tensor, units: Tensor | LogTerms, target: SparseBatch, weight: Tensor
    ) -> Tensor:
        one, zero = self.delta_boost
        rows = target.row_ids()
        stored = units[rows, target.indices]
        stored_weight = weight[rows]
        values = target.values_or_ones(a.dtype)
        total = one * (stored_weight * self.unit_loss(stored, values)).sum()
        if self.ignore_zero:
            return total
        no_target = a.new_zeros(())
        raw = (self.unit_loss(units, no_target) * weight[:, None]).sum()
        at_stored = (stored_weight * self.unit_loss(stored, no_target)).sum()
        return total + zero * (raw - at_stored)

    def extra_repr(self) -> str:
        return f"ignore_zero={self.ignore_zero}, delta_boost={self.delta_boost}"
