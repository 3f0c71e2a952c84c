"""The divergence guard: the run stops with a message and the last good checkpoint stays."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

import netcfg
from netcfg.cli import main
from netcfg.trainers.loop import TrainingDiverged


def _exploding(tiny):
    # the rate is multiplied by 1e12 from the second epoch on
    tiny["Training"].update(
        Optimizer={"Type": "SGD", "LearningRate": 0.01},
        Schedule={"Type": "Step", "Interval": 1, "Multiplier": 1e12},
        Epochs=5,
    )
    return tiny


def test_nan_stops_the_run_and_keeps_the_checkpoint(tiny, tmp_path):
    run = tmp_path / "run"
    with pytest.raises(TrainingDiverged) as err:
        netcfg.train(_exploding(tiny), out=run)
    message = str(err.value)
    assert message.startswith("training diverged at epoch 2, batch ")
    assert f"the last good checkpoint (epoch 1) is kept in {run / 'checkpoint'}" in message
    state = json.loads((run / "checkpoint" / "state.json").read_text())
    assert state["epoch"] == 1
    weights = load_file(str(run / "checkpoint" / "weights.safetensors"))
    assert all(torch.isfinite(t).all() for t in weights.values())
    assert json.loads((run / "run.json").read_text())["status"] == "diverged"


def test_cli_reports_divergence_and_bad_input(tiny, tmp_path, capsys):
    config = tmp_path / "model.json"
    config.write_text(json.dumps(_exploding(tiny)))
    code = main(["train", str(config), "--out", str(tmp_path / "run"), "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 1 and "training diverged at epoch 2" in err and "Traceback" not in err
    code = main(["train", str(config), "--set", "Training.Epochz=3"])
    _, err = capsys.readouterr()
    assert code == 2 and "unknown key 'Epochz'; did you mean 'Epochs'?" in err
    code = main(
        [
            "train",
            str(config),
            "--data",
            str(tmp_path / "missing.tsv"),
            "--out",
            str(tmp_path / "other"),
        ]
    )
    _, err = capsys.readouterr()
    assert code == 2 and err.strip() == f"{tmp_path / 'missing.tsv'}: no such file or directory"
