"""DSSTNE's optimizers (dsstne.md §3) as ``torch.optim.Optimizer`` subclasses, and AdamW.

Every rule works on the regularized gradient r = g + lambda * w + lambda1 * sign(w) of the
weights (r = g for biases and batch-norm parameters, which DSSTNE does not regularize) and
subtracts, where DSSTNE adds its negated g' = -r. The rate is read from ``group["lr"]`` at
each step, so a trainer may set it per step from the schedule.

Row-sparse gradients (hybrid COO, ``sparse_dim() == 1``, as ``nn.Embedding(sparse=True)``
gives; see `netcfg.trainers.sparse_updates`) are accepted by every optimizer, in one of
three ways:

* exact: SGD and AdaGrad in a group without weight decay and L1 update only the present
  rows, since under their dense rule a row whose gradient is zero does not change. The
  result is the dense rule's on the densified gradient.
* dense (``group["lazy"]`` False, the default): the gradient is densified and the dense
  rule applied; the same mathematics at dense cost.
* lazy (``group["lazy"]`` True): the dense rule is applied to the present rows of the
  weight and of its state only, absent rows are left untouched (weights and state), as
  ``torch.optim.SparseAdam``. Each class says how that differs from its dense rule.

``lazy`` has no effect on dense gradients. Other sparse layouts are refused.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from netcfg.trainers.optimizer_spec import OptimizerKind
from netcfg.trainers.sparse_updates import (
    check_gradient_layout,
    clip_gradients_,
    gather_rows,
    gradient_norm,
    row_gradient,
    scatter_rows,
)

__all__ = [
    "AdaDelta",
    "AdaGrad",
    "Adam",
    "Momentum",
    "Nesterov",
    "RMSProp",
    "SGD",
    "clip_gradients_",
    "create_optimizer",
    "gradient_norm",
    "regularization_loss",
]

FLOOR = 1e-9
"""DSSTNE's floor under the accumulated squares (``max(1e-9, v)``)."""


class _DsstneOptimizer(torch.optim.Optimizer):
    """Shared loop: skip missing gradients, route sparse ones, regularize, then update.

    Subclasses name their per-element state tensors in ``buffers`` (created as zeros at the
    first update) and implement ``_update`` on a parameter (or the gathered rows of one),
    its regularized gradient and its state. ``exact_on_rows`` marks the rules under which a
    zero-gradient row does not move when the group has no weight decay and no L1.
    """

    buffers: tuple[str, ...] = ()
    exact_on_rows = False

    def __init__(
        self,
        params,
        *,
        lr: float,
        weight_decay: float = 0.0,
        l1: float = 0.0,
        lazy: bool = False,
        **kw,
    ):
        defaults = dict(lr=lr, weight_decay=weight_decay, l1=l1, lazy=lazy, **kw)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:  # a state_dict saved before ``lazy`` existed
            group.setdefault("lazy", False)

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one update on every parameter that has a gradient.

        Raises:
            RuntimeError: When a gradient is sparse but not row-sparse COO; checked for
                every parameter before any is updated.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        work = []
        for group in self.param_groups:
            names = group.get("param_names") or [None] * len(group["params"])
            for name, p in zip(names, group["params"], strict=True):
                if p.grad is not None:
                    who = f"{type(self).__name__}: parameter {name or tuple(p.shape)}"
                    check_gradient_layout(p.grad, who)
                    work.append((who, p, group))
        for who, p, group in work:
            state = self.state[p]
            self._init_state(p, state)
            grad = p.grad
            if grad.is_sparse and (group["lazy"] or self._exact_on_rows(group)):
                rows, values = row_gradient(grad, who)
                self._update_rows(p, rows, values, group, state)
                continue
            if grad.is_sparse:
                grad = grad.to_dense()
            self._update(p, self._regularized(p, grad, group), group, state)
        return loss

    def _exact_on_rows(self, group: dict) -> bool:
        return self.exact_on_rows and not group["weight_decay"] and not group["l1"]

    def _init_state(self, p: torch.Tensor, state: dict) -> None:
        for key in self.buffers:
            if key not in state:
                state[key] = torch.zeros_like(p, memory_format=torch.preserve_format)

    @staticmethod
    def _regularized(p: torch.Tensor, grad: torch.Tensor, group: dict) -> torch.Tensor:
        r = grad
        if group["weight_decay"] and not group.get("decoupled_weight_decay", False):
            r = r.add(p, alpha=group["weight_decay"])
        if group["l1"]:
            r = r.add(torch.sign(p), alpha=group["l1"])
        return r

    def _update_rows(
        self, p: torch.Tensor, rows: torch.Tensor, values: torch.Tensor, group: dict, state: dict
    ) -> None:
        """The dense rule on the given (unique) rows of ``p`` and of its state only."""
        sub_p, sub_state = gather_rows(p, state, self.buffers, rows)
        self._update(sub_p, self._regularized(sub_p, values, group), group, sub_state)
        scatter_rows(p, state, self.buffers, rows, sub_p, sub_state)

    def _update(self, p: torch.Tensor, r: torch.Tensor, group: dict, state: dict) -> None:
        raise NotImplementedError


