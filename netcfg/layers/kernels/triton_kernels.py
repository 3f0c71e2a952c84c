"""Triton kernels for sparse (CSR) products whose cost is proportional to the nonzeros.

Two kernels cover every sparse product a netcfg training step needs:

``segment_rows_sum``
    ``out[s, :] = sum(coefficients[e] * matrix[source_rows[e], :] for e in segment s)``, where
    segment ``s`` is the entry range ``[segment_offsets[s], segment_offsets[s + 1])``. With CSR
    rows as segments, column indices as sources and the values as coefficients it is the CSR x
    dense forward ``X @ W``. With the entries sorted by column on the host (a stable sort), the
    runs of equal columns as segments, the row of each entry as its source and ``grad_out`` as the
    matrix it is the row-sparse weight gradient ``X^T @ grad_out`` restricted to the columns that
    occur. The same two arrangements give the backward of ``gather_dot`` for the hidden input
    (segments = rows of the target entries, sources = their columns, matrix = ``weight_rows``)
    and for the weight rows (segments = runs of equal columns, sources = rows, matrix = hidden).

``gather_dot``
    ``out[e] = dot(hidden[row_ids[e], :], weight_rows[columns[e], :]) (+ bias[columns[e]])``:
    the sampled dense x dense^T product that evaluates an output layer only at the target
    entries.

The kernels' grids and tiles are described in `triton_jit`.

Determinism. ``segment_rows_sum`` never uses atomics: every output element is produced by a
single program that accumulates its segment's entries in a fixed order (chunks of ``BLOCK_E``
consecutive entries in entry order, each chunk reduced by the same fixed-shape tree). The result
therefore depends only on the inputs (and the block constants, which depend only on the
shapes): two calls are bit-identical, on GPU as on CPU. This is the deterministic way to compute the
scatter-style sums (the weight gradients): sort the entries by destination on the host and sum
the runs. DSSTNE reached determinism differently, with 64-bit fixed-point atomic accumulation;
the sorted segmented sum keeps full float32 accuracy instead. ``segment_rows_sum_atomic`` is the
fast alternative that needs no sort: it scatters with float32 atomic adds, so on a GPU the
summation order (and hence the last bits of the result) may change from run to run.
``gather_dot`` has no cross-program reduction and is deterministic.

Devices. All tensors of one call must be on the same device. The launchers run on CUDA tensors
(the compiled kernels) and, when the Triton interpreter is enabled (``TRITON_INTERPRET=1`` set in
the environment *before* this module is imported), also on CPU tensors: the interpreter runs the
same kernels with NumPy, which is slow but exact enough to test them without a GPU. CPU tensors
without the interpreter are refused with a ``ValueError``: use the plain-torch CPU path instead.

All launchers accept float16, bfloat16, float32 or float64 values (accumulated in float32) and
int32 or int64 indices, and return float32. They are not differentiable themselves; wrap them in
a ``torch.autograd.Function`` whose backward calls them again (see the module tests).
"""

from __future__ import annotations

from contextlib import nullcontext

import torch
import triton
from torch import Tensor

from netcfg.layers.kernels.triton_checks import (
    FLOAT_DTYPES,
    INDEX_DTYPES,
    check_device,
    check_range,
    check_tensor,
    rows_ready,
    should_check,
)
from netcfg.layers.kernels.triton_jit import (
    INTERPRETED,
    KERNELS_INTERPRETED,
    TRITON_INTERPRETED,
    gather_dot_kernel,
    segment_rows_sum_atomic_kernel,
    segment_rows_sum_kernel,
)

__all__ = [
    "INTERPRETED",
    "gather_dot",
    "segment_rows_sum",
    "segment_rows_sum_atomic",
]

# Largest column block of the segmented sums, and the number of matrix elements one chunk tile
# should hold (BLOCK_E = _TILE // BLOCK_H, clamped), which keeps the register tile at 2,048
# float32 values whatever H is.
_SEGMENT_MAX_BLOCK_H = 128
_SEGMENT_TILE = 2048
_SHORT_SEGMENT = 4  # mean entries per segment up to which a segment's chunk is this long
_GATHER_BLOCK_E = 64
_GATHER_MAX_BLOCK_H = 64
_ATOMIC_BLOCK_E = 32
# Explicit compile options: 4 warps suit the [BLOCK_E, BLOCK_H] tiles above, and fused
# multiply-adds are requested explicitly (Triton 3.9 warns when the default is relied on, and
# the default changes in 3.10), so a result does not change with the Triton version's default.
_LAUNCH_OPTIONS = {"num_warps": 4, "enable_fp_fusion": True}


