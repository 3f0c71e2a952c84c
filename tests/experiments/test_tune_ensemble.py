"""Tuning an ensemble: members trained once, weights chosen on validation predictions."""

from __future__ import annotations

import json
import math

import numpy as np
import optuna
import pytest

from netcfg.cli import main
from netcfg.ensembles.rundir import member_predictions


def _ensemble(tmp_path, tiny_config):
    member = tiny_config(epochs=2)
    ensemble = tmp_path / "ensemble.yaml"
    ensemble.write_text(
        "Kind: Ensemble\nName: pair\nMembers:\n"
        f"  - {{Name: wide, Network: {member.name}}}\n"
        f"  - {{Name: narrow, Network: {member.name}, Set: [Layers.Hidden.N=8]}}\n"
        "Search:\n"
        "  Members.wide.Weight: {Type: Float, Low: 0.05, High: 1.0}\n"
        "  Members.1.Weight: {Type: Float, Low: 0.05, High: 1.0}\n",
        encoding="utf-8",
    )
    return ensemble


def test_an_ensemble_study_tunes_member_weights_without_retraining(capsys, tmp_path, tiny_config):
    ensemble = _ensemble(tmp_path, tiny_config)
    out = tmp_path / "study"
    code = main(["tune", str(ensemble), "--trials", "12", "--out", str(out)])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    root = out / "ensemble"
    members = sorted(p.name for p in (root / "members").iterdir())
    assert members == ["narrow", "wide"]
    assert not (out / "trials").exists()  # no trial trains anything
    study = optuna.load_study(study_name="pair", storage=f"sqlite:///{out / 'study.db'}")
    assert len(study.trials) == 12
    best = study.best_trial
    # the best value is the RMSE of the weighted mean of the members' validation ratings
    validation = member_predictions(root, ("validation",))["validation"]
    weights = np.array([best.params["Members.0.Weight"], best.params["Members.1.Weight"]])
    weights /= weights.sum()
    mean = weights[0] * validation.predicted["wide"] + weights[1] * validation.predicted["narrow"]
    assert best.value == pytest.approx(math.sqrt(np.mean((mean - validation.actual) ** 2)))
    # best.json is the ensemble with those weights; retrained, it scores the same
    config = json.loads((out / "best.json").read_text())
    assert [m["Weight"] for m in config["Members"]] == [
        best.params["Members.0.Weight"],
        best.params["Members.1.Weight"],
    ]
    assert "Search" not in config
    assert main(["train", str(out / "best.json"), "--out", str(tmp_path / "again")]) == 0
    capsys.readouterr()
    again = json.loads((tmp_path / "again" / "run.json").read_text())
    assert again["validation"]["RMSE"] == pytest.approx(best.value, abs=1e-6)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["test"]["RMSE"] == pytest.approx(again["test"]["RMSE"], abs=1e-6)


def test_a_quiet_ensemble_study_prints_no_member_epochs(capsys, tmp_path, tiny_config):
    ensemble = _ensemble(tmp_path, tiny_config)
    argv = ["tune", str(ensemble), "--trials", "2", "--out", str(tmp_path / "study")]
    assert main([*argv, "--quiet"]) == 0
    stdout, err = capsys.readouterr()
    assert "epoch " not in stdout + err and "best trial" in stdout
