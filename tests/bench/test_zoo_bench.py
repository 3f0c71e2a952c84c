"""The zoo benchmark end to end, on tiny entries of a temporary zoo folder."""

from __future__ import annotations

import copy
import functools
import json

import pytest
import zoo_ml100k
from baselines import tune_ease
from helpers import ML100K, two_tower_layers

from netcfg.zoo_cards import parse_card

SPARSE = {"Kind": "Input", "N": "auto", "Sparse": True}
TWO_TOWER = two_tower_layers(8)


def autoencoder(loss: str, activation: str, source: dict) -> dict:
    return {
        "ErrorFunction": loss,
        "Layers": [
            {"Name": "Input", **SPARSE, "DataSet": "ratings"},
            {"Name": "Hidden", "N": 16, "Activation": "Tanh"},
            {
                "Name": "Output",
                **SPARSE,
                "Kind": "Output",
                "DataSet": "ratings",
                "Activation": activation,
            },
        ],
        "Data": {"ratings": source},
        "Training": {"Optimizer": "Adam", "BatchSize": 256, "Epochs": 1, "Seed": 0},
    }


ENTRIES = {
    "rating": (
        "rating prediction",
        "MovieLens 100K, u1",
        "RMSE",
        autoencoder("MaskedMSE", "Linear", {"Fetch": "movielens-100k", "Fold": "u1"}),
    ),
    "ranking": (
        "top-N ranking",
        "MovieLens-100K, implicit",
        "NDCG@20",
        {
            **autoencoder("CrossEntropy", "Sigmoid", zoo_ml100k.IMPLICIT),
            "Evaluation": {"Metrics": ["Recall@20", "NDCG@20"]},
        },
    ),
    "towers": (
        "top-N ranking",
        "movielens 100k pairs",
        "Recall@20",
        {
            "ErrorFunction": "CrossEntropy",
            "Layers": TWO_TOWER,
            "Training": {"Optimizer": "Adam", "BatchSize": 2048, "Epochs": 1, "Seed": 0},
        },
    ),
    "elsewhere": ("rating prediction", "synthetic", "RMSE", autoencoder("MaskedMSE", "Linear", {})),
}


def card(title: str, task: str, dataset: str, metric: str) -> str:
    return (
        f"---\ntitle: {title}\ntask: {task}\ndataset: {dataset}\nmetric: {metric}\n"
        "measured: 0.0\npublished: null\ntrain_seconds: null\n---\n"
        f"# {title}\n\n<!-- results -->\n<!-- /results -->\n"
    )


@pytest.fixture
def zoo(tmp_path):
    for name, (task, dataset, metric, config) in ENTRIES.items():
        folder = tmp_path / "zoo" / name
        folder.mkdir(parents=True)
        (folder / "model.json").write_text(json.dumps(config))
        (folder / "CARD.md").write_text(card(name, task, dataset, metric))
    return tmp_path / "zoo"


def test_entries_are_sorted_by_how_they_are_measured(zoo):
    kinds = {e.name: e.kind for e in zoo_ml100k.find_entries(zoo, [])}
    assert kinds == {"rating": "explicit", "ranking": "implicit", "towers": "pairs"}
    with pytest.raises(ValueError, match="elsewhere: its card's dataset is not MovieLens 100K"):
        zoo_ml100k.find_entries(zoo, ["elsewhere"])
    config = copy.deepcopy(ENTRIES["rating"][3])
    config["Data"]["ratings"] = {"Fetch": "movielens-100k"}
    (zoo / "rating" / "model.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="rating entries are measured on folds"):
        zoo_ml100k.find_entries(zoo, ["rating"])


def test_summary_compares_the_best_ranking_entry_with_ease():
    records = [
        {"entry": "a", "protocol": "u1", "metrics": {"RMSE": 0.91}},
        {"entry": "b", "protocol": "u1", "metrics": {"RMSE": 0.89}},
        {"entry": "b", "protocol": "5-fold mean u1-u5", "metrics": {"RMSE": 0.85}},
        {
            "entry": "c",
            "protocol": "p",
            "metrics": {"Recall@20": 0.4, "NDCG@20": 0.30},
            "same_split": True,
        },
        {
            "entry": "d",
            "protocol": "p",
            "metrics": {"Recall@20": 0.3, "NDCG@20": 0.36},
            "same_split": True,
        },
        {
            "entry": "e",
            "protocol": "p",
            "metrics": {"Recall@20": 0.9, "NDCG@20": 0.9},
            "same_split": False,
        },
    ]
    baselines = [{"entry": "EASE", "metrics": {"Recall@20": 0.35, "NDCG@20": 0.33}}]
    summary = zoo_ml100k.summarize(records, baselines, 12.0)
    assert summary["best_explicit"] == {"entry": "b", "RMSE_u1": 0.89}
    best = summary["best_implicit"]
    assert best["entry"] == "d" and best["beats_EASE"] == {"Recall@20": False, "NDCG@20": True}


@pytest.mark.slow
def test_measure_write_and_check_the_cards(zoo, capsys, monkeypatch):
    if not (ML100K / "u.data").is_file():
        pytest.skip(f"MovieLens 100K not found at {ML100K}")
    monkeypatch.setattr(zoo_ml100k, "tune_ease", functools.partial(tune_ease, lambdas=[30, 300]))
    options = ["--zoo", str(zoo), "--data-dir", str(ML100K), "--quick"]
    assert zoo_ml100k.main([*options, "--write-cards", "--check"]) == 1  # cards said 0.0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    measured = {(r["entry"], r["protocol"]) for r in lines if "entry" in r}
    assert {entry for entry, _ in measured} == {
        "rating",
        "biases",
        "ranking",
        "towers",
        "popularity",
        "EASE",
    }
    assert ("rating", "u1") in measured
    assert all(r["same_split"] for r in lines if r.get("entry") in ("ranking", "towers"))
    summary = next(r for r in lines if r.get("summary"))
    assert summary["best_explicit"]["entry"] == "rating"
    assert [r["ok"] for r in lines if "check" in r] == [False, False, False]
    rating = next(r for r in lines if r.get("entry") == "rating")
    assert parse_card(zoo / "rating" / "CARD.md").measured == round(rating["metrics"]["RMSE"], 4)
    assert (
        "| protocol | RMSE | MAE |\n|---|---|---|\n| u1 | "
        in (zoo / "rating" / "CARD.md").read_text()
    )
    assert "\n| EASE, same split | 0." in (zoo / "towers" / "CARD.md").read_text()
    assert zoo_ml100k.main([*options, "--check"]) == 0  # the same numbers again
