"""Projections: sparse ``x @ W`` and its gradients against dense torch computations."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from netcfg.data.batch import SparseBatch
from netcfg.layers.projection import Projection, SharedProjection, project


def random_sparse(batch: int, cols: int, density: float, seed: int) -> torch.Tensor:
    """A dense float64 matrix with about ``density`` nonzeros, none of them exactly 0."""
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(batch, cols, generator=g) < density
    values = torch.randn(batch, cols, generator=g, dtype=torch.float64)
    values = values + torch.sign(values)  # |v| >= 1, never 0
    return torch.where(mask, values, torch.zeros_like(values))


def random_weight(rows: int, cols: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(rows, cols, generator=g, dtype=torch.float64)


def strided(w: torch.Tensor) -> torch.Tensor:
    """The same matrix as a non-contiguous view (every other column of a wider buffer)."""
    buffer = torch.zeros(w.shape[0], 2 * w.shape[1], dtype=w.dtype)
    buffer[:, ::2] = w
    view = buffer[:, ::2]
    assert not view.is_contiguous()
    return view


def csr(rows: list[list[tuple[int, float]]], cols: int, indicator: bool = False) -> SparseBatch:
    """A batch built by hand from (column, value) lists, one per row."""
    offsets = [0]
    indices: list[int] = []
    values: list[float] = []
    for row in rows:
        for c, v in row:
            indices.append(c)
            values.append(v)
        offsets.append(len(indices))
    return SparseBatch(
        torch.tensor(offsets, dtype=torch.int64),
        torch.tensor(indices, dtype=torch.int64),
        None if indicator else torch.tensor(values, dtype=torch.float64),
        cols,
    )


# ---------------------------------------------------------------- forward


@pytest.mark.parametrize(
    ("batch", "cols", "out", "density", "seed"),
    [
        (1, 10, 4, 0.5, 0),
        (5, 30, 7, 0.1, 1),
        (8, 100, 3, 0.05, 2),
        (16, 13, 1, 0.7, 3),
        (3, 1, 5, 1.0, 4),
    ],
)
def test_sparse_projection_equals_dense_matmul(batch, cols, out, density, seed):
    x = random_sparse(batch, cols, density, seed)
    w = random_weight(cols, out, seed + 100)
    result = project(SparseBatch.from_dense(x), w)
    torch.testing.assert_close(result, x @ w)
    # The non-contiguous path (index_select + index_add) gives the same result.
    torch.testing.assert_close(project(SparseBatch.from_dense(x), strided(w)), x @ w)


def test_dense_input_is_a_plain_matmul_and_flattened():
    g = torch.Generator().manual_seed(5)
    x = torch.randn(4, 2, 3, generator=g, dtype=torch.float64)
    w = random_weight(6, 5, 6)
    torch.testing.assert_close(project(x, w), x.reshape(4, 6) @ w)


def test_hand_built_edge_cases():
    cols = 6
    w = random_weight(cols, 3, 7)
    rows = [
        [],  # empty first row
        [(0, 2.0), (5, -1.5)],  # first and last column
        [],  # empty middle row
        [(c, float(c + 1)) for c in range(cols)],  # every column
        [(3, 0.25)],
        [],  # empty last row
    ]
    batch = csr(rows, cols)
    dense = batch.to_dense(torch.float64)
    expected = torch.zeros(len(rows), 3, dtype=torch.float64)
    for r, row in enumerate(rows):
        for c, v in row:
            expected[r] += v * w[c]
    torch.testing.assert_close(dense @ w, expected)
    torch.testing.assert_close(project(batch, w), expected)
    torch.testing.assert_close(project(batch, strided(w)), expected)
    for r in (0, 2, 5):
        assert torch.equal(project(batch, w)[r], torch.zeros(3, dtype=torch.float64))


def test_all_rows_empty():
    w = random_weight(5, 4, 8)
    batch = SparseBatch.from_dense(torch.zeros(3, 5, dtype=torch.float64))
    assert batch.nnz == 0
    assert torch.equal(project(batch, w), torch.zeros(3, 4, dtype=torch.float64))


def test_indicator_values_none_means_ones():
    cols = 9
    w = random_weight(cols, 4, 9)
    rows = [[(0, 0.0), (8, 0.0)], [(2, 0.0), (3, 0.0), (4, 0.0)], []]
    batch = csr(rows, cols, indicator=True)
    assert batch.values is None
    dense = torch.zeros(3, cols, dtype=torch.float64)
    dense[0, [0, 8]] = 1.0
    dense[1, [2, 3, 4]] = 1.0
    torch.testing.assert_close(project(batch, w), dense @ w)
    torch.testing.assert_close(project(batch, strided(w)), dense @ w)


def test_docstring_example():
    w = torch.arange(6.0).view(3, 2)
    out = project(SparseBatch.from_dense(torch.tensor([[0.0, 2.0, 0.0]])), w)
    torch.testing.assert_close(out, torch.tensor([[4.0, 6.0]]))


# ---------------------------------------------------------------- gradients


@pytest.mark.parametrize("transposed_view", [False, True])
def test_weight_gradient_from_sparse_equals_dense(transposed_view):
    cols, out = 40, 6
    x = random_sparse(7, cols, 0.08, 10)
    x[:, 5] = 0.0  # feature 5 absent from the batch
    x[:, 39] = 0.0  # the last feature too
    x[2, 0] = 3.0  # column 0 present
    base = random_weight(cols, out, 11)
    upstream = random_weight(7, out, 12)

    w_dense = base.clone().requires_grad_(True)
    (x @ w_dense * upstream).sum().backward()

    w_sparse = base.clone().requires_grad_(True)
    used = w_sparse.t().contiguous().t() if transposed_view else w_sparse
    assert used.is_contiguous() is not transposed_view
    (project(SparseBatch.from_dense(x), used) * upstream).sum().backward()

    grad = w_sparse.grad
    absent = (x != 0).sum(dim=0) == 0
    # a stored weight gets a row-sparse gradient over the present features only
    assert grad.is_sparse is not transposed_view
    if grad.is_sparse:
        assert grad.sparse_dim() == 1
        assert grad.coalesce().indices()[0].tolist() == (~absent).nonzero().flatten().tolist()
        grad = grad.to_dense()
    w_sparse.grad = grad
    torch.testing.assert_close(w_sparse.grad, w_dense.grad)
    torch.testing.assert_close(w_sparse.grad, x.t() @ upstream)
    assert absent[5] and absent[39] and not absent[0]
    assert absent.sum() > 5  # a sparse batch leaves many features out
    assert torch.equal(
        w_sparse.grad[absent], torch.zeros(int(absent.sum()), out, dtype=torch.float64)
    )
    assert (w_sparse.grad[~absent].abs().sum(dim=1) > 0).all()


def test_values_receive_gradient():
    x = random_sparse(4, 12, 0.3, 13)
    w = random_weight(12, 3, 14)
    batch = SparseBatch.from_dense(x)
    values = batch.values.clone().requires_grad_(True)
    project(batch.with_values(values), w).sum().backward()
    # d/dv of sum(v * W[col]) is the row sum of W at that column.
    torch.testing.assert_close(values.grad, w.sum(dim=1)[batch.indices])


# ---------------------------------------------------------------- modules


def test_projection_module_shape_and_forward():
    torch.manual_seed(15)
    proj = Projection(11, 4)
    assert proj.weight.shape == (11, 4)
    assert (proj.in_features, proj.out_features) == (11, 4)
    assert proj.matrix() is proj.weight
    # Xavier init: U(-s/2, s/2) with s = sqrt(6/(11+4)).
    assert proj.weight.abs().max().item() <= (6.0 / 15.0) ** 0.5 / 2.0
    x = random_sparse(3, 11, 0.4, 16).float()
    torch.testing.assert_close(proj(SparseBatch.from_dense(x)), x @ proj.weight)
    torch.testing.assert_close(proj(x), x @ proj.weight)


def test_shared_projection_untransposed_uses_the_owner_weight():
    torch.manual_seed(17)
    owner = Projection(8, 3)
    shared = SharedProjection(owner)
    assert list(shared.parameters()) == []
    assert shared.owner is owner
    assert (shared.in_features, shared.out_features) == (8, 3)
    x = random_sparse(5, 8, 0.5, 18).float()
    torch.testing.assert_close(shared(SparseBatch.from_dense(x)), x @ owner.weight)


def test_shared_projection_transposed_computes_x_times_w_transposed():
    torch.manual_seed(19)
    owner = Projection(10, 4)
    tied = SharedProjection(owner, transposed=True)
    assert list(tied.parameters()) == []
    assert dict(tied.named_parameters()) == {}
    assert (tied.in_features, tied.out_features) == (4, 10)
    assert torch.equal(tied.matrix(), owner.weight.t())
    h = torch.randn(6, 4)
    torch.testing.assert_close(tied(h), h @ owner.weight.t())
    hs = random_sparse(6, 4, 0.5, 20).float()
    torch.testing.assert_close(tied(SparseBatch.from_dense(hs)), hs @ owner.weight.t())


def test_tied_gradients_add_up_in_the_owner():
    torch.manual_seed(21)
    owner = Projection(12, 5)
    tied = SharedProjection(owner, transposed=True)
    x = random_sparse(4, 12, 0.3, 22).float()
    target = torch.randn(4, 12)

    # Through the modules: encoder uses W (sparse input), decoder uses W^T (dense input).
    h = torch.tanh(owner(SparseBatch.from_dense(x)))
    loss = ((tied(h) - target) ** 2).sum()
    loss.backward()

    # Reference: two independent copies of W, one per use; the owner gets their sum.
    w1 = owner.weight.detach().clone().requires_grad_(True)
    w2 = owner.weight.detach().clone().requires_grad_(True)
    ref = ((torch.tanh(x @ w1) @ w2.t() - target) ** 2).sum()
    ref.backward()
    assert w1.grad.abs().sum() > 0 and w2.grad.abs().sum() > 0
    torch.testing.assert_close(owner.weight.grad, w1.grad + w2.grad)
    torch.testing.assert_close(loss, ref)


def test_state_dict_lists_a_shared_weight_once():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = Projection(9, 3)
            self.decoder = SharedProjection(self.encoder, transposed=True)
            self.again = SharedProjection(self.encoder)

    model = Tied()
    assert list(model.state_dict()) == ["encoder.weight"]
    assert [name for name, _ in model.named_parameters()] == ["encoder.weight"]
    assert sum(p.numel() for p in model.parameters()) == 27
    # Loading a state dict changes what the borrowers compute.
    new = torch.randn(9, 3)
    model.load_state_dict({"encoder.weight": new})
    h = torch.randn(2, 3)
    torch.testing.assert_close(model.decoder(h), h @ new.t())
