"""The two implementations of the sparse primitives, and the choice between them.

Three primitives cover every sparse product of a training step (see `sparse_ops`):

- ``segment_sum(offsets, sources, coefficients, matrix)``: for each segment ``s`` of
  entries ``offsets[s]:offsets[s + 1]``, ``sum(coefficients[e] * matrix[sources[e]])``.
- ``scatter_sum(destinations, sources, coefficients, matrix, n)``: the same sums grouped by
  an unsorted destination row (float atomics on a GPU: fast, not bit-reproducible).
- ``gather_dot(rows, columns, hidden, weight_rows, bias)``: for each entry,
  ``hidden[rows[e]] . weight_rows[columns[e]] (+ bias[columns[e]])``.

The torch backend (the CPU path) uses the operators that measured fastest on CPU:
``EmbeddingBag`` weighted sums and ``torch.sparse.sampled_addmm``; the Triton backend
launches the kernels of `triton_kernels`, on CUDA tensors, or on CPU tensors under the
Triton interpreter (``TRITON_INTERPRET=1``), which is how the kernels are tested without
a GPU.
"""

from __future__ import annotations

import os
import warnings
from functools import cache
from types import ModuleType
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["TRITON_SETTING", "Backend", "TorchBackend", "TritonBackend", "backend_for"]

TRITON_SETTING = "NETCFG_TRITON"
"""Environment variable: ``auto`` (default: Triton on CUDA tensors when it is installed),
``1`` (always Triton; on CPU tensors this needs ``TRITON_INTERPRET=1``) or ``0`` (never)."""


class Backend(Protocol):
    """The sparse primitives (module docstring). Results are float32 or the inputs' dtype."""

    name: str

    def segment_sum(
        self, offsets: Tensor, sources: Tensor, coefficients: Tensor, matrix: Tensor
    ) -> Tensor: ...

    def scatter_sum(
        self, destinations: Tensor, sources: Tensor, coefficients: Tensor, matrix: Tensor, n: int
    ) -> Tensor: ...

    def gather_dot(
        self,
        rows: Tensor,
        columns: Tensor,
        hidden: Tensor,
        weight_rows: Tensor,
        bias: Tensor | None,
        offsets: Tensor,
    ) -> Tensor: ...


class TorchBackend:
    """Torch operators on any device: EmbeddingBag sums, sparse sampled products."""

    name = "torch"

    def segment_sum(
        self, offsets: Tensor, sources: Tensor, coefficients: Tensor, matrix: Tensor
    ) -> Tensor:
        """Weighted sums of ``matrix`` rows over consecutive segments of entries."""
        segments = offsets.numel() - 1
        if segments == 0 or sources.numel() == 0:
            return matrix.new_zeros(segments, matrix.shape[1])
        return F.embedding_bag(
            sources,
            matrix,
            offsets[:-1],
            mode="sum",
            per_sample_weights=coefficients.to(matrix.dtype),
        )

    def scatter_sum(
        self, destinations: Tensor, sources: Tensor, coefficients: Tensor, matrix: Tensor, n: int
    ) -> Tensor:
        """Weighted sums of ``matrix`` rows grouped by destination row."""
        rows = matrix.index_select(0, sources) * coefficients.to(matrix.dtype).unsqueeze(1)
        return matrix.new_zeros(n, matrix.shape[1]).index_add_(0, destinations, rows)

    def gather_dot(
        self,
        rows: Tensor,
        columns: Tensor,
        hidden: Tensor,
        weight_rows: Tensor,
        bias: Tensor | None,
        offsets: Tensor,
    ) -> Tensor:
        """Dots of ``hidden`` rows with gathered ``weight_rows``, entry by entry.

        A sampled dense-dense product (``torch.sparse.sampled_addmm``) at the CSR pattern
        ``(offsets, columns)``; ``rows`` is implied by the offsets.
        """
        dtype = torch.result_type(hidden, weight_rows)
        hidden, weight_rows = hidden.to(dtype), weight_rows.to(dtype)
        batch, width = hidden.shape
        entries = columns.numel()
        if entries == 0 or width == 0:
            out = hidden.new_zeros(entries)
        elif entries > batch * weight_rows.shape[0]:
            # sampled_addmm refuses more entries than cells (a row repeating a column)
            out = _chunked_dots(rows, columns, hidden, weight_rows)
        else:
            with warnings.catch_warnings():  # "Sparse CSR tensor support is in beta state"
                warnings.simplefilter("ignore", UserWarning)
                pattern = torch.sparse_csr_tensor(
                    offsets,
                    columns,
                    hidden.new_zeros(entries),
                    (batch, weight_rows.shape[0]),
                    check_invariants=False,
                )
            out = torch.sparse.sampled_addmm(pattern, hidden, weight_rows.t(), beta=0.0).values()
        return out if bias is None else out + bias.to(dtype).index_select(0, columns)


def _chunked_dots(rows: Tensor, columns: Tensor, hidden: Tensor, weight_rows: Tensor) -> Tensor:
    out = hidden.new_empty(columns.numel())
    step = max(1, (1 << 20) // hidden.shape[1])
    for start in range(0, columns.numel(), step):
        part = slice(start, start + step)
        pairs = hidden.index_select(0, rows[part]) * weight_rows.index_select(0, columns[part])
        out[part] = pairs.sum(1)
    return out


class TritonBackend:
    """The Triton kernels of `triton_kernels` (float32 accumulation and results)."""

    name = "triton"

    def __init__(self, kernels: ModuleType):
        self.kernels = kernels

    def segment_sum(
        self, offsets: Tensor, sources: Tensor, coefficients: Tensor, matrix: Tensor
    ) -> Tensor:
        """Weighted sums of ``matrix`` rows over consecutive segments of entries."""
        return self.kernels.segment_rows_sum(offsets, sources, coefficients, matrix)

    def scatter_sum(
        self, destinations: Tensor, sources: Tensor, coefficients: Tensor, matrix: Tensor, n: int
    ) -> Tensor:
        """Weighted sums of ``matrix`` rows grouped by destination row (atomic adds)."""
        return self.kernels.segment_rows_sum_atomic(destinations, sources, coefficients, matrix, n)

    def gather_dot(
        self,
        rows: Tensor,
        columns: Tensor,
        hidden: Tensor,
        weight_rows: Tensor,
        bias: Tensor | None,
        offsets: Tensor,
    ) -> Tensor:
        """Dots of ``hidden`` rows with gathered ``weight_rows``, entry by entry."""
        return self.kernels.gather_dot(rows, columns, hidden, weight_rows, bias)


@cache
def _triton_kernels() -> ModuleType | None:
    try:
        from netcfg.layers.kernels import triton_kernels
    except ImportError:
        return None
    return triton_kernels


def backend_for(tensor: Tensor) -> Backend:
    """The backend for tensors on ``tensor``'s device, as ``NETCFG_TRITON`` says.

    Raises:
        RuntimeError: ``NETCFG_TRITON=1`` but Triton cannot be imported.
    """
    setting = os.environ.get(TRITON_SETTING, "auto").strip().lower()
    if setting in ("0", "false", "off"):
        return TorchBackend()
    wanted = setting in ("1", "true", "on") or tensor.is_cuda
    if not wanted:
        return TorchBackend()
    kernels = _triton_kernels()
    if kernels is None:
        if setting in ("1", "true", "on"):
            raise RuntimeError(f"{TRITON_SETTING}=1 but Triton is not installed")
        return TorchBackend()
    return TritonBackend(kernels)
