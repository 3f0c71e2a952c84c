"""Row-sparse gradients: the helpers netcfg's optimizers use, and gradient norms and clipping.

A layer that reads sparse rows (``nn.Embedding(sparse=True)``, a sparse input layer) or an
output layer that computes only the observed entries yields, for its ``[rows, width]``
weight, a hybrid sparse COO gradient: ``indices [1, nnz]`` name rows and ``values
[nnz, width]`` hold them (for a ``[N]`` bias, ``values [nnz]``). Indices may repeat until the
tensor is coalesced, which sums the repeats. `row_gradient` turns such a gradient into
``(rows, values)`` with unique rows; `gather_rows` and `scatter_rows` let an optimizer run its
dense rule on the present rows of a parameter and its per-element state only.

``torch.nn.utils.clip_grad_norm_`` does not handle sparse gradients; `gradient_norm` and
`clip_gradients_` do.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

__all__ = [
    "check_gradient_layout",
    "clip_gradients_",
    "coalesced",
    "gather_rows",
    "gradient_norm",
    "row_gradient",
    "scatter_rows",
]


def check_gradient_layout(grad: torch.Tensor, who: str) -> None:
    """Refuse a gradient that is neither dense nor row-sparse COO (``sparse_dim() == 1``).

    Args:
        grad: The gradient.
        who: Names the optimizer and the parameter in the message.

    Raises:
        RuntimeError: For another sparse layout (CSR, ...) or a COO gradient whose
            ``sparse_dim()`` is not 1 (element-sparse, as ``dense.to_sparse()`` gives).
    """
    if grad.layout is torch.strided or (grad.is_sparse and grad.sparse_dim() == 1):
        return
    layout = f"sparse_dim {grad.sparse_dim()}" if grad.is_sparse else str(grad.layout)
    raise RuntimeError(
        f"{who} has a sparse gradient ({layout}); netcfg's optimizers accept dense gradients "
        "and row-sparse COO ones (sparse_dim() == 1, as nn.Embedding(sparse=True) gives)"
    )


def coalesced(grad: torch.Tensor) -> torch.Tensor:
    """``grad.coalesce()``, without the sort when the row indices are already increasing.

    Autograd drops the coalesced flag when it stores a sparse gradient, even one built
    coalesced (as netcfg's sparse layers build theirs); checking the order of the row
    indices costs far less than sorting and summing the values again.
    """
    if grad.is_coalesced():
        return grad
    rows = grad._indices()[0]
    if rows.numel() < 2 or bool((rows[1:] > rows[:-1]).all()):
        return torch.sparse_coo_tensor(
            grad._indices(),
            grad._values(),
            grad.shape,
            is_coalesced=True,
            check_invariants=False,
        )
    return grad.coalesce()


def row_gradient(grad: torch.Tensor, who: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The unique rows of a row-sparse COO gradient and their summed values.

    Args:
        grad: A sparse COO gradient with ``sparse_dim() == 1``, coalesced or not.
        who: Names the optimizer and the parameter in an error message.

    Returns:
        ``(rows, values)``: ``rows`` a sorted ``int64`` tensor ``[k]`` without repeats and
        ``values`` ``[k, *row_shape]``, repeated rows summed.

    Raises:
        RuntimeError: As `check_gradient_layout`.
    """
    check_gradient_layout(grad, who)
    grad = coalesced(grad)
    return grad.indices()[0], grad.values()


def gather_rows(
    p: torch.Tensor, state: dict, buffers: Iterable[str], rows: torch.Tensor
) -> tuple[torch.Tensor, dict]:
    """Copies of the given rows of ``p`` and of its per-element state buffers.

    Entries of ``state`` not named in ``buffers`` (Adam's step count) are passed on as
    they are; `scatter_rows` writes all of them back.
    """
    sub = dict(state)
    for key in buffers:
        sub[key] = state[key].index_select(0, rows)
    return p.index_select(0, rows), sub


def scatter_rows(
    p: torch.Tensor,
    state: dict,
    buffers: Iterable[str],
    rows: torch.Tensor,
    sub_p: torch.Tensor,
    sub_state: dict,
) -> None:
    """Write rows taken by `gather_rows` (and updated) back into ``p`` and ``state``."""
    p.index_copy_(0, rows, sub_p)
    buffers = set(buffers)
    for key, value in sub_state.items():
        if key in buffers:
            state[key].index_copy_(0, rows, value)
        else:
            state[key] = value


def _gradients(parameters) -> list[torch.Tensor]:
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    for grad in grads:
        if grad.layout is not torch.strided and not grad.is_sparse:
            raise TypeError(f"gradient layout {grad.layout} is not supported (dense or COO)")
    return grads


def gradient_norm(parameters: torch.Tensor | Iterable[torch.Tensor]) -> torch.Tensor:
    """The global L2 norm of the gradients of ``parameters``, dense and sparse COO alike.

    A sparse gradient is coalesced first, so that repeated indices are summed before their
    square is taken: the result is the norm of the densified gradients. Parameters without
    a gradient are skipped.

    Args:
        parameters: A tensor or an iterable of tensors (``model.parameters()``).

    Returns:
        A scalar tensor on the device of the first gradient, in float32 or wider (float64
        when a gradient is float64); 0 when no parameter has a gradient.

    Raises:
        TypeError: For a sparse layout other than COO (CSR, ...).
    """
    return _norm(_gradients(parameters))


def _norm(grads: list[torch.Tensor]) -> torch.Tensor:
    if not grads:
        return torch.zeros(())
    norms = []
    for grad in grads:
        values = coalesced(grad).values() if grad.is_sparse else grad
        values = values.to(torch.promote_types(values.dtype, torch.float32))
        norms.append(torch.linalg.vector_norm(values))
    dtype = norms[0].dtype
    for norm in norms[1:]:
        dtype = torch.promote_types(dtype, norm.dtype)
    device = grads[0].device
    return torch.linalg.vector_norm(torch.stack([n.to(device, dtype) for n in norms]))


def clip_gradients_(
    parameters: torch.Tensor | Iterable[torch.Tensor],
    max_norm: float,
    *,
    norm: torch.Tensor | None = None,
) -> torch.Tensor:
    """Scale every gradient in place by ``min(1, max_norm / (norm + 1e-6))``.

    ``norm`` is `gradient_norm`; sparse COO gradients are scaled too (their values, so an
    uncoalesced gradient stays uncoalesced and still densifies to the scaled gradient). With
    ``max_norm`` infinite nothing is scaled. As ``torch.nn.utils.clip_grad_norm_``, a
    non-finite norm is not an error: the gradients then become non-finite.

    Args:
        parameters: A tensor or an iterable of tensors (``model.parameters()``).
        max_norm: The largest norm left unscaled; ``>= 0``.
        norm: The norm to clip by, when it is measured elsewhere (over the parameters of
            several processes); default `gradient_norm` of ``parameters``.

    Returns:
        The norm before clipping, as `gradient_norm`.

    Raises:
        ValueError: When ``max_norm`` is negative or NaN.
        TypeError: For a sparse layout other than COO (CSR, ...).
    """
    if not max_norm >= 0:
        raise ValueError(f"clip_gradients_: max_norm must be >= 0, got {max_norm}")
    grads = _gradients(parameters)
    norm = _norm(grads) if norm is None else norm
    if math.isinf(max_norm) or not grads:
        return norm
    scale = (max_norm / (norm + 1e-6)).clamp(max=1.0)
    for grad in grads:
        grad.mul_(scale.to(grad.device, grad.dtype))
    return norm
