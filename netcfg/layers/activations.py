"""Activation functions of DSSTNE's language, as plain torch modules.

DSSTNE parses SoftPlus, SoftSign, ReluMax and LinearMax but computes the identity for
them (``NNLayer::CalculateActivation`` has no case); netcfg computes what the names say
(see the README's compatibility notes). ``create_activation`` builds a module from a
name and its parameters.
"""

from __future__ import annotations

import enum

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from netcfg.spec_base import spec_enum

__all__ = [
    "SELU_ALPHA",
    "SELU_LAMBDA",
    "ActivationName",
    "ActivationKind",
    "Capped",
    "LeakyRelu",
    "ScaledElu",
    "SoftMax",
    "create_activation",
]

SELU_ALPHA = 1.6732632423543772
"""The alpha of the self-normalizing SELU (Klambauer et al. 2017)."""
SELU_LAMBDA = 1.050701
"""DSSTNE's default SELULambda."""


class ActivationKind(str, enum.Enum):
    """Activation functions, by their canonical DSSTNE spelling."""

    Sigmoid = "Sigmoid"
    Tanh = "Tanh"
    Linear = "Linear"
    Relu = "Relu"
    LRelu = "LRelu"
    Elu = "Elu"
    Selu = "Selu"
    SoftMax = "SoftMax"
    SoftPlus = "SoftPlus"
    SoftSign = "SoftSign"
    ReluMax = "ReluMax"
    LinearMax = "LinearMax"


ActivationName = spec_enum(
    ActivationKind,
    "Activation",
    aliases={
        "RectifiedLinear": "Relu",
        "LeakyRectifiedLinear": "LRelu",
        "ExponentialLinear": "Elu",
        "ScaledExponentialLinear": "Selu",
    },
    rejected={
        "ParametricRectifiedLinear": "Activation 'ParametricRectifiedLinear' is in DSSTNE's "
        "enum but its parser rejects it; use 'LRelu' with RELUSlope",
        "PRelu": "Activation 'PRelu' appears in DSSTNE's docs but its parser rejects it; "
        "use 'LRelu' with RELUSlope",
        "MaxOut": "'MaxOut' is not an Activation (DSSTNE's parser rejects it); "
        'use a Pooling layer with "Function": "Maxout"',
    },
)
"""The ``Activation`` key's type: case-insensitive, with DSSTNE's aliases."""


class LeakyRelu(nn.Module):
    """DSSTNE's LRelu: ``max(x, slope * x)`` (with slope 1 it is the identity)."""

    def __init__(self, slope: float):
        super().__init__()
        self.slope = slope

    def forward(self, x: Tensor) -> Tensor:
        return torch.maximum(x, self.slope * x)

    def extra_repr(self) -> str:
        return f"slope={self.slope}"


class ScaledElu(nn.Module):
    """SELU with explicit constants: ``lam * x`` for x > 0, else ``lam * alpha * (e^x - 1)``."""

    def __init__(self, alpha: float = SELU_ALPHA, lam: float = SELU_LAMBDA):
        super().__init__()
        self.alpha = alpha
        self.lam = lam

    def forward(self, x: Tensor) -> Tensor:
        return self.lam * F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, lam={self.lam}"


class SoftMax(nn.Module):
    """Softmax over all units of each example (DSSTNE's per-example, max-subtracted SoftMax)."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.softmax(x.flatten(1), dim=1).view_as(x)


class Capped(nn.Module):
    """``min(x, cap)``, after a ReLU when ``relu`` is set: ReluMax and LinearMax."""

    def __init__(self, cap: float, relu: bool):
        super().__init__()
        self.cap = cap
        self.relu = relu

    def forward(self, x: Tensor) -> Tensor:
        return x.clamp(min=0.0 if self.relu else None, max=self.cap)

    def extra_repr(self) -> str:
        return f"cap={self.cap}, relu={self.relu}"


def create_activation(
    kind: ActivationKind,
    *,
    slope: float = 1.0,
    alpha: float = 1.0,
    lam: float = SELU_LAMBDA,
    cap: float = 6.0,
) -> nn.Module:
    """Build the module for an activation.

    Args:
        kind: the activation.
        slope: RELUSlope, for LRelu.
        alpha: ELUAlpha, for Elu and Selu.
        lam: SELULambda, for Selu.
        cap: ActivationMax, for ReluMax and LinearMax.

    Returns:
        A module mapping pre-activations to activations, elementwise except for SoftMax.

    Example:
        >>> create_activation(ActivationKind.LRelu, slope=0.1)(torch.tensor([-1.0, 2.0]))
        tensor([-0.1000,  2.0000])
    """
    table = {
        ActivationKind.Sigmoid: nn.Sigmoid,
        ActivationKind.Tanh: nn.Tanh,
        ActivationKind.Linear: nn.Identity,
        ActivationKind.Relu: nn.ReLU,
        ActivationKind.LRelu: lambda: LeakyRelu(slope),
        ActivationKind.Elu: lambda: nn.ELU(alpha),
        ActivationKind.Selu: lambda: ScaledElu(alpha, lam),
        ActivationKind.SoftMax: SoftMax,
        ActivationKind.SoftPlus: nn.Softplus,
        ActivationKind.SoftSign: nn.Softsign,
        ActivationKind.ReluMax: lambda: Capped(cap, relu=True),
        ActivationKind.LinearMax: lambda: Capped(cap, relu=False),
    }
    return table[kind]()