# --------------------------------------------------------------------------------------------
# Launch helpers
# --------------------------------------------------------------------------------------------


def _check_device(named: dict[str, Tensor]) -> torch.device:
    return check_device(
        named,
        interpreted=INTERPRETED,
        kernels_interpreted=KERNELS_INTERPRETED,
        triton_interpreted=TRITON_INTERPRETED,
    )


def _block_h(h: int, maximum: int) -> int:
    return min(maximum, max(16, triton.next_power_of_2(h)))


def _segment_blocks(n_entries: int, n_segments: int, width: int) -> tuple[int, int]:
    """(BLOCK_E, BLOCK_H) of the segmented sum. Long segments (CSR rows) take chunks of 16 to
    64 entries over column blocks of up to 128; short ones (a weight gradient's runs of equal
    columns, mostly one or two entries long) take chunks of 4 over up to 512 columns, so a
    program's tile is not mostly masked-off entries."""
    if n_entries <= _SHORT_SEGMENT * n_segments:
        return _SHORT_SEGMENT, _block_h(width, _SEGMENT_TILE // _SHORT_SEGMENT)
    block_h = _block_h(width, _SEGMENT_MAX_BLOCK_H)
    return max(16, min(64, _SEGMENT_TILE // block_h)), block_h


def _launch(kernel, grid: tuple[int, ...], device: torch.device, *args, **constants) -> None:
    """Launch ``kernel`` with the shared compile options, on ``device`` when it is a GPU
    (Triton launches on the current CUDA device: make it the tensors' one). Vector
    arguments (indices, coefficients, bias) are made contiguous; matrices are passed with
    their row strides, as given."""
    args = [a.contiguous() if isinstance(a, Tensor) and a.dim() == 1 else a for a in args]
    with torch.cuda.device(device) if device.type == "cuda" else nullcontext():
        kernel[grid](*args, **constants, **_LAUNCH_OPTIONS)


# --------------------------------------------------------------------------------------------
# Launchers
# --------------------------------------------------------------------------------------------


def segment_rows_sum(
    segment_offsets: Tensor,
    source_rows: Tensor,
    coefficients: Tensor,
    matrix: Tensor,
    *,
    check_indices: bool | None = None,
) -> Tensor:
    """Sums coefficient-weighted matrix rows over contiguous segments of entries.

    ``out[s, :] = sum(coefficients[e] * matrix[source_rows[e], :])`` over the entries
    ``e`` in ``[segment_offsets[s], segment_offsets[s + 1])``. Each output element is computed by
    one program in a fixed order (chunks of consecutive entries in entry order), without atomics,
    so the result is deterministic: repeated calls are bit-identical.

    Args:
        segment_offsets: int64 (or int32) ``[S + 1]``, non-decreasing, from 0 to ``E``; segment
            ``s`` holds the entries ``segment_offsets[s]:segment_offsets[s + 1]`` (a CSR row
            pointer). Empty segments give rows of zeros.
        source_rows: int64 (or int32) ``[E]``, row of ``matrix`` read by each entry, in ``[0, R)``.
        coefficients: float ``[E]``, weight of each entry.
        matrix: float ``[R, H]``; any layout with unit stride in the last dimension is used as is
            (others are made contiguous).
        check_indices: verify the index values (offsets monotone from 0 to ``E``, sources in
            range). ``None`` (default) checks on CPU only, since on CUDA it synchronises.

    Returns:
        float32 ``[S, H]`` on the inputs' device.

    Raises:
        ValueError: on a wrong type, dtype, shape or device, or (when checked) bad index values.
    """
    check_tensor("segment_offsets", segment_offsets, 1, INDEX_DTYPES)
    check_tensor("source_rows", source_rows, 1, INDEX_DTYPES)
    check_tensor("coefficients", coefficients, 1, FLOAT_DTYPES)
    check_tensor("matrix", matrix, 2, FLOAT_DTYPES)
    if segment_offsets.numel() < 1:
        raise ValueError("segment_offsets must have at least one element (S + 1 with S >= 0)")
    n_entries = source_rows.numel()
    if coefficients.numel() != n_entries:
        raise ValueError(
            f"coefficients has {coefficients.numel()} entries but source_rows has {n_entries}"
        )
    device = _check_device(
        {
            "segment_offsets": segment_offsets,
            "source_rows": source_rows,
            "coefficients": coefficients,
            "matrix": matrix,
        }
    )
    n_segments = segment_offsets.numel() - 1
    n_rows, width = matrix.shape
    if should_check(check_indices, device):
        if int(segment_offsets[0]) != 0 or int(segment_offsets[-1]) != n_entries:
            raise ValueError(
                f"segment_offsets must run from 0 to E={n_entries}, got "
                f"{int(segment_offsets[0])} to {int(segment_offsets[-1])}"
            )
        if n_segments > 0 and bool((segment_offsets[1:] < segment_offsets[:-1]).any()):
            raise ValueError("segment_offsets must be non-decreasing")
        check_range("source_rows", source_rows, n_rows, "R")

    if n_segments == 0 or width == 0 or n_entries == 0:
        return torch.zeros((n_segments, width), dtype=torch.float32, device=device)

    matrix = rows_ready(matrix)
    out = torch.empty((n_segments, width), dtype=torch.float32, device=device)
    block_e, block_h = _segment_blocks(n_entries, n_segments, width)
    grid = (n_segments, triton.cdiv(width, block_h))
    _launch(
        segment_rows_sum_kernel,
        grid,
        device,
        segment_offsets,
        source_rows,
        coefficients,
        matrix,
        out,
        width,
        matrix.stride(0),
        out.stride(0),
        BLOCK_E=block_e,
        BLOCK_H=block_h,
    )
    return out


def segment_rows_sum_atomic(
    destination_rows: Tensor,
    source_rows: Tensor,
    coefficients: Tensor,
    matrix: Tensor,
    n_destinations: int,
    *,
    check_indices: bool | None = None,
) -> Tensor:
    """Scatter-adds coefficient-weighted matrix rows with atomic adds (no sorting needed).

    ``out[destination_rows[e], :] += coefficients[e] * matrix[source_rows[e], :]`` for every
    entry ``e``. The entries may come in any order, but float32 atomic adds make the summation
    order (and so the last bits of the result) vary between runs on a GPU; use
    :func:`segment_rows_sum` on entries sorted by destination for a deterministic result.

    Args:
        destination_rows: int64 (or int32) ``[E]``, output row of each entry, in
            ``[0, n_destinations)``.
        source_rows: int64 (or int32) ``[E]``, row of ``matrix`` read by each entry, in ``[0, R)``.
        coefficients: float ``[E]``, weight of each entry.
        matrix: float ``[R, H]`` with unit stride in the last dimension (else made contiguous).
        n_destinations: number of output rows.
        check_indices: verify the index values are in range. ``None`` (default) checks on CPU
            only, since on CUDA it synchronises.

    Returns:
        float32 ``[n_destinations, H]`` on the inputs' device (rows no entry targets are zero).

    Raises:
        ValueError: on a wrong type, dtype, shape or device, or (when checked) bad index values.
    """
    check_tensor("destination_rows", destination_rows, 1, INDEX_DTYPES)
    check_tensor("source_rows", source_rows, 1, INDEX_DTYPES)
    check_tensor("coefficients", coefficients, 1, FLOAT_DTYPES)
    check_tensor("matrix", matrix, 2, FLOAT_DTYPES)
    if isinstance(n_destinations, bool) or not isinstance(n_destinations, int):
        raise ValueError(f"n_destinations must be an int, got {type(n_destinations).__name__}")
    if n_destinations < 0:
        raise ValueError(f"n_destinations must be >= 0, got {n_destinations}")
    n_entries = source_rows.numel()
    if destination_rows.numel() != n_entries or coefficients.numel() != n_entries:
        raise ValueError(
            "destination_rows, source_rows and coefficients must have the same length, got "
            f"{destination_rows.numel()}, {n_entries} and {coefficients.numel()}"
        )
    device = _check_device(
        {
            "destination_rows": destination_rows,
            "source_rows": source_rows,
            "coefficients": coefficients,
            "matrix": matrix,
        }
    )
    n_rows, width = matrix.shape
    if should_check(check_indices, device):
        check_range("destination_rows", destination_rows, n_destinations, "n_destinations")
        check_range("source_rows", source_rows, n_rows, "R")

    out = torch.zeros((n_destinations, width), dtype=torch.float32, device=device)
    if n_entries == 0 or width == 0 or n_destinations == 0:
        return out

    matrix = rows_ready(matrix)
    block_h = _block_h(width, _SEGMENT_MAX_BLOCK_H)
    grid = (triton.cdiv(n_entries, _ATOMIC_BLOCK_E), triton.cdiv(width, block_h))
    _launch(
        segment_rows_sum_atomic_kernel,
        grid,
        device,
        destination_rows,
        source_rows,
        coefficients,
        matrix,
        out,
        n_entries,
        width,
        matrix.stride(0),
        out.stride(0),
        BLOCK_E=_ATOMIC_BLOCK_E,
        BLOCK_H=block_h,
    )
    return out


def gather_dot(
    row_ids: Tensor,
    columns: Tensor,
    hidden: Tensor,
    weight_rows: Tensor,
    bias: Tensor | None = None,
    *,
    check_indices: bool | None = None,
) -> Tensor:
    """Dot products of gathered row pairs: an output layer evaluated only at given entries.

    ``out[e] = dot(hidden[row_ids[e], :], weight_rows[columns[e], :]) (+ bias[columns[e]])``.

    Args:
        row_ids: int64 (or int32) ``[E]``, row of ``hidden`` of each entry, in ``[0, B)``.
        columns: int64 (or int32) ``[E]``, row of ``weight_rows`` (the output column) of each
            entry, in ``[0, N)``.
        hidden: float ``[B, H]`` with unit stride in the last dimension (else made contiguous).
        weight_rows: float ``[N, H]`` (the output layer's weight, one row per output column)
            with unit stride in the last dimension (else made contiguous).
        bias: optional float ``[N]``.
        check_indices: verify the index values are in range. ``None`` (default) checks on CPU
            only, since on CUDA it synchronises.

    Returns:
        float32 ``[E]`` on the inputs' device.

    Raises:
        ValueError: on a wrong type, dtype, shape or device, or (when checked) bad index values.
    """
    check_tensor("row_ids", row_ids, 1, INDEX_DTYPES)
    check_tensor("columns", columns, 1, INDEX_DTYPES)
    check_tensor("hidden", hidden, 2, FLOAT_DTYPES)
    check_tensor("weight_rows", weight_rows, 2, FLOAT_DTYPES)
    named = {"row_ids": row_ids, "columns": columns, "hidden": hidden, "weight_rows": weight_rows}
    if bias is not None:
        check_tensor("bias", bias, 1, FLOAT_DTYPES)
        named["bias"] = bias
    n_entries = row_ids.numel()
    if columns.numel() != n_entries:
        raise ValueError(
            f"row_ids and columns must have the same length, got {n_entries} and {columns.numel()}"
        )
    if hidden.shape[1] != weight_rows.shape[1]:
        raise ValueError(
            f"hidden [B, H] and weight_rows [N, H] must share H, got {tuple(hidden.shape)} and "
            f"{tuple(weight_rows.shape)}"
        )
    n_columns = weight_rows.shape[0]
    if bias is not None and bias.numel() != n_columns:
        raise ValueError(f"bias must have N={n_columns} elements, got {bias.numel()}")
    device = _check_device(named)
    if should_check(check_indices, device):
        check_range("row_ids", row_ids, hidden.shape[0], "B")
        check_range("columns", columns, n_columns, "N")

    if n_entries == 0:
        return torch.zeros(0, dtype=torch.float32, device=device)
    if hidden.shape[1] == 0:
        if bias is None:
            return torch.zeros(n_entries, dtype=torch.float32, device=device)
        return bias[columns].to(torch.float32)

    hidden = rows_ready(hidden)
    weight_rows = rows_ready(weight_rows)
    width = hidden.shape[1]
    out = torch.empty(n_entries, dtype=torch.float32, device=device)
    block_h = _block_h(width, _GATHER_MAX_BLOCK_H)
    grid = (triton.cdiv(n_entries, _GATHER_BLOCK_E),)
    _launch(
        gather_dot_kernel,
        grid,
        device,
        row_ids,
        columns,
        hidden,
        weight_rows,
        bias if bias is not None else out,
        out,
        n_entries,
        width,
        hidden.stride(0),
        weight_rows.stride(0),
        HAS_BIAS=bias is not None,
        BLOCK_E=_GATHER_BLOCK_E,
        BLOCK_H=block_h,
    )
    return out
