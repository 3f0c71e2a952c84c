"""Rating and ranking metrics, against brute-force references written with plain Python loops."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from netcfg.data.batch import SparseBatch
from netcfg.trainers.metric_names import MetricKind
from netcfg.trainers.metrics import RankingMetrics, RatingMetrics, top_k_items

RANKED = [kind for kind in MetricKind if kind.ranked]


def csr(rows: list[list[int]], num_columns: int, values: list[list[float]] | None = None):
    """A SparseBatch holding the given columns (and values) per row."""
    offsets = [0]
    for row in rows:
        offsets.append(offsets[-1] + len(row))
    flat = [c for row in rows for c in row]
    vals = None if values is None else torch.tensor([v for row in values for v in row])
    return SparseBatch(
        torch.tensor(offsets, dtype=torch.int64),
        torch.tensor(flat, dtype=torch.int64),
        vals,
        num_columns,
    )


def reference_ranking(scores, targets, seen, kinds, ks, num_items):
    """Every metric by loops over users and ranks, with sorted(key=(-score, item))."""
    sums = {(kind, k): 0.0 for kind in kinds for k in ks}
    covered = {k: set() for k in ks}
    users = 0
    for u, row in enumerate(scores):
        wanted = set(targets[u])
        if not wanted:
            continue
        users += 1
        candidates = [i for i in range(num_items) if i not in set(seen[u]) and row[i] != -math.inf]
        ranked = sorted(candidates, key=lambda i, row=row: (-row[i], i))
        for k in ks:
            top = ranked[:k]
            covered[k].update(top)
            hit_ranks = [r for r, item in enumerate(top, start=1) if item in wanted]
            hits = len(hit_ranks)
            dcg = 0.0
            for r in hit_ranks:
                dcg += 1.0 / math.log2(r + 1)
            idcg = 0.0
            for r in range(1, min(k, len(wanted)) + 1):
                idcg += 1.0 / math.log2(r + 1)
            per_user = {
                MetricKind.Precision: hits / k,
                MetricKind.Recall: hits / min(k, len(wanted)),
                MetricKind.NDCG: dcg / idcg,
                MetricKind.HitRate: 1.0 if hits else 0.0,
                MetricKind.ARHR: sum(1.0 / r for r in hit_ranks),
                MetricKind.MRR: 1.0 / hit_ranks[0] if hit_ranks else 0.0,
            }
            for kind in kinds:
                if kind is not MetricKind.Coverage:
                    sums[kind, k] += per_user[kind]
    if users == 0:
        return {}
    out = {}
    for kind in kinds:
        for k in ks:
            if kind is MetricKind.Coverage:
                out[f"{kind.value}@{k}"] = len(covered[k]) / num_items
            else:
                out[f"{kind.value}@{k}"] = sums[kind, k] / users
    return out


def random_case(rng: random.Random, batch: int, num_items: int, ties: bool, overlap: bool):
    """Random scores, targets (some empty, some of size 1, some many) and seen items."""
    scores, targets, seen = [], [], []
    for _ in range(batch):
        if ties:
            scores.append([float(rng.randint(0, 3)) for _ in range(num_items)])
        else:
            scores.append([rng.gauss(0.0, 1.0) for _ in range(num_items)])
        items = list(range(num_items))
        rng.shuffle(items)
        n_seen = rng.randint(0, num_items // 2)
        seen.append(sorted(items[:n_seen]))
        pool = items if overlap else items[n_seen:]
        size = rng.choice([0, 1, 1, 2, len(pool)])
        targets.append(sorted(rng.sample(pool, min(size, len(pool)))))
    return scores, targets, seen


def run_metrics(scores, targets, seen, kinds, ks, num_items):
    metrics = RankingMetrics(kinds, ks, num_items)
    metrics.update(torch.tensor(scores), csr(targets, num_items), csr(seen, num_items))
    return metrics.compute()


@pytest.mark.parametrize("batch", [1, 3, 17])
@pytest.mark.parametrize("num_items", [1, 7, 30])
@pytest.mark.parametrize("ties", [False, True])
def test_ranking_matches_brute_force(batch, num_items, ties):
    rng = random.Random(batch * 1000 + num_items * 10 + ties)
    ks = [1, 5, 50]
    for trial in range(5):
        scores, targets, seen = random_case(rng, batch, num_items, ties, overlap=trial % 2 == 1)
        expected = reference_ranking(scores, targets, seen, RANKED, ks, num_items)
        got = run_metrics(scores, targets, seen, RANKED, ks, num_items)
        assert got.keys() == expected.keys()
        for name, value in expected.items():
            assert got[name] == pytest.approx(value, rel=1e-12, abs=1e-12), name


def test_float32_scores_with_ties_match_brute_force():
    rng = np.random.default_rng(0)
    num_items = 200
    scores = rng.integers(0, 20, size=(64, num_items)).astype(np.float32) / 7
    targets = [
        sorted(rng.choice(num_items, size=rng.integers(0, 30), replace=False).tolist())
        for _ in range(64)
    ]
    seen = [sorted(rng.choice(num_items, size=20, replace=False).tolist()) for _ in range(64)]
    ks = [1, 5, 50, 500]
    expected = reference_ranking(scores.tolist(), targets, seen, RANKED, ks, num_items)
    got = run_metrics(scores.tolist(), targets, seen, RANKED, ks, num_items)
    assert got == pytest.approx(expected, rel=1e-12)


def test_top_k_breaks_ties_by_lower_index():
    scores = torch.tensor([[1.0, 2.0, 2.0, 1.0, 2.0, float("-inf"), 2.0, float("nan")]])
    items, valid = top_k_items(scores, 10)
    assert items.shape == (1, 8)
    assert items[0, :6].tolist() == [1, 2, 4, 6, 0, 3]
    assert valid[0].tolist() == [True] * 6 + [False] * 2
    items, valid = top_k_items(scores, 3)
    assert items.tolist() == [[1, 2, 4]] and bool(valid.all())


def test_seen_items_are_never_recommended():
    num_items = 10
    seen = [[0, 3, 7], [1, 2, 3, 4, 5, 6, 7, 8]]
    scores = torch.zeros(2, num_items)
    for u, items in enumerate(seen):
        scores[u, items] = 100.0  # the seen items score highest
    unseen = [[i for i in range(num_items) if i not in items] for items in seen]
    for u, items in enumerate(seen):
        masked = scores[u : u + 1].clone()
        masked[0, items] = float("-inf")
        top, valid = top_k_items(masked, num_items)
        assert not set(top[0][valid[0]].tolist()) & set(items)
    ks = [2, 7, 20]
    kinds = [MetricKind.Precision, MetricKind.HitRate, MetricKind.Coverage]
    got = run_metrics(scores.tolist(), unseen, seen, kinds, ks, num_items)
    # Every recommendable item is a target, so each recommended item is a hit.
    assert got["Precision@2"] == 1.0
    assert got["Precision@7"] == pytest.approx((7 / 7 + 2 / 7) / 2)
    assert got["Coverage@20"] == pytest.approx(len(set(unseen[0]) | set(unseen[1])) / num_items)
    assert got == pytest.approx(reference_ranking(scores.tolist(), unseen, seen, kinds, ks, 10))


def test_two_batches_accumulate_like_one():
    rng = random.Random(7)
    num_items, ks = 25, [1, 5, 50]
    scores, targets, seen = random_case(rng, 20, num_items, ties=True, overlap=False)
    whole = run_metrics(scores, targets, seen, RANKED, ks, num_items)
    split = RankingMetrics(RANKED, ks, num_items)
    for lo, hi in [(0, 9), (9, 20)]:
        split.update(
            torch.tensor(scores[lo:hi]),
            csr(targets[lo:hi], num_items),
            csr(seen[lo:hi], num_items),
        )
    assert split.compute() == pytest.approx(whole, rel=1e-12)


def test_hand_computed_example():
    # User 0 ranks items 0, 1, 2, 3; targets 0 and 2 sit at ranks 1 and 3.
    # User 1 ranks 3, 2, 1, 0; its only target, 2, sits at rank 2.
    scores = torch.tensor([[0.9, 0.8, 0.7, 0.1], [0.1, 0.2, 0.3, 0.4]])
    kinds = [
        MetricKind.NDCG,
        MetricKind.ARHR,
        MetricKind.MRR,
        MetricKind.Precision,
        MetricKind.Recall,
        MetricKind.Coverage,
    ]
    metrics = RankingMetrics(kinds, [3], num_items=4)
    metrics.update(scores, csr([[0, 2], [2]], 4))
    got = metrics.compute()
    ndcg0 = (1 + 1 / 2) / (1 + 1 / math.log2(3))
    ndcg1 = (1 / math.log2(3)) / 1
    assert got["NDCG@3"] == pytest.approx((ndcg0 + ndcg1) / 2, rel=1e-15)
    assert got["ARHR@3"] == pytest.approx(((1 + 1 / 3) + 1 / 2) / 2, rel=1e-15)
    assert got["MRR@3"] == pytest.approx((1 + 1 / 2) / 2, rel=1e-15)
    assert got["Precision@3"] == pytest.approx((2 / 3 + 1 / 3) / 2, rel=1e-15)
    assert got["Recall@3"] == 1.0
    assert got["Coverage@3"] == 1.0  # {0, 1, 2} and {3, 2, 1}


def test_rows_without_targets_are_ignored():
    metrics = RankingMetrics([MetricKind.HitRate, MetricKind.Coverage], [1], num_items=3)
    metrics.update(torch.tensor([[1.0, 0.0, 0.0]]), csr([[]], 3))
    assert metrics.compute() == {}
    metrics.update(torch.tensor([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]), csr([[2], []], 3))
    assert metrics.compute() == {"HitRate@1": 1.0, "Coverage@1": pytest.approx(1 / 3)}


def test_ranking_rejects_bad_arguments():
    with pytest.raises(ValueError, match="not ranking"):
        RankingMetrics([MetricKind.RMSE], [1], 3)
    with pytest.raises(ValueError, match="positive"):
        RankingMetrics([MetricKind.NDCG], [0], 3)
    metrics = RankingMetrics([MetricKind.NDCG], [1], 3)
    with pytest.raises(ValueError):
        metrics.update(torch.zeros(2, 4), csr([[1], [2]], 4))
    with pytest.raises(ValueError):
        metrics.update(torch.zeros(2, 3), csr([[1]], 3))


@st.composite
def ranking_cases(draw):
    num_items = draw(st.integers(1, 12))
    scores = draw(st.lists(st.integers(-3, 3), min_size=num_items, max_size=num_items))
    item = st.integers(0, num_items - 1)
    targets = draw(st.lists(item, min_size=1, max_size=num_items, unique=True))
    seen = draw(st.lists(item, max_size=num_items, unique=True))
    return num_items, [float(s) for s in scores], sorted(targets), sorted(seen)


@settings(max_examples=200, deadline=None)
@given(ranking_cases())
def test_per_user_bounds_and_monotone_in_k(case):
    num_items, scores, targets, seen = case
    ks = list(range(1, num_items + 3))
    kinds = [
        MetricKind.Recall,
        MetricKind.NDCG,
        MetricKind.HitRate,
        MetricKind.MRR,
        MetricKind.ARHR,
        MetricKind.Precision,
    ]
    got = run_metrics([scores], [targets], [seen], kinds, ks, num_items)
    for k in ks:
        assert 0.0 <= got[f"Recall@{k}"] <= 1.0
        assert 0.0 <= got[f"NDCG@{k}"] <= 1.0 + 1e-12
        assert got[f"HitRate@{k}"] in (0.0, 1.0)
        assert got[f"MRR@{k}"] <= got[f"ARHR@{k}"] + 1e-12
        assert got[f"Precision@{k}"] <= got[f"Recall@{k}"] + 1e-12
    for k in ks[:-1]:
        assert got[f"HitRate@{k}"] <= got[f"HitRate@{k + 1}"]
        # hits@K = Recall@K * min(K, T) never decreases; Recall itself only once K >= T,
        # since its denominator min(K, T) grows with K until then.
        hits = got[f"Recall@{k}"] * min(k, len(targets))
        assert hits <= got[f"Recall@{k + 1}"] * min(k + 1, len(targets)) + 1e-9
        if k >= len(targets):
            assert got[f"Recall@{k}"] <= got[f"Recall@{k + 1}"] + 1e-12


def test_recall_can_drop_while_k_is_below_the_number_of_targets():
    # The Mult-VAE recall divides by min(K, T): one hit at rank 1 of 3 targets
    # gives Recall@1 = 1 but Recall@2 = 1/2.
    got = run_metrics([[3.0, 2.0, 1.0, 0.0]], [[0, 2, 3]], [[]], [MetricKind.Recall], [1, 2], 4)
    assert got == {"Recall@1": 1.0, "Recall@2": 0.5}


def rating_case(rng: np.random.Generator, batch: int, num_items: int):
    predictions = rng.normal(3.0, 2.0, size=(batch, num_items))
    mask = rng.random((batch, num_items)) < 0.3
    ratings = rng.integers(1, 6, size=(batch, num_items)).astype(np.float64)
    rows = [np.flatnonzero(mask[b]).tolist() for b in range(batch)]
    values = [ratings[b, mask[b]].tolist() for b in range(batch)]
    return predictions, mask, ratings, csr(rows, num_items, values)


@pytest.mark.parametrize("clip", [None, (1.0, 5.0)])
def test_rating_metrics_match_numpy(clip):
    rng = np.random.default_rng(3)
    metrics = RatingMetrics(clip=clip)
    errors = []
    for batch in (1, 8, 33):
        predictions, mask, ratings, targets = rating_case(rng, batch, 40)
        metrics.update(torch.tensor(predictions), targets)
        clipped = predictions if clip is None else np.clip(predictions, *clip)
        errors.append((clipped - ratings)[mask])
    error = np.concatenate(errors)
    got = metrics.compute()
    assert got["RMSE"] == pytest.approx(float(np.sqrt(np.mean(error**2))), rel=1e-12)
    assert got["MAE"] == pytest.approx(float(np.mean(np.abs(error))), rel=1e-12)


def test_clipping_changes_the_result():
    targets = csr([[0, 1]], 2, [[5.0, 1.0]])
    predictions = torch.tensor([[7.0, -1.0]])
    plain, clipped = RatingMetrics(), RatingMetrics(clip=(1.0, 5.0))
    plain.update(predictions, targets)
    clipped.update(predictions, targets)
    assert plain.compute() == {"RMSE": 2.0, "MAE": 2.0}
    assert clipped.compute() == {"RMSE": 0.0, "MAE": 0.0}


def test_rating_metrics_without_targets_are_empty():
    metrics = RatingMetrics()
    assert metrics.compute() == {}
    metrics.update(torch.ones(2, 3), csr([[], []], 3, [[], []]))
    assert metrics.compute() == {}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.float64])
def test_top_k_equals_stable_sort_for_every_k(dtype):
    gen = torch.Generator().manual_seed(5)
    scores = torch.randint(0, 4, (40, 30), generator=gen).to(dtype)
    scores[torch.rand(40, 30, generator=gen) < 0.2] = float("-inf")
    order = torch.sort(scores, dim=1, descending=True, stable=True).indices
    for k in range(1, 33):
        items, valid = top_k_items(scores, k)
        assert torch.equal(items, order[:, :k])
        assert torch.equal(valid, scores.gather(1, items) > float("-inf"))


def _combined(make, parts):
    """Metrics accumulated over ``parts`` by one instance each, then combined as processes
    combine them (each ``total`` adds the other instances' tensors)."""
    instances = [make() for _ in parts]
    for metrics, part in zip(instances, parts, strict=True):
        for args in part:
            metrics.update(*args)
    sent = [[] for _ in instances[1:]]  # what each other process sends, call by call
    for other, calls in zip(instances[1:], sent, strict=True):
        other.combine(lambda t, calls=calls: calls.append(t) or t)
    first = instances[0]
    first.combine(lambda t: t + sum(calls.pop(0) for calls in sent))
    return first.compute()


def test_metrics_of_processes_with_a_share_each_combine_to_one_pass():
    gen = torch.Generator().manual_seed(5)
    batches = []
    for _ in range(4):
        scores = torch.randn(6, 30, generator=gen)
        targets = SparseBatch.from_dense((torch.rand(6, 30, generator=gen) < 0.2).float() * 4)
        batches.append((scores, targets))
    kinds = [MetricKind.NDCG, MetricKind.Recall, MetricKind.Coverage]

    def ranking():
        return RankingMetrics(kinds, [3, 10], 30)

    whole = ranking()
    for args in batches:
        whole.update(*args)
    combined = _combined(ranking, [batches[:1], batches[1:]])
    assert combined == pytest.approx(whole.compute(), rel=1e-12)
    assert combined["Coverage@3"] < combined["Coverage@10"] <= 1.0

    ratings = RatingMetrics(clip=(1.0, 5.0))
    for args in batches:
        ratings.update(*args)
    combined = _combined(lambda: RatingMetrics(clip=(1.0, 5.0)), [batches[:3], batches[3:]])
    assert combined == pytest.approx(ratings.compute(), rel=1e-12)
