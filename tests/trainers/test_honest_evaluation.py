"""Held-out entries that training cannot place stay in the evaluation (issue 12, item 7).

References are written independently with numpy: the standard Recall@K = hits / min(K, T)
and NDCG@K with binary gains over every held-out positive, and RMSE with the user's
training mean (else the global mean) as the rating of entries outside the training data.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from netcfg.data.batch import SparseBatch
from netcfg.data.ids import IdIndex
from netcfg.data.interactions import Interactions
from netcfg.data.readers import RawInteractions
from netcfg.data.splits import split_files
from netcfg.trainers.bindings import RunData
from netcfg.trainers.evaluation import Evaluator
from netcfg.trainers.metrics import RankingMetrics
from netcfg.trainers.spec import UnseenPolicy


def numpy_ranking(scores, seen, targets, missed, k):
    """Mean Recall@k and NDCG@k over users with at least one held-out positive."""
    recalls, ndcgs = [], []
    for user in range(scores.shape[0]):
        total = len(targets[user]) + missed[user]
        if total == 0:
            continue
        row = scores[user].astype(np.float64).copy()
        row[list(seen[user])] = -np.inf
        order = np.lexsort((np.arange(len(row)), -row))[:k]
        order = [i for i in order if row[i] > -np.inf]
        hits = [1.0 if i in targets[user] else 0.0 for i in order]
        recalls.append(sum(hits) / min(k, total))
        dcg = sum(h / math.log2(rank + 2) for rank, h in enumerate(hits))
        idcg = sum(1 / math.log2(rank + 2) for rank in range(min(k, total)))
        ndcgs.append(dcg / idcg)
    return float(np.mean(recalls)), float(np.mean(ndcgs))


def test_ranking_metrics_count_missed_positives_against_numpy():
    rng = np.random.default_rng(0)
    users, items, k = 40, 30, 5
    scores = rng.normal(size=(users, items))
    seen = [set(rng.choice(items, 4, replace=False).tolist()) for _ in range(users)]
    targets = [
        set(rng.choice(sorted(set(range(items)) - s), rng.integers(0, 4), replace=False).tolist())
        for s in seen
    ]
    missed = rng.integers(0, 3, size=users)

    def batch(sets):
        return SparseBatch.from_dense(
            torch.tensor([[1.0 if i in s else 0.0 for i in range(items)] for s in sets])
        )

    metrics = RankingMetrics(["Recall", "NDCG"], [k], items)
    metrics.update(torch.tensor(scores), batch(targets), batch(seen), torch.tensor(missed))
    found = metrics.compute()
    recall, ndcg = numpy_ranking(scores, seen, targets, missed, k)
    assert found[f"Recall@{k}"] == pytest.approx(recall, abs=1e-12)
    assert found[f"NDCG@{k}"] == pytest.approx(ndcg, abs=1e-12)
    # without the missed positives both metrics are higher: dropping them flatters a model
    metrics.reset()
    metrics.update(torch.tensor(scores), batch(targets), batch(seen))
    assert metrics.compute()[f"Recall@{k}"] > recall


class LinearScores(nn.Module):
    """Scores = the dense input row times a fixed matrix (a stand-in network)."""

    outputs = {"Output": "ratings"}

    def __init__(self, weights: np.ndarray):
        super().__init__()
        self.weights = torch.tensor(weights)

    def forward(self, inputs, targets=None, mode=None):
        dense = inputs["ratings"].to_dense(torch.float64)
        return SimpleNamespace(loss=torch.tensor(0.0), outputs={"Output": dense @ self.weights})


def _files_split(implicit: bool):
    """Train on users 0-5 x items 0-7; the test file adds an unknown item (99) and an
    unknown user (77)."""
    rng = np.random.default_rng(1)
    entries = [(u, i) for u in range(6) for i in range(8) if rng.random() < 0.5 or i == u]
    rows = np.array([u for u, _ in entries])
    columns = np.array([i for _, i in entries])
    values = None if implicit else rng.integers(1, 6, size=len(entries)).astype(np.float32)
    train, _ = Interactions.from_coo(
        rows, columns, values, None, IdIndex.of(list(range(6))), IdIndex.of(list(range(8)))
    )
    trained = set(entries)
    test_pairs = [(u, i) for u in range(6) for i in range(8) if (u, i) not in trained][:12]
    test_pairs += [(0, 99), (1, 99), (2, 99), (77, 3), (77, 99)]
    test_values = np.arange(len(test_pairs), dtype=np.float32) % 5 + 1
    raw = RawInteractions(
        users=np.array([u for u, _ in test_pairs]),
        items=np.array([i for _, i in test_pairs]),
        values=None if implicit else test_values,
        times=None,
    )
    split = split_files(train, {"test": raw})
    return split, test_pairs, None if implicit else test_values


def test_rating_fallback_for_unseen_entries_against_numpy():
    split, pairs, actual = _files_split(implicit=False)
    assert len(split.unseen["test"]) == 5
    data = RunData({"ratings": split}, ("ratings",), ("ratings",))
    weights = np.random.default_rng(2).normal(size=(8, 8))
    network = LinearScores(weights)
    train = split.train
    dense = np.zeros(train.shape)
    dense[train.row_of_entries(), train.indices] = train.values
    low, high = float(train.values.min()), float(train.values.max())
    user_mean = dense.sum(1) / (dense > 0).sum(1)
    predicted = []
    for u, i in pairs:
        if u < 6 and i < 8:
            predicted.append((dense[u] @ weights)[i])
        elif u < 6:
            predicted.append(user_mean[u])
        else:
            predicted.append(train.values.mean())
    predicted = np.clip(np.array(predicted), low, high)
    expected = math.sqrt(float(np.mean((predicted - actual) ** 2)))
    found = Evaluator(data, ["RMSE", "MAE"]).evaluate(network, "test")
    assert found["RMSE"] == pytest.approx(expected, rel=1e-6)
    assert found["MAE"] == pytest.approx(float(np.mean(np.abs(predicted - actual))), rel=1e-6)
    kept = np.array([u < 6 and i < 8 for u, i in pairs])
    dropped = Evaluator(data, ["RMSE"], unseen=UnseenPolicy.Drop).evaluate(network, "test")
    expected_drop = math.sqrt(float(np.mean((predicted[kept] - actual[kept]) ** 2)))
    assert dropped["RMSE"] == pytest.approx(expected_drop, rel=1e-6)


def test_ranking_counts_unseen_items_as_misses_end_to_end():
    split, pairs, _ = _files_split(implicit=True)
    data = RunData({"ratings": split}, ("ratings",), ("ratings",))
    weights = np.random.default_rng(3).normal(size=(8, 8))
    train = split.train
    dense = np.zeros(train.shape)
    dense[train.row_of_entries(), train.indices] = 1.0
    scores = dense @ weights
    seen = [set(train.indices[train.indptr[u] : train.indptr[u + 1]].tolist()) for u in range(6)]
    targets = [{i for v, i in pairs if v == u and i < 8} for u in range(6)]
    missed = [sum(1 for v, i in pairs if v == u and i == 99) for u in range(6)]
    recall, ndcg = numpy_ranking(scores, seen, targets, missed, 3)
    evaluator = Evaluator(data, ["Recall@3", "NDCG@3"])
    found = evaluator.evaluate(LinearScores(weights), "test")
    assert found["Recall@3"] == pytest.approx(recall, abs=1e-12)
    assert found["NDCG@3"] == pytest.approx(ndcg, abs=1e-12)
    # user 77 has no history: its two entries cannot be ranked, the other three are misses
    assert evaluator.unseen_counts("test") == {
        "entries": 5,
        "ranked_as_misses": 3,
        "policy": "Keep",
    }
