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

import io
import math
import warnings
from pathlib import Path

import torch
from torch import nn

from netcfg.data.batch import SparseBatch
from netcfg.errors import ModelError, UsageError
from netcfg.inference.writers import check_output_file, output_file
from netcfg.trainers.rundir import LoadedModel

__all__ = [
    "DenseScorer",
    "FORMATS",
    "SparseScorer",
    "check_export",
    "example_inputs",
    "export_model",
]

FORMATS = ("torchscript", "onnx")


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
    return SparseScorer(network, dataset, output, math.prod(network.data_shape(input_layer)))


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


def check_export(fmt: str, path: str | Path) -> Path:
    """Check what an export needs before any work: a known format, ``onnx`` installed for
    ONNX, a file name in a folder that exists.

    Raises:
        UsageError: an unknown format, a folder as the output, or a missing folder.
        ModelError: ONNX without the ``onnx`` package (the ``[export]`` extra).
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format '{fmt}' ({' or '.join(FORMATS)})")
    if fmt == "onnx":
        try:
            import onnx  # noqa: F401
        except ImportError:
            raise ModelError(
                "ONNX export needs the onnx package: pip install 'netcfg[export]' (or export "
                "--format torchscript)"
            ) from None
    return check_output_file(path, "-o")


def export_model(model: LoadedModel, fmt: str, path: str | Path, signature: str = "dense") -> Path:
    """Write the network as TorchScript (``torch.jit.load``) or ONNX (onnxruntime).

    Raises:
        UsageError: see `check_export` (checked first).
        ModelError: ONNX without the ``onnx`` package; a network that is not one Input
            and one Output layer.

    Example:
        >>> export_model(open_model("runs/u1"), "onnx", "model.onnx", signature="sparse")
    """
    path = check_export(fmt, path)
    scorer = _scorer(model, signature)
    (input_layer,) = model.network.inputs
    width = math.prod(model.network.data_shape(input_layer))
    inputs = example_inputs(width, signature)
    names = ["x"] if signature == "dense" else ["indices", "offsets", "values"]
    buffer = io.BytesIO()  # written by Python below, so a full disk is an OSError
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fmt == "torchscript":
            torch.jit.save(torch.jit.trace(scorer, inputs, check_trace=False), buffer)
        else:
            axes = (
                {"x": {0: "batch"}}
                if signature == "dense"
                else {"indices": {0: "nnz"}, "offsets": {0: "rows"}, "values": {0: "nnz"}}
            )
            torch.onnx.export(
                scorer,
                inputs,
                buffer,
                input_names=names,
                output_names=["scores"],
                dynamic_axes={**axes, "scores": {0: "batch"}},
                dynamo=False,
            )
    with output_file(path, "-o", binary=True) as out:
        out.write(buffer.getbuffer())
    return path
