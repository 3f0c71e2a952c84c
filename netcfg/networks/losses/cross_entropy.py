"""Cross-entropy losses of Sigmoid and SoftMax outputs, plain and scaled-marginal."""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor

from netcfg.layers.activations import ActivationKind
from netcfg.networks.losses.error_function import ErrorFunctionKind
from netcfg.networks.losses.log_terms import LogTerms
from netcfg.networks.losses.pairing import pairing_problem
from netcfg.networks.losses.unitwise import UnitwiseLoss

__all__ = [
    "CrossEntropyLoss",
    "DataScaledMarginalCrossEntropyLoss",
    "ScaledMarginalCrossEntropyLoss",
]


class _LogLoss(UnitwiseLoss):
    """A loss on the logs of a Sigmoid (binary) or SoftMax (multinomial) output."""

    kind: ClassVar[ErrorFunctionKind]

    def __init__(
        self,
        activation: ActivationKind,
        *,
        ignore_zero: bool = False,
        delta_boost: tuple[float, float] = (1.0, 1.0),
    ):
        problem = pairing_problem(self.kind, activation)
        if problem is not None:
            raise ValueError(problem)
        super().__init__(ignore_zero=ignore_zero, delta_boost=delta_boost)
        self.activation = ActivationKind(activation)
        self.multinomial = self.activation is ActivationKind.SoftMax

    @property
    def observed_only(self) -> bool:
        """A SoftMax output's logs read every unit, so only a Sigmoid output qualifies."""
        return self.ignore_zero and not self.multinomial

    def units(self, a: Tensor, z: Tensor | None) -> LogTerms:
        return LogTerms.of(a, z, self.activation)

    def extra_repr(self) -> str:
        return f"{self.activation.value}, {super().extra_repr()}"


class CrossEntropyLoss(_LogLoss):
    """DSSTNE's CrossEntropy.

    Per unit, ``w * (-t log a - (1 - t) log(1 - a))`` for a Sigmoid output, and the
    multinomial ``-w * t * log a`` for a SoftMax output. With pre-activations ``z`` the
    gradient with respect to ``z`` is ``w * (a - t)`` even where the sigmoid saturates.

    Args:
        activation: the output activation, Sigmoid or SoftMax (else ValueError).
        ignore_zero: only nonzero (stored) targets contribute.
        delta_boost: DeltaBoost ``(one, zero)`` for sparse targets.

    Example:
        >>> import torch
        >>> loss = CrossEntropyLoss(ActivationKind.Sigmoid)
        >>> round(loss(torch.tensor([[0.5]]), torch.tensor([[1.0]])).item(), 4)
        0.6931
    """

    kind = ErrorFunctionKind.CrossEntropy

    def unit_loss(self, units: LogTerms, t: Tensor) -> Tensor:
        if self.multinomial:
            return -t * units.log_a
        return -t * units.log_a - (1.0 - t) * units.log_1ma


class ScaledMarginalCrossEntropyLoss(_LogLoss):
    """DSSTNE's ScaledMarginalCrossEntropy: cross entropy only where the margin is missed.

    For a Sigmoid output, per unit: ``-w * t * one_scale * log a`` where ``t != 0`` and
    ``a < one_target``; ``-w * zero_scale * log(1 - a)`` where ``t == 0`` and
    ``a > zero_target``; 0 elsewhere. With ``t == 1`` this is DSSTNE's formula; a nonzero
    analog target counts as a "one" target scaled by its value. For a SoftMax output only
    the first term exists (zero targets contribute nothing). DSSTNE's sparse SoftMax delta
    (``a - one_scale / nnz`` at positives, ``zero_scale * a`` at zeros) does not follow its
    loss; netcfg differentiates the loss. DeltaBoost does not apply.

    Args:
        activation: the output activation, Sigmoid or SoftMax (else ValueError).
        one_target: the margin of "one" targets.
        zero_target: the margin of zero targets.
        one_scale: the scale of the "one" term.
        zero_scale: the scale of the zero term.
        ignore_zero: only nonzero (stored) targets contribute, dropping the zero term.

    Example:
        >>> import torch
        >>> loss = ScaledMarginalCrossEntropyLoss(ActivationKind.Sigmoid)
        >>> loss(torch.tensor([[0.95, 0.05]]), torch.tensor([[1.0, 0.0]]))
        tensor(0.)
    """

    kind = ErrorFunctionKind.ScaledMarginalCrossEntropy

    def __init__(
        self,
        activation: ActivationKind,
        *,
        one_target: float = 0.9,
        zero_target: float = 0.1,
        one_scale: float = 1.0,
        zero_scale: float = 1.0,
        ignore_zero: bool = False,
    ):
        super().__init__(activation, ignore_zero=ignore_zero)
        self.one_target = one_target
        self.zero_target = zero_target
        self.one_scale = one_scale
        self.zero_scale = zero_scale

    def unit_loss(self, units: LogTerms, t: Tensor) -> Tensor:
        one = (-self.one_scale * t * units.log_a).where((t != 0) & (units.a < self.one_target), 0.0)
        if self.multinomial:
            return one
        missed_zero = (t == 0) & (units.a > self.zero_target)
        return one + (-self.zero_scale * units.log_1ma).where(missed_zero, 0.0)

    def extra_repr(self) -> str:
        return (
            f"{self.activation.value}, one_target={self.one_target}, "
            f"zero_target={self.zero_target}, one_scale={self.one_scale}, "
            f"zero_scale={self.zero_scale}, ignore_zero={self.ignore_zero}"
        )


class DataScaledMarginalCrossEntropyLoss(ScaledMarginalCrossEntropyLoss):
    """DSSTNE's DataScaledMarginalCrossEntropy, for a Sigmoid output and analog targets.

    Per unit: ``-zero_scale * log(1 - a)`` at zero targets where ``a > zero_target``;
    ``-one_scale * v * log a`` at targets of value ``v != 0`` where ``a < one_target``
    (no zero term there). Indicator data has ``v = 1``; a dense target's nonzero entries
    are the values. As in DSSTNE, data weights are ignored and DeltaBoost does not apply.

    Args:
        one_target: the margin of nonzero targets.
        zero_target: the margin of zero targets.
        one_scale: the scale of the nonzero-target term.
        zero_scale: the scale of the zero-target term.
        ignore_zero: only nonzero (stored) targets contribute, dropping the zero term.

    Example:
        >>> import torch
        >>> loss = DataScaledMarginalCrossEntropyLoss()
        >>> round(loss(torch.tensor([[0.5]]), torch.tensor([[3.0]])).item(), 4)
        2.0794
    """

    kind = ErrorFunctionKind.DataScaledMarginalCrossEntropy
    uses_weights = False

    def __init__(
        self,
        *,
        one_target: float = 0.9,
        zero_target: float = 0.1,
        one_scale: float = 1.0,
        zero_scale: float = 1.0,
        ignore_zero: bool = False,
    ):
        super().__init__(
            ActivationKind.Sigmoid,
            one_target=one_target,
            zero_target=zero_target,
            one_scale=one_scale,
            zero_scale=zero_scale,
            ignore_zero=ignore_zero,
        )
