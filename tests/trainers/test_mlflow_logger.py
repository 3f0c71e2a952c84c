"""Runs logged to MLflow (``Training.Loggers: [TensorBoard, MLflow]``), read back with
MLflow's own client."""

from __future__ import annotations

import json
import shutil
import sys

import pytest

import netcfg
from netcfg.cli import main

mlflow = pytest.importorskip("mlflow")
pytest.importorskip("sqlalchemy")
pytest.importorskip("alembic")


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory):
    """An empty SQLite store, created once: MLflow builds a new store's tables in seconds,
    a copy takes none."""
    path = tmp_path_factory.mktemp("mlflow") / "empty.db"
    mlflow.MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def no_mlflow_environment(monkeypatch):
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID"):
        monkeypatch.delenv(name, raising=False)


def _records(run) -> list[dict]:
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if "epoch" in r]


def _history(client, run_id: str, key: str) -> list[tuple[int, float]]:
    return sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))


@pytest.mark.slow  # MLflow creates its store's tables once, in seconds
def test_a_run_in_the_default_store_beside_the_run_directory(
    tiny, tmp_path, empty_store, no_mlflow_environment
):
    runs = tmp_path / "runs"
    runs.mkdir()
    shutil.copy(empty_store, runs / "mlflow.db")
    tiny["Training"]["Loggers"] = ["TensorBoard", "MLflow"]
    netcfg.train(tiny, out=runs / "a", quiet=True)
    run = json.loads((runs / "a" / "run.json").read_text())
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{runs / 'mlflow.db'}")
    logged = client.get_run(run["mlflow"]["run_id"])
    assert logged.info.status == "FINISHED" and logged.info.run_name == "a"
    assert client.get_experiment(logged.info.experiment_id).name == "tiny"
    params = logged.data.params
    assert params["Layers.Hidden.N"] == "16"
    assert params["Layers.Input.N"] == str(run["widths"]["ratings"])  # auto, resolved
    assert params["Training.Optimizer.Type"] == "Adam"
    assert params["Training.Optimizer.LearningRate"] == "0.01"
    assert params["ShuffleIndices"] == "true"
    assert params["Data.ratings.Source"] == "synthetic"
    records = _records(runs / "a")
    run_id = logged.info.run_id
    assert _history(client, run_id, "validation/RMSE") == [
        (r["epoch"], pytest.approx(r["validation"]["RMSE"])) for r in records
    ]
    assert _history(client, run_id, "train/epoch_loss") == [
        (r["epoch"], pytest.approx(r["train_loss"])) for r in records
    ]
    assert _history(client, run_id, "test/RMSE") == [(4, pytest.approx(run["test"]["RMSE"]))]
    artifacts = {f.path for f in client.list_artifacts(run_id)}
    assert {"config.json", "run.json", "metrics.jsonl", "best", "events", "checkpoint"} <= artifacts
    assert ".lock" not in artifacts
    copy = client.download_artifacts(run_id, "run.json", str(tmp_path))
    assert json.loads(open(copy).read())["status"] == "completed"  # logged once final
    assert (runs / "mlartifacts").is_dir()  # beside the runs, not in the working directory


@pytest.mark.slow  # MLflow creates its store's tables once, in seconds
def test_the_environment_names_the_store_and_a_resumed_run_continues(
    tiny, tmp_path, empty_store, no_mlflow_environment, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # MLflow keeps a given store's artifacts in ./mlruns
    store = tmp_path / "elsewhere.db"
    shutil.copy(empty_store, store)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "mine")
    tiny["Training"]["Loggers"] = ["MLflow"]
    tiny["Training"]["Epochs"] = 2
    netcfg.train(tiny, out=tmp_path / "run", quiet=True)
    first = json.loads((tmp_path / "run" / "run.json").read_text())["mlflow"]["run_id"]
    tiny["Training"]["Epochs"] = 3
    netcfg.train(tiny, out=tmp_path / "run", resume=True, quiet=True)
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["mlflow"]["run_id"] == first
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{store}")
    logged = client.get_run(first)
    assert client.get_experiment(logged.info.experiment_id).name == "mine"
    assert logged.info.status == "FINISHED"
    steps = [step for step, _ in _history(client, first, "validation/RMSE")]
    assert steps == [1, 2, 3]
    assert logged.data.params["Training.Epochs"] == "2"  # a param keeps its first value
    assert not (tmp_path / "mlflow.db").exists()
    assert not (tmp_path / "run" / "events").exists()  # TensorBoard was not asked for


def test_mlflow_not_installed_exits_2_naming_the_extra(tmp_path, capsys, monkeypatch):
    from helpers import TINY

    monkeypatch.setitem(sys.modules, "mlflow", None)
    config = tmp_path / "model.json"
    config.write_text(json.dumps(TINY))
    out = tmp_path / "run"
    code = main(
        ["train", str(config), "--out", str(out), "--set", "Training.Loggers=[TensorBoard,MLflow]"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "Training.Loggers" in err and "pip install 'netcfg[mlflow]'" in err
    assert not out.exists()  # refused before the run started
