"""Triton sparse kernels against dense torch references (Triton interpreter on CPU, or CUDA).

Without a GPU the kernels run in the Triton interpreter, which tests/conftest.py switches on
before anything imports Triton. Triton is a dev dependency on Linux, so there a missing Triton
or interpreter fails these tests instead of skipping them.
"""

from __future__ import annotations

import sys

import pytest
import torch

if sys.platform != "linux":
    pytest.importorskip("triton")

from netcfg.layers.kernels import triton_kernels as tk  # noqa: E402

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def test_kernels_run_on_a_gpu_or_in_the_interpreter():
    assert DEVICE.type == "cuda" or tk.INTERPRETED


# ---------------------------------------------------------------- helpers


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def random_csr(
    row_lengths: list[int], n_cols: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """CSR (offsets, columns, values) with the given row lengths; columns 0 and n_cols - 1 occur.

    Columns within a row are distinct when the row is not longer than the catalogue.
    """
    g = gen(seed)
    columns = []
    for length in row_lengths:
        if length <= n_cols:
            columns.append(torch.randperm(n_cols, generator=g)[:length])
        else:
            columns.append(torch.randint(0, n_cols, (length,), generator=g))
    cols = torch.cat(columns) if columns else torch.zeros(0, dtype=torch.int64)
    if cols.numel() >= 2:
        # force the two ends of the catalogue into the data (first and last entries)
        cols[0] = 0
        cols[-1] = n_cols - 1
    offsets = torch.zeros(len(row_lengths) + 1, dtype=torch.int64)
    offsets[1:] = torch.cumsum(torch.tensor(row_lengths, dtype=torch.int64), 0)
    values = torch.randn(cols.numel(), generator=g)
    return offsets, cols.to(torch.int64), values


def row_of_entries(offsets: torch.Tensor) -> torch.Tensor:
    n_rows = offsets.numel() - 1
    return torch.repeat_interleave(torch.arange(n_rows, device=offsets.device), offsets.diff())


def dense_csr(offsets, cols, values, n_cols) -> torch.Tensor:
    """The dense [S, n_cols] matrix of a CSR triple (float64, duplicates summed)."""
    rows = row_of_entries(offsets)
    dense = torch.zeros(offsets.numel() - 1, n_cols, dtype=torch.float64, device=values.device)
    return dense.index_put((rows, cols), values.double(), accumulate=True)


def to_dev(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    return tuple(t.to(DEVICE) for t in tensors)


def assert_close32(actual: torch.Tensor, expected: torch.Tensor, atol: float = 1e-5) -> None:
    assert actual.dtype == torch.float32
    torch.testing.assert_close(actual, expected.float(), rtol=1e-5, atol=atol)


def column_segments(columns: torch.Tensor):
    """Entries sorted (stably) by column: (permutation, offsets of the runs, run columns)."""
    sorted_columns, perm = torch.sort(columns, stable=True)
    unique, counts = torch.unique_consecutive(sorted_columns, return_counts=True)
    offsets = torch.zeros(unique.numel() + 1, dtype=torch.int64, device=columns.device)
    offsets[1:] = torch.cumsum(counts, 0)
    return perm, offsets, unique


def row_segments(row_ids: torch.Tensor, n_rows: int):
    """Entries sorted (stably) by row: (permutation, offsets of all n_rows rows)."""
    _, perm = torch.sort(row_ids, stable=True)
    counts = torch.bincount(row_ids, minlength=n_rows)
    offsets = torch.zeros(n_rows + 1, dtype=torch.int64, device=row_ids.device)
    offsets[1:] = torch.cumsum(counts, 0)
    return perm, offsets


# ---------------------------------------------------------------- autograd wrappers


class CsrTimesDense(torch.autograd.Function):
    """``X @ W`` for a CSR ``X`` (offsets, columns, values) [S, R] and a dense ``W`` [R, H]."""

    @staticmethod
    def forward(ctx, offsets, columns, values, weight):
        ctx.save_for_backward(offsets, columns, values, weight)
        return tk.segment_rows_sum(offsets, columns, values, weight)

    @staticmethod
    def backward(ctx, grad_out):
        offsets, columns, values, weight = ctx.saved_tensors
        grad_out = grad_out.contiguous()
        rows = row_of_entries(offsets)
        grad_values = grad_weight = None
        if ctx.needs_input_grad[2]:
            # d out[r] / d values[e] = W[columns[e]] for the entry's row r
            grad_values = tk.gather_dot(rows, columns, grad_out, weight).to(values.dtype)
        if ctx.needs_input_grad[3]:
            # X^T @ grad_out as a row-sparse gradient: segments = runs of equal columns
            perm, seg_offsets, unique = column_segments(columns)
            sums = tk.segment_rows_sum(seg_offsets, rows[perm], values[perm], grad_out)
            grad_weight = torch.zeros_like(weight).index_copy_(0, unique, sums.to(weight.dtype))
        return None, None, grad_values, grad_weight


class GatherDot(torch.autograd.Function):
    """``out[e] = hidden[row_ids[e]] . weight_rows[columns[e]] (+ bias[columns[e]])``."""

    @staticmethod
    def forward(ctx, row_ids, columns, hidden, weight_rows, bias):
        ctx.save_for_backward(row_ids, columns, hidden, weight_rows)
        ctx.has_bias = bias is not None
        ctx.n_columns = weight_rows.shape[0]
        return tk.gather_dot(row_ids, columns, hidden, weight_rows, bias)

    @staticmethod
    def backward(ctx, grad):
        row_ids, columns, hidden, weight_rows = ctx.saved_tensors
        grad = grad.contiguous()
        grad_hidden = grad_weight = grad_bias = None
        if ctx.needs_input_grad[2]:
            perm, offsets = row_segments(row_ids, hidden.shape[0])
            grad_hidden = tk.segment_rows_sum(offsets, columns[perm], grad[perm], weight_rows)
            grad_hidden = grad_hidden.to(hidden.dtype)
        if ctx.needs_input_grad[3]:
            perm, offsets, unique = column_segments(columns)
            sums = tk.segment_rows_sum(offsets, row_ids[perm], grad[perm], hidden)
            grad_weight = torch.zeros_like(weight_rows).index_copy_(
                0, unique, sums.to(weight_rows.dtype)
            )
        if ctx.has_bias and ctx.needs_input_grad[4]:
            grad_bias = torch.zeros(ctx.n_columns, dtype=grad.dtype, device=grad.device)
            grad_bias.index_add_(0, columns, grad)
        return None, None, grad_hidden, grad_weight, grad_bias


# ---------------------------------------------------------------- segment_rows_sum

SEGMENT_CASES = [
    # (row lengths, catalogue size R, width H)
    pytest.param([3, 0, 5, 0, 2], 12, 33, id="empty-segments-H33"),
    pytest.param([4], 7, 1, id="batch-of-one-H1"),
    pytest.param([0, 6, 1], 9, 130, id="H130"),
    pytest.param([2, 5, 3], 5, 16, id="catalogue-ends-H16"),
    pytest.param([0, 0], 4, 8, id="E0"),
    pytest.param([5, 0, 2000, 1], 50, 33, id="long-row-2000"),
]


@pytest.mark.parametrize(("lengths", "n_rows", "width"), SEGMENT_CASES)
def test_segment_rows_sum_matches_dense(lengths, n_rows, width):
    offsets, cols, values = random_csr(lengths, n_rows, seed=len(lengths) * 7 + width)
    matrix = torch.randn(n_rows, width, generator=gen(width))
    offsets, cols, values, matrix = to_dev(offsets, cols, values, matrix)
    out = tk.segment_rows_sum(offsets, cols, values, matrix)
    expected = dense_csr(offsets, cols, values, n_rows) @ matrix.double()
    assert out.shape == (len(lengths), width)
    assert_close32(out, expected, atol=1e-4 if max(lengths) > 100 else 1e-5)
    for s, length in enumerate(lengths):
        if length == 0:
            assert torch.equal(out[s], torch.zeros(width, device=DEVICE))


def test_segment_rows_sum_no_segments_and_zero_width():
    offsets = torch.zeros(1, dtype=torch.int64, device=DEVICE)
    empty = torch.zeros(0, dtype=torch.int64, device=DEVICE)
    out = tk.segment_rows_sum(offsets, empty, empty.float(), torch.randn(3, 5, device=DEVICE))
    assert out.shape == (0, 5)
    offsets, cols, values = to_dev(*random_csr([2, 1], 4, seed=1))
    out = tk.segment_rows_sum(offsets, cols, values, torch.zeros(4, 0, device=DEVICE))
    assert out.shape == (2, 0)


def test_segment_rows_sum_is_deterministic():
    offsets, cols, values = random_csr([40, 0, 300, 7], 30, seed=3)
    matrix = torch.randn(30, 70, generator=gen(3)) * 100
    offsets, cols, values, matrix = to_dev(offsets, cols, values, matrix)
    first = tk.segment_rows_sum(offsets, cols, values, matrix)
    second = tk.segment_rows_sum(offsets, cols, values, matrix)
    assert torch.equal(first, second)
    # a segment's sum does not depend on the other segments (no cross-program reduction)
    alone = tk.segment_rows_sum(offsets[2:4] - offsets[2], cols[40:340], values[40:340], matrix)
    assert torch.equal(alone[0], first[2])


def test_segment_rows_sum_strided_matrix_and_mixed_dtypes():
    offsets, cols, values = random_csr([3, 4], 6, seed=5)
    base = torch.randn(6, 40, generator=gen(5))
    sliced = base[:, 3:36]  # row stride 40, unit column stride: used in place
    transposed = base[:, :20].t().contiguous().t()  # column stride 6: copied
    offsets, cols, values, sliced, transposed = to_dev(offsets, cols, values, sliced, transposed)
    dense = dense_csr(offsets, cols, values, 6)
    assert_close32(tk.segment_rows_sum(offsets, cols, values, sliced), dense @ sliced.double())
    assert_close32(
        tk.segment_rows_sum(offsets, cols, values, transposed), dense @ transposed.double()
    )
    out = tk.segment_rows_sum(offsets.int(), cols.int(), values.double(), sliced.half())
    assert_close32(out, dense @ sliced.half().double(), atol=1e-4)


# ---------------------------------------------------------------- segment_rows_sum_atomic


@pytest.mark.parametrize(("lengths", "n_rows", "width"), SEGMENT_CASES)
def test_segment_rows_sum_atomic_matches_dense(lengths, n_rows, width):
    offsets, cols, values = random_csr(lengths, n_rows, seed=len(lengths) * 11 + width)
    matrix = torch.randn(n_rows, width, generator=gen(width + 1))
    offsets, cols, values, matrix = to_dev(offsets, cols, values, matrix)
    rows = row_of_entries(offsets)
    # scatter the transposed product (the weight-gradient use) from unsorted entries
    grad_out = torch.randn(len(lengths), width, generator=gen(width + 2)).to(DEVICE)
    out = tk.segment_rows_sum_atomic(cols, rows, values, grad_out, n_rows)
    expected = dense_csr(offsets, cols, values, n_rows).t() @ grad_out.double()
    assert out.shape == (n_rows, width)
    assert_close32(out, expected, atol=1e-4 if max(lengths) > 100 else 1e-5)
    # forward use: destinations = rows, sources = columns
    out = tk.segment_rows_sum_atomic(rows, cols, values, matrix, len(lengths))
    expected = dense_csr(offsets, cols, values, n_rows) @ matrix.double()
    assert_close32(out, expected, atol=1e-4 if max(lengths) > 100 else 1e-5)


def test_segment_rows_sum_atomic_agrees_with_sorted_sum():
    offsets, cols, values = random_csr([9, 0, 14, 3, 25], 11, seed=8)
    grad_out = torch.randn(5, 33, generator=gen(8))
    offsets, cols, values, grad_out = to_dev(offsets, cols, values, grad_out)
    rows = row_of_entries(offsets)
    atomic = tk.segment_rows_sum_atomic(cols, rows, values, grad_out, 11)
    perm, seg_offsets, unique = column_segments(cols)
    sums = tk.segment_rows_sum(seg_offsets, rows[perm], values[perm], grad_out)
    sorted_full = torch.zeros(11, 33, device=DEVICE).index_copy_(0, unique, sums)
    assert_close32(atomic, sorted_full)


# ---------------------------------------------------------------- gather_dot

GATHER_CASES = [
    # (batch B, catalogue N, width H, entries E)
    pytest.param(4, 10, 33, 23, id="H33"),
    pytest.param(1, 6, 1, 5, id="batch-of-one-H1"),
    pytest.param(3, 9, 130, 70, id="H130-two-entry-blocks"),
    pytest.param(2, 5, 64, 0, id="E0"),
]


@pytest.mark.parametrize(("batch", "n_cols", "width", "n_entries"), GATHER_CASES)
@pytest.mark.parametrize("with_bias", [False, True], ids=["no-bias", "bias"])
def test_gather_dot_matches_dense(batch, n_cols, width, n_entries, with_bias):
    g = gen(batch * 100 + width)
    row_ids = torch.randint(0, batch, (n_entries,), generator=g)
    columns = torch.randint(0, n_cols, (n_entries,), generator=g)
    if n_entries >= 2:
        columns[0], columns[-1] = 0, n_cols - 1
    hidden = torch.randn(batch, width, generator=g)
    weight_rows = torch.randn(n_cols, width, generator=g)
    bias = torch.randn(n_cols, generator=g)
    row_ids, columns, hidden, weight_rows, bias = to_dev(
        row_ids, columns, hidden, weight_rows, bias
    )
    out = tk.gather_dot(row_ids, columns, hidden, weight_rows, bias if with_bias else None)
    expected = (hidden[row_ids].double() * weight_rows[columns].double()).sum(1)
    if with_bias:
        expected = expected + bias[columns].double()
    assert out.shape == (n_entries,)
    assert_close32(out, expected)
    assert torch.equal(
        out, tk.gather_dot(row_ids, columns, hidden, weight_rows, bias if with_bias else None)
    )


def test_gather_dot_strided_inputs():
    g = gen(4)
    big = torch.randn(5, 50, generator=g)
    hidden = big[:, 1:34]  # row stride 50
    weight_rows = torch.randn(33, 8, generator=g).t()  # [8, 33], column stride 8: copied
    row_ids = torch.randint(0, 5, (17,), generator=g)
    columns = torch.randint(0, 8, (17,), generator=g)
    row_ids, columns, hidden, weight_rows = to_dev(row_ids, columns, hidden, weight_rows)
    out = tk.gather_dot(row_ids, columns, hidden, weight_rows)
    assert_close32(out, (hidden[row_ids].double() * weight_rows[columns].double()).sum(1))


# ---------------------------------------------------------------- gradients


@pytest.mark.parametrize(
    ("lengths", "n_rows", "width"),
    [
        pytest.param([3, 0, 5, 2], 12, 33, id="empty-rows"),
        pytest.param([6], 8, 1, id="batch-of-one-H1"),
        pytest.param([1, 4, 0], 6, 130, id="H130"),
    ],
)
def test_csr_times_dense_gradients(lengths, n_rows, width):
    offsets, cols, values = random_csr(lengths, n_rows, seed=width)
    weight = torch.randn(n_rows, width, generator=gen(width + 5))
    upstream = torch.randn(len(lengths), width, generator=gen(width + 6))
    offsets, cols, values, weight, upstream = to_dev(offsets, cols, values, weight, upstream)

    v1 = values.clone().requires_grad_()
    w1 = weight.clone().requires_grad_()
    out = CsrTimesDense.apply(offsets, cols, v1, w1)
    (out * upstream).sum().backward()

    v2 = values.double().requires_grad_()
    w2 = weight.double().requires_grad_()
    reference = dense_csr(offsets, cols, v2, n_rows) @ w2
    (reference * upstream.double()).sum().backward()

    assert_close32(out.detach(), reference.detach())
    assert_close32(v1.grad, v2.grad)
    assert_close32(w1.grad, w2.grad)
    # columns no entry touches get an exactly zero gradient row
    untouched = torch.ones(n_rows, dtype=torch.bool, device=DEVICE)
    untouched[cols] = False
    assert torch.equal(w1.grad[untouched], torch.zeros_like(w1.grad[untouched]))


@pytest.mark.parametrize("with_bias", [False, True], ids=["no-bias", "bias"])
def test_gather_dot_gradients(with_bias):
    batch, n_cols, width, n_entries = 5, 13, 33, 40
    g = gen(21)
    row_ids = torch.randint(0, batch - 1, (n_entries,), generator=g)  # last row has no target
    columns = torch.randint(0, n_cols, (n_entries,), generator=g)
    columns[0], columns[-1] = 0, n_cols - 1
    hidden = torch.randn(batch, width, generator=g)
    weight_rows = torch.randn(n_cols, width, generator=g)
    bias = torch.randn(n_cols, generator=g)
    upstream = torch.randn(n_entries, generator=g)
    row_ids, columns, hidden, weight_rows, bias, upstream = to_dev(
        row_ids, columns, hidden, weight_rows, bias, upstream
    )

    h1, w1, b1 = (t.clone().requires_grad_() for t in (hidden, weight_rows, bias))
    out = GatherDot.apply(row_ids, columns, h1, w1, b1 if with_bias else None)
    (out * upstream).sum().backward()

    h2, w2, b2 = (t.double().requires_grad_() for t in (hidden, weight_rows, bias))
    reference = (h2[row_ids] * w2[columns]).sum(1)
    if with_bias:
        reference = reference + b2[columns]
    (reference * upstream.double()).sum().backward()

    assert_close32(out.detach(), reference.detach())
    assert_close32(h1.grad, h2.grad)
    assert_close32(w1.grad, w2.grad)
    assert torch.equal(h1.grad[batch - 1], torch.zeros(width, device=DEVICE))
    if with_bias:
        assert_close32(b1.grad, b2.grad)
    else:
        assert b1.grad is None


def test_composed_autoencoder_gradients():
    """Sparse input -> hidden layer -> output evaluated at target entries, end to end."""
    n_items, width = 17, 33
    offsets, cols, values = random_csr([4, 0, 9, 2], n_items, seed=30)
    t_offsets, t_cols, _ = random_csr([3, 2, 5, 0], n_items, seed=31)
    g = gen(32)
    w_in = torch.randn(n_items, width, generator=g) * 0.3
    b_in = torch.randn(width, generator=g)
    w_out = torch.randn(n_items, width, generator=g) * 0.3
    b_out = torch.randn(n_items, generator=g)
    targets = torch.randn(t_cols.numel(), generator=g)
    offsets, cols, values, t_offsets, t_cols = to_dev(offsets, cols, values, t_offsets, t_cols)
    w_in, b_in, w_out, b_out, targets = to_dev(w_in, b_in, w_out, b_out, targets)
    t_rows = row_of_entries(t_offsets)

    params1 = [t.clone().requires_grad_() for t in (values, w_in, b_in, w_out, b_out)]
    v1, wi1, bi1, wo1, bo1 = params1
    hidden = torch.sigmoid(CsrTimesDense.apply(offsets, cols, v1, wi1) + bi1)
    pred = GatherDot.apply(t_rows, t_cols, hidden, wo1, bo1)
    ((pred - targets) ** 2).sum().backward()

    params2 = [t.double().requires_grad_() for t in (values, w_in, b_in, w_out, b_out)]
    v2, wi2, bi2, wo2, bo2 = params2
    hidden2 = torch.sigmoid(dense_csr(offsets, cols, v2, n_items) @ wi2 + bi2)
    pred2 = (hidden2 @ wo2.t() + bo2)[t_rows, t_cols]
    ((pred2 - targets.double()) ** 2).sum().backward()

    assert_close32(pred.detach(), pred2.detach())
    for p1, p2 in zip(params1, params2, strict=True):
        assert_close32(p1.grad, p2.grad, atol=1e-5)


# ---------------------------------------------------------------- validation


def _small():
    offsets = torch.tensor([0, 2, 3], device=DEVICE)
    cols = torch.tensor([0, 2, 1], device=DEVICE)
    values = torch.ones(3, device=DEVICE)
    matrix = torch.ones(3, 4, device=DEVICE)
    return offsets, cols, values, matrix


def test_segment_rows_sum_rejects_bad_arguments():
    offsets, cols, values, matrix = _small()
    with pytest.raises(ValueError, match="segment_offsets must have dtype"):
        tk.segment_rows_sum(offsets.float(), cols, values, matrix)
    with pytest.raises(ValueError, match="coefficients must have dtype"):
        tk.segment_rows_sum(offsets, cols, values.long(), matrix)
    with pytest.raises(ValueError, match="matrix must be 2-D"):
        tk.segment_rows_sum(offsets, cols, values, matrix[0])
    with pytest.raises(ValueError, match="coefficients has 2 entries"):
        tk.segment_rows_sum(offsets, cols, values[:2], matrix)
    with pytest.raises(ValueError, match="same device"):
        tk.segment_rows_sum(offsets, cols, values, matrix.to("meta"))
    with pytest.raises(ValueError, match="source_rows must lie in"):
        tk.segment_rows_sum(offsets, cols + 1, values, matrix, check_indices=True)
    with pytest.raises(ValueError, match="from 0 to E=3"):
        tk.segment_rows_sum(offsets + 1, cols, values, matrix, check_indices=True)
    with pytest.raises(ValueError, match="non-decreasing"):
        bad = torch.tensor([0, 3, 1, 3], device=DEVICE)
        tk.segment_rows_sum(bad, cols, values, matrix, check_indices=True)


def test_atomic_and_gather_dot_reject_bad_arguments():
    offsets, cols, values, matrix = _small()
    rows = row_of_entries(offsets)
    with pytest.raises(ValueError, match="same length"):
        tk.segment_rows_sum_atomic(rows[:2], cols, values, matrix, 2)
    with pytest.raises(ValueError, match="n_destinations must be >= 0"):
        tk.segment_rows_sum_atomic(rows, cols, values, matrix, -1)
    with pytest.raises(ValueError, match="destination_rows must lie in"):
        tk.segment_rows_sum_atomic(rows, cols, values, matrix, 1, check_indices=True)
    hidden = torch.ones(2, 4, device=DEVICE)
    with pytest.raises(ValueError, match="must share H"):
        tk.gather_dot(rows, cols, hidden[:, :3], matrix)
    with pytest.raises(ValueError, match="bias must have N=3"):
        tk.gather_dot(rows, cols, hidden, matrix, torch.ones(4, device=DEVICE))
    with pytest.raises(ValueError, match="columns must lie in"):
        tk.gather_dot(rows, cols + 1, hidden, matrix, check_indices=True)
    with pytest.raises(ValueError, match="row_ids and columns"):
        tk.gather_dot(rows, cols[:1], hidden, matrix)


def test_cpu_tensors_without_interpreter_are_refused(monkeypatch):
    monkeypatch.setattr(tk, "INTERPRETED", False)
    offsets, cols, values, matrix = (t.cpu() for t in _small())
    with pytest.raises(ValueError, match="TRITON_INTERPRET=1"):
        tk.segment_rows_sum(offsets, cols, values, matrix)
    with pytest.raises(ValueError, match="CPU path"):
        tk.gather_dot(offsets[:2], cols[:2], matrix, matrix)
