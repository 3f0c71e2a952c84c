"""The ``Training.Optimizer`` and ``Training.Schedule`` sections: closed sets of choices.

Optimizers follow DSSTNE's update rules (dsstne.md §3): its alpha, lambda, lambda1, mu
and mu1 are spelled LearningRate, WeightDecay, L1, Mu and Mu1 here and accepted under
their DSSTNE names too. ``AdamW`` (decoupled weight decay) is netcfg's addition.
"""

from __future__ import annotations

import enum
from typing import Any

from netcfg.spec_base import SpecBase, spec_enum, spec_field, tuple_of
from netcfg.spec_unions import type_union

__all__ = [
    "OptimizerKind",
    "OptimizerSpec",
    "ScheduleKind",
    "ScheduleSpec",
]


class OptimizerKind(str, enum.Enum):
    """Optimizers: DSSTNE's seven and AdamW."""

    SGD = "SGD"
    Momentum = "Momentum"
    Nesterov = "Nesterov"
    AdaGrad = "AdaGrad"
    RMSProp = "RMSProp"
    AdaDelta = "AdaDelta"
    Adam = "Adam"
    AdamW = "AdamW"


OptimizerKindName = spec_enum(OptimizerKind, "Optimizer Type")


def _learning_rate(default: float) -> Any:
    return spec_field(
        default, gt=0.0, aliases=["Alpha"], description="Learning rate (DSSTNE's alpha)."
    )


def _weight_decay(default: float) -> Any:
    return spec_field(
        default,
        ge=0.0,
        aliases=["Lambda"],
        description="L2 weight decay (DSSTNE's lambda): the update uses g + WeightDecay * w; "
        "biases are not decayed.",
    )


def _mu(default: float, meaning: str, aliases: list[str]) -> Any:
    return spec_field(default, ge=0.0, lt=1.0, aliases=aliases, description=meaning)


class SGDSpec(SpecBase):
    """Plain SGD: w -= LearningRate * g."""

    Type: OptimizerKindName = spec_field(OptimizerKind.SGD, description="SGD.")
    LearningRate: float = _learning_rate(0.025)
    WeightDecay: float = _weight_decay(0.0)
    L1: float = spec_field(
        0.0,
        ge=0.0,
        aliases=["Lambda1"],
        description="L1 penalty (DSSTNE's lambda1): the update uses g + L1 * sign(w).",
    )
    Lazy: bool = spec_field(
        False,
        description="With sparse (row) gradients, as sparse input layers and output layers "
        "computing only observed entries give, update only the rows present in the batch "
        "(faster on large catalogues). Exact anyway for SGD and AdaGrad without WeightDecay "
        "and L1, which update only those rows either way. For the others it changes the "
        "mathematics: momentum, moments and decay only advance on rows seen in the batch, "
        "as torch.optim.SparseAdam. False: sparse gradients are densified and the rule "
        "applied to every row.",
    )


class MomentumSpec(SGDSpec):
    """Momentum: v = Mu v - LearningRate g; w += v."""

    Type: OptimizerKindName = spec_field(OptimizerKind.Momentum, description="Momentum.")
    Mu: float = _mu(0.9, "Momentum coefficient (DSSTNE's mu).", ["Momentum"])


class NesterovSpec(MomentumSpec):
    """Nesterov momentum: v' = Mu v - LearningRate g; w += v' + Mu (v' - v)."""

    Type: OptimizerKindName = spec_field(OptimizerKind.Nesterov, description="Nesterov.")


class AdaGradSpec(SGDSpec):
    """AdaGrad: v += g^2; w -= LearningRate g / sqrt(max(1e-9, v))."""

    Type: OptimizerKindName = spec_field(OptimizerKind.AdaGrad, description="AdaGrad.")
    LearningRate: float = _learning_rate(0.01)


class RMSPropSpec(SGDSpec):
    """RMSProp: v = Mu v + (1 - Mu) g^2; w -= LearningRate g / sqrt(max(1e-9, v))."""

    Type: OptimizerKindName = spec_field(OptimizerKind.RMSProp, description="RMSProp.")
    LearningRate: float = _learning_rate(0.001)
    Mu: float = _mu(0.9, "Decay of the squared-gradient average (DSSTNE's mu).", ["Rho"])


class AdaDeltaSpec(SGDSpec):
    """AdaDelta, as DSSTNE codes it; LearningRate multiplies the step (1: DSSTNE's rule)."""

    Type: OptimizerKindName = spec_field(OptimizerKind.AdaDelta, description="AdaDelta.")
    LearningRate: float = _learning_rate(1.0)
    Mu: float = _mu(0.95, "Decay of both running averages (DSSTNE's mu).", ["Rho"])


