"""Triton kernel bodies; `triton_kernels` launches them and documents what they compute.

``segment_rows_sum_kernel``: one program per (segment, block of ``BLOCK_H`` output
columns). Each program walks its segment in chunks of ``BLOCK_E`` consecutive entries: it
loads the chunk's source indices and coefficients as vectors, gathers a
``[BLOCK_E, BLOCK_H]`` tile of matrix rows, reduces it over the entries and adds it to a
float32 accumulator, in entry order (no atomics). Empty segments store zeros; a segment of
``n`` entries costs ``ceil(n / BLOCK_E)`` iterations.

``segment_rows_sum_atomic_kernel``: one program per (block of ``BLOCK_E`` entries, block of
``BLOCK_H`` columns), adding into the output with relaxed float atomics.

``gather_dot_kernel``: one program per block of ``BLOCK_E`` entries, looping over the hidden
width in blocks of ``BLOCK_H``.
"""

from __future__ import annotations

import triton
import triton.language as tl

__all__ = [
    "INTERPRETED",
    "KERNELS_INTERPRETED",
    "TRITON_INTERPRETED",
    "gather_dot_kernel",
    "segment_rows_sum_atomic_kernel",
    "segment_rows_sum_kernel",
]


@triton.jit
def segment_rows_sum_kernel(
    offsets_ptr,
    sources_ptr,
    coefficients_ptr,
    matrix_ptr,
    out_ptr,
    H,
    stride_matrix,
    stride_out,
    BLOCK_E: tl.constexpr,
    BLOCK_H: tl.constexpr,
):
    segment = tl.program_id(0)
    column_block = tl.program_id(1)
    cols = column_block * BLOCK_H + tl.arange(0, BLOCK_H)
    col_mask = cols < H
    start = tl.load(offsets_ptr + segment).to(tl.int64)
    end = tl.load(offsets_ptr + segment + 1).to(tl.int64)
    acc = tl.zeros([BLOCK_H], dtype=tl.float32)
    for chunk in range(start, end, BLOCK_E):
        entries = chunk + tl.arange(0, BLOCK_E)
        entry_mask = entries < end
        rows = tl.load(sources_ptr + entries, mask=entry_mask, other=0).to(tl.int64)
        coefficients = tl.load(coefficients_ptr + entries, mask=entry_mask, other=0.0)
        tile = tl.load(
            matrix_ptr + rows[:, None] * stride_matrix + cols[None, :],
            mask=entry_mask[:, None] & col_mask[None, :],
            other=0.0,
        )
        acc += tl.sum(tile.to(tl.float32) * coefficients.to(tl.float32)[:, None], axis=0)
    out_offsets = segment.to(tl.int64) * stride_out + cols
    tl.store(out_ptr + out_offsets, acc, mask=col_mask)


@triton.jit
def segment_rows_sum_atomic_kernel(
    destinations_ptr,
    sources_ptr,
    coefficients_ptr,
    matrix_ptr,
    out_ptr,
    E,
    H,
    stride_matrix,
    stride_out,
    BLOCK_E: tl.constexpr,
    BLOCK_H: tl.constexpr,
):
    entry_block = tl.program_id(0)
    column_block = tl.program_id(1)
    entries = entry_block.to(tl.int64) * BLOCK_E + tl.arange(0, BLOCK_E)
    entry_mask = entries < E
    cols = column_block * BLOCK_H + tl.arange(0, BLOCK_H)
    col_mask = cols < H
    mask = entry_mask[:, None] & col_mask[None, :]
    destinations = tl.load(destinations_ptr + entries, mask=entry_mask, other=0).to(tl.int64)
    rows = tl.load(sources_ptr + entries, mask=entry_mask, other=0).to(tl.int64)
    coefficients = tl.load(coefficients_ptr + entries, mask=entry_mask, other=0.0)
    tile = tl.load(matrix_ptr + rows[:, None] * stride_matrix + cols[None, :], mask=mask, other=0.0)
    values = tile.to(tl.float32) * coefficients.to(tl.float32)[:, None]
    tl.atomic_add(
        out_ptr + destinations[:, None] * stride_out + cols[None, :],
        values,
        mask=mask,
        sem="relaxed",
    )


@triton.jit
def gather_dot_kernel(
    row_ids_ptr,
    columns_ptr,
    hidden_ptr,
    weight_ptr,
    bias_ptr,
    out_ptr,
    E,
    H,
    stride_hidden,
    stride_weight,
    HAS_BIAS: tl.constexpr,
    BLOCK_E: tl.constexpr,
    BLOCK_H: tl.constexpr,
):
    entry_block = tl.program_id(0)
    entries = entry_block.to(tl.int64) * BLOCK_E + tl.arange(0, BLOCK_E)
    entry_mask = entries < E
    rows = tl.load(row_ids_ptr + entries, mask=entry_mask, other=0).to(tl.int64)
    columns = tl.load(columns_ptr + entries, mask=entry_mask, other=0).to(tl.int64)
    acc = tl.zeros([BLOCK_E], dtype=tl.float32)
    for h0 in range(0, H, BLOCK_H):
        cols = h0 + tl.arange(0, BLOCK_H)
        mask = entry_mask[:, None] & (cols < H)[None, :]
        a = tl.load(
            hidden_ptr + rows[:, None] * stride_hidden + cols[None, :], mask=mask, other=0.0
        )
        b = tl.load(
            weight_ptr + columns[:, None] * stride_weight + cols[None, :], mask=mask, other=0.0
        )
        acc += tl.sum(a.to(tl.float32) * b.to(tl.float32), axis=1)
    if HAS_BIAS:
        acc += tl.load(bias_ptr + columns, mask=entry_mask, other=0.0).to(tl.float32)
    tl.store(out_ptr + entries, acc, mask=entry_mask)


# The interpreter is chosen when a function is decorated with ``triton.jit``: for Triton's own
# library (``tl.sum`` and friends) when ``triton`` is first imported, for these kernels when this
# module is imported. Both must agree, so TRITON_INTERPRET must be set before ``triton`` is
# imported by anyone.
KERNELS_INTERPRETED = type(segment_rows_sum_kernel).__name__ == "InterpretedFunction"
TRITON_INTERPRETED = type(tl.sum).__name__ == "InterpretedFunction"

INTERPRETED: bool = KERNELS_INTERPRETED and TRITON_INTERPRETED
"""Whether the kernels run in the Triton interpreter (``TRITON_INTERPRET=1`` before import)."""
