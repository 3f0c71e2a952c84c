"""SparseBatch (CSR minibatches): conversions and accessors against hand-built matrices."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from netcfg.data.batch import SparseBatch

DENSE = torch.tensor(
    [
        [0.0, 2.0, 0.0, 0.0, -1.5],
        [0.0, 0.0, 0.0, 0.0, 0.0],
        [3.0, 0.0, 0.0, 4.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 0.0],
        [1.0, 1.0, 1.0, 1.0, 1.0],
    ]
)


def test_from_dense_csr_layout():
    batch = SparseBatch.from_dense(DENSE)
    assert batch.offsets.tolist() == [0, 2, 2, 4, 4, 9]
    assert batch.indices.tolist() == [1, 4, 0, 3, 0, 1, 2, 3, 4]
    assert batch.values.tolist() == [2.0, -1.5, 3.0, 4.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert batch.offsets.dtype == torch.int64
    assert batch.indices.dtype == torch.int64
    assert batch.num_columns == 5
    assert batch.batch_size == 5
    assert batch.nnz == 9
    assert batch.device == torch.device("cpu")


def test_round_trip():
    batch = SparseBatch.from_dense(DENSE)
    assert torch.equal(batch.to_dense(), DENSE)


def test_row_ids():
    batch = SparseBatch.from_dense(DENSE)
    assert batch.row_ids().tolist() == [0, 0, 2, 2, 4, 4, 4, 4, 4]
    assert batch.row_ids().dtype == torch.int64


def test_empty_rows_and_all_empty():
    empty = SparseBatch.from_dense(torch.zeros(3, 4))
    assert empty.nnz == 0
    assert empty.offsets.tolist() == [0, 0, 0, 0]
    assert empty.row_ids().tolist() == []
    assert torch.equal(empty.to_dense(), torch.zeros(3, 4))
    # Empty rows at the start and the end of a batch.
    x = torch.zeros(4, 3)
    x[1, 2] = 5.0
    x[2, 0] = 6.0
    batch = SparseBatch.from_dense(x)
    assert batch.offsets.tolist() == [0, 0, 1, 2, 2]
    assert batch.row_ids().tolist() == [1, 2]
    assert torch.equal(batch.to_dense(), x)


def test_batch_of_one_row():
    x = torch.tensor([[0.0, 0.0, 7.0]])
    batch = SparseBatch.from_dense(x)
    assert batch.batch_size == 1
    assert batch.offsets.tolist() == [0, 1]
    assert torch.equal(batch.to_dense(), x)


def test_values_or_ones():
    batch = SparseBatch.from_dense(DENSE)
    assert torch.equal(batch.values_or_ones(), batch.values)
    assert batch.values_or_ones(torch.float64).dtype == torch.float64
    indicator = batch.with_values(None)
    assert indicator.values is None
    ones = indicator.values_or_ones()
    assert ones.dtype == torch.float32
    assert torch.equal(ones, torch.ones(9))
    assert indicator.values_or_ones(torch.float16).dtype == torch.float16
    assert torch.equal(indicator.to_dense(), (DENSE != 0).float())


def test_with_values_keeps_the_pattern():
    batch = SparseBatch.from_dense(DENSE)
    other = batch.with_values(torch.arange(9.0))
    assert other.offsets is batch.offsets and other.indices is batch.indices
    expected = torch.zeros(5, 5)
    expected[[0, 0, 2, 2, 4, 4, 4, 4, 4], [1, 4, 0, 3, 0, 1, 2, 3, 4]] = torch.arange(9.0)
    assert torch.equal(other.to_dense(), expected)


def test_to_dense_sums_duplicate_entries_and_takes_a_dtype():
    batch = SparseBatch(
        torch.tensor([0, 3, 3]), torch.tensor([1, 1, 0]), torch.tensor([1.0, 2.5, 4.0]), 3
    )
    dense = batch.to_dense(torch.float64)
    assert dense.dtype == torch.float64
    assert dense.tolist() == [[4.0, 3.5, 0.0], [0.0, 0.0, 0.0]]


def test_to_device_keeps_everything():
    batch = SparseBatch.from_dense(DENSE)
    moved = batch.to("cpu")
    assert torch.equal(moved.to_dense(), DENSE)
    assert moved.to("cpu").with_values(None).to("cpu").values is None


def test_frozen():
    batch = SparseBatch.from_dense(DENSE)
    with pytest.raises(AttributeError):
        batch.num_columns = 7  # type: ignore[misc]


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.float32,
        st.tuples(st.integers(1, 6), st.integers(1, 7)),
        elements=st.one_of(
            st.just(0.0),
            st.floats(-100, 100, width=32, allow_nan=False, allow_infinity=False),
        ),
    )
)
def test_round_trip_property(array):
    x = torch.from_numpy(array)
    batch = SparseBatch.from_dense(x)
    assert torch.equal(batch.to_dense(), x)
    # CSR invariants, against numpy's own count of nonzeros.
    counts = (array != 0).sum(axis=1).tolist()
    assert batch.nnz == int((array != 0).sum())
    assert (batch.offsets[1:] - batch.offsets[:-1]).tolist() == counts
    assert batch.offsets[0].item() == 0
    assert batch.row_ids().tolist() == [r for r, c in enumerate(counts) for _ in range(c)]
    assert ((batch.indices >= 0) & (batch.indices < x.shape[1])).all()
