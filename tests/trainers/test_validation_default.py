"""Validation by default (issue 12, item 1): data without a validation part gets one held
out of its training part; the epoch is chosen and training stops on it, never on test."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import REPO
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import netcfg
from netcfg.data.holdout import hold_out_validation
from netcfg.data.splits import split_random
from netcfg.data.synth import synthesize
from netcfg.errors import ConfigError


def _entries(matrix):
    return set(zip(matrix.row_of_entries().tolist(), matrix.indices.tolist(), strict=True))


@pytest.fixture(scope="module")
def split():
    matrix = synthesize(200, 60, 0.15, seed=4)
    return split_random(matrix, (0.9, 0.0, 0.1), seed=0)


def test_per_user_holdout_moves_a_tenth_of_each_users_training(split):
    held = hold_out_validation(split, 0.1, seed=5)
    train, validation = held.parts["train"], held.parts["validation"]
    before = _entries(split.train)
    after, kept_apart = _entries(train), _entries(validation)
    unseen = held.unseen["validation"]
    apart = set(zip(unseen.rows.tolist(), unseen.columns.tolist(), strict=True))
    assert after | kept_apart | apart == before
    assert not after & (kept_apart | apart)
    counts = split.train.row_counts()
    moved = counts - train.row_counts()
    assert np.all(train.row_counts() >= np.minimum(counts, 1))  # every user keeps a history
    assert np.all(np.abs(moved - 0.1 * counts) <= 1)  # each user's share, rounded
    assert held.parts["test"] is split.parts["test"]
    assert held.meta["validation"]["held_out_of"] == "train"
    again = hold_out_validation(split, 0.1, seed=5)
    assert again.parts["validation"] == validation
    assert hold_out_validation(split, 0.1, seed=6).parts["validation"] != validation


def test_item_based_holdout_is_the_user_holdout_transposed(split):
    by_user = hold_out_validation(split, 0.1, seed=5)
    by_item = hold_out_validation(split.oriented("item"), 0.1, seed=5)
    for part in ("train", "validation"):
        assert by_item.parts[part] == by_user.parts[part].transpose()


def _no_validation(tiny):
    tiny["Data"]["ratings"]["Protocol"]["Fractions"] = [0.9, 0.0, 0.1]
    tiny["Training"]["Epochs"] = 6
    return tiny


def test_training_holds_out_validation_and_keeps_the_best_epoch(
    tiny, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("NETCFG_THREADS", "1")
    result = netcfg.train(_no_validation(tiny), out=tmp_path / "run")
    err = capsys.readouterr().err
    assert "held out 10% of each user's training interactions" in err
    assert "threads: 1 CPU threads for torch (NETCFG_THREADS)" in err
    assert set(result.validation) == {"Loss", "RMSE", "MAE"}
    history = [
        json.loads(line)
        for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
        if '"validation"' in line and '"final"' not in line
    ]
    curve = [record["validation"]["RMSE"] for record in history]
    assert len(curve) == result.epochs
    assert result.best_epoch == int(np.argmin(curve)) + 1
    assert result.validation["RMSE"] == pytest.approx(min(curve), rel=1e-9)
    events = EventAccumulator(str(tmp_path / "run" / "events"))
    events.Reload()
    assert len(events.Scalars("validation/RMSE")) == result.epochs  # curves in TensorBoard


def test_validation_none_keeps_the_last_epoch_and_warns(tiny, tmp_path, capsys):
    result = netcfg.train(_no_validation(tiny), ["Training.Validation=None"], out=tmp_path / "run")
    assert "the last epoch is kept" in capsys.readouterr().err
    assert result.validation == {}
    assert result.best_epoch is None


def test_explicit_early_stopping_without_validation_is_an_error(tiny, tmp_path):
    overrides = ["Training.Validation=None", "Training.EarlyStopping.Patience=2"]
    with pytest.raises(ConfigError, match="early stopping needs a validation part"):
        netcfg.train(_no_validation(tiny), overrides, out=tmp_path / "run")


def test_early_stopping_is_on_by_default(tiny, tmp_path):
    tiny = _no_validation(tiny)
    tiny["Training"].update(Epochs=60, Optimizer={"Type": "Adam", "LearningRate": 0.05})
    result = netcfg.train(tiny, ["Training.EarlyStopping.Patience=2"], out=tmp_path / "run")
    assert result.epochs < 60
    assert result.epochs == result.best_epoch + 2


def test_label_data_with_one_entry_per_row_keeps_the_last_epoch(tmp_path, capsys):
    smoke = json.loads(
        (REPO / "zoo" / "two-tower-ml100k" / "smoke.json").read_text(encoding="utf-8")
    )
    result = netcfg.train("zoo:two-tower-ml100k", smoke, out=tmp_path / "run")
    assert "none could be held out of the training part" in capsys.readouterr().err
    assert result.best_epoch is None and result.validation == {}
