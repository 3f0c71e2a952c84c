"""`netcfg tune`: a study end to end, its files, best.json, pruning, and its errors."""

from __future__ import annotations

import json

import optuna
import pytest
from optuna.trial import TrialState

from netcfg.cli import main
from netcfg.experiments import trials as trial_module
from netcfg.experiments.study import tune


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_three_trial_study_end_to_end(capsys, tmp_path, tiny_config):
    config, out = tiny_config(epochs=3), tmp_path / "study"
    code, stdout, err = _run(capsys, "tune", str(config), "--trials", "3", "--out", str(out))
    assert code == 0, err
    lines = stdout.splitlines()
    assert lines[0].startswith(f"study 'tiny' in {out}: minimize validation RMSE over ")
    assert "Layers.Hidden.N int 8..32 step 8" in lines[0]
    assert sum(line.startswith("trial ") for line in lines) == 3
    assert sorted(p.name for p in (out / "trials").iterdir()) == ["0000", "0001", "0002"]
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{out / 'study.db'}")
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3
    summary = json.loads((out / "summary.json").read_text())
    best = study.best_trial
    assert summary["best_trial"] == best.number
    assert summary["validation"]["RMSE"] == pytest.approx(best.value, abs=0)
    # each trial is an ordinary run directory: validation metrics only, parameters applied
    for trial in study.trials:
        run = json.loads((out / "trials" / f"{trial.number:04d}" / "run.json").read_text())
        assert run["status"] == "completed" and run["test"] == {}
        assert run["validation"]["RMSE"] == pytest.approx(trial.value, abs=1e-12)
        saved = json.loads((out / "trials" / f"{trial.number:04d}" / "config.json").read_text())
        hidden = next(layer for layer in saved["Layers"] if layer["Name"] == "Hidden")
        assert hidden["N"] == trial.params["Layers.Hidden.N"]
        rate = saved["Training"]["Optimizer"]["LearningRate"]
        assert rate == pytest.approx(trial.params["Training.Optimizer.LearningRate"])
    # the test part is scored once, for the best trial, as `netcfg evaluate` scores it
    code, evaluated, _ = _run(capsys, "evaluate", summary["run_dir"], "--json")
    assert json.loads(evaluated)["test"] == pytest.approx(summary["test"])
    assert f"test Loss {summary['test']['Loss']:.4f}" in stdout