class SGD(_DsstneOptimizer):
    """DSSTNE SGD: w -= lr * r.

    Sparse: exact without weight decay and L1 (only present rows move, by lr * g). Lazy with
    them: r = g + lambda * w + lambda1 * sign(w) only on present rows; absent rows are not
    decayed (the dense rule shrinks every row every step).
    """

    exact_on_rows = True

    def _update_rows(self, p, rows, values, group, state):
        r = values
        if group["weight_decay"] or group["l1"]:
            r = self._regularized(p.index_select(0, rows), values, group)
        p.index_add_(0, rows, r, alpha=-group["lr"])

    def _update(self, p, r, group, state):
        p.add_(r, alpha=-group["lr"])


class Momentum(_DsstneOptimizer):
    """DSSTNE Momentum: v = mu * v - lr * r; w += v.

    Lazy: only present rows run v = mu * v - lr * r; w += v, with the v the row had when last
    present. An absent row keeps its v and its weight; under the dense rule its velocity
    would decay (v *= mu) and keep moving the weight (w += mu * v) every step. Decay and L1
    enter r on present rows only.
    """

    buffers = ("velocity",)

    def _update(self, p, r, group, state):
        v = state["velocity"]
        v.mul_(group["mu"]).add_(r, alpha=-group["lr"])
        p.add_(v)


class Nesterov(_DsstneOptimizer):
    """DSSTNE Nesterov: v' = mu * v - lr * r; w += v' + mu * (v' - v); v = v'.

    Lazy: as Momentum, only present rows run the rule, with the v they had when last present;
    absent rows keep v and w (densely, v' = mu * v would still move them by
    v' + mu * (v' - v)). Decay and L1 enter r on present rows only.
    """

    buffers = ("velocity",)

    def _update(self, p, r, group, state):
        v = state["velocity"]
        mu = group["mu"]
        v_new = v * mu - group["lr"] * r
        p.add_(v_new + mu * (v_new - v))
        v.copy_(v_new)


class AdaGrad(_DsstneOptimizer):
    """DSSTNE AdaGrad: s += r^2; w -= lr * r / sqrt(max(1e-9, s)).

    Sparse: exact without weight decay and L1 (a zero-gradient row changes neither s nor w).
    Lazy with them: r = g + lambda * w + lambda1 * sign(w) only on present rows, so absent rows
    are not decayed and their s does not grow by (lambda * w + lambda1 * sign(w))^2.
    """

    buffers = ("sum_sq",)
    exact_on_rows = True

    def _update(self, p, r, group, state):
        s = state["sum_sq"]
        s.addcmul_(r, r)
        p.addcdiv_(r, s.clamp(min=FLOOR).sqrt(), value=-group["lr"])


class RMSProp(_DsstneOptimizer):
    """DSSTNE RMSProp: s = mu * s + (1 - mu) * r^2; w -= lr * r / sqrt(max(1e-9, s)).

    Lazy: only present rows run the rule; s of an absent row does not decay (densely,
    s *= mu every step), so s decays once per step in which the row is present, not once per
    step. Absent rows keep w (densely they would also, without decay and L1). Decay and L1
    enter r on present rows only.
    """

    buffers = ("mean_sq",)

    def _update(self, p, r, group, state):
        s = state["mean_sq"]
        mu = group["mu"]
        s.mul_(mu).addcmul_(r, r, value=1.0 - mu)
        p.addcdiv_(r, s.clamp(min=FLOOR).sqrt(), value=-group["lr"])


class AdaDelta(_DsstneOptimizer):
    """DSSTNE AdaDelta, with its step scaled by lr (1: DSSTNE's rule).

    sg = mu * sg + (1 - mu) * r^2; d = sqrt(max(1e-9, sd) / max(1e-9, sg)) * r;
    sd = mu * sd + (1 - mu) * d^2; w -= lr * d.

    Lazy: only present rows run the rule; sg and sd of an absent row do not decay (densely
    both are multiplied by mu every step), so they decay once per step in which the row is
    present. Decay and L1 enter r on present rows only.
    """

    buffers = ("mean_sq_grad", "mean_sq_delta")

    def _update(self, p, r, group, state):
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

    Lazy (as ``torch.optim.SparseAdam``): only present rows run m = beta1 * m + (1 - beta1) * r,
    v = beta2 * v + (1 - beta2) * r^2 and the step, with the m and v they had when last
    present; absent rows keep m, v and w (densely m and v decay every step and the weight
    keeps moving by lr * mhat / (sqrt(vhat) + eps)). The bias correction uses t, the number of
    steps in which the parameter had a gradient (the global count, not the row's). Coupled
    decay and L1 enter r on present rows only; AdamW's decoupled decay shrinks present rows
    only. SparseAdam adds eps before the bias correction of sqrt(v), this rule after it.
    """

    buffers = ("exp_avg", "exp_avg_sq")

    def _init_state(self, p, state):
        state.setdefault("step", 0)
        super()._init_state(p, state)

    def _update(self, p, r, group, state):
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
    form the "biases" group with both 0. Each group records its ``name``, the names of its
    parameters (``param_names``) and ``lazy`` (``spec.Lazy``: how row-sparse gradients are
    applied, see the module's docstring); an empty group is left out.

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
        {"params": params, "name": group, "lazy": spec.Lazy, **regularization[group]}
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
