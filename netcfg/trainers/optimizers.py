"""DSSTNE's optimizers (dsstne.md §3) as ``torch.optim.Optimizer`` subclasses, and AdamW.

Every rule works on the regularized gradient r = g + lambda * w + lambda1 * sign(w) of the
weights (r = g for biases and batch-norm parameters, which DSSTNE does not regularize) and
subtracts, where DSSTNE adds its negated g' = -r. The rate is read from ``group["lr"]`` at
each step, so a trainer may set it per step from the schedule.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from netcfg.trainers.optimizer_spec import OptimizerKind

__all__ = [
    "AdaDelta",
    "AdaGrad",
    "Adam",
    "Momentum",
    "Nesterov",
    "RMSProp",
    "SGD",
    "create_optimizer",
    "regularization_loss",
]

FLOOR = 1e-9
"""DSSTNE's floor under the accumulated squares (``max(1e-9, v)``)."""


class _DsstneOptimizer(torch.optim.Optimizer):
    """Shared loop: skip missing gradients, refuse sparse ones, regularize, then update."""

    def __init__(self, params, *, lr: float, weight_decay: float = 0.0, l1: float = 0.0, **kw):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, l1=l1, **kw))

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one update on every parameter that has a gradient."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            names = group.get("param_names") or [None] * len(group["params"])
            for name, p in zip(names, group["params"], strict=True):
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError(
                        f"{type(self).__name__}: parameter {name or tuple(p.shape)} has a "
                        "sparse gradient; netcfg's optimizers support dense gradients only"
                    )
                self._update(p, self._regularized(p, group), group, self.state[p])
        return loss

    @staticmethod
    def _regularized(p: torch.Tensor, group: dict) -> torch.Tensor:
        r = p.grad
        if group["weight_decay"] and not group.get("decoupled_weight_decay", False):
            r = r.add(p, alpha=group["weight_decay"])
        if group["l1"]:
            r = r.add(torch.sign(p), alpha=group["l1"])
        return r

    def _update(self, p: torch.Tensor, r: torch.Tensor, group: dict, state: dict) -> None:
        raise NotImplementedError


class SGD(_DsstneOptimizer):
    """DSSTNE SGD: w -= lr * r."""

    def _update(self, p, r, group, state):
        p.add_(r, alpha=-group["lr"])


class Momentum(_DsstneOptimizer):
    """DSSTNE Momentum: v = mu * v - lr * r; w += v."""

    def _update(self, p, r, group, state):
        if "velocity" not in state:
            state["velocity"] = torch.zeros_like(p)
        v = state["velocity"]
        v.mul_(group["mu"]).add_(r, alpha=-group["lr"])
        p.add_(v)


class Nesterov(_DsstneOptimizer):
    """DSSTNE Nesterov: v' = mu * v - lr * r; w += v' + mu * (v' - v); v = v'."""

    def _update(self, p, r, group, state):
        if "velocity" not in state:
            state["velocity"] = torch.zeros_like(p)
        v = state["velocity"]
        mu = group["mu"]
        v_new = v * mu - group["lr"] * r
        p.add_(v_new + mu * (v_new - v))
        v.copy_(v_new)


class AdaGrad(_DsstneOptimizer):
    """DSSTNE AdaGrad: s += r^2; w -= lr * r / sqrt(max(1e-9, s))."""

    def _update(self, p, r, group, state):
        if "sum_sq" not in state:
            state["sum_sq"] = torch.zeros_like(p)
        s = state["sum_sq"]
        s.addcmul_(r, r)
        p.addcdiv_(r, s.clamp(min=FLOOR).sqrt(), value=-group["lr"])


class RMSProp(_DsstneOptimizer):
    """DSSTNE RMSProp: s = mu * s + (1 - mu) * r^2; w -= lr * r / sqrt(max(1e-9, s))."""

    def _update(self, p, r, group, state):
        if "mean_sq" not in state:
            state["mean_sq"] = torch.zeros_like(p)
        s = state["mean_sq"]
        mu = group["mu"]
        s.mul_(mu).addcmul_(r, r, value=1.0 - mu)
        p.addcdiv_(r, s.clamp(min=FLOOR).sqrt(), value=-group["lr"])


class AdaDelta(_DsstneOptimizer):
    """DSSTNE AdaDelta, with its step scaled by lr (1: DSSTNE's rule).

    sg = mu * sg + (1 - mu) * r^2; d = sqrt(max(1e-9, sd) / max(1e-9, sg)) * r;
    sd = mu * sd + (1 - mu) * d^2; w -= lr * d.
    """

    def _update(self, p, r, group, state):
        if "mean_sq_grad" not in state:
            state["mean_sq_grad"] = torch.zeros_like(p)
            state["mean_sq_delta"] = torch.zeros_like(p)
        sg, sd = state["mean_sq_grad"], state["mean_sq_delta"]
        mu = group["mu"]
        sg.mul_(mu).addcmul_(r, r, value=1.0 - mu)
        d = (sd.clamp(min=FLOOR) / sg.clamp(min=FLOOR)).sqrt_().mul_(r)
        sd.mul_(mu).addcmul_(d, d, value=1.0 - mu)
        p.add_(d, alpha=-group["lr"])


