"""Exported models (TorchScript, ONNX) score like netcfg, for any batch size."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from inference_models import random_matrix, random_model

from netcfg.data.batch import SparseBatch
from netcfg.inference.export import export_model


@pytest.fixture(params=[None, {"Indicators": True}], ids=["plain", "baseline"])
def model(request):
    data = random_matrix(50, 30, 0.2, seed=5)
    return random_model(data.rows, data.columns, seed=5, hidden=6, baseline=request.param)


def _reference(model, dense: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return model.network({"ratings": SparseBatch.from_dense(dense)}).outputs["Out"].numpy()


def _rows(batch: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    mask = torch.rand(batch, 30, generator=generator) < 0.25
    return mask * torch.randint(1, 6, (batch, 30), generator=generator).float()


@pytest.mark.parametrize("signature", ["dense", "sparse"])
def test_torchscript(model, tmp_path, signature):
    path = export_model(model, "torchscript", tmp_path / "m.pt", signature)
    loaded = torch.jit.load(str(path))
    for batch in (1, 9):
        dense = _rows(batch, batch)
        if signature == "dense":
            got = loaded(dense)
        else:
            csr = SparseBatch.from_dense(dense)
            got = loaded(csr.indices, csr.offsets, csr.values)
        np.testing.assert_allclose(got.detach().numpy(), _reference(model, dense), atol=1e-5)


@pytest.mark.parametrize("signature", ["dense", "sparse"])
def test_onnx(model, tmp_path, signature):
    onnxruntime = pytest.importorskip("onnxruntime", reason="the [export] extra is not installed")
    pytest.importorskip("onnx", reason="the [export] extra is not installed")
    path = export_model(model, "onnx", tmp_path / "m.onnx", signature)
    session = onnxruntime.InferenceSession(str(path))
    for batch in (1, 11):
        dense = _rows(batch, 100 + batch)
        if signature == "dense":
            feeds = {"x": dense.numpy()}
        else:
            csr = SparseBatch.from_dense(dense)
            feeds = {
                "indices": csr.indices.numpy(),
                "offsets": csr.offsets.numpy(),
                "values": csr.values.numpy(),
            }
        (got,) = session.run(None, feeds)
        np.testing.assert_allclose(got, _reference(model, dense), atol=1e-5)
