"""A trained convolutional classifier is used as any run: ``netcfg predict`` ranks each
image's output columns (its classes) and ``netcfg export`` writes an ONNX model that
computes what the network computes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import netcfg
from netcfg.cli import main
from netcfg.data.ids import IdIndex
from netcfg.data.interactions import Interactions
from netcfg.data.split_store import save_split
from netcfg.data.splits import SplitSet
from netcfg.inference.export import export_model
from netcfg.trainers.rundir import load_model


def _matrix(values: np.ndarray, rows: np.ndarray) -> Interactions:
    """The nonzero values of ``rows`` of a dense [images, columns] array, over every image."""
    kept = np.zeros_like(values)
    kept[rows] = values[rows]
    r, c = np.nonzero(kept)
    images = IdIndex(np.arange(values.shape[0], dtype=np.int64))
    columns = IdIndex(np.arange(values.shape[1], dtype=np.int64))
    matrix, _ = Interactions.from_coo(r, c, kept[r, c], None, images, columns)
    return matrix


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A small conv net trained on 8x8 images whose class lights a band of pixels."""
    folder = tmp_path_factory.mktemp("conv")
    rng = np.random.default_rng(0)
    classes = rng.integers(0, 4, 160)
    pixels = (rng.random((160, 64)) * 0.2).astype(np.float32)
    for image, label in enumerate(classes):
        pixels[image, label * 16 : label * 16 + 8] += 1.0
    labels = np.eye(4, dtype=np.float32)[classes]
    train, validation = np.arange(120), np.arange(120, 160)
    for name, values in (("pixels", pixels), ("labels", labels)):
        part = "validation_input" if name == "pixels" else "validation"
        parts = {"train": _matrix(values, train), part: _matrix(values, validation)}
        save_split(SplitSet(parts), folder / name)
    config = {
        "ErrorFunction": "CrossEntropy",
        "Layers": [
            {"Name": "In", "Kind": "Input", "N": [8, 8, 1], "DataSet": "pixels"},
            {"Name": "C", "Type": "Convolutional", "N": 4, "Kernel": [3, 3]}
            | {"Activation": "Relu"},
            {"Name": "P", "Type": "Pooling", "Function": "Max", "Kernel": 2, "KernelStride": 2},
            {"Name": "Out", "Kind": "Output", "N": "auto", "DataSet": "labels"}
            | {"Activation": "SoftMax"},
        ],
        "Data": {
            "pixels": {"Path": str(folder / "pixels")},
            "labels": {"Path": str(folder / "labels")},
        },
        "Training": {"Optimizer": {"Type": "Adam", "LearningRate": 0.02}, "BatchSize": 16}
        | {"Epochs": 8, "Seed": 0, "Threads": 1},
        "Evaluation": {"Metrics": ["HitRate@1"], "K": [1]},
    }
    result = netcfg.train(config, out=folder / "run", quiet=True)
    assert result.validation["HitRate@1"] > 0.9  # it learned the bands
    return folder / "run", pixels, classes


def test_predict_ranks_each_images_classes(run, tmp_path, capsys):
    folder, pixels, _ = run
    out = tmp_path / "top.tsv"
    assert main(["predict", str(folder), "--top-k", "2", "--out", str(out)]) == 0
    lines = [line.split("\t") for line in out.read_text().splitlines()]
    assert len(lines) == 2 * 120  # two classes for every training image
    network = load_model(folder).network.eval()
    with torch.no_grad():
        scores = network({"pixels": torch.from_numpy(pixels)}).outputs["Out"].numpy()
    first = {int(image): int(label) for image, label, _, rank in lines if rank == "1"}
    assert first == {image: int(scores[image].argmax()) for image in range(120)}
    capsys.readouterr()
    assert main(["predict", str(folder), "--top-k", "2", "--exclude-seen"]) == 2
    assert "a classifier" in capsys.readouterr().err


def test_onnx_export_computes_the_networks_outputs(run, tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime", reason="the [export] extra is not installed")
    pytest.importorskip("onnx", reason="the [export] extra is not installed")
    folder, pixels, _ = run
    model = load_model(folder)
    path = export_model(model, "onnx", tmp_path / "conv.onnx", "dense")
    (got,) = onnxruntime.InferenceSession(str(path)).run(None, {"x": pixels[:7]})
    with torch.no_grad():
        expected = model.network.eval()({"pixels": torch.from_numpy(pixels[:7])}).outputs["Out"]
    np.testing.assert_allclose(got, expected.numpy(), atol=1e-5)
    assert json.loads((folder / "run.json").read_text())["status"] == "completed"
