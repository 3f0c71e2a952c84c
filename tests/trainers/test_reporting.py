"""TensorBoard events and metrics.jsonl, read back."""

from __future__ import annotations

import json

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import netcfg


def test_tensorboard_tags(tiny, tmp_path):
    tiny["Training"]["WeightHistograms"] = True
    netcfg.train(tiny, out=tmp_path / "run")
    events = EventAccumulator(str(tmp_path / "run" / "events"), size_guidance={"tensors": 0})
    events.Reload()
    tags = events.Tags()
    assert {
        "train/loss",
        "train/learning_rate",
        "train/grad_norm",
        "train/epoch_loss",
        "train/examples_per_second",
        "validation/Loss",
        "validation/RMSE",
        "validation/MAE",
    } <= set(tags["scalars"])
    assert "layers/text_summary" in tags["tensors"]
    assert "layers.Hidden.projections.0.weight" in tags["histograms"]
    steps = [event.step for event in events.Scalars("validation/RMSE")]
    assert len(steps) == 4 and steps == sorted(steps)
    hparams = EventAccumulator(str(tmp_path / "run" / "events" / "hparams"))
    hparams.Reload()
    assert "hparam/test/RMSE" in hparams.Tags()["scalars"]
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    rmse = [event.value for event in events.Scalars("validation/RMSE")]
    assert rmse == [pytest.approx(r["validation"]["RMSE"], rel=1e-6) for r in records[:-1]]


def test_hparams_keep_numbers_as_numbers(tiny, tmp_path):
    """TensorBoard's hparams view can plot and filter by every scalar of the config."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    netcfg.train(tiny, out=tmp_path / "run")
    events = EventAccumulator(str(tmp_path / "run" / "events" / "hparams"))
    events.Reload()
    start = events.SummaryMetadata("_hparams_/session_start_info").plugin_data.content
    values = plugin_data_pb2.HParamsPluginData.FromString(start).session_start_info.hparams
    assert values["Layers.Hidden.N"].number_value == 16
    assert values["Training.Optimizer.LearningRate"].number_value == pytest.approx(0.01)
    assert values["Layers.Hidden.Activation"].string_value == "Selu"
    assert values["Layers.Input.N"].string_value == "auto"
    assert values["ShuffleIndices"].number_value == 1  # torch writes booleans as numbers
    assert values["Denoising.p"].number_value == 0.0
