"""Scores for a batch of users as a numpy array or a scipy CSR of each user's top K."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from inference_models import random_matrix, random_model

from netcfg.data.ids import IdIndex
from netcfg.data.scipy_io import interactions_from_scipy, to_scipy
from netcfg.inference.scores import dense_scores, top_k_scores


def _forward(model, matrix):
    """The network's output for every row of ``matrix``, in one batch."""
    with torch.no_grad():
        return (
            model.network({"ratings": matrix.batch(np.arange(matrix.shape[0]))})
            .outputs["Out"]
            .numpy()
        )


def _top_k(scores: np.ndarray, banned: np.ndarray, k: int) -> list[list[int]]:
    """Per row: the first k items by (-score, index) that are not banned."""
    return [
        sorted((i for i in range(len(row)) if not ban[i]), key=lambda i: (-row[i], i))[:k]
        for row, ban in zip(scores, banned, strict=True)
    ]


def test_dense_scores_are_the_networks_outputs_in_input_row_order(matrix):
    model = random_model(matrix.rows, matrix.columns, seed=1)
    found = dense_scores(model, matrix, batch_size=7)
    assert found.matrix.dtype == np.float32 and found.matrix.shape == (40, 25)
    np.testing.assert_allclose(found.matrix, _forward(model, matrix), rtol=1e-5, atol=1e-7)
    assert np.array_equal(found.user_ids, matrix.rows.ids)
    assert np.array_equal(found.item_ids, matrix.columns.ids)


def test_dense_scores_put_other_columns_in_the_models_items(matrix):
    model = random_model(matrix.rows, matrix.columns, seed=2)
    csr, rows, columns = to_scipy(matrix)
    order = np.random.default_rng(0).permutation(25)
    extra = sp.csr_array(np.ones((40, 1), np.float32))
    shuffled = sp.hstack([csr[:, order], extra]).tocsr()
    given = interactions_from_scipy(shuffled, rows, [*columns[order].tolist(), 99_999])
    found = dense_scores(model, given)
    np.testing.assert_allclose(found.matrix, _forward(model, matrix), rtol=1e-5, atol=1e-7)
    assert found.report["unknown_items"] == 1


def test_item_based_dense_scores_leave_unknown_users_nan(matrix):
    items_major = matrix.transpose()
    model = random_model(items_major.rows, items_major.columns, seed=3, orientation="item")
    csr, rows, columns = to_scipy(matrix)
    newcomer = sp.csr_array(np.ones((1, 25), np.float32))
    stranger = interactions_from_scipy(sp.vstack([csr, newcomer]), [*rows, 999], columns)
    found = dense_scores(model, stranger, batch_size=4)
    reference = _forward(model, items_major).T  # the model's 40 users x items
    np.testing.assert_allclose(found.matrix[:40], reference, rtol=1e-5, atol=1e-7)
    assert np.isnan(found.matrix[40]).all() and found.report["unknown_users"] == 1


@pytest.mark.parametrize("exclude_seen", [True, False])
def test_top_k_csr_holds_each_users_best_items_and_their_scores(matrix, exclude_seen):
    model = random_model(matrix.rows, matrix.columns, seed=4)
    found = top_k_scores(model, matrix, 6, exclude_seen=exclude_seen, batch_size=9)
    top = found.matrix
    assert isinstance(top, sp.csr_array) and top.shape == (40, 25) and top.has_canonical_format
    scores = _forward(model, matrix)
    seen = _to_bool(matrix) if exclude_seen else np.zeros((40, 25), bool)
    expected = _top_k(scores, seen, 6)
    for row in range(40):
        start, end = top.indptr[row], top.indptr[row + 1]
        if matrix.row_counts()[row] == 0:  # no input: no list
            assert start == end
            continue
        assert sorted(top.indices[start:end].tolist()) == sorted(expected[row])
        np.testing.assert_allclose(
            top.data[start:end], scores[row, top.indices[start:end]], rtol=1e-5, atol=1e-7
        )


def _to_bool(matrix):
    out = np.zeros(matrix.shape, bool)
    out[matrix.row_of_entries(), matrix.indices] = True
    return out


def test_a_scipy_matrix_is_scored_with_ids_0_to_n_minus_1():
    users = random_matrix(12, 9, 0.3, 5, IdIndex(np.arange(12)), IdIndex(np.arange(9)))
    model = random_model(users.rows, users.columns, seed=5)
    csr, _, _ = to_scipy(users)
    found = dense_scores(model, csr)
    np.testing.assert_allclose(found.matrix, _forward(model, users), rtol=1e-5, atol=1e-7)
    assert top_k_scores(model, csr, 3).matrix.shape == csr.shape
