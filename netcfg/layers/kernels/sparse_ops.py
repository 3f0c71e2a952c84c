"""Differentiable sparse products whose cost follows the nonzeros, not the catalogue.

``sparse_matmul``
    ``X @ W`` for a CSR batch ``X`` [B, N] and a weight ``W`` [N, H] stored one row per
    input column: the forward sums the W rows of each example's stored columns; the
    gradient of W is row-sparse, over the columns present in the batch.
``sampled_matmul``
    ``(h @ V^T + b)[rows, columns]`` for hidden activations ``h`` [B, H] and an output
    weight ``V`` [N, H] stored one row per output unit: only the requested entries are
    computed (a gather-dot), and the gradients of V and b are row-sparse, over the columns
    requested.

Row-sparse gradients are coalesced sparse COO tensors (``sparse_dim() == 1``), summed per
row by a segmented sum over the entries sorted by column, so they are deterministic. On
the Triton backend ``torch.use_deterministic_algorithms(False)`` (the default) sums with
atomic adds instead, which skips one gather but can change the last bits from run to run.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from netcfg.layers.kernels.backends import Backend, backend_for

__all__ = ["KeyGroups", "row_ids", "row_sparse_sum", "sampled_matmul", "sparse_matmul"]


def row_ids(offsets: Tensor, entries: int) -> Tensor:
    """The row of each entry of a CSR structure with row pointer ``offsets``."""
    counts = offsets[1:] - offsets[:-1]
    rows = torch.arange(counts.numel(), device=offsets.device)
    return torch.repeat_interleave(rows, counts, output_size=entries)


@dataclass(frozen=True)
class KeyGroups:
    """Entries grouped by key (a column): the distinct keys and where their entries are.

    Attributes:
        unique: the distinct keys, increasing, [K].
        counts: entries per key, [K].
        offsets: group ``k`` is ``order[offsets[k]:offsets[k + 1]]``, [K + 1].
        order: the entries sorted by key (stable), [E].
    """

    unique: Tensor
    counts: Tensor
    offsets: Tensor
    order: Tensor

    @classmethod
    def of(cls, keys: Tensor) -> KeyGroups:
        """Group the entries of ``keys`` (one sort)."""
        sorted_keys, order = torch.sort(keys, stable=True)
        unique, counts = torch.unique_consecutive(sorted_keys, return_counts=True)
        offsets = torch.zeros(unique.numel() + 1, dtype=torch.int64, device=keys.device)
        torch.cumsum(counts, 0, out=offsets[1:])
        return cls(unique, counts, offsets, order)

    def group_of_entries(self) -> Tensor:
        """The group of each entry, in the original entry order, [E]."""
        group = torch.empty_like(self.order)
        group[self.order] = torch.repeat_interleave(
            torch.arange(self.unique.numel(), device=self.order.device),
            self.counts,
            output_size=self.order.numel(),
        )
        return group

    def sparse(self, values: Tensor, num_rows: int) -> Tensor:
        """A coalesced row-sparse COO tensor with ``values[k]`` at row ``unique[k]``."""
        return torch.sparse_coo_tensor(
            self.unique.unsqueeze(0),
            values,
            (num_rows, *values.shape[1:]),
            is_coalesced=True,
            check_invariants=False,
        )


def row_sparse_sum(
    backend: Backend,
    groups: KeyGroups,
    sources: Tensor,
    coefficients: Tensor,
    matrix: Tensor,
    num_rows: int,
) -> Tensor:
    """``G[k] = sum over entries e of key k of coefficients[e] * matrix[sources[e]]``.

    Returns:
        A coalesced row-sparse COO tensor [num_rows, matrix width] holding only the keys
        that occur.
    """
    if backend.name == "triton" and not torch.are_deterministic_algorithms_enabled():
        values = backend.scatter_sum(
            groups.group_of_entries(), sources, coefficients, matrix, groups.unique.numel()
        )
    else:
        order = groups.order
        values = backend.segment_sum(groups.offsets, sources[order], coefficients[order], matrix)
    return groups.sparse(values.to(matrix.dtype), num_rows)


def _bias_gradient(grad: Tensor, groups: KeyGroups, num_rows: int) -> Tensor:
    if grad.numel() == 0:
        return groups.sparse(grad.new_zeros(0), num_rows)
    values = torch.segment_reduce(grad[groups.order], "sum", lengths=groups.counts)
    return groups.sparse(values, num_rows)


class _SparseMatmul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, weight, values, offsets, indices, sparse_grad):
        backend = backend_for(weight)
        ctx.save_for_backward(weight, values, offsets, indices)
        ctx.backend, ctx.sparse_grad = backend, sparse_grad
        out = backend.segment_sum(offsets, indices, values, weight)
        return out.to(torch.result_type(weight, values))

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        weight, values, offsets, indices = ctx.saved_tensors
        backend: Backend = ctx.backend
        rows = row_ids(offsets, indices.numel())
        grad_weight = grad_values = None
        if ctx.needs_input_grad[0]:
            grad_weight = row_sparse_sum(
                backend, KeyGroups.of(indices), rows, values, grad_out.contiguous(), len(weight)
            ).to(weight.dtype)
            if not ctx.sparse_grad:
                grad_weight = grad_weight.to_dense()
        if ctx.needs_input_grad[1]:
            grad_values = backend.gather_dot(rows, indices, grad_out, weight, None, offsets)
            grad_values = grad_values.to(values.dtype)
        return grad_weight, grad_values, None, None, None


class _SampledMatmul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, hidden, weight, bias, offsets, columns, sparse_grad, known):
        backend = backend_for(weight)
        rows = row_ids(offsets, columns.numel())
        ctx.save_for_backward(hidden, weight, offsets, rows, columns)
        ctx.backend, ctx.sparse_grad = backend, sparse_grad
        ctx.bias_rows = None if bias is None else bias.shape[0]
        if known is not None:
            return known.detach().clone()
        out = backend.gather_dot(rows, columns, hidden, weight, bias, offsets)
        return out.to(torch.result_type(hidden, weight))

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        hidden, weight, offsets, rows, columns = ctx.saved_tensors
        backend: Backend = ctx.backend
        grad = grad.contiguous()
        grad_hidden = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_hidden = backend.segment_sum(offsets, columns, grad, weight).to(hidden.dtype)
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            groups = KeyGroups.of(columns)
        if ctx.needs_input_grad[1]:
            grad_weight = row_sparse_sum(
                backend, groups, rows, grad, hidden.contiguous(), weight.shape[0]
            ).to(weight.dtype)
        if ctx.needs_input_grad[2]:
            grad_bias = _bias_gradient(grad, groups, ctx.bias_rows)
        if not ctx.sparse_grad:
            grad_weight = None if grad_weight is None else grad_weight.to_dense()
            grad_bias = None if grad_bias is None else grad_bias.to_dense()
        return grad_hidden, grad_weight, grad_bias, None, None, None, None


def sparse_matmul(
    offsets: Tensor,
    indices: Tensor,
    values: Tensor,
    weight: Tensor,
    *,
    sparse_grad: bool = True,
) -> Tensor:
    """``X @ weight`` for a CSR matrix ``X`` (row pointer, column indices, values).

    Args:
        offsets: int64 [B + 1] row pointer.
        indices: int64 [nnz] column of each stored entry, in ``[0, N)``.
        values: [nnz] stored values.
        weight: [N, H], one row per column of ``X``.
        sparse_grad: give ``weight`` a row-sparse COO gradient (else a dense one).

    Returns:
        [B, H].

    Example:
        >>> w = torch.arange(6.0).view(3, 2)
        >>> sparse_matmul(torch.tensor([0, 1]), torch.tensor([1]), torch.tensor([2.0]), w)
        tensor([[4., 6.]])
    """
    return _SparseMatmul.apply(weight, values, offsets, indices, sparse_grad)


def sampled_matmul(
    hidden: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    offsets: Tensor,
    columns: Tensor,
    *,
    sparse_grad: bool = True,
    known: Tensor | None = None,
) -> Tensor:
    """``hidden @ weight.T + bias`` at the entries of a CSR pattern only.

    Args:
        hidden: [B, H].
        weight: [N, H], one row per output unit.
        bias: [N], or None.
        offsets: int64 [B + 1] row pointer of the entries.
        columns: int64 [E] output unit of each entry, in ``[0, N)``.
        sparse_grad: give ``weight`` and ``bias`` row-sparse COO gradients (else dense).
        known: the result, when it is already at hand (gathered from a dense product
            computed without gradient): only the sparse backward is then added.

    Returns:
        [E]: entry ``e`` of row ``b`` is ``hidden[b] . weight[columns[e]] + bias[columns[e]]``.

    Example:
        >>> h, w = torch.ones(1, 2), torch.arange(6.0).view(3, 2)
        >>> sampled_matmul(h, w, None, torch.tensor([0, 2]), torch.tensor([2, 0]))
        tensor([9., 1.])
    """
    return _SampledMatmul.apply(hidden, weight, bias, offsets, columns, sparse_grad, known)
