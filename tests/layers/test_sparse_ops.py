"""The differentiable sparse products of `netcfg.layers.kernels` against dense references.

Every op is checked on both backends (``NETCFG_TRITON=0``: torch operators, ``NETCFG_TRITON=1``:
the Triton kernels, which run in the Triton interpreter on CPU tensors; tests/conftest.py
switches the interpreter on before anything imports Triton). The references are plain dense
float64 products (``X @ W`` with ``X`` built from the CSR triple, ``(h @ W.T + b)[rows, cols]``)
differentiated by autograd.

Float64 inputs are accepted by both backends and give float64 results, but the Triton kernels
accumulate in float32 and the result is cast back: on that backend the comparisons use a
float32 tolerance (scaled by the magnitude of the reference), on the torch backend a float64 one.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pytest
import torch
from torch import Tensor

if sys.platform != "linux":
    pytest.importorskip("triton")

from netcfg.layers.kernels import (  # noqa: E402
    TRITON_SETTING,
    backend_for,
    backends,
    row_ids,
    sampled_matmul,
    sparse_matmul,
    triton_kernels,
)
from netcfg.layers.kernels.backends import TorchBackend, TritonBackend  # noqa: E402
from netcfg.layers.kernels.sparse_ops import KeyGroups, row_sparse_sum  # noqa: E402

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
F64 = torch.float64

BACKENDS = ("torch", "triton")


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(params=BACKENDS)
def backend(request, monkeypatch) -> str:
    """The backend name; NETCFG_TRITON is set so that every op call picks that backend."""
    monkeypatch.setenv(TRITON_SETTING, "1" if request.param == "triton" else "0")
    return request.param


@pytest.fixture
def deterministic():
    """A setter for ``torch.use_deterministic_algorithms``; the previous mode is restored."""
    previous = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()

    def set_mode(enabled: bool) -> None:
        torch.use_deterministic_algorithms(enabled)

    try:
        yield set_mode
    finally:
        torch.use_deterministic_algorithms(previous, warn_only=warn_only)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(*shape: int, seed: int, dtype: torch.dtype = F64, grad: bool = True) -> Tensor:
    tensor = torch.randn(*shape, generator=gen(seed), dtype=dtype).to(DEVICE)
    return tensor.requires_grad_(grad)


def entry_rows(offsets: Tensor) -> Tensor:
    """The row of each CSR entry (the reference for `row_ids`)."""
    rows = torch.arange(offsets.numel() - 1, device=offsets.device)
    return torch.repeat_interleave(rows, offsets.diff())


def dense_x(offsets: Tensor, columns: Tensor, values: Tensor, n_cols: int) -> Tensor:
    """The dense [B, N] matrix of a CSR triple, duplicates summed; differentiable in values."""
    dense = torch.zeros(offsets.numel() - 1, n_cols, dtype=values.dtype, device=values.device)
    return dense.index_put((entry_rows(offsets), columns), values, accumulate=True)


def tolerance(backend: str, expected: Tensor) -> dict[str, float]:
    if backend == "torch":
        return {"rtol": 1e-10, "atol": 1e-10}
    scale = max(1.0, float(expected.abs().max())) if expected.numel() else 1.0
    return {"rtol": 1e-5, "atol": 1e-5 * scale}


def assert_matches(actual: Tensor, expected: Tensor, backend: str) -> None:
    assert actual.layout == torch.strided
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    torch.testing.assert_close(actual, expected, **tolerance(backend, expected))


def assert_row_sparse(grad: Tensor, expected: Tensor, present: Tensor, backend: str) -> None:
    """A coalesced COO tensor holding exactly the rows ``present``, equal to ``expected``."""
    assert grad.is_sparse and grad.layout == torch.sparse_coo
    assert grad.sparse_dim() == 1
    assert grad.dense_dim() == expected.dim() - 1
    assert grad.shape == expected.shape
    assert grad.dtype == expected.dtype
    assert grad.is_coalesced()
    # the stored rows are exactly the distinct columns of the batch, increasing: the others
    # (untouched rows) are absent, not stored as zeros
    assert torch.equal(grad.indices().cpu(), present.cpu().unsqueeze(0))
    assert grad.values().shape == (present.numel(), *expected.shape[1:])
    assert_matches(grad.to_dense(), expected, backend)


def spy(monkeypatch, owner: object, name: str) -> list[tuple]:
    """Record the calls of ``owner.name`` (a function or method), still calling it."""
    calls: list[tuple] = []
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return calls


@dataclass(frozen=True)
class Case:
    """A CSR pattern: random rows of given lengths, or explicit rows of columns."""

    name: str
    n_cols: int
    width: int
    seed: int
    lengths: tuple[int, ...] = ()
    rows: tuple[tuple[int, ...], ...] | None = None
    repeats: bool = False  # draw columns with replacement (duplicates within rows)

    def pattern(self) -> tuple[Tensor, Tensor]:
        """(offsets, columns); random patterns hold columns 0 and N - 1 when E >= 2."""
        if self.rows is not None:
            chunks = [torch.tensor(row, dtype=torch.int64) for row in self.rows]
        else:
            g = gen(self.seed)
            chunks = []
            for length in self.lengths:
                if self.repeats:
                    chunks.append(torch.randint(0, self.n_cols, (length,), generator=g))
                else:
                    chunks.append(torch.randperm(self.n_cols, generator=g)[:length])
            nonempty = [chunk for chunk in chunks if chunk.numel()]
            if nonempty:
                first, last = nonempty[0], nonempty[-1]
                if not bool((first == 0).any()):
                    first[0] = 0  # no duplicate: 0 was absent from the row
                if not bool((last == self.n_cols - 1).any()):
                    last[-1] = self.n_cols - 1
        lengths = torch.tensor([chunk.numel() for chunk in chunks], dtype=torch.int64)
        offsets = torch.cat([torch.zeros(1, dtype=torch.int64), torch.cumsum(lengths, 0)])
        columns = torch.cat(chunks) if chunks else torch.zeros(0, dtype=torch.int64)
        return offsets.to(DEVICE), columns.to(torch.int64).to(DEVICE)

    @property
    def batch(self) -> int:
        return len(self.rows) if self.rows is not None else len(self.lengths)


CASES = [
    Case("empty-rows", n_cols=23, width=5, seed=1, lengths=(3, 0, 5, 1, 0, 4)),
    Case("leading-trailing-empty", n_cols=9, width=16, seed=2, lengths=(0, 0, 2, 7, 0)),
    Case("one-row", n_cols=11, width=3, seed=3, lengths=(6,)),
    Case("all-empty-E0", n_cols=8, width=4, seed=4, lengths=(0, 0, 0)),
    Case("whole-catalogue", n_cols=7, width=5, seed=5, lengths=(7, 7)),
    Case("H130", n_cols=6, width=130, seed=6, lengths=(2, 3)),
    Case("H1", n_cols=5, width=1, seed=7, lengths=(4, 1)),
    Case("duplicates", n_cols=9, width=5, seed=8, rows=((3, 1, 3, 3), (), (0, 8, 0))),
    Case("random-repeats", n_cols=12, width=7, seed=9, lengths=(5, 9, 0, 6), repeats=True),
    Case("long-row-3000", n_cols=4000, width=6, seed=10, lengths=(2, 3000, 1)),
]
CASE_PARAMS = [pytest.param(case, id=case.name) for case in CASES]
SMALL_CASES = {case.name: case for case in CASES if case.name != "long-row-3000"}


def test_cases_cover_the_intended_shapes():
    """The patterns really have the edge features the cases are named for."""
    by_name = {case.name: case for case in CASES}
    for case in CASES:
        offsets, columns = case.pattern()
        assert offsets[0] == 0 and offsets[-1] == columns.numel()
        assert offsets.numel() == case.batch + 1
        assert bool((offsets.diff() >= 0).all())
        if columns.numel() >= 2:
            assert int(columns.min()) == 0 and int(columns.max()) == case.n_cols - 1
        # E <= B * N: see test_sparse_matmul_more_entries_than_dense_cells for E > B * N
        assert columns.numel() <= case.batch * case.n_cols
    offsets, _ = by_name["empty-rows"].pattern()
    assert (offsets.diff() == 0).sum() == 2
    offsets, columns = by_name["all-empty-E0"].pattern()
    assert columns.numel() == 0 and offsets.tolist() == [0, 0, 0, 0]
    offsets, columns = by_name["long-row-3000"].pattern()
    assert offsets.diff().tolist() == [2, 3000, 1]
    _, columns = by_name["random-repeats"].pattern()
    assert columns.unique().numel() < columns.numel()


# ---------------------------------------------------------------- sparse_matmul


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_sparse_matmul_values_and_gradients(backend, case):
    offsets, columns = case.pattern()
    values = randn(columns.numel(), seed=case.seed + 100)
    weight = randn(case.n_cols, case.width, seed=case.seed + 200)
    upstream = randn(case.batch, case.width, seed=case.seed + 300, grad=False)

    out = sparse_matmul(offsets, columns, values, weight)
    grad_weight, grad_values = torch.autograd.grad(out, (weight, values), upstream)

    expected = dense_x(offsets, columns, values, case.n_cols) @ weight
    expected_weight, expected_values = torch.autograd.grad(expected, (weight, values), upstream)
    assert out.dtype == F64
    assert_matches(out, expected.detach(), backend)
    for row, length in enumerate(offsets.diff().tolist()):
        if length == 0:
            assert torch.equal(out[row], torch.zeros_like(out[row]))
    assert_row_sparse(grad_weight, expected_weight, torch.unique(columns), backend)
    assert_matches(grad_values, expected_values, backend)


def test_sparse_matmul_duplicate_columns_add_up(backend):
    """A row that holds a column three times equals one entry with the summed value."""
    weight = randn(4, 3, seed=11)
    offsets = torch.tensor([0, 3, 4], device=DEVICE)
    columns = torch.tensor([2, 2, 2, 1], device=DEVICE)
    values = torch.tensor([0.5, 1.5, -3.0, 2.0], dtype=F64, device=DEVICE)
    out = sparse_matmul(offsets, columns, values, weight)
    expected = torch.stack([-1.0 * weight[2], 2.0 * weight[1]]).detach()
    assert_matches(out, expected, backend)
    (grad,) = torch.autograd.grad(out.sum(), weight)
    assert grad.indices().tolist() == [[1, 2]]
    expected_rows = torch.tensor([[2.0] * 3, [-1.0] * 3], dtype=F64, device=DEVICE)
    assert_matches(grad.values(), expected_rows, backend)


@pytest.mark.parametrize("name", ["empty-rows", "duplicates", "H130"])
def test_sparse_matmul_dense_gradient(backend, name):
    case = SMALL_CASES[name]
    offsets, columns = case.pattern()
    values = randn(columns.numel(), seed=12)
    weight = randn(case.n_cols, case.width, seed=13)
    upstream = randn(case.batch, case.width, seed=14, grad=False)
    out = sparse_matmul(offsets, columns, values, weight, sparse_grad=False)
    grad_weight, grad_values = torch.autograd.grad(out, (weight, values), upstream)
    expected = dense_x(offsets, columns, values, case.n_cols) @ weight
    expected_weight, expected_values = torch.autograd.grad(expected, (weight, values), upstream)
    assert_matches(grad_weight, expected_weight, backend)  # strided, all N rows
    assert_matches(grad_values, expected_values, backend)


def test_sparse_matmul_gradient_of_one_input_only(backend):
    case = SMALL_CASES["empty-rows"]
    offsets, columns = case.pattern()
    values = randn(columns.numel(), seed=15)
    weight = randn(case.n_cols, case.width, seed=16)
    expected = dense_x(offsets, columns, values, case.n_cols) @ weight
    expected_weight, expected_values = torch.autograd.grad(expected.sum(), (weight, values))

    (grad_values,) = torch.autograd.grad(
        sparse_matmul(offsets, columns, values, weight.detach()).sum(), values
    )
    assert_matches(grad_values, expected_values, backend)
    (grad_weight,) = torch.autograd.grad(
        sparse_matmul(offsets, columns, values.detach(), weight).sum(), weight
    )
    assert_row_sparse(grad_weight, expected_weight, torch.unique(columns), backend)


def test_sparse_matmul_backward_accumulates_into_grad(backend):
    """``.backward()`` twice sums the sparse gradients; a dense use of W adds in too."""
    case = SMALL_CASES["empty-rows"]
    offsets, columns = case.pattern()
    values = randn(columns.numel(), seed=17, grad=False)
    weight = randn(case.n_cols, case.width, seed=18)
    for _ in range(2):
        sparse_matmul(offsets, columns, values, weight).sum().backward()
    (weight * weight).sum().backward()
    reference = weight.detach().clone().requires_grad_(True)
    expected = dense_x(offsets, columns, values, case.n_cols) @ reference
    (2 * expected.sum() + (reference * reference).sum()).backward()
    assert_matches(weight.grad.to_dense(), reference.grad, backend)


def test_sparse_matmul_float32(backend):
    case = SMALL_CASES["empty-rows"]
    offsets, columns = case.pattern()
    values = randn(columns.numel(), seed=19, dtype=torch.float32)
    weight = randn(case.n_cols, case.width, seed=20, dtype=torch.float32)
    out = sparse_matmul(offsets, columns, values, weight)
    (grad_weight,) = torch.autograd.grad(out.sum(), weight)
    assert out.dtype == torch.float32 and grad_weight.dtype == torch.float32
    expected = dense_x(offsets, columns, values.double(), case.n_cols) @ weight.double()
    torch.testing.assert_close(out.double(), expected.detach(), rtol=1e-5, atol=1e-5)


def test_sparse_matmul_non_contiguous_weight(backend):
    case = SMALL_CASES["duplicates"]
    offsets, columns = case.pattern()
    values = randn(columns.numel(), seed=21)
    weight = randn(case.width, case.n_cols, seed=22, grad=False).t()  # [N, H], strides (1, N)
    assert not weight.is_contiguous()
    upstream = randn(case.batch, case.width, seed=23, grad=False)
    out = sparse_matmul(offsets, columns, values, weight)
    (grad_values,) = torch.autograd.grad(out, values, upstream)
    expected = dense_x(offsets, columns, values, case.n_cols) @ weight
    (expected_values,) = torch.autograd.grad(expected, values, upstream)
    assert_matches(out, expected.detach(), backend)
    assert_matches(grad_values, expected_values, backend)


def test_sparse_matmul_more_entries_than_dense_cells(backend):
    """Duplicates can make E exceed B * N; the op must still work (one row, N = 3, E = 5)."""
    offsets = torch.tensor([0, 5], device=DEVICE)
    columns = torch.tensor([2, 0, 2, 2, 1], device=DEVICE)
    values = randn(5, seed=24)
    weight = randn(3, 4, seed=25)
    out = sparse_matmul(offsets, columns, values, weight)
    grad_weight, grad_values = torch.autograd.grad(out.sum(), (weight, values))
    expected = dense_x(offsets, columns, values, 3) @ weight
    expected_weight, expected_values = torch.autograd.grad(expected.sum(), (weight, values))
    assert_matches(out, expected.detach(), backend)
    assert_row_sparse(grad_weight, expected_weight, torch.tensor([0, 1, 2]), backend)
    assert_matches(grad_values, expected_values, backend)


# ---------------------------------------------------------------- sampled_matmul


def sampled_reference(hidden, weight, bias, offsets, columns) -> Tensor:
    logits = hidden @ weight.t()
    if bias is not None:
        logits = logits + bias
    return logits[entry_rows(offsets), columns]


def sampled_inputs(case: Case, seed: int, bias: bool = True):
    offsets, columns = case.pattern()
    hidden = randn(case.batch, case.width, seed=seed)
    weight = randn(case.n_cols, case.width, seed=seed + 1)
    bias_ = randn(case.n_cols, seed=seed + 2) if bias else None
    upstream = randn(columns.numel(), seed=seed + 3, grad=False)
    return offsets, columns, hidden, weight, bias_, upstream


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_sampled_matmul_values_and_gradients(backend, case):
    offsets, columns, hidden, weight, bias, upstream = sampled_inputs(case, case.seed + 400)
    out = sampled_matmul(hidden, weight, bias, offsets, columns)
    grads = torch.autograd.grad(out, (hidden, weight, bias), upstream)

    expected = sampled_reference(hidden, weight, bias, offsets, columns)
    expected_grads = torch.autograd.grad(expected, (hidden, weight, bias), upstream)
    assert out.dtype == F64 and out.shape == (columns.numel(),)
    assert_matches(out, expected.detach(), backend)
    present = torch.unique(columns)
    assert_matches(grads[0], expected_grads[0], backend)
    assert_row_sparse(grads[1], expected_grads[1], present, backend)
    assert_row_sparse(grads[2], expected_grads[2], present, backend)


@pytest.mark.parametrize("name", ["empty-rows", "all-empty-E0", "random-repeats"])
def test_sampled_matmul_without_bias(backend, name):
    case = SMALL_CASES[name]
    offsets, columns, hidden, weight, _, upstream = sampled_inputs(case, 30, bias=False)
    out = sampled_matmul(hidden, weight, None, offsets, columns)
    grads = torch.autograd.grad(out, (hidden, weight), upstream)
    expected = sampled_reference(hidden, weight, None, offsets, columns)
    expected_grads = torch.autograd.grad(expected, (hidden, weight), upstream)
    assert_matches(out, expected.detach(), backend)
    assert_matches(grads[0], expected_grads[0], backend)
    assert_row_sparse(grads[1], expected_grads[1], torch.unique(columns), backend)


@pytest.mark.parametrize("name", ["empty-rows", "all-empty-E0", "duplicates"])
def test_sampled_matmul_dense_gradients(backend, name):
    case = SMALL_CASES[name]
    offsets, columns, hidden, weight, bias, upstream = sampled_inputs(case, 40)
    out = sampled_matmul(hidden, weight, bias, offsets, columns, sparse_grad=False)
    grads = torch.autograd.grad(out, (hidden, weight, bias), upstream)
    expected = sampled_reference(hidden, weight, bias, offsets, columns)
    expected_grads = torch.autograd.grad(expected, (hidden, weight, bias), upstream)
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        assert_matches(grad, expected_grad, backend)  # strided, full shapes


def test_sampled_matmul_bias_gradient_only(backend):
    case = SMALL_CASES["random-repeats"]
    offsets, columns, hidden, weight, bias, upstream = sampled_inputs(case, 45)
    out = sampled_matmul(hidden.detach(), weight.detach(), bias, offsets, columns)
    (grad_bias,) = torch.autograd.grad(out, bias, upstream)
    expected = torch.zeros(case.n_cols, dtype=F64, device=DEVICE).index_add(0, columns, upstream)
    assert_row_sparse(grad_bias, expected, torch.unique(columns), backend)


def test_sampled_matmul_non_contiguous_hidden(backend):
    case = SMALL_CASES["empty-rows"]
    offsets, columns = case.pattern()
    hidden_t = randn(case.width, case.batch, seed=50)
    hidden = hidden_t.t()  # [B, H], strides (1, B)
    weight = randn(case.n_cols, case.width, seed=51)
    upstream = randn(columns.numel(), seed=52, grad=False)
    out = sampled_matmul(hidden, weight, None, offsets, columns)
    grads = torch.autograd.grad(out, (hidden_t, weight), upstream)
    expected = sampled_reference(hidden, weight, None, offsets, columns)
    expected_grads = torch.autograd.grad(expected, (hidden_t, weight), upstream)
    assert_matches(out, expected.detach(), backend)
    assert_matches(grads[0], expected_grads[0], backend)
    assert_matches(grads[1].to_dense(), expected_grads[1], backend)


def test_sampled_matmul_float32(backend):
    case = SMALL_CASES["empty-rows"]
    offsets, columns = case.pattern()
    hidden = randn(case.batch, case.width, seed=53, dtype=torch.float32)
    weight = randn(case.n_cols, case.width, seed=54, dtype=torch.float32)
    bias = randn(case.n_cols, seed=55, dtype=torch.float32)
    out = sampled_matmul(hidden, weight, bias, offsets, columns)
    grads = torch.autograd.grad(out.sum(), (hidden, weight, bias))
    assert out.dtype == torch.float32
    assert [grad.dtype for grad in grads] == [torch.float32] * 3
    expected = sampled_reference(hidden.double(), weight.double(), bias.double(), offsets, columns)
    torch.testing.assert_close(out.double(), expected.detach(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["empty-rows", "random-repeats", "all-empty-E0"])
@pytest.mark.parametrize("sparse_grad", [True, False])
def test_sampled_matmul_known_skips_the_forward(backend, name, sparse_grad, monkeypatch):
    case = SMALL_CASES[name]
    offsets, columns, hidden, weight, bias, upstream = sampled_inputs(case, 60)
    inputs = (hidden, weight, bias)
    plain = sampled_matmul(hidden, weight, bias, offsets, columns, sparse_grad=sparse_grad)
    plain_grads = torch.autograd.grad(plain, inputs, upstream)
    known = sampled_reference(hidden, weight, bias, offsets, columns).detach()
    # the forward must not be evaluated again: make any gather-dot fail
    for owner in (TorchBackend, TritonBackend):
        monkeypatch.setattr(owner, "gather_dot", _no_gather_dot)

    out = sampled_matmul(
        hidden, weight, bias, offsets, columns, sparse_grad=sparse_grad, known=known
    )
    assert torch.equal(out, known) and out.requires_grad
    grads = torch.autograd.grad(out, inputs, upstream)
    for grad, plain_grad in zip(grads, plain_grads, strict=True):
        assert grad.layout == plain_grad.layout
        torch.testing.assert_close(grad.to_dense(), plain_grad.to_dense(), rtol=1e-12, atol=1e-12)

    # the value given is returned as is (not recomputed), as a copy
    shifted = known + 1.0
    out = sampled_matmul(
        hidden, weight, bias, offsets, columns, sparse_grad=sparse_grad, known=shifted
    )
    assert torch.equal(out, shifted)
    if out.numel():
        assert out.data_ptr() != shifted.data_ptr()
    grads = torch.autograd.grad(out, inputs, upstream)
    for grad, plain_grad in zip(grads, plain_grads, strict=True):
        torch.testing.assert_close(grad.to_dense(), plain_grad.to_dense(), rtol=1e-12, atol=1e-12)


def _no_gather_dot(*args, **kwargs):
    raise AssertionError("gather_dot called although the forward values were given")


def test_sampled_matmul_more_entries_than_dense_cells(backend):
    """Entries may repeat a column; with E > B * N (one row, N = 2, E = 3) the op must work."""
    offsets = torch.tensor([0, 3], device=DEVICE)
    columns = torch.tensor([1, 0, 1], device=DEVICE)
    hidden, weight, bias = randn(1, 4, seed=61), randn(2, 4, seed=62), randn(2, seed=63)
    out = sampled_matmul(hidden, weight, bias, offsets, columns)
    expected = sampled_reference(hidden, weight, bias, offsets, columns)
    assert_matches(out, expected.detach(), backend)
    grads = torch.autograd.grad(out.sum(), (hidden, weight, bias))
    expected_grads = torch.autograd.grad(expected.sum(), (hidden, weight, bias))
    assert_matches(grads[0], expected_grads[0], backend)
    assert_row_sparse(grads[1], expected_grads[1], torch.tensor([0, 1]), backend)
    assert_row_sparse(grads[2], expected_grads[2], torch.tensor([0, 1]), backend)


# ---------------------------------------------------------------- backend routing


def test_ops_run_on_the_selected_backend(backend, monkeypatch):
    torch_calls = spy(monkeypatch, TorchBackend, "segment_sum")
    triton_calls = spy(monkeypatch, TritonBackend, "segment_sum")
    case = SMALL_CASES["empty-rows"]
    offsets, columns = case.pattern()
    values = randn(columns.numel(), seed=70, grad=False)
    weight = randn(case.n_cols, case.width, seed=71, grad=False)
    sparse_matmul(offsets, columns, values, weight)
    assert len(torch_calls if backend == "torch" else triton_calls) == 1
    assert len(triton_calls if backend == "torch" else torch_calls) == 0


class _CudaLike:
    """Stands in for a CUDA tensor: `backend_for` looks at ``is_cuda`` only."""

    is_cuda = True


@pytest.mark.parametrize("setting", [None, "auto", " AUTO "])
def test_backend_for_auto_picks_torch_on_cpu_and_triton_on_cuda(monkeypatch, setting):
    if setting is None:
        monkeypatch.delenv(TRITON_SETTING, raising=False)
    else:
        monkeypatch.setenv(TRITON_SETTING, setting)
    chosen = backend_for(torch.zeros(2))
    assert isinstance(chosen, TorchBackend) and chosen.name == "torch"
    chosen = backend_for(_CudaLike())
    assert isinstance(chosen, TritonBackend) and chosen.name == "triton"
    assert chosen.kernels is triton_kernels


@pytest.mark.parametrize("setting", ["0", "false", "off", " OFF "])
def test_backend_for_off_never_picks_triton(monkeypatch, setting):
    monkeypatch.setenv(TRITON_SETTING, setting)
    assert isinstance(backend_for(torch.zeros(2)), TorchBackend)
    assert isinstance(backend_for(_CudaLike()), TorchBackend)


@pytest.mark.parametrize("setting", ["1", "true", "on", "True "])
def test_backend_for_on_always_picks_triton(monkeypatch, setting):
    monkeypatch.setenv(TRITON_SETTING, setting)
    chosen = backend_for(torch.zeros(2))
    assert isinstance(chosen, TritonBackend) and chosen.name == "triton"
    assert chosen.kernels is triton_kernels
    assert isinstance(backend_for(_CudaLike()), TritonBackend)


def test_backend_for_without_triton(monkeypatch):
    monkeypatch.setattr(backends, "_triton_kernels", lambda: None)
    monkeypatch.setenv(TRITON_SETTING, "1")
    with pytest.raises(RuntimeError, match=TRITON_SETTING):
        backend_for(torch.zeros(2))
    monkeypatch.setenv(TRITON_SETTING, "auto")
    assert isinstance(backend_for(_CudaLike()), TorchBackend)


def test_backend_is_picked_at_each_call(monkeypatch):
    """The same tensors go through torch, then Triton, as the variable changes between calls."""
    case = SMALL_CASES["empty-rows"]
    offsets, columns = case.pattern()
    values = randn(columns.numel(), seed=72, grad=False)
    weight = randn(case.n_cols, case.width, seed=73, grad=False)
    torch_calls = spy(monkeypatch, TorchBackend, "segment_sum")
    triton_calls = spy(monkeypatch, TritonBackend, "segment_sum")
    monkeypatch.setenv(TRITON_SETTING, "0")
    first = sparse_matmul(offsets, columns, values, weight)
    monkeypatch.setenv(TRITON_SETTING, "1")
    second = sparse_matmul(offsets, columns, values, weight)
    assert (len(torch_calls), len(triton_calls)) == (1, 1)
    torch.testing.assert_close(first, second, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- determinism


DETERMINISM_CASE = Case("determinism", n_cols=60, width=7, seed=80, lengths=(50, 0, 70, 80))


def _sparse_matmul_grads(offsets, columns, values, weight, upstream):
    out = sparse_matmul(offsets, columns, values, weight)
    return torch.autograd.grad(out, (weight, values), upstream)


def _sampled_matmul_grads(offsets, columns, hidden, weight, bias, upstream):
    out = sampled_matmul(hidden, weight, bias, offsets, columns)
    return torch.autograd.grad(out, (hidden, weight, bias), upstream)


def _assert_bit_identical(first: tuple[Tensor, ...], second: tuple[Tensor, ...]) -> None:
    for a, b in zip(first, second, strict=True):
        assert a.layout == b.layout
        if a.is_sparse:
            assert torch.equal(a.indices(), b.indices())
            assert torch.equal(a.values(), b.values())
        else:
            assert torch.equal(a, b)


def _assert_grads_close(got, expected, backend: str) -> None:
    for a, b in zip(got, expected, strict=True):
        assert_matches(a.to_dense(), b.to_dense(), backend)


def test_sparse_matmul_deterministic_gradients(backend, deterministic, monkeypatch):
    case = DETERMINISM_CASE
    offsets, columns = case.pattern()
    assert columns.unique().numel() < columns.numel()  # columns shared by several entries
    values = randn(columns.numel(), seed=81)
    weight = randn(case.n_cols, case.width, seed=82)
    upstream = randn(case.batch, case.width, seed=83, grad=False)
    expected = dense_x(offsets, columns, values, case.n_cols) @ weight
    reference = torch.autograd.grad(expected, (weight, values), upstream)
    atomic = spy(monkeypatch, triton_kernels, "segment_rows_sum_atomic")

    deterministic(False)
    fast = _sparse_matmul_grads(offsets, columns, values, weight, upstream)
    fast_atomic_calls = len(atomic)
    deterministic(True)
    first = _sparse_matmul_grads(offsets, columns, values, weight, upstream)
    second = _sparse_matmul_grads(offsets, columns, values, weight, upstream)
    deterministic(False)

    # the Triton backend scatters with atomics unless deterministic algorithms are on
    assert fast_atomic_calls == (1 if backend == "triton" else 0)
    assert len(atomic) == fast_atomic_calls
    _assert_grads_close(fast, reference, backend)
    _assert_grads_close(first, reference, backend)
    _assert_bit_identical(first, second)
    assert torch.equal(first[0].indices(), fast[0].indices())
    torch.testing.assert_close(first[0].values(), fast[0].values(), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(first[1], fast[1], rtol=1e-6, atol=1e-6)


def test_sampled_matmul_deterministic_gradients(backend, deterministic, monkeypatch):
    case = DETERMINISM_CASE
    offsets, columns, hidden, weight, bias, upstream = sampled_inputs(case, 84)
    inputs = (hidden, weight, bias)
    expected = sampled_reference(hidden, weight, bias, offsets, columns)
    reference = torch.autograd.grad(expected, inputs, upstream)
    atomic = spy(monkeypatch, triton_kernels, "segment_rows_sum_atomic")

    deterministic(False)
    fast = _sampled_matmul_grads(offsets, columns, *inputs, upstream)
    fast_atomic_calls = len(atomic)
    deterministic(True)
    first = _sampled_matmul_grads(offsets, columns, *inputs, upstream)
    second = _sampled_matmul_grads(offsets, columns, *inputs, upstream)
    deterministic(False)

    assert fast_atomic_calls == (1 if backend == "triton" else 0)
    assert len(atomic) == fast_atomic_calls
    _assert_grads_close(fast, reference, backend)
    _assert_grads_close(first, reference, backend)
    _assert_bit_identical(first, second)
    for a, b in zip(first, fast, strict=True):
        torch.testing.assert_close(a.to_dense(), b.to_dense(), rtol=1e-6, atol=1e-6)


def test_deterministic_fixture_restores_the_mode(deterministic):
    before = torch.are_deterministic_algorithms_enabled()
    deterministic(not before)
    assert torch.are_deterministic_algorithms_enabled() is (not before)
    deterministic(before)
    assert torch.are_deterministic_algorithms_enabled() is before


# ---------------------------------------------------------------- gradcheck (torch backend)


def test_gradcheck_sparse_matmul(monkeypatch):
    monkeypatch.setenv(TRITON_SETTING, "0")
    offsets = torch.tensor([0, 2, 2, 5], device=DEVICE)
    columns = torch.tensor([3, 0, 1, 3, 1], device=DEVICE)  # an empty row, a repeated column
    values = randn(5, seed=90)
    weight = randn(4, 3, seed=91)

    def op(v, w):
        return sparse_matmul(offsets, columns, v, w, sparse_grad=False)

    assert torch.autograd.gradcheck(op, (values, weight))


@pytest.mark.parametrize("with_bias", [True, False])
def test_gradcheck_sampled_matmul(monkeypatch, with_bias):
    monkeypatch.setenv(TRITON_SETTING, "0")
    offsets = torch.tensor([0, 3, 3, 5], device=DEVICE)
    columns = torch.tensor([4, 0, 2, 2, 4], device=DEVICE)
    hidden = randn(3, 3, seed=92)
    weight = randn(5, 3, seed=93)
    inputs = (hidden, weight, randn(5, seed=94)) if with_bias else (hidden, weight)

    def op(h, w, b=None):
        return sampled_matmul(h, w, b, offsets, columns, sparse_grad=False)

    assert torch.autograd.gradcheck(op, inputs)


# ---------------------------------------------------------------- helpers of sparse_ops


def test_row_ids():
    offsets = torch.tensor([0, 0, 3, 3, 4, 6, 6], device=DEVICE)
    assert row_ids(offsets, 6).tolist() == [1, 1, 1, 3, 4, 4]
    assert row_ids(torch.tensor([0, 0, 0], device=DEVICE), 0).tolist() == []
    assert row_ids(torch.tensor([0, 3000], device=DEVICE), 3000).tolist() == [0] * 3000


def test_key_groups():
    keys = torch.tensor([5, 1, 5, 0, 1, 5, 9], device=DEVICE)
    groups = KeyGroups.of(keys)
    assert groups.unique.tolist() == [0, 1, 5, 9]
    assert groups.counts.tolist() == [1, 2, 3, 1]
    assert groups.offsets.tolist() == [0, 1, 3, 6, 7]
    assert groups.order.tolist() == [3, 1, 4, 0, 2, 5, 6]  # stable within a key
    assert groups.group_of_entries().tolist() == [2, 1, 2, 0, 1, 2, 3]
    values = torch.arange(8.0, device=DEVICE).view(4, 2)
    sparse = groups.sparse(values, 12)
    assert sparse.is_coalesced() and sparse.sparse_dim() == 1 and sparse.shape == (12, 2)
    expected = torch.zeros(12, 2, device=DEVICE)
    expected[[0, 1, 5, 9]] = values
    assert torch.equal(sparse.to_dense(), expected)

    empty = KeyGroups.of(torch.zeros(0, dtype=torch.int64, device=DEVICE))
    assert empty.unique.numel() == 0 and empty.offsets.tolist() == [0]
    assert empty.group_of_entries().numel() == 0
    assert empty.sparse(torch.zeros(0, 3, device=DEVICE), 4).to_dense().abs().sum() == 0


@pytest.mark.parametrize("det", [False, True], ids=["atomic", "deterministic"])
def test_row_sparse_sum(backend, deterministic, det):
    g = gen(95)
    keys = torch.randint(0, 40, (120,), generator=g).to(DEVICE)
    sources = torch.randint(0, 9, (120,), generator=g).to(DEVICE)
    coefficients = torch.randn(120, generator=g, dtype=F64).to(DEVICE)
    matrix = torch.randn(9, 5, generator=g, dtype=F64).to(DEVICE)
    expected = torch.zeros(40, 5, dtype=F64, device=DEVICE)
    expected.index_add_(0, keys, coefficients[:, None] * matrix[sources])
    chosen = backend_for(matrix)
    assert chosen.name == backend
    deterministic(det)
    got = row_sparse_sum(chosen, KeyGroups.of(keys), sources, coefficients, matrix, 40)
    deterministic(False)
    assert_row_sparse(got, expected, torch.unique(keys), backend)
