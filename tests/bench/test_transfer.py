"""The transfer benchmark: its rating baselines against independent computations, its data
overrides, the play-count import, and a quick run end to end."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import transfer
from baselines import Biases, fit_biases, global_mean, ranking_with_unseen, rating_metrics

from netcfg.data.ids import IdIndex
from netcfg.data.interactions import Interactions
from netcfg.data.source import open_source
from netcfg.data.spec import DataSourceSpec
from netcfg.data.store import load_dataset
from netcfg.data.unseen import UnseenEntries


def interactions(dense: np.ndarray) -> Interactions:
    """A matrix with an entry at every non-NaN cell (binary when ``dense`` is boolean)."""
    rows, columns = np.nonzero(dense if dense.dtype == bool else ~np.isnan(dense))
    values = None if dense.dtype == bool else dense[rows, columns].astype(np.float32)
    matrix, _ = Interactions.from_coo(
        rows,
        columns,
        values,
        None,
        IdIndex.of(range(dense.shape[0])),
        IdIndex.of(range(dense.shape[1])),
    )
    return matrix


def sparse_ratings(seed: int, users: int = 7, items: int = 6) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dense = rng.integers(1, 6, size=(users, items)).astype(np.float64)
    dense[rng.random((users, items)) < 0.4] = np.nan
    dense[:, 0] = 3.0  # every user rated something
    return dense


@pytest.mark.parametrize("lam", [0.5, 2.0, 10.0])
def test_biases_solve_the_regularized_least_squares_problem(lam):
    dense = sparse_ratings(seed=int(lam * 10))
    rows, columns = np.nonzero(~np.isnan(dense))
    users, items = dense.shape
    ratings = dense[rows, columns]
    # the normal equations of sum (r - mu - b_u - c_i)^2 + lam (|b|^2 + |c|^2), mu fixed
    design = np.zeros((len(ratings), users + items))
    design[np.arange(len(ratings)), rows] = 1.0
    design[np.arange(len(ratings)), users + columns] = 1.0
    gram = design.T @ design + lam * np.eye(users + items)
    solution = np.linalg.solve(gram, design.T @ (ratings - ratings.mean()))
    fitted = fit_biases(interactions(dense), lam, rounds=500)
    assert fitted.mean == pytest.approx(ratings.mean())
    np.testing.assert_allclose(fitted.user, solution[:users], atol=1e-9)
    np.testing.assert_allclose(fitted.item, solution[users:], atol=1e-9)


def test_biases_recover_planted_biases_and_leave_unrated_ones_at_zero():
    user, item = np.array([0.5, -0.2, -0.3]), np.array([1.0, 0.0, -0.4, -0.6])
    dense = 3.0 + user[:, None] + item[None, :]  # zero-mean biases: the mean is 3
    wider = np.concatenate([dense, np.full((3, 1), np.nan)], axis=1)  # item 4 unrated
    fitted = fit_biases(interactions(wider), lam=0.0, rounds=50)
    assert fitted.mean == pytest.approx(3.0)
    np.testing.assert_allclose(fitted.user, user, atol=1e-9)
    np.testing.assert_allclose(fitted.item, [*item, 0.0], atol=1e-9)


def test_global_mean_and_rating_metrics():
    train = interactions(np.array([[1.0, 2.0, np.nan], [3.0, np.nan, 5.0]]))
    test = interactions(np.array([[np.nan, np.nan, 4.0], [np.nan, 1.0, np.nan]]))
    mean = global_mean(train)
    assert mean.mean == 2.75
    found = rating_metrics(mean, train, test)
    assert found["RMSE"] == pytest.approx(math.sqrt((1.25**2 + 1.75**2) / 2))
    assert found["MAE"] == pytest.approx(1.5)


def test_unseen_ratings_get_the_biases_there_are():
    model = Biases(3.0, np.array([0.5, -0.5]), np.array([1.0, -1.0]))
    predicted = model.predict(np.array([0, -1, 1, 7]), np.array([-1, 1, 0, 0]))
    np.testing.assert_allclose(predicted, [3.5, 2.0, 3.5, 4.0])
    train = interactions(np.array([[1.0, 5.0], [2.0, 4.0]]))  # clips to [1, 5]
    test = interactions(np.array([[np.nan, np.nan], [np.nan, np.nan]]))
    unseen = UnseenEntries(np.array([0, -1]), np.array([-1, 0]), np.array([3.5, 5.0], np.float32))
    found = rating_metrics(Biases(4.5, np.array([1.0, 0.0]), np.zeros(2)), train, test, unseen)
    # predictions: 4.5 + 1 = 5.5 clipped to 5 (error 1.5); 4.5 (error 0.5)
    assert found["RMSE"] == pytest.approx(math.sqrt((1.5**2 + 0.5**2) / 2))


def test_unseen_ranking_targets_count_but_are_never_hit():
    train = interactions(np.array([[1, 0, 0], [1, 1, 0]], dtype=bool))
    test = interactions(np.array([[0, 1, 0], [0, 0, 0]], dtype=bool))
    counts = torch.tensor([2.0, 1.0, 5.0])  # item 2 would rank first, but has no training data
    scores = lambda rows: counts.expand(len(rows), -1)  # noqa: E731
    assert ranking_with_unseen(scores, train, test, None)["Recall@20"] == 1.0
    unseen = UnseenEntries(np.array([0]), np.array([2]), None)
    found = ranking_with_unseen(scores, train, test, unseen)
    assert found["Recall@20"] == 0.5
    assert found["NDCG@20"] == pytest.approx(1.0 / (1.0 + 1.0 / np.log2(3)))


def test_data_overrides_change_only_the_data():
    entries, skipped = transfer.find_entries(
        ["quickstart", "autorec-i-ml100k", "deeprec-netflix-1y"]
    )
    assert [e.name for e in entries] == ["quickstart", "autorec-i-ml100k"]
    assert "Netflix" in skipped["deeprec-netflix-1y"]
    fold = {"Fetch": "movielens-100k", "Fold": "u3"}
    assert transfer.data_overrides(entries[1].spec, fold) == ['Data.ratings.Fold="u3"']
    assert transfer.data_overrides(entries[0].spec, fold) == [f"Data.ratings={json.dumps(fold)}"]


def test_baselines_get_the_split_the_runs_bind_whatever_the_orientation(tmp_path):
    path = tmp_path / "ratings"
    assert transfer.cli("data", "synth", "--users", "60", "--items", "40", "--density", "0.2",
                        "-o", str(path)) == 0  # fmt: skip
    protocol = {"Type": "random", "PerUser": True, "Fractions": [0.9, 0.0, 0.1]}
    split = transfer.Split("s", "explicit", "90/10", {"Path": str(path), "Protocol": protocol}, "")
    entries, _ = transfer.find_entries(["autorec-i-ml100k", "autorec-u-ml100k"])
    item_based, user_based = (transfer.bound_split(e, split) for e in (entries, entries[::-1]))
    assert item_based.train.orientation == "user"
    assert item_based.train == user_based.train
    assert item_based.parts["test"] == user_based.parts["test"]
    source = open_source(DataSourceSpec.model_validate(split.source))
    assert item_based.parts["test"] == source.parts["test"]
    assert item_based.train.nnz + item_based.parts["validation"].nnz <= source.train.nnz


def test_play_counts_are_heavy_tailed_and_imported_with_their_header(tmp_path):
    pairs = tmp_path / "pairs"
    assert transfer.cli("data", "synth", "--users", "50", "--items", "80", "--density", "0.2",
                        "--implicit", "-o", str(pairs)) == 0  # fmt: skip
    imported = load_dataset(transfer.play_counts(pairs, tmp_path))
    lines = (tmp_path / "plays.tsv").read_text().splitlines()
    assert lines[0] == "userID\tartistID\tweight"
    assert imported.nnz == load_dataset(pairs).nnz == len(lines) - 1
    assert imported.values.min() >= 1 and imported.values.max() > 1000


def test_quick_run_end_to_end(tmp_path, capsys):
    out = tmp_path / "transfer.json"
    argv = ["--quick", "--only", "quickstart", "--datasets", "synth-explicit", "--json", str(out)]
    status = transfer.main([*argv, "--threads", "1"])
    found = json.loads(out.read_text())
    assert status == (1 if found["failures"] else 0)
    entries = {r["entry"]: r for r in found["records"]}
    assert set(entries) == {"quickstart", "global mean", "biases"}
    assert all(math.isfinite(r["metrics"]["RMSE"]) for r in entries.values())
    assert entries["biases"]["metrics"]["RMSE"] < entries["global mean"]["metrics"]["RMSE"]
    printed = capsys.readouterr().out
    assert "| quickstart |" in printed and "acceptance" in printed
