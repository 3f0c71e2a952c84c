"""The zoo benchmark's baselines: item popularity and EASE, on tiny hand-made matrices."""

from __future__ import annotations

import numpy as np
import pytest
from baselines import binary_matrix, ease, ease_metrics, popularity, popularity_metrics, tune_ease

from netcfg.data.ids import IdIndex
from netcfg.data.interactions import Interactions

X = np.array(
    [
        [1, 1, 0, 0, 1],
        [1, 0, 1, 0, 0],
        [0, 1, 1, 1, 0],
        [1, 1, 0, 1, 0],
    ],
    dtype=np.float64,
)


def interactions(dense: np.ndarray) -> Interactions:
    rows, columns = np.nonzero(dense)
    matrix, _ = Interactions.from_coo(
        rows,
        columns,
        None,
        None,
        IdIndex.of(range(dense.shape[0])),
        IdIndex.of(range(dense.shape[1])),
    )
    return matrix


def test_popularity_counts_training_positives():
    assert popularity(X).tolist() == [3, 3, 2, 2, 1]


def test_popularity_ranks_unseen_items_by_count():
    train = interactions(np.array([[1, 0, 0, 0, 0], [0, 0, 0, 0, 1], [1, 1, 0, 1, 0]]))
    # counts [2, 1, 0, 1, 1]: user 0 gets items 1, 3, 4 (ties by lower index), then 2
    test = interactions(np.array([[0, 0, 1, 0, 0], [0, 1, 0, 0, 0], [0, 0, 0, 0, 0]]))
    found = popularity_metrics(train, test)
    # user 0: its target (item 2) is ranked 4th; user 1: item 1 ranked 2nd (after item 0)
    assert found["Recall@20"] == 1.0
    assert found["NDCG@20"] == pytest.approx((1 / np.log2(5) + 1 / np.log2(3)) / 2)


@pytest.mark.parametrize("lam", [0.5, 10.0, 300.0])
def test_ease_has_a_zero_diagonal_and_matches_the_closed_form(lam):
    weights = ease(X, lam)
    assert np.all(np.diag(weights) == 0)
    gram = X.T @ X + lam * np.eye(X.shape[1])
    inverse = np.linalg.solve(gram, np.eye(X.shape[1]))
    closed = np.eye(X.shape[1]) - inverse @ np.diag(1.0 / np.diag(inverse))
    np.testing.assert_allclose(weights, closed, atol=1e-12)
    # optimality: the gradient of ||X - XB||^2 + lam ||B||^2 vanishes off the diagonal
    gradient = gram @ weights - X.T @ X
    np.testing.assert_allclose(gradient - np.diag(np.diag(gradient)), 0.0, atol=1e-10)


def test_ease_scores_rank_with_seen_items_removed():
    train = interactions(X)
    test = interactions(
        np.array([[0, 0, 1, 0, 0], [0, 0, 0, 1, 0], [1, 0, 0, 0, 0], [0, 0, 1, 0, 0]])
    )
    scores = X @ ease(X, 1.0)
    metrics = ease_metrics(train, test, 1.0)
    gains = []
    for user, target in enumerate([2, 3, 0, 2]):
        unseen = [i for i in np.argsort(-scores[user], kind="stable") if X[user, i] == 0]
        gains.append(1.0 / np.log2(unseen.index(target) + 2))
    assert metrics["Recall@20"] == 1.0  # every unseen item fits in the top 20
    assert metrics["NDCG@20"] == pytest.approx(np.mean(gains))


def test_tuning_reports_every_lambda_and_picks_the_best():
    rng = np.random.default_rng(0)
    train = interactions((rng.random((60, 25)) < 0.3).astype(float))
    best, tried = tune_ease(train, [1.0, 10.0, 100.0])
    assert list(tried) == [1.0, 10.0, 100.0] and tried[best] == max(tried.values())


def test_binary_matrix_marks_stored_entries():
    np.testing.assert_array_equal(binary_matrix(interactions(X)), X)
