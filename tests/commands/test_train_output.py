"""What ``netcfg train``, ``evaluate`` and ``tune`` print: lines for people on stderr
(piped, as in a log file or CI), ``--quiet``, and one JSON object with ``--json``."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys

import pytest
from helpers import TINY

from netcfg.cli import main

EPOCH_LINE = re.compile(
    r"epoch (\d+)/4  loss (\S+)  validation RMSE (\S+)( \(best\))?  [\d.]+s  ETA [\dhms. ]+"
)
BATCH_LINE = re.compile(r"epoch (\d+)/4  batch (\d+)/(\d+) \(\d+%\)  loss \S+  [\d,]+ examples/s")


@pytest.fixture(autouse=True)
def data_cache(tmp_path, monkeypatch):
    """Synthetic datasets are generated into a temporary cache."""
    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "cache"))


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY), encoding="utf-8")
    return path


def _epochs(run) -> list[dict]:
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if "epoch" in r]


def test_piped_train_prints_a_line_per_epoch_and_plain_progress(config, tmp_path):
    """stderr is a pipe (not a terminal): no bar, plain progress lines (every batch with
    NETCFG_PROGRESS_INTERVAL=0) and a line per epoch that matches metrics.jsonl."""
    out = tmp_path / "run"
    env = {**os.environ, "NETCFG_PROGRESS_INTERVAL": "0", "NETCFG_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "netcfg", "train", str(config), "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr
    lines = done.stderr.splitlines()
    epochs = [EPOCH_LINE.fullmatch(line) for line in lines]
    epochs = [m for m in epochs if m]
    records = _epochs(out)
    assert [int(m[1]) for m in epochs] == [r["epoch"] for r in records] == [1, 2, 3, 4]
    best = float("inf")
    for match, record in zip(epochs, records, strict=True):
        assert match[2] == f"{record['train_loss']:.4f}"
        rmse = record["validation"]["RMSE"]
        assert match[3] == f"{rmse:.4f}"
        assert bool(match[4]) == (rmse < best)  # marked when it is the best so far
        best = min(best, rmse)
    batches = [BATCH_LINE.match(line) for line in lines]
    batches = [m for m in batches if m]
    for epoch in (1, 2, 3, 4):
        numbers = [int(m[2]) for m in batches if int(m[1]) == epoch]
        total = {int(m[3]) for m in batches if int(m[1]) == epoch}
        assert len(total) == 1 and numbers == list(range(1, total.pop() + 1))
    stdout = done.stdout.splitlines()
    assert stdout[0].startswith("trained: best epoch") and stdout[-1] == f"run saved in {out}"


def test_quiet_prints_only_the_result(config, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", str(config), "--out", str(out), "--quiet"]) == 0
    stdout, err = capsys.readouterr()
    assert err == ""
    assert stdout.splitlines()[-1] == f"run saved in {out}"


def test_train_json_is_one_object_matching_run_json(config, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", str(config), "--out", str(out), "--json"]) == 0
    stdout, err = capsys.readouterr()
    result = json.loads(stdout)  # the whole of stdout is one JSON document
    run = json.loads((out / "run.json").read_text())
    assert result["run_dir"] == str(out)
    assert result["status"] == run["status"] == "completed"
    for key in ("epochs", "best_epoch", "validation", "test"):
        assert result[key] == run[key], key
    assert result["monitor"] == "RMSE" and result["stopped"] is None
    assert set(result["test"]) == {"Loss", "RMSE", "MAE"}
    assert "epoch 4/4  loss" in err  # the lines for people went to stderr


def test_evaluate_json_is_one_object(config, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", str(config), "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(out), "--part", "all", "--json"]) == 0
    stdout, _ = capsys.readouterr()
    result = json.loads(stdout)
    run = json.loads((out / "run.json").read_text())
    assert result["validation"] == pytest.approx(run["validation"])
    assert result["test"] == pytest.approx(run["test"])


def test_tune_json_and_quiet(tmp_path, capsys):
    searched = copy.deepcopy(TINY)
    searched["Training"]["Epochs"] = 2
    searched["Search"] = {"Layers.Hidden.N": [8, 16]}
    config = tmp_path / "search.json"
    config.write_text(json.dumps(searched), encoding="utf-8")
    study = tmp_path / "study"
    argv = ["tune", str(config), "--trials", "2", "--out", str(study)]
    assert main([*argv, "--json"]) == 0
    stdout, err = capsys.readouterr()
    result = json.loads(stdout)
    summary = json.loads((study / "summary.json").read_text())
    assert {k: result[k] for k in summary} == summary
    assert result["out"] == str(study) and result["best_config"] == str(study / "best.json")
    assert result["trials"]["complete"] == 2 and "best trial" in err
    # --quiet: no study line or line per trial, the outcome only
    assert main([*argv, "--trials", "3", "--quiet"]) == 0
    stdout, _ = capsys.readouterr()
    assert "study 'tiny'" not in stdout and not re.search(r"^trial ", stdout, re.M)
    assert re.search(r"^best trial \d+: validation RMSE", stdout, re.M)
    assert json.loads((study / "summary.json").read_text())["trials"]["complete"] == 3
