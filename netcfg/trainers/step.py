"""One update of a model's parameters, and the dense re-feeding step, as the training loop
(`netcfg.trainers.loop`) and the benchmarks run them."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from netcfg.trainers.sparse_updates import clip_gradients_

__all__ = ["GRAD_NORM_INTERVAL", "refeed_step", "update"]

GRAD_NORM_INTERVAL = 10
"""Without gradient clipping, the gradient norm is measured (and logged) every this many
steps only: on sparse steps it costs as much as a tenth of the step."""


def refeed_step(
    model: nn.Module, output: torch.Tensor, input_name: str, output_name: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """One dense re-feeding step (Kuchaiev & Ginsburg 2017).

    The dense output y = f(x) of the previous pass is fed as a new example; the loss is
    the mean squared error between f(y) and y over every entry, y held constant.

    Returns:
        The loss, and f(y) (detached) for the next re-feeding step.
    """
    target = output.detach()
    prediction = model({input_name: target}).outputs[output_name]
    return F.mse_loss(prediction, target), prediction.detach()


def update(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loss: torch.Tensor | None,
    *,
    clip_norm: float = math.inf,
    measure: bool = True,
    scaler: torch.amp.GradScaler | None = None,
    reduce: Callable[[list[nn.Parameter]], None] | None = None,
    norm: Callable[[list[nn.Parameter]], torch.Tensor] | None = None,
) -> float:
    """One update: backward, gradient clipping, optimizer step, then the model's constraints.

    Sparse (row) gradients stay sparse throughout (`clip_gradients_`).

    Args:
        model: the model (its ``apply_constraints()`` is called if it has one).
        optimizer: the optimizer of its parameters.
        loss: the loss to minimize; None when the model has set the gradients itself
            (``estimate_gradients``).
        clip_norm: the largest gradient norm left unscaled (infinite: no clipping).
        measure: measure the gradient norm even without clipping.
        scaler: the gradient scaler of fp16 training.
        reduce: averages the gradients over data-parallel processes, before clipping
            (`netcfg.trainers.distributed.GradientReducer.reduce`).
        norm: the gradient norm of parameters some of which are split across processes
            (`netcfg.trainers.sharding.RowSharding.gradient_norm`).

    Returns:
        The gradient norm before clipping, when clipping or ``measure`` (else NaN).
    """
    if loss is not None:
        optimizer.zero_grad(set_to_none=True)
        (loss if scaler is None else scaler.scale(loss)).backward()
    if reduce is not None:
        reduce([p for g in optimizer.param_groups for p in g["params"]])
    if scaler is not None and loss is not None:
        scaler.unscale_(optimizer)  # after the reduction, which gives shards their gradients
    grad_norm = math.nan
    if measure or math.isfinite(clip_norm):
        parameters = [p for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
        total = None if norm is None else norm(parameters)
        grad_norm = float(clip_gradients_(parameters, clip_norm, norm=total))
    if scaler is not None:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    constrain = getattr(model, "apply_constraints", None)
    if constrain is not None:
        constrain()
    return grad_norm
