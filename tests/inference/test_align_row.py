"""`align_row` puts one user's interactions in a model's columns by `align_columns`' rule."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from netcfg.data.ids import IdIndex
from netcfg.data.interactions import DuplicatePolicy, Interactions
from netcfg.inference.align import align_columns, align_row


@settings(max_examples=60, deadline=None)
@given(
    entries=st.lists(st.tuples(st.integers(0, 30), st.integers(1, 5)), max_size=25),
    numeric=st.booleans(),
)
def test_one_row_is_aligned_as_a_matrix_would_be(entries, numeric):
    known = [i for i in range(0, 40, 2)]  # the model knows the even items
    columns = IdIndex.of(known if numeric else [f"i{i}" for i in known])
    ids = [i if numeric else f"i{i}" for i, _ in entries]
    values = [float(v) for _, v in entries]
    row = align_row(columns, ids, values)
    given_ids = IdIndex.of(sorted(set(ids))) if ids else IdIndex.of([0])
    matrix, _ = Interactions.from_coo(
        np.zeros(len(ids), np.int64),
        given_ids.positions(ids),
        np.array(values, np.float32),
        None,
        IdIndex.of(["user"]),
        given_ids,
        duplicates=DuplicatePolicy.last,
    )
    aligned = align_columns(matrix, columns)
    assert row.indices.tolist() == aligned.matrix.indices.tolist()
    assert row.values.tolist() == aligned.matrix.values.tolist()
    assert row.dropped_entries == aligned.dropped_entries
    assert row.unknown_ids == len({i for i in ids if i not in set(columns.ids.tolist())})


def test_implicit_interactions_have_no_values():
    row = align_row(IdIndex.of([5, 7]), [7, 5, 9])
    assert row.indices.tolist() == [0, 1] and row.values is None and row.unknown_ids == 1
