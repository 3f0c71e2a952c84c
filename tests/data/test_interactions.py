"""The CSR matrix: construction, duplicates, transposition, minibatch slicing."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netcfg.data.ids import IdIndex, factorize
from netcfg.data.interactions import DuplicatePolicy, Interactions
from netcfg.errors import DataError


def _matrix(rows, cols, values=None, times=None, n_rows=None, n_cols=None, **kw):
    n_rows = n_rows or max(rows) + 1
    n_cols = n_cols or max(cols) + 1
    return Interactions.from_coo(
        np.array(rows),
        np.array(cols),
        None if values is None else np.array(values, dtype=np.float32),
        None if times is None else np.array(times, dtype=np.int64),
        IdIndex(np.arange(n_rows) + 100),
        IdIndex(np.arange(n_cols) + 500),
        **kw,
    )


def _dense(m: Interactions) -> np.ndarray:
    out = np.zeros(m.shape)
    out[m.row_of_entries(), m.indices] = m.values_or_ones()
    return out


def test_csr_from_coordinates():
    m, dropped = _matrix([2, 0, 2, 1], [1, 3, 0, 3], [1, 2, 3, 4], n_cols=4)
    assert dropped == 0 and m.shape == (3, 4) and m.nnz == 4
    assert m.indptr.tolist() == [0, 1, 2, 4]
    assert m.indices.tolist() == [3, 3, 0, 1]
    assert m.values.tolist() == [2, 4, 3, 1]
    assert m.row_counts().tolist() == [1, 1, 2] and m.column_counts().tolist() == [1, 1, 0, 2]


@pytest.mark.parametrize(
    "policy, value, time",
    [
        (DuplicatePolicy.latest, 5.0, 30),
        (DuplicatePolicy.last, 1.0, 20),
        (DuplicatePolicy.first, 2.0, 10),
        (DuplicatePolicy.sum, 8.0, 30),
    ],
)
def test_duplicate_policies(policy, value, time):
    # (0, 1) is given three times: value 2 at t=10, 5 at t=30, 1 at t=20 (file order)
    m, dropped = _matrix(
        [0, 1, 0, 0], [1, 0, 1, 1], [2, 7, 5, 1], [10, 40, 30, 20], duplicates=policy
    )
    assert dropped == 2 and m.nnz == 2
    assert (m.values[0], m.times[0]) == (value, time)
    assert (m.values[1], m.times[1]) == (7.0, 40)


def test_latest_without_times_is_the_last():
    m, _ = _matrix([0, 0], [0, 0], [3, 4])
    assert m.values.tolist() == [4.0]


def test_duplicates_as_errors_name_the_ids():
    with pytest.raises(DataError, match=r"\(100, 501\) is given more than once"):
        _matrix([0, 0], [1, 1], duplicates=DuplicatePolicy.error)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 9), st.integers(1, 5)), min_size=1, max_size=60
    )
)
def test_matches_a_dict_reference(triples):
    rows, cols, values = zip(*triples, strict=True)
    m, dropped = _matrix(
        list(rows), list(cols), list(values), n_rows=7, n_cols=10, duplicates=DuplicatePolicy.last
    )
    reference = {}
    for r, c, v in triples:
        reference[r, c] = v
    assert dropped == len(triples) - len(reference)
    expected = np.zeros((7, 10))
    for (r, c), v in reference.items():
        expected[r, c] = v
    np.testing.assert_array_equal(_dense(m), expected)
    np.testing.assert_array_equal(_dense(m.transpose()), expected.T)
    assert m.transpose().transpose() == m
    rows_wanted = np.array([6, 0, 3, 3])
    np.testing.assert_array_equal(m.batch(rows_wanted).to_dense().numpy(), expected[rows_wanted])


def test_entries_keep_shape_and_ids():
    m, _ = _matrix([0, 1, 1, 2], [0, 1, 2, 0], [1, 2, 3, 4])
    kept = m.entries(m.values > 2)
    assert kept.shape == m.shape and kept.rows == m.rows
    assert kept.indptr.tolist() == [0, 0, 1, 2] and kept.values.tolist() == [3, 4]


def test_packed_and_fallback_sorting_agree():
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, 50, 500), rng.integers(0, 40, 500)
    small, _ = _matrix(rows, cols, n_rows=50, n_cols=40)
    # a huge column count forces the argsort path (key and position exceed 63 bits)
    huge, _ = Interactions.from_coo(
        rows, cols, None, None, IdIndex(np.arange(50)), _LongIndex(2**55)
    )
    np.testing.assert_array_equal(small.indices, huge.indices)
    np.testing.assert_array_equal(small.indptr, huge.indptr)


class _LongIndex(IdIndex):
    """An index that claims many columns without storing them."""

    def __init__(self, size):
        object.__setattr__(self, "ids", np.zeros(0))
        object.__setattr__(self, "size", size)

    def __len__(self):
        return self.size


def test_factorize_numeric_and_string_ids():
    codes, index = factorize(np.array([30, 10, 30, 7]))
    assert codes.tolist() == [2, 1, 2, 0] and index.ids.tolist() == [7, 10, 30]
    codes, index = factorize(np.array([10**15, 3]))  # sparse ids take the np.unique path
    assert codes.tolist() == [1, 0] and index.ids.tolist() == [3, 10**15]
    codes, index = factorize(pa.chunked_array([["b", "a"], ["b", "c"]]))
    assert codes.tolist() == [1, 0, 1, 2] and index.ids.tolist() == ["a", "b", "c"]
    assert index.positions(["c", "zz"]).tolist() == [2, -1]
    numeric = IdIndex(np.array([3, 8, 20]))
    assert numeric.positions(np.array([20, 4, 3])).tolist() == [2, -1, 0]
