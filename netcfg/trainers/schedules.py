"""The learning rate at a point of training: schedule, warm-up and DSSTNE's per-batch Decay."""

from __future__ import annotations

import math

from netcfg.trainers.optimizer_spec import ScheduleKind

__all__ = ["learning_rate", "scheduled_rate"]


def scheduled_rate(schedule, *, epoch: float, epochs: int, base: float) -> float:
    """The scheduled rate before warm-up and Decay.

    Args:
        schedule: A ``ScheduleSpec`` member.
        epoch: Fractional progress in epochs, 0-based (2.5: halfway through the third).
        epochs: The number of training epochs (the length of a cosine schedule).
        base: The optimizer's LearningRate.

    Returns:
        The rate the schedule gives at ``epoch``.
    """
    kind = ScheduleKind(schedule.Type)
    if kind is ScheduleKind.Constant:
        return base
    if kind is ScheduleKind.Step:
        # DSSTNE command files: Train(AlphaInterval epochs), then alpha *= AlphaMultiplier.
        return base * schedule.Multiplier ** math.floor(epoch / schedule.Interval)
    if kind is ScheduleKind.MultiStep:
        # DeepRec's MultiStepLR stepped per epoch: epochs m.. use the rate decayed at m.
        passed = sum(1 for m in schedule.Milestones if m <= math.floor(epoch))
        return base * schedule.Multiplier**passed
    if kind is ScheduleKind.Cosine:
        low = schedule.MinLearningRate
        progress = min(max(epoch, 0.0), float(epochs)) / epochs
        return low + (base - low) * (1.0 + math.cos(math.pi * progress)) / 2.0
    raise ValueError(f"unknown schedule type {schedule.Type!r}")


def learning_rate(training, *, epoch: float, global_step: int, decay: float = 0.0) -> float:
    """The learning rate for the next optimizer step.

    The schedule's rate (Constant, Step, MultiStep or Cosine from
    ``training.Optimizer.LearningRate``), times epoch / WarmupEpochs during the warm-up,
    divided by ``1 + decay * global_step`` (DSSTNE: alpha / (1 + Decay * batches)).

    Args:
        training: The ``TrainingSpec`` (its Optimizer, Schedule and Epochs are read).
        epoch: Fractional progress in epochs, 0-based (2.5: halfway through the third).
        global_step: Optimizer steps done so far.
        decay: The network's per-batch ``Decay`` (``ModelSpec.Decay``).

    Returns:
        The rate to store in every ``param_group["lr"]``.

    Raises:
        ValueError: When epoch, global_step or decay is negative.
    """
    if epoch < 0 or global_step < 0 or decay < 0:
        raise ValueError(
            f"learning_rate: epoch ({epoch}), global_step ({global_step}) and decay "
            f"({decay}) must not be negative"
        )
    schedule = training.Schedule
    rate = scheduled_rate(
        schedule, epoch=epoch, epochs=training.Epochs, base=training.Optimizer.LearningRate
    )
    warmup = schedule.WarmupEpochs
    if warmup > 0 and epoch < warmup:
        rate *= epoch / warmup
    return rate / (1.0 + decay * global_step)