def test_best_json_retrained_reproduces_the_best_validation_metric(capsys, tmp_path, tiny_config):
    out = tmp_path / "study"
    assert (
        _run(capsys, "tune", str(tiny_config(epochs=3)), "--trials", "2", "--out", str(out))[0] == 0
    )
    best = json.loads((out / "best.json").read_text())
    assert "Search" not in best
    code, _, err = _run(capsys, "train", str(out / "best.json"), "--out", str(tmp_path / "again"))
    assert code == 0, err
    again = json.loads((tmp_path / "again" / "run.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    assert again["validation"]["RMSE"] == pytest.approx(summary["validation"]["RMSE"], abs=1e-6)


def test_continuing_a_finished_study_runs_no_trial(capsys, tmp_path, tiny_config):
    config, out = tiny_config(epochs=2), tmp_path / "study"
    assert _run(capsys, "tune", str(config), "--trials", "2", "--out", str(out))[0] == 0
    code, stdout, _ = _run(capsys, "tune", str(config), "--trials", "2", "--out", str(out))
    assert code == 0
    assert "2 of 2 trials done" in stdout and "\ntrial " not in stdout
    code, stdout, _ = _run(capsys, "tune", str(config), "--trials", "3", "--out", str(out))
    assert code == 0 and "2 of 3 trials done" in stdout
    assert (
        stdout.count("\ntrial ") == 1
        and sorted(p.name for p in (out / "trials").iterdir())[-1] == "0002"
    )


def _controlled(curves):
    """The real trainer, but the pruner sees the validation RMSE ``curves[N](epoch)``."""
    real = trial_module.train_network

    def train(config, overrides, **kwargs):
        values = dict(item.split("=", 1) for item in overrides)
        curve = curves[json.loads(values["Layers.Hidden.N"])]
        on_epoch = kwargs.pop("on_epoch")

        def controlled(epoch, record):
            return on_epoch(epoch, {**record, "validation": {"RMSE": curve(epoch)}})

        return real(config, overrides, on_epoch=controlled, **kwargs)

    return train


def test_pruning_stops_a_trial_whose_curve_is_worse_than_the_median(
    tmp_path, tiny_config, monkeypatch
):
    good = lambda epoch: 1.0 - 0.01 * epoch  # noqa: E731
    bad = lambda epoch: 2.0 - 0.01 * epoch  # noqa: E731
    monkeypatch.setattr(trial_module, "train_network", _controlled({8: good, 16: good, 32: bad}))
    out = tmp_path / "study"
    storage = f"sqlite:///{out / 'study.db'}"
    out.mkdir()
    queued = optuna.create_study(study_name="tiny", storage=storage, direction="minimize")
    for width in (8, 16, 8, 16, 8, 32, 8):
        queued.enqueue_trial({"Layers.Hidden.N": width, "Training.Optimizer.LearningRate": 0.01})
    study = tune(tiny_config(epochs=10), trials=7, out=out, echo=None)
    states = [(t.params["Layers.Hidden.N"], t.state) for t in study.trials]
    assert states == [
        (8, TrialState.COMPLETE),
        (16, TrialState.COMPLETE),
        (8, TrialState.COMPLETE),
        (16, TrialState.COMPLETE),
        (8, TrialState.COMPLETE),
        (32, TrialState.PRUNED),
        (8, TrialState.COMPLETE),
    ]
    pruned = study.trials[5]
    assert pruned.last_step == 4  # the warm-up epochs (3 of 10) are never pruned
    # without pruning the same curve runs to its end
    other = tmp_path / "other"
    other.mkdir()
    queued = optuna.create_study(
        study_name="tiny", storage=f"sqlite:///{other / 'study.db'}", direction="minimize"
    )
    for width in (8, 16, 8, 16, 8, 32):
        queued.enqueue_trial({"Layers.Hidden.N": width, "Training.Optimizer.LearningRate": 0.01})
    study = tune(tiny_config(epochs=10), trials=6, out=other, pruning=False, echo=None)
    assert study.trials[5].state is TrialState.COMPLETE and study.trials[5].last_step >= 5


def test_a_config_without_a_search_section_exits_2(capsys, tmp_path, tiny_config):
    text = tiny_config().read_text()
    config = tmp_path / "nosearch.yaml"
    config.write_text(text[: text.index("Search:")])
    code, _, err = _run(capsys, "tune", str(config), "--out", str(tmp_path / "s"))
    assert code == 2
    assert "nothing to tune: the config has no Search section" in err


def test_a_config_that_keeps_no_validation_is_searched_on_the_default_holdout(
    tmp_path, tiny_config
):
    """A refit config (``Validation: None``) is tuned on netcfg's default hold-out."""
    from netcfg.experiments.study_plan import make_plan

    text = tiny_config().read_text()
    text = text.replace("Fractions: [0.8, 0.1, 0.1]", "Fractions: [0.9, 0.0, 0.1]").replace(
        "  Threads: 1\n", "  Threads: 1\n  Validation: None\n"
    )
    assert "Validation: None" in text
    config = tmp_path / "novalidation.yaml"
    config.write_text(text)
    plan = make_plan(config, out=tmp_path / "s")
    assert plan.base["Training"]["Validation"]["Protocol"] == "PerUser"
    assert plan.monitor == "RMSE"


def test_a_study_directory_of_another_config_is_refused(capsys, tmp_path, tiny_config):
    out = tmp_path / "study"
    assert (
        _run(capsys, "tune", str(tiny_config(epochs=1)), "--trials", "1", "--out", str(out))[0] == 0
    )
    other = tiny_config(epochs=2, name="other.yaml")
    code, _, err = _run(capsys, "tune", str(other), "--trials", "1", "--out", str(out))
    assert code == 2
    assert f"{out} holds a study of another config or search space" in err


def test_tune_without_optuna_names_the_extra(capsys, tmp_path, tiny_config, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "optuna", None)
    code, _, err = _run(capsys, "tune", str(tiny_config()), "--out", str(tmp_path / "s"))
    assert code == 1
    assert "pip install 'netcfg[tune]'" in err and "internal error" not in err


def test_two_worker_processes_share_one_study(tmp_path, tiny_config, monkeypatch):
    monkeypatch.delenv("NETCFG_THREADS", raising=False)
    out = tmp_path / "study"
    study = tune(tiny_config(epochs=2), trials=4, out=out, jobs=2, echo=None)
    states = [t.state for t in study.trials]
    # each worker stops once the study holds 4 finished trials; the other may finish one more
    assert states.count(TrialState.COMPLETE) in (4, 5) and TrialState.FAIL not in states
    folders = sorted(p.name for p in (out / "trials").iterdir())
    assert folders == [f"{t.number:04d}" for t in study.trials]
    for trial in study.trials:  # each folder holds its own trial's run
        saved = json.loads((out / "trials" / f"{trial.number:04d}" / "config.json").read_text())
        hidden = next(layer for layer in saved["Layers"] if layer["Name"] == "Hidden")
        assert hidden["N"] == trial.params["Layers.Hidden.N"]
    assert "NETCFG_THREADS" not in __import__("os").environ


def test_save_as_registers_the_best_trial_and_timeout_starts_no_more(
    capsys, tmp_path, tiny_config, monkeypatch
):
    monkeypatch.setenv("NETCFG_ZOO", str(tmp_path / "zoo"))
    config, out = tiny_config(epochs=2), tmp_path / "study"
    argv = ["tune", str(config), "--out", str(out)]
    assert _run(capsys, *argv, "--trials", "2", "--save-as", "tuned")[0] == 0
    summary = json.loads((out / "summary.json").read_text())
    code, evaluated, err = _run(capsys, "evaluate", "zoo:tuned", "--json")
    assert code == 0, err
    assert json.loads(evaluated)["test"] == pytest.approx(summary["test"])
    code, stdout, _ = _run(capsys, *argv, "--trials", "10", "--timeout", "0.001")
    assert code == 0 and "2 of 10 trials done" in stdout
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{out / 'study.db'}")
    assert len(study.trials) <= 3  # no trial starts once the time is up (one may be starting)
