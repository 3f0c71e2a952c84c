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


def _hparams(run) -> dict:
    """The hyper-parameters of a run's hparams session, as plain Python values."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    events = EventAccumulator(str(run / "events" / "hparams"))
    events.Reload()
    start = events.SummaryMetadata("_hparams_/session_start_info").plugin_data.content
    values = plugin_data_pb2.HParamsPluginData.FromString(start).session_start_info.hparams
    return {key: getattr(value, value.WhichOneof("kind")) for key, value in values.items()}


def test_hparams_are_resolved_and_typed(tiny, tmp_path):
    """TensorBoard's hparams view can plot and filter runs by every scalar of the config:
    numbers as numbers (widths after auto), booleans as booleans, strings as strings."""
    tiny["Layers"][1]["pDropout"] = 0.25
    netcfg.train(tiny, out=tmp_path / "run")
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    values = _hparams(tmp_path / "run")
    width = run["widths"]["ratings"]
    assert width == 80  # the synthetic data's items (an autoencoder's input and output)
    assert values["Layers.Input.N"] == width and values["Layers.Output.N"] == width
    assert values["Layers.Hidden.N"] == 16
    assert values["Training.Optimizer.LearningRate"] == pytest.approx(0.01)
    assert values["ShuffleIndices"] is True and values["Layers.Input.Sparse"] is True
    assert values["Training.Deterministic"] is False
    assert values["Layers.Hidden.Activation"] == "Selu"
    assert values["Layers.Output.Activation"] == "Linear"
    assert values["Layers.Hidden.pDropout"] == pytest.approx(0.25)
    assert values["ErrorFunction"] == "MaskedMSE"
    assert values["Data.ratings.Source"] == "synthetic"
    assert values["Data.ratings.Orientation"] == "User"
    assert values["Evaluation.Metrics"] == "RMSE,MAE"
    assert "Layers.Hidden.Name" not in values


def test_test_scalars_and_config_text(tiny, tmp_path):
    """The test metrics of the kept weights are scalars at the last step; the resolved
    config is a text entry equal to config.json."""
    netcfg.train(tiny, out=tmp_path / "run")
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    events = EventAccumulator(str(tmp_path / "run" / "events"), size_guidance={"tensors": 0})
    events.Reload()
    last = max(event.step for event in events.Scalars("train/loss"))
    for name, value in run["test"].items():
        (event,) = events.Scalars(f"test/{name}")
        assert event.step == last and event.value == pytest.approx(value, rel=1e-6)
    (text,) = events.Tensors("config/text_summary")
    shown = text.tensor_proto.string_val[0].decode()
    config = json.loads("\n".join(line[4:] for line in shown.splitlines()))
    assert config == json.loads((tmp_path / "run" / "config.json").read_text())


def test_hparams_metrics_are_the_final_ones(tiny, tmp_path):
    """The hparams session's metrics are the run's final metrics, and it ends as a success."""
    from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

    netcfg.train(tiny, out=tmp_path / "run")
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    events = EventAccumulator(str(tmp_path / "run" / "events" / "hparams"))
    events.Reload()
    for part in ("validation", "test"):
        for name, value in run[part].items():
            (event,) = events.Scalars(f"hparam/{part}/{name}")
            assert event.value == pytest.approx(value, rel=1e-6)
    end = events.SummaryMetadata("_hparams_/session_end_info").plugin_data.content
    status = plugin_data_pb2.HParamsPluginData.FromString(end).session_end_info.status
    assert status == api_pb2.Status.STATUS_SUCCESS
    assert "_hparams_/experiment" not in events.Tags()["tensors"]  # TensorBoard infers it
