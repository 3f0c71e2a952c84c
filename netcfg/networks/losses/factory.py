"""Build the loss module of an ErrorFunction and its parameters."""

from __future__ import annotations

from netcfg.layers.activations import ActivationKind
from netcfg.networks.losses.base import OutputLoss
from netcfg.networks.losses.cross_entropy import (
    CrossEntropyLoss,
    DataScaledMarginalCrossEntropyLoss,
    ScaledMarginalCrossEntropyLoss,
)
from netcfg.networks.losses.distance import HingeLoss, L1Loss, L2HingeLoss, L2Loss
from netcfg.networks.losses.error_function import ErrorFunctionKind
from netcfg.networks.losses.masked_mse import MaskedMSELoss
from netcfg.networks.losses.pairing import pairing_problem

__all__ = ["create_loss"]


def create_loss(
    kind: ErrorFunctionKind,
    activation: ActivationKind,
    *,
    one_target: float = 0.9,
    zero_target: float = 0.1,
    one_scale: float = 1.0,
    zero_scale: float = 1.0,
    delta_boost: tuple[float, float] = (1.0, 1.0),
    ignore_zero: bool = False,
) -> OutputLoss:
    """Build the loss of an output layer.

    Parameters a loss has no use for are ignored, as DSSTNE ignores them: the margins and
    scales serve only the scaled-marginal cross entropies, DeltaBoost only L1, L2, L2Hinge
    and CrossEntropy, and MaskedMSE takes none.

    Args:
        kind: the ErrorFunction.
        activation: the output layer's activation.
        one_target: ScaledMarginalCrossEntropy's ``oneTarget``.
        zero_target: ScaledMarginalCrossEntropy's ``zeroTarget``.
        one_scale: ScaledMarginalCrossEntropy's ``oneScale``.
        zero_scale: ScaledMarginalCrossEntropy's ``zeroScale``.
        delta_boost: DeltaBoost ``(one, zero)``, for sparse targets.
        ignore_zero: the dataset's ``SparseIgnoreZero`` flag.

    Returns:
        The loss module.

    Raises:
        ValueError: the ErrorFunction is not defined for the activation
            (see `pairing_problem`).

    Example:
        >>> create_loss(ErrorFunctionKind.L2, ActivationKind.Linear, delta_boost=(2.0, 1.0))
        L2Loss(ignore_zero=False, delta_boost=(2.0, 1.0))
    """
    kind = ErrorFunctionKind(kind)
    problem = pairing_problem(kind, activation)
    if problem is not None:
        raise ValueError(problem)
    margins = {
        "one_target": one_target,
        "zero_target": zero_target,
        "one_scale": one_scale,
        "zero_scale": zero_scale,
        "ignore_zero": ignore_zero,
    }
    if kind is ErrorFunctionKind.L1:
        return L1Loss(ignore_zero=ignore_zero, delta_boost=delta_boost)
    if kind is ErrorFunctionKind.L2:
        return L2Loss(ignore_zero=ignore_zero, delta_boost=delta_boost)
    if kind is ErrorFunctionKind.L2Hinge:
        return L2HingeLoss(ignore_zero=ignore_zero, delta_boost=delta_boost)
    if kind is ErrorFunctionKind.Hinge:
        return HingeLoss(ignore_zero=ignore_zero)
    if kind is ErrorFunctionKind.CrossEntropy:
        return CrossEntropyLoss(activation, ignore_zero=ignore_zero, delta_boost=delta_boost)
    if kind is ErrorFunctionKind.ScaledMarginalCrossEntropy:
        return ScaledMarginalCrossEntropyLoss(activation, **margins)
    if kind is ErrorFunctionKind.DataScaledMarginalCrossEntropy:
        return DataScaledMarginalCrossEntropyLoss(**margins)
    return MaskedMSELoss()
