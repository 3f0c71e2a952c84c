"""The Compute modes (`use_dense`), Projection weight layouts and FullyConnected.sample,
against hand-written dense computations."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from netcfg.data.batch import SparseBatch
from netcfg.layers.activations import SoftMax
from netcfg.layers.compute import SPARSE_DENSITY_LIMIT, ComputeMode, use_dense
from netcfg.layers.fully_connected import FullyConnected
from netcfg.layers.input import InputLayer, denoise
from netcfg.layers.kernels import row_ids
from netcfg.layers.projection import Projection, SharedProjection


def _with_nnz(rows: int, cols: int, nnz: int) -> SparseBatch:
    """A rows x cols batch with exactly ``nnz`` stored entries (row-major from the start)."""
    flat = torch.zeros(rows * cols)
    flat[:nnz] = 1.0 + torch.arange(nnz, dtype=torch.float32)
    return SparseBatch.from_dense(flat.view(rows, cols))


def _empty(rows: int, cols: int) -> SparseBatch:
    return SparseBatch(
        torch.zeros(rows + 1, dtype=torch.int64),
        torch.zeros(0, dtype=torch.int64),
        torch.zeros(0),
        cols,
    )


# ---------------------------------------------------------------- use_dense


def test_compute_modes_and_the_limit():
    assert [m.value for m in ComputeMode] == ["Auto", "Sparse", "Dense"]
    assert SPARSE_DENSITY_LIMIT == 0.1


@pytest.mark.parametrize(
    ("rows", "cols", "nnz", "dense"),
    [
        (1, 10, 1, False),  # exactly 0.1
        (2, 10, 2, False),  # exactly 0.1
        (3, 10, 3, False),  # exactly 0.1 (0.1 * 30 rounds above 3 in floating point)
        (7, 10, 7, False),
        (10, 100, 100, False),
        (2, 10, 3, True),  # 0.15
        (10, 100, 101, True),  # just above
        (1, 1, 1, True),
        (4, 5, 0, False),  # rows but no entries
        (0, 10, 0, False),  # no rows
        (3, 0, 0, False),  # no columns
    ],
)
def test_auto_densifies_above_a_tenth_only(rows, cols, nnz, dense):
    batch = _with_nnz(rows, cols, nnz) if rows * cols else _empty(rows, cols)
    assert (batch.batch_size, batch.num_columns, batch.nnz) == (rows, cols, nnz)
    assert use_dense(batch, ComputeMode.Auto) is dense


@pytest.mark.parametrize("batch", [_with_nnz(2, 3, 6), _with_nnz(10, 100, 1), _empty(0, 5)])
def test_sparse_and_dense_modes_ignore_the_density(batch):
    assert use_dense(batch, ComputeMode.Sparse) is False
    assert use_dense(batch, ComputeMode.Dense) is True


@pytest.mark.parametrize(
    ("nnz", "mode", "sparse"),
    [
        (2, ComputeMode.Auto, True),  # exactly 0.1
        (3, ComputeMode.Auto, False),
        (20, ComputeMode.Sparse, True),
        (0, ComputeMode.Dense, False),
    ],
)
def test_input_layer_follows_use_dense(nnz, mode, sparse):
    batch = _with_nnz(2, 10, nnz)
    for layer in (InputLayer(compute=mode).eval(), InputLayer(compute=mode).train()):
        out = layer(batch)
        if sparse:
            assert out is batch
        else:
            assert isinstance(out, Tensor)
            assert torch.equal(out, batch.to_dense())


def test_input_layer_dense_mode_on_an_empty_batch():
    out = InputLayer(compute=ComputeMode.Dense)(_empty(3, 7))
    assert isinstance(out, Tensor) and torch.equal(out, torch.zeros(3, 7))
    assert InputLayer()(_empty(3, 7)).nnz == 0


def test_input_layer_compute_accepts_the_name():
    assert InputLayer(compute="Dense").compute is ComputeMode.Dense
    assert "compute=Sparse" in repr(InputLayer(compute=ComputeMode.Sparse))
    assert "compute" not in repr(InputLayer())


def test_auto_measures_the_density_after_denoising():
    """A batch 15% dense, thinned by denoising to at most 10%, stays sparse."""
    g = torch.Generator().manual_seed(0)
    mask = torch.rand(8, 50, generator=g) < 0.15
    batch = SparseBatch.from_dense(torch.where(mask, 1.0 + torch.rand(8, 50, generator=g), 0.0))
    assert use_dense(batch, ComputeMode.Auto)
    layer = InputLayer(denoising=0.5).train()
    torch.manual_seed(3)
    expected = denoise(batch, 0.5)
    assert not use_dense(expected, ComputeMode.Auto)
    torch.manual_seed(3)
    out = layer(batch)
    assert isinstance(out, SparseBatch)
    assert torch.equal(out.indices, expected.indices)
    torch.testing.assert_close(out.values, expected.values)
    # the same draw through a Dense-mode layer gives the denoised batch, dense
    torch.manual_seed(3)
    dense = InputLayer(denoising=0.5, compute=ComputeMode.Dense).train()(batch)
    torch.testing.assert_close(dense, expected.to_dense())


def test_densified_batch_keeps_the_values_dtype():
    batch = SparseBatch.from_dense(torch.eye(3, dtype=torch.float64))
    out = InputLayer(compute=ComputeMode.Dense)(batch)
    assert out.dtype == torch.float64


# ---------------------------------------------------------------- Projection layouts


def _randomize(projection: Projection, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        projection.weight.copy_(torch.randn(projection.weight.shape, generator=g))


def _inputs(seed: int = 1) -> tuple[Tensor, SparseBatch]:
    g = torch.Generator().manual_seed(seed)
    dense = torch.where(torch.rand(4, 7, generator=g) < 0.4, torch.randn(4, 7, generator=g), 0.0)
    dense[2] = 0.0
    return dense, SparseBatch.from_dense(dense)


def test_rows_out_stores_the_transpose():
    out_rows = Projection(7, 3, rows="out")
    in_rows = Projection(7, 3, rows="in")
    assert tuple(out_rows.weight.shape) == (3, 7) and tuple(in_rows.weight.shape) == (7, 3)
    for p in (out_rows, in_rows):
        assert (p.in_features, p.out_features) == (7, 3)
        assert p.matrix().shape == (7, 3) and p.output_rows().shape == (3, 7)
        assert torch.equal(p.output_rows(), p.matrix().t())
        assert f"rows={p.rows}" in repr(p)
    assert torch.equal(out_rows.matrix(), out_rows.weight.t())
    assert out_rows.matrix().data_ptr() == out_rows.weight.data_ptr()
    assert out_rows.output_rows() is out_rows.weight
    assert in_rows.matrix() is in_rows.weight
    assert torch.equal(in_rows.output_rows(), in_rows.weight.t())


def test_rows_must_be_in_or_out():
    with pytest.raises(ValueError, match="rows must be 'in' or 'out', got 'both'"):
        Projection(3, 2, rows="both")


@pytest.mark.parametrize("rows", ["in", "out"])
def test_forward_multiplies_by_the_matrix_in_either_layout(rows):
    projection = Projection(7, 3, rows=rows)
    _randomize(projection, 2)
    dense, sparse = _inputs()
    bias = torch.randn(3)
    expected = dense @ projection.matrix().detach()
    torch.testing.assert_close(projection(dense), expected)
    torch.testing.assert_close(projection(sparse), expected)
    torch.testing.assert_close(projection(dense, bias), expected + bias)
    torch.testing.assert_close(projection(sparse, bias), expected + bias)


def test_rows_out_weight_gradient_is_the_transposed_gradient():
    torch.manual_seed(0)
    out_rows, in_rows = Projection(7, 3, rows="out"), Projection(7, 3, rows="in")
    with torch.no_grad():
        in_rows.weight.copy_(out_rows.weight.t())
    dense, sparse = _inputs()
    g = torch.randn(4, 3)
    for x in (dense, sparse):
        out_rows.zero_grad(), in_rows.zero_grad()
        (out_rows(x) * g).sum().backward()
        (in_rows(x) * g).sum().backward()
        expected = dense.t() @ g
        got_out = out_rows.weight.grad
        got_in = in_rows.weight.grad
        got_out = got_out.to_dense() if got_out.is_sparse else got_out
        got_in = got_in.to_dense() if got_in.is_sparse else got_in
        torch.testing.assert_close(got_in, expected)
        torch.testing.assert_close(got_out, expected.t())


@pytest.mark.parametrize("rows", ["in", "out"])
def test_shared_projection_of_either_layout(rows):
    owner = Projection(7, 3, rows=rows)
    _randomize(owner, 4)
    same = SharedProjection(owner)
    tied = SharedProjection(owner, transposed=True)
    assert (same.in_features, same.out_features) == (7, 3)
    assert (tied.in_features, tied.out_features) == (3, 7)
    assert torch.equal(same.matrix(), owner.matrix())
    assert torch.equal(tied.matrix(), owner.matrix().t())
    assert torch.equal(tied.output_rows(), owner.matrix())
    assert torch.equal(same.output_rows(), owner.output_rows())
    h = torch.randn(4, 3)
    torch.testing.assert_close(tied(h), h @ owner.matrix().detach().t())
    _, sparse = _inputs()
    torch.testing.assert_close(same(sparse), sparse.to_dense() @ owner.matrix().detach())


# ---------------------------------------------------------------- FullyConnected.sample


def _pattern() -> tuple[Tensor, Tensor]:
    """Entries of a 4 x 9 output: an empty row, unsorted columns, a column in two rows."""
    offsets = torch.tensor([0, 3, 3, 5, 7])
    columns = torch.tensor([8, 0, 4, 4, 1, 6, 2])
    return offsets, columns


def _layer(rows: list[str], **kwargs) -> FullyConnected:
    torch.manual_seed(0)
    layer = FullyConnected([5, 3], 9, activation=nn.Sigmoid(), rows=rows, **kwargs)
    with torch.no_grad():
        layer.bias.copy_(torch.randn(9))
    return layer


def _grads(layer: nn.Module) -> dict[str, Tensor]:
    return {
        name: p.grad.to_dense() if p.grad.is_sparse else p.grad.clone()
        for name, p in layer.named_parameters()
    }


@pytest.mark.parametrize("rows", [["out", "out"], ["in", "out"], ["in", "in"]])
def test_sample_equals_the_forward_at_the_entries(rows):
    layer = _layer(rows)
    assert [p.rows for p in layer.projections] == rows
    offsets, columns = _pattern()
    entry_rows = row_ids(offsets, columns.numel())
    g = torch.Generator().manual_seed(5)
    x = [torch.randn(4, 5, generator=g), torch.randn(4, 3, generator=g)]
    skip = torch.randn(4, 9, generator=g)
    coef = torch.randn(columns.numel(), generator=g)

    z_full = layer.preactivate(x, [skip])
    a_full = layer.activate(z_full)
    (a_full[entry_rows, columns] * coef).sum().backward()
    expected = _grads(layer)
    layer.zero_grad(set_to_none=True)

    z, a = layer.sample(x, [skip], offsets, columns)
    torch.testing.assert_close(z, z_full[entry_rows, columns])
    torch.testing.assert_close(a, a_full[entry_rows, columns])
    (a * coef).sum().backward()
    for name, grad in _grads(layer).items():
        torch.testing.assert_close(grad, expected[name], msg=name)
    # a stored [out, in] weight gets a row-sparse gradient over the sampled units
    for projection, layout in zip(layer.projections, rows, strict=True):
        assert projection.weight.grad.is_sparse == (layout == "out")
        if layout == "out":
            assert torch.equal(projection.weight.grad.coalesce().indices()[0], columns.unique())
    # the bias gradient follows the first source's weight
    assert layer.bias.grad.is_sparse == (rows[0] == "out")
    if rows[0] == "out":
        assert torch.equal(layer.bias.grad.coalesce().indices()[0], columns.unique())


def test_sample_reads_a_known_dense_preactivation():
    torch.manual_seed(0)
    layer = FullyConnected([5], 9, activation=nn.Tanh(), rows=["out"])
    offsets, columns = _pattern()
    h = torch.randn(4, 5)
    z, a = layer.sample([h], [], offsets, columns)
    (a.sum()).backward()
    expected = _grads(layer)
    layer.zero_grad(set_to_none=True)
    with torch.no_grad():
        dense_z = layer.preactivate([h])
    z_known, a_known = layer.sample([h], [], offsets, columns, dense_z=dense_z)
    torch.testing.assert_close(z_known, z.detach())
    torch.testing.assert_close(a_known, a.detach())
    a_known.sum().backward()
    for name, grad in _grads(layer).items():
        torch.testing.assert_close(grad, expected[name], msg=name)
    # what is read is the given pre-activation: a shifted one shows through
    shifted, _ = layer.sample([h], [], offsets, columns, dense_z=dense_z + 1.0)
    torch.testing.assert_close(shifted, z.detach() + 1.0)


def test_can_sample():
    dense = [torch.randn(2, 5), torch.randn(2, 3)]
    sparse = [SparseBatch.from_dense(torch.eye(2, 5)), torch.randn(2, 3)]
    assert _layer(["out", "out"]).can_sample(dense)
    assert _layer(["out", "out"], compute=ComputeMode.Sparse).can_sample(dense)
    assert not _layer(["in", "out"]).can_sample(sparse)
    assert not _layer(["out", "out"], compute=ComputeMode.Dense).can_sample(dense)
    assert not _layer(["out", "out"], batch_norm=True).can_sample(dense)
    assert not _layer(["out", "out"], delta_norm=1.0).can_sample(dense)
    softmax = FullyConnected([5, 3], 9, activation=SoftMax(), rows=["out", "out"])
    assert not softmax.can_sample(dense)
