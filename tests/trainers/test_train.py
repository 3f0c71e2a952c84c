"""Training end to end: run directories, reloading, determinism, evaluation, early stop."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

import netcfg
from netcfg.data.source import open_source
from netcfg.data.spec import DataSourceSpec
from netcfg.errors import ConfigError
from netcfg.trainers.rundir import load_model


def _records(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_run_directory_is_self_contained(tiny, tmp_path):
    result = netcfg.train(tiny, out=tmp_path / "run")
    run = tmp_path / "run"
    assert {p.name for p in run.iterdir()} >= {
        "config.json",
        "run.json",
        "layers.txt",
        "ids",
        "checkpoint",
        "best",
        "metrics.jsonl",
        "events",
    }
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed" and info["widths"] == {"ratings": 80}
    records = _records(run)
    assert [r["epoch"] for r in records[:-1]] == [1, 2, 3, 4] and records[-1]["final"]
    assert set(result.test) == {"Loss", "RMSE", "MAE"} and 0 < result.test["RMSE"] < 3
    # the run directory alone rebuilds the model: move it and reload
    moved = tmp_path / "elsewhere"
    shutil.move(run, moved)
    model = load_model(moved)
    rows, columns = model.ids["ratings"]
    assert len(rows) == 300 and len(columns) == 80
    split = open_source(DataSourceSpec.model_validate(tiny["Data"]["ratings"]))
    batch = split.train.batch(torch.arange(5).numpy())
    again = load_model(moved).network({"ratings": batch}).outputs["Output"]
    torch.testing.assert_close(model.network({"ratings": batch}).outputs["Output"], again)


def test_evaluation_is_reproduced_by_the_reloaded_model(tiny, tmp_path):
    # entries outside the training data (rated by a fallback) are tested in
    # test_honest_evaluation.py; here only the network's own predictions are scored
    tiny["Evaluation"]["UnseenItems"] = "Drop"
    result = netcfg.train(tiny, out=tmp_path / "run")
    model = load_model(tmp_path / "run")
    split = open_source(DataSourceSpec.model_validate(tiny["Data"]["ratings"]))
    test = split.parts["test"]
    rows = (test.row_counts() > 0).nonzero()[0]
    outputs = model.network({"ratings": split.train.batch(rows)}).outputs["Output"]
    target = test.batch(rows)
    predicted = outputs[target.row_ids(), target.indices].clamp(
        float(split.train.values.min()), float(split.train.values.max())
    )
    rmse = float(((predicted - target.values) ** 2).mean().sqrt().detach())
    assert rmse == pytest.approx(result.test["RMSE"], rel=1e-5)


def test_same_seed_same_losses(tiny, tmp_path):
    tiny["Training"]["Deterministic"] = True
    netcfg.train(tiny, out=tmp_path / "a")
    netcfg.train(tiny, out=tmp_path / "b")
    losses = [[r.get("train_loss") for r in _records(tmp_path / d)] for d in "ab"]
    assert losses[0] == losses[1]
    netcfg.train(tiny, ["Training.Seed=4"], out=tmp_path / "c")
    assert [r.get("train_loss") for r in _records(tmp_path / "c")] != losses[0]


def test_early_stopping(tiny, tmp_path):
    tiny["Training"].update(
        Epochs=30,
        EarlyStopping={"Metric": "RMSE", "Patience": 1},
        Optimizer={"Type": "Adam", "LearningRate": 0.05},
    )
    result = netcfg.train(tiny, out=tmp_path / "run")
    epochs = [r["epoch"] for r in _records(tmp_path / "run") if "epoch" in r]
    assert result.epochs == len(epochs) < 30
    rmses = [r["validation"]["RMSE"] for r in _records(tmp_path / "run") if "epoch" in r]
    assert result.best_epoch == 1 + rmses.index(min(rmses))
    assert result.validation["RMSE"] == pytest.approx(min(rmses))


def test_refusals(tiny, tmp_path):
    netcfg.train(tiny, out=tmp_path / "run")
    with pytest.raises(ConfigError, match="already exists; resume it with --resume"):
        netcfg.train(tiny, out=tmp_path / "run")
    with pytest.raises(ConfigError, match="differs from the one"):
        netcfg.train(tiny, ["Layers.Hidden.N=8"], out=tmp_path / "run", resume=True)
    unbound = {**tiny, "Data": {}}
    with pytest.raises(ConfigError, match="DataSet 'ratings' is not bound under Data"):
        netcfg.train(unbound, out=tmp_path / "other")


def test_implicit_feedback_reports_ranking_metrics(tiny, tmp_path):
    tiny["ErrorFunction"] = "CrossEntropy"
    tiny["Layers"][2]["Activation"] = "Sigmoid"
    tiny["Data"]["ratings"]["Synthetic"]["Implicit"] = True
    tiny["Evaluation"] = {"Metrics": ["Recall", "NDCG", "Coverage"], "K": [5, 10]}
    result = netcfg.train(tiny, out=tmp_path / "run")
    assert set(result.test) == {
        "Loss",
        "Recall@5",
        "Recall@10",
        "NDCG@5",
        "NDCG@10",
        "Coverage@5",
        "Coverage@10",
    }
    assert all(0 <= v <= 1 for k, v in result.test.items() if k != "Loss")


def test_monitoring_needs_what_it_watches(tiny, tmp_path):
    no_validation = {
        **tiny,
        "Training": {
            **tiny["Training"],
            "EarlyStopping": {"Metric": "RMSE"},
            "Validation": "None",  # else a validation part is held out of training
        },
    }
    no_validation["Data"] = {
        "ratings": {**tiny["Data"]["ratings"], "Protocol": {"Fractions": [0.8, 0.0, 0.2]}}
    }
    with pytest.raises(ConfigError, match="early stopping needs a validation part"):
        netcfg.train(no_validation, out=tmp_path / "a")
    implicit = {
        **tiny,
        "ErrorFunction": "CrossEntropy",
        "Evaluation": {},
        "Training": {**tiny["Training"], "EarlyStopping": {"Metric": "RMSE"}},
    }
    implicit["Layers"] = [*tiny["Layers"][:2], {**tiny["Layers"][2], "Activation": "Sigmoid"}]
    implicit["Data"] = {"ratings": {**tiny["Data"]["ratings"], "Binarize": 4}}
    with pytest.raises(ConfigError, match="metric 'RMSE' is not computed for this data"):
        netcfg.train(implicit, out=tmp_path / "b")


def test_a_baseline_starts_at_the_training_mean_and_is_reloaded(tiny, tmp_path):
    tiny["Baseline"] = {"Shrinkage": 3.0}
    tiny["Training"].update(Epochs=1, Optimizer={"Type": "SGD", "LearningRate": 1e-9})
    netcfg.train(tiny, out=tmp_path / "run")
    model = load_model(tmp_path / "run")
    split = open_source(DataSourceSpec.model_validate(tiny["Data"]["ratings"]))
    train_mean = float(np.mean(split.train.values))  # a step of 1e-9 leaves it there
    assert train_mean > 1 and model.network.baseline.mean.item() == pytest.approx(train_mean)


def test_re_feeding_a_network_whose_baseline_appends_indicators(tiny, tmp_path):
    # the Input layer reads twice the width; what is fed back is the output's width
    tiny["Baseline"] = {"Indicators": True}
    tiny["Training"].update(Epochs=2, RefeedSteps=1)
    result = netcfg.train(tiny, out=tmp_path / "run")
    assert 0 < result.test["RMSE"] < 2
    network = load_model(tmp_path / "run").network
    assert network.shapes["Input"] == (160,) and network.data_shape("Input") == (80,)
