"""Export a trained network for use without netcfg: TorchScript or ONNX.

Two input signatures:

- ``dense``: ``scores = model(x)`` with ``x`` a float32 [batch, items] matrix (zeros where
  the user has no interaction);
- ``sparse``: ``scores = model(indices, offsets, values)``, the rows in CSR form:
  ``indices`` int64 [nnz] item columns, ``offsets`` int64 [batch + 1] row starts (from 0,
  ending at nnz), ``values`` float32 [nnz].

Both return float32 [batch, items] scores (the Output layer's activations); the batch size
and the number of stored entries are dynamic. Item columns are the model's item index,
``ids/<DataSet>/columns.txt`` in the run directory.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from netcfg.data.batch import SparseBatch
from netcfg.errors import ModelError
from netcfg.trainers.rundir import LoadedModel

__all__ = ["DenseScorer", "SparseScorer", "example_inputs", "export_model"]


class DenseScorer(nn.Module):
    """A network with one dense input: ``forward(x) -> scores``."""

    def __init__(self, network: nn.Module, dataset: str, output: str):
        super().__init__()
        self.network = network
        self.dataset = dataset
        self.output = output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network({self.dataset: x}).outputs[self.output]


class SparseScorer(DenseScorer):
    """A network with one CSR input: ``forward(indices, offsets, values) -> scores``."""

    def __init__(self, network: nn.Module, dataset: str, output: str, width: int):
        super().__init__(network, dataset, output)
        self.width = width

    def forward(
        self, indices: torch.Tensor, offsets: torch.Tensor, values: torch.Tensor
    ) -> torch.Tensor:
        batch = SparseBatch(offsets, indices, values, self.width)
        return self.network({self.dataset: batch}).outputs[self.output]


def _scorer(model: LoadedModel, signature: str) -> DenseScorer:
    network = model.network.eval()
    if len(network.inputs) != 1 or len(network.outputs) != 1:
        raise ModelError("export supports networks with one Input and one Output layer")
    ((input_layer, dataset),) = network.inputs.items()
    ((output, _),) = network.outputs.items()
    if signature == "dense":
        return DenseScorer(network, dataset, output)
    return SparseScorer(network, dataset, output, network.shapes[input_layer][0])


def example_inputs(width: int, signature: str, batch: int = 3) -> tuple[torch.Tensor, ...]:
    """Small inputs of a signature (what tracing and the tests use)."""
    generator = torch.Generator().manual_seed(0)
    dense = (torch.rand(batch, width, generator=generator) < 0.3) * torch.randint(
        1, 6, (batch, width), generator=generator
    ).float()
    if signature == "dense":
        return (dense,)
    csr = SparseBatch.from_dense(dense)
    return csr.indices, csr.offsets, csr.values


def export_model(model: LoadedModel, fmt: str, path: str | Path, signature: str = "dense") -> Path:
    """Write the network as TorchScript (``torch.jit.load``) or ONNX (onnxruntime).

    Example:
        >>> export_model(open_model("runs/u1"), "onnx", "model.onnx", signature="sparse")
    """
    path = Path(path)
    scorer = _scorer(model, signature)
    (input_layer,) = model.network.inputs
    width = model.network.shapes[input_layer][0]
    inputs = example_inputs(width, signature)
    names = ["x"] if signature == "dense" else ["indices", "offsets", "values"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fmt == "torchscript":
            torch.jit.trace(scorer, inputs, check_trace=False).save(str(path))
        elif fmt == "onnx":
            axes = (
                {"x": {0: "batch"}}
                if signature == "dense"
                else {"indices": {0: "nnz"}, "offsets": {0: "rows"}, "values": {0: "nnz"}}
            )
            torch.onnx.export(
                scorer,
                inputs,
                str(path),
                input_names=names,
                output_names=["scores"],
                dynamic_axes={**axes, "scores": {0: "batch"}},
                dynamo=False,
            )
        else:
            raise ModelError(f"unknown export format '{fmt}' (torchscript or onnx)")
    return path
