"""Input layers: dense input dropout and sparse denoising (dsstne.md §2 "Denoising")."""

from __future__ import annotations

import pytest
import torch

from netcfg.data.batch import SparseBatch
from netcfg.layers.compute import ComputeMode
from netcfg.layers.input import InputLayer, denoise, l2_normalize_rows


def sparse_input(batch: int = 300, cols: int = 200, density: float = 0.2, seed: int = 0):
    """A batch with distinct values in [1, 2) (so entries can be traced), some empty rows."""
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(batch, cols, generator=g) < density
    mask[::37] = False  # a few empty rows
    dense = torch.where(mask, 1.0 + torch.rand(batch, cols, generator=g), torch.zeros(()))
    return dense, SparseBatch.from_dense(dense)


def entries(batch: SparseBatch) -> list[list[tuple[int, float]]]:
    """Each row's (column, value) pairs, in stored order, read through the offsets."""
    values = batch.values_or_ones().tolist()
    indices = batch.indices.tolist()
    offsets = batch.offsets.tolist()
    return [
        list(
            zip(
                indices[offsets[b] : offsets[b + 1]],
                values[offsets[b] : offsets[b + 1]],
                strict=True,
            )
        )
        for b in range(batch.batch_size)
    ]


# ---------------------------------------------------------------- eval and p = 0


def test_eval_passes_a_sparse_batch_through_unchanged():
    _, batch = sparse_input()
    layer = InputLayer(denoising=0.5, compute=ComputeMode.Sparse).eval()
    assert layer(batch) is batch


def test_eval_passes_a_dense_tensor_through_unchanged():
    x = torch.rand(50, 40) + 1.0
    layer = InputLayer(dropout=0.5).eval()
    assert torch.equal(layer(x), x)


def test_training_without_denoising_keeps_a_sparse_batch():
    _, batch = sparse_input()
    assert InputLayer(compute=ComputeMode.Sparse).train()(batch) is batch
    # pDropout does not act on sparse inputs.
    assert InputLayer(dropout=0.5, compute=ComputeMode.Sparse).train()(batch) is batch


def test_denoise_with_p_zero_keeps_everything():
    dense, batch = sparse_input()
    torch.manual_seed(1)
    out = denoise(batch, 0.0)
    assert out.nnz == batch.nnz
    assert torch.equal(out.offsets, batch.offsets)
    assert torch.equal(out.indices, batch.indices)
    assert torch.equal(out.values, batch.values)
    assert torch.equal(out.to_dense(), dense)
    assert out.num_columns == batch.num_columns


def test_docstring_example():
    out = denoise(SparseBatch.from_dense(torch.ones(2, 5)), 0.0)
    assert out.nnz == 10


# ---------------------------------------------------------------- denoising


@pytest.mark.parametrize("p", [0.1, 0.3, 0.7])
def test_denoise_keeps_about_one_minus_p_and_scales_by_q(p):
    dense, batch = sparse_input()
    torch.manual_seed(2)
    out = denoise(batch, p)
    q = 1.0 / (1.0 - p)

    # About (1 - p) of ~12,000 stored entries survive (0.02 is > 4 standard deviations).
    kept_fraction = out.nnz / batch.nnz
    assert batch.nnz > 10_000
    assert kept_fraction == pytest.approx(1.0 - p, abs=0.02)

    # Offsets: start at 0, non-decreasing, last = nnz, and agree with each row's count.
    assert out.offsets[0].item() == 0
    assert out.offsets[-1].item() == out.nnz
    assert out.batch_size == batch.batch_size
    assert out.num_columns == batch.num_columns
    counts = (out.offsets[1:] - out.offsets[:-1]).tolist()
    assert all(c >= 0 for c in counts)

    before, after = entries(batch), entries(out)
    for b in range(batch.batch_size):
        original = dict(before[b])
        assert counts[b] == len(after[b])
        assert len(after[b]) <= len(before[b])
        # Every surviving entry was in this row, with its value scaled by q, in stored order.
        cols = [c for c, _ in after[b]]
        assert cols == [c for c, _ in before[b] if c in set(cols)]
        for c, v in after[b]:
            assert c in original
            assert v == pytest.approx(original[c] * q, rel=1e-6)

    # Removed entries are really removed (not stored as zeros).
    assert (out.values != 0).all()
    # The dense view agrees: kept entries scaled, dropped entries 0, nothing new.
    d = out.to_dense()
    kept = d != 0
    assert not (kept & (dense == 0)).any()
    torch.testing.assert_close(d[kept], dense[kept] * q)
    assert int(kept.sum()) == out.nnz


def test_denoise_indicator_batch_gets_q_values():
    dense = (torch.rand(100, 50, generator=torch.Generator().manual_seed(3)) < 0.3).float()
    batch = SparseBatch.from_dense(dense).with_values(None)
    torch.manual_seed(4)
    out = denoise(batch, 0.2)
    assert out.values is not None
    torch.testing.assert_close(out.values, torch.full((out.nnz,), 1.25))
    assert out.nnz / batch.nnz == pytest.approx(0.8, abs=0.04)


