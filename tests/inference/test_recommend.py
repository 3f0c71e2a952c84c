"""Top-K recommendations: brute-force references, seen items, filters, ids, fold-in."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from inference_models import random_matrix, random_model

from netcfg.data.ids import IdIndex
from netcfg.inference.recommend import ItemFilter, recommend


def _brute_force(scores: np.ndarray, banned: np.ndarray, k: int) -> list[list[int]]:
    """Per row: items sorted by (-score, index), banned ones removed, first k."""
    out = []
    for row, ban in zip(scores, banned, strict=True):
        ranked = sorted((i for i in range(len(row)) if not ban[i]), key=lambda i: (-row[i], i))
        out.append(ranked[:k])
    return out


def _dense_scores(model, matrix):
    batch = matrix.batch(np.arange(matrix.shape[0]))
    with torch.no_grad():
        return model.network({"ratings": batch}).outputs["Out"].numpy()


def test_user_based_top_k_equals_brute_force(matrix):
    model = random_model(matrix.rows, matrix.columns, seed=1)
    recs = recommend(model, matrix, 7, exclude_seen=True, batch_size=9)
    seen = matrix.batch(np.arange(40)).to_dense().numpy() != 0
    expected = _brute_force(_dense_scores(model, matrix), seen, 7)
    rows = np.flatnonzero(matrix.row_counts() > 0)
    got = [list(items[items >= 0]) for items in recs.items]
    assert got == [expected[r] for r in rows]
    assert recs.user_ids.tolist() == (rows + 100).tolist()


def test_item_based_top_k_equals_brute_force(matrix):
    items_major = matrix.transpose()  # the model reads item rows
    model = random_model(items_major.rows, items_major.columns, seed=2, orientation="item")
    recs = recommend(model, matrix, 5, exclude_seen=True, batch_size=4)
    scores = _dense_scores(model, items_major).T  # users x items
    seen = matrix.batch(np.arange(40)).to_dense().numpy() != 0
    expected = _brute_force(scores, seen, 5)
    users = np.flatnonzero(matrix.row_counts() > 0)
    assert [list(items[items >= 0]) for items in recs.items] == [expected[u] for u in users]


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    k=st.integers(1, 30),
    batch=st.integers(1, 50),
    density=st.floats(0.05, 0.9),
)
def test_exclude_seen_never_recommends_input_items(seed, k, batch, density):
    data = random_matrix(30, 20, density, seed)
    model = random_model(data.rows, data.columns, seed)
    recs = recommend(model, data, k, exclude_seen=True, batch_size=batch)
    for user, ranked in recs.lists():
        row = data.rows.position(user)
        seen = set(data.columns.ids[data.indices[data.indptr[row] : data.indptr[row + 1]]].tolist())
        items = [item for item, _ in ranked]
        assert not seen & set(items)
        assert len(items) == min(k, 20 - len(seen)) and len(set(items)) == len(items)
    again = recommend(model, data, k, exclude_seen=True, batch_size=7)
    np.testing.assert_array_equal(recs.items, again.items)


def test_ties_are_broken_by_item_index(matrix):
    model = random_model(matrix.rows, matrix.columns, seed=0)
    with torch.no_grad():
        for parameter in model.network.parameters():
            parameter.zero_()  # every score is 0: ranking falls back on the item index
    recs = recommend(model, matrix, 4, exclude_seen=False)
    assert (recs.items == np.arange(4)).all()


def test_filters(matrix):
    model = random_model(matrix.rows, matrix.columns, seed=3)
    allow = {1000, 1001, 1002, 1003, 1004, 1005}
    filters = ItemFilter(allow=allow, deny={1001}, per_user={100: {1002}})
    recs = recommend(model, matrix, 10, exclude_seen=False, filters=filters)
    for user, ranked in recs.lists():
        items = {item for item, _ in ranked}
        assert items <= allow - {1001}
        assert user != 100 or 1002 not in items
        assert len(items) == (4 if user == 100 else 5)


def test_new_users_are_folded_in_and_unknown_items_counted(matrix):
    model = random_model(matrix.rows, matrix.columns, seed=4)
    new = random_matrix(
        3,
        27,
        0.5,
        seed=9,
        user_ids=IdIndex(np.array([7, 8, 9])),
        item_ids=IdIndex(np.arange(27) + 1000),
    )  # items 1025, 1026 unknown
    recs = recommend(model, new, 3, exclude_seen=True, users=[8, 9, 999])
    assert recs.user_ids.tolist() == [8, 9]
    unknown = int((new.indices >= 25).sum())
    assert recs.report["dropped_interactions"] == unknown and recs.report["unknown_items"] == 2
    assert recs.report["unknown_users"] == 1
    assert all(len(ranked) == 3 for _, ranked in recs.lists())


def test_the_readme_python_recommendation_example(tmp_path, monkeypatch):
    # README, section Python: train, reload, recommend; checked against a brute-force ranking
    import itertools

    from helpers import TINY

    import netcfg
    from netcfg.inference.models import training_interactions

    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "cache"))
    netcfg.train(TINY, out=tmp_path / "qs")
    model = netcfg.load_model(tmp_path / "qs")
    seen = training_interactions(model)
    recs = netcfg.recommend(model, seen, k=5)
    assert recs.report["users_without_known_items"] == 0
    with torch.no_grad():
        scores = model.network(seen.batch(np.arange(seen.shape[0]))).outputs["Output"].numpy()
    scores[seen.row_of_entries(), seen.indices] = -np.inf  # seen items are left out
    users = list(itertools.islice(recs.lists(), 3))
    assert len(users) == 3
    for user, items in users:
        row = seen.rows.position(user)
        best = np.argsort(-scores[row], kind="stable")[:5]
        assert [item for item, _ in items] == seen.columns.ids[best].tolist()
        np.testing.assert_allclose([s for _, s in items], scores[row, best], rtol=1e-5)
