"""Which output activations each ErrorFunction is defined for."""

from __future__ import annotations

from netcfg.layers.activations import ActivationKind
from netcfg.networks.losses.error_function import ErrorFunctionKind

__all__ = ["pairing_problem"]

_DEFINED_FOR = {
    ErrorFunctionKind.CrossEntropy: (ActivationKind.Sigmoid, ActivationKind.SoftMax),
    ErrorFunctionKind.ScaledMarginalCrossEntropy: (ActivationKind.Sigmoid, ActivationKind.SoftMax),
    ErrorFunctionKind.DataScaledMarginalCrossEntropy: (ActivationKind.Sigmoid,),
}
"""The losses with restrictions; every other loss is defined for any output activation."""


def pairing_problem(kind: ErrorFunctionKind, activation: ActivationKind) -> str | None:
    """Why an ErrorFunction cannot train an output layer of some activation, if it cannot.

    DSSTNE has cross-entropy deltas only for Sigmoid and SoftMax outputs (and the
    data-scaled one only for Sigmoid); other pairings silently train nothing there.

    Args:
        kind: the ErrorFunction.
        activation: the output layer's activation.

    Returns:
        None when the pairing is defined, else a one-line message.

    Example:
        >>> pairing_problem(ErrorFunctionKind.CrossEntropy, ActivationKind.Relu)
        "ErrorFunction 'CrossEntropy' is defined only for Sigmoid or SoftMax outputs (got 'Relu')"
    """
    kind, activation = ErrorFunctionKind(kind), ActivationKind(activation)
    allowed = _DEFINED_FOR.get(kind)
    if allowed is None or activation in allowed:
        return None
    names = " or ".join(a.value for a in allowed)
    return (
        f"ErrorFunction '{kind.value}' is defined only for {names} outputs "
        f"(got '{activation.value}')"
    )