class AdamSpec(SGDSpec):
    """Adam with bias correction (DSSTNE: beta1 = mu, beta2 = mu1)."""

    Type: OptimizerKindName = spec_field(OptimizerKind.Adam, description="Adam.")
    LearningRate: float = _learning_rate(0.001)
    Beta1: float = _mu(0.9, "Decay of the first moment (DSSTNE's mu).", ["Mu"])
    Beta2: float = _mu(0.999, "Decay of the second moment (DSSTNE's mu1).", ["Mu1"])
    Epsilon: float = spec_field(1e-8, gt=0.0, description="Added to the denominator.")


class AdamWSpec(AdamSpec):
    """Adam with decoupled weight decay: w -= LearningRate * WeightDecay * w each step."""

    Type: OptimizerKindName = spec_field(OptimizerKind.AdamW, description="AdamW.")
    WeightDecay: float = spec_field(
        0.01,
        ge=0.0,
        aliases=["Lambda"],
        description="Decoupled weight decay (applied to weights, not through the gradient).",
    )


_OPTIMIZERS = {
    OptimizerKind.SGD.value: SGDSpec,
    OptimizerKind.Momentum.value: MomentumSpec,
    OptimizerKind.Nesterov.value: NesterovSpec,
    OptimizerKind.AdaGrad.value: AdaGradSpec,
    OptimizerKind.RMSProp.value: RMSPropSpec,
    OptimizerKind.AdaDelta.value: AdaDeltaSpec,
    OptimizerKind.Adam.value: AdamSpec,
    OptimizerKind.AdamW.value: AdamWSpec,
}

OptimizerSpec = type_union("optimizer_type", _OPTIMIZERS, "Optimizer Type", OptimizerKind.SGD)
"""An optimizer with its parameters; a bare string names the Type with its defaults."""


class ScheduleKind(str, enum.Enum):
    """Learning-rate schedules (per epoch; DSSTNE's per-batch ``Decay`` applies on top)."""

    Constant = "Constant"
    Step = "Step"
    MultiStep = "MultiStep"
    Cosine = "Cosine"


ScheduleKindName = spec_enum(ScheduleKind, "Schedule Type")


class ConstantScheduleSpec(SpecBase):
    """The learning rate stays as set (after warm-up)."""

    Type: ScheduleKindName = spec_field(ScheduleKind.Constant, description="Constant.")
    WarmupEpochs: float = spec_field(
        0.0, ge=0.0, description="Epochs of linear warm-up from 0 to the learning rate."
    )


class StepScheduleSpec(ConstantScheduleSpec):
    """Multiply the rate by Multiplier every Interval epochs (DSSTNE's command files)."""

    Type: ScheduleKindName = spec_field(ScheduleKind.Step, description="Step.")
    Interval: int = spec_field(
        20, ge=1, aliases=["AlphaInterval"], description="Epochs between decays."
    )
    Multiplier: float = spec_field(
        0.5, gt=0.0, aliases=["AlphaMultiplier"], description="Factor applied at each decay."
    )


class MultiStepScheduleSpec(ConstantScheduleSpec):
    """Multiply the rate by Multiplier at each listed epoch (DeepRec's schedule)."""

    Type: ScheduleKindName = spec_field(ScheduleKind.MultiStep, description="MultiStep.")
    Milestones: tuple_of(int) = spec_field(
        description="Epochs after which the rate is multiplied by Multiplier."
    )
    Multiplier: float = spec_field(
        0.5, gt=0.0, aliases=["AlphaMultiplier"], description="Factor applied at each milestone."
    )


class CosineScheduleSpec(ConstantScheduleSpec):
    """Cosine annealing from the learning rate to MinLearningRate over the epochs."""

    Type: ScheduleKindName = spec_field(ScheduleKind.Cosine, description="Cosine.")
    MinLearningRate: float = spec_field(0.0, ge=0.0, description="Rate at the last epoch.")


_SCHEDULES = {
    ScheduleKind.Constant.value: ConstantScheduleSpec,
    ScheduleKind.Step.value: StepScheduleSpec,
    ScheduleKind.MultiStep.value: MultiStepScheduleSpec,
    ScheduleKind.Cosine.value: CosineScheduleSpec,
}

ScheduleSpec = type_union("schedule_type", _SCHEDULES, "Schedule Type", ScheduleKind.Constant)
"""A learning-rate schedule; a bare string names the Type with its defaults."""