def test_denoise_draws_a_new_mask_per_call():
    _, batch = sparse_input()
    torch.manual_seed(5)
    first = denoise(batch, 0.5)
    second = denoise(batch, 0.5)
    assert not torch.equal(first.to_dense(), second.to_dense())


def test_training_sparse_input_is_denoised():
    dense, batch = sparse_input()
    layer = InputLayer(denoising=0.4, compute=ComputeMode.Sparse).train()
    torch.manual_seed(6)
    out = layer(batch)
    assert isinstance(out, SparseBatch)
    assert out.nnz / batch.nnz == pytest.approx(0.6, abs=0.02)
    d = out.to_dense()
    kept = d != 0
    torch.testing.assert_close(d[kept], dense[kept] / 0.6)


def test_all_empty_batch():
    batch = SparseBatch.from_dense(torch.zeros(4, 6))
    out = denoise(batch, 0.5)
    assert out.nnz == 0
    assert out.offsets.tolist() == [0, 0, 0, 0, 0]


# ---------------------------------------------------------------- dense input dropout


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dense_input_dropout_in_training(p):
    x = torch.rand(300, 300, generator=torch.Generator().manual_seed(7)) + 1.0
    layer = InputLayer(dropout=p).train()
    torch.manual_seed(8)
    out = layer(x)
    dropped = out == 0.0
    assert dropped.float().mean().item() == pytest.approx(p, abs=0.01)
    torch.testing.assert_close(out[~dropped], x[~dropped] / (1.0 - p))


def test_dense_input_without_dropout_is_unchanged_in_training():
    x = torch.rand(20, 30)
    assert torch.equal(InputLayer().train()(x), x)


def test_denoise_keeps_the_values_dtype():
    dense = torch.tensor([[0.0, 1.1], [2.2, 0.0]], dtype=torch.float64)
    batch = SparseBatch.from_dense(dense)
    out = denoise(batch, 0.0)
    assert out.values.dtype == torch.float64
    assert torch.equal(out.values, batch.values)


# ---------------------------------------------------------------- sparse or dense path


@pytest.mark.parametrize(
    ("density", "mode", "dense"),
    [
        (0.02, ComputeMode.Auto, False),
        (0.3, ComputeMode.Auto, True),  # above DSSTNE's 0.1 switch
        (0.3, ComputeMode.Sparse, False),
        (0.02, ComputeMode.Dense, True),
    ],
)
def test_compute_mode_picks_the_path_from_the_density(density, mode, dense):
    values, batch = sparse_input(density=density)
    out = InputLayer(compute=mode).eval()(batch)
    if dense:
        assert torch.equal(out, values)
    else:
        assert out is batch


def test_auto_switches_just_above_a_tenth():
    eye = SparseBatch.from_dense(torch.eye(10))  # exactly 0.1 dense
    assert InputLayer()(eye) is eye
    two = SparseBatch.from_dense(torch.eye(10) + torch.eye(10).roll(1, 1))
    assert isinstance(InputLayer()(two), torch.Tensor)


@pytest.mark.parametrize("training", [False, True])
def test_normalize_matches_dense_l2_normalization_sparse_and_dense(training):
    dense, batch = sparse_input()
    layer = InputLayer(normalize=True, compute=ComputeMode.Sparse).train(training)
    expected = dense / dense.norm(dim=1, keepdim=True).clamp_min(1e-12)
    out = layer(batch)
    assert isinstance(out, SparseBatch)
    torch.testing.assert_close(out.to_dense(), expected)
    torch.testing.assert_close(layer(dense), expected)
    assert (out.to_dense()[::37] == 0).all()  # empty rows stay empty, no NaN


def test_normalize_happens_before_denoising():
    torch.manual_seed(0)
    _, batch = sparse_input(batch=50, cols=40, density=0.5)
    out = InputLayer(normalize=True, denoising=0.5, compute=ComputeMode.Sparse)(batch)
    # every kept value is its normalized value scaled by 1 / (1 - p)
    normalized = dict(
        ((r, c), v) for r, row in enumerate(entries(l2_normalize_rows(batch))) for c, v in row
    )
    for r, row in enumerate(entries(out)):
        for c, v in row:
            assert v == pytest.approx(normalized[(r, c)] * 2.0)


def test_normalize_is_a_config_key():
    from netcfg import validate_config

    spec = validate_config(
        {
            "Layers": [
                {
                    "Name": "In",
                    "Kind": "Input",
                    "N": 5,
                    "DataSet": "x",
                    "Sparse": True,
                    "normalize": True,
                },
                {"Name": "Out", "Kind": "Output", "N": 5, "Source": "In", "DataSet": "x"},
            ]
        }
    )
    assert spec.layer("In").Normalize is True
