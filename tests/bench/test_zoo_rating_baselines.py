"""The zoo benchmark's biased baseline for rating entries: measured per fold, summarized
against the best u1 entry, and tabled in the rating entries' cards only."""

from __future__ import annotations

import numpy as np
import pytest
import zoo_ml100k
from baselines import fit_biases, rating_metrics

from netcfg.data.ids import IdIndex
from netcfg.data.interactions import Interactions
from netcfg.data.splits import SplitSet, split_random
from netcfg.zoo_cards import ZooCard


def ratings(seed: int) -> Interactions:
    rng = np.random.default_rng(seed)
    users, items = 30, 12
    mask = rng.random((users, items)) < 0.5
    rows, columns = np.nonzero(mask)
    values = np.clip(np.round(3 + rng.normal(size=len(rows))), 1, 5)
    matrix, _ = Interactions.from_coo(
        rows, columns, values, None, IdIndex.of(range(users)), IdIndex.of(range(items))
    )
    return matrix


def test_each_fold_gets_the_biases_fitted_with_the_lambda_chosen_on_validation(monkeypatch):
    folds = {"u1": split_random(ratings(1), (0.8, 0.0, 0.2), seed=0)}
    folds["u2"] = split_random(ratings(2), (0.8, 0.0, 0.2), seed=0)
    opened = []

    def fake_open(source):
        opened.append((source.Fetch.value, source.Fold.value))
        return folds[source.Fold.value]

    monkeypatch.setattr(zoo_ml100k, "open_source", fake_open)
    records = zoo_ml100k.measure_rating_baselines(("u1", "u2"))
    assert opened == [("movielens-100k", "u1"), ("movielens-100k", "u2")]
    assert [r["protocol"] for r in records] == ["u1", "u2", "2-fold mean u1-u2"]
    for record, fold in zip(records, ("u1", "u2"), strict=False):
        split: SplitSet = folds[fold]
        chosen = min(record["validation_RMSE"], key=record["validation_RMSE"].get)
        assert record["lambda"] == chosen
        expected = rating_metrics(
            fit_biases(split.train, chosen), split.train, split.parts["test"], None
        )
        assert record["entry"] == "biases"
        assert record["metrics"]["RMSE"] == pytest.approx(expected["RMSE"])
    mean = records[-1]["metrics"]["RMSE"]
    assert mean == pytest.approx(
        (records[0]["metrics"]["RMSE"] + records[1]["metrics"]["RMSE"]) / 2
    )


def test_the_summary_says_whether_the_best_u1_entry_beats_the_biases():
    records = [
        {"entry": "a", "protocol": "u1", "metrics": {"RMSE": 0.93}},
        {"entry": "b", "protocol": "u1", "metrics": {"RMSE": 0.96}},
    ]
    baselines = [
        {"entry": "biases", "protocol": "u1", "metrics": {"RMSE": 0.95}},
        {"entry": "biases", "protocol": "u2", "metrics": {"RMSE": 0.90}},
    ]
    best = zoo_ml100k.summarize(records, baselines, 1.0)["best_explicit"]
    assert best == {"entry": "a", "RMSE_u1": 0.93, "biases_RMSE_u1": 0.95, "beats_biases": True}


def entry(kind: str) -> zoo_ml100k.Entry:
    card = ZooCard("x", "x", "", "", "RMSE", None, None, None, "")
    return zoo_ml100k.Entry("x", card, None, "x", None, kind)


def test_rating_cards_table_the_biases_and_ranking_cards_the_ranking_baselines():
    records = [{"entry": "x", "protocol": "u1", "metrics": {"RMSE": 0.9, "MAE": 0.7}}]
    baselines = [
        {"entry": "biases", "protocol": "u1", "metrics": {"RMSE": 0.95, "MAE": 0.75}},
        {"entry": "EASE", "protocol": "p", "metrics": {"RMSE": 0.1, "MAE": 0.1}},
    ]
    rating = zoo_ml100k._table(entry("explicit"), records, baselines)
    assert "| biases, u1 | 0.9500 | 0.7500 |" in rating and "EASE" not in rating
    ranking = zoo_ml100k._table(entry("implicit"), records, baselines)
    assert "| EASE, same split |" in ranking and "biases" not in ranking