class Adam(_DsstneOptimizer):
    """Adam with bias correction on r: w -= lr * mhat / (sqrt(vhat) + eps).

    That form is exactly ``torch.optim.Adam``'s (torch adds eps after dividing sqrt(v) by
    sqrt(1 - beta2^t)). With ``decoupled_weight_decay`` (AdamW) the decay is not added to
    the gradient but applied first as w *= 1 - lr * weight_decay, as ``torch.optim.AdamW``.
    """

    def _update(self, p, r, group, state):
        if "step" not in state:
            state["step"] = 0
            state["exp_avg"] = torch.zeros_like(p)
            state["exp_avg_sq"] = torch.zeros_like(p)
        if group["decoupled_weight_decay"] and group["weight_decay"]:
            p.mul_(1.0 - group["lr"] * group["weight_decay"])
        state["step"] += 1
        t = state["step"]
        beta1, beta2 = group["betas"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.mul_(beta1).add_(r, alpha=1.0 - beta1)
        v.mul_(beta2).addcmul_(r, r, value=1.0 - beta2)
        m_hat = m / (1.0 - beta1**t)
        v_hat = v / (1.0 - beta2**t)
        p.addcdiv_(m_hat, v_hat.sqrt_().add_(group["eps"]), value=-group["lr"])


def _options(spec) -> tuple[type[_DsstneOptimizer], dict]:
    """The optimizer class and its per-group options (besides lr and regularization)."""
    kind = OptimizerKind(spec.Type)
    if kind in (OptimizerKind.Adam, OptimizerKind.AdamW):
        return Adam, {
            "betas": (spec.Beta1, spec.Beta2),
            "eps": spec.Epsilon,
            "decoupled_weight_decay": kind is OptimizerKind.AdamW,
        }
    classes = {
        OptimizerKind.SGD: SGD,
        OptimizerKind.Momentum: Momentum,
        OptimizerKind.Nesterov: Nesterov,
        OptimizerKind.AdaGrad: AdaGrad,
        OptimizerKind.RMSProp: RMSProp,
        OptimizerKind.AdaDelta: AdaDelta,
    }
    mu = {"mu": spec.Mu} if hasattr(spec, "Mu") else {}
    return classes[kind], mu


def create_optimizer(
    spec, named_parameters: Iterable[tuple[str, torch.nn.Parameter]]
) -> torch.optim.Optimizer:
    """Build the optimizer an ``OptimizerSpec`` describes.

    Parameters with ``dim() >= 2`` form the "weights" group, which carries WeightDecay
    (``group["weight_decay"]``) and L1 (``group["l1"]``); the rest (biases, batch-norm)
    form the "biases" group with both 0. Each group records its ``name`` and the names of
    its parameters (``param_names``); an empty group is left out.

    Args:
        spec: An ``OptimizerSpec`` member (``SGDSpec``, ``AdamSpec``, ...).
        named_parameters: ``(name, parameter)`` pairs, e.g. ``model.named_parameters()``.
            Frozen parameters (``requires_grad=False``) are skipped and a parameter passed
            under several names is added once, under its first name.

    Returns:
        The optimizer, with ``group["lr"]`` set to ``spec.LearningRate``.

    Raises:
        ValueError: When no parameter requires a gradient.
    """
    cls, options = _options(spec)
    seen: set[int] = set()
    members: dict[str, list[tuple[str, torch.nn.Parameter]]] = {"weights": [], "biases": []}
    for name, param in named_parameters:
        if not param.requires_grad or id(param) in seen:
            continue
        seen.add(id(param))
        members["weights" if param.dim() >= 2 else "biases"].append((name, param))
    regularization = {
        "weights": {"weight_decay": spec.WeightDecay, "l1": spec.L1},
        "biases": {"weight_decay": 0.0, "l1": 0.0},
    }
    groups = [
        {"params": params, "name": group, **regularization[group]}
        for group, params in members.items()
        if params
    ]
    if not groups:
        raise ValueError("create_optimizer: the model has no trainable parameters")
    return cls(groups, lr=spec.LearningRate, **options)


def regularization_loss(optimizer: torch.optim.Optimizer) -> torch.Tensor:
    """DSSTNE's regularization term of the reported error (dsstne.md §2).

    The sum over the parameters of every group of 0.5 * weight_decay * ||w||^2 +
    l1 * |w|_1 (only the "weights" group has non-zero coefficients). For AdamW the decoupled
    decay is reported the same way. The result is detached: it is for reporting, since the
    optimizers already apply its gradient; adding it before ``backward`` would count it twice.

    Args:
        optimizer: An optimizer from `create_optimizer`.

    Returns:
        A scalar tensor (0 when no group is regularized).
    """
    total = None
    with torch.no_grad():
        for group in optimizer.param_groups:
            l2, l1 = group.get("weight_decay", 0.0), group.get("l1", 0.0)
            for p in group["params"]:
                x = p.to(torch.promote_types(p.dtype, torch.float32))
                term = None
                if l2:
                    term = 0.5 * l2 * x.square().sum()
                if l1:
                    term = l1 * x.abs().sum() + (0.0 if term is None else term)
                if term is not None:
                    total = term if total is None else total + term
    if total is None:
        device = next((p.device for g in optimizer.param_groups for p in g["params"]), None)
        return torch.zeros((), device=device)
    return total
