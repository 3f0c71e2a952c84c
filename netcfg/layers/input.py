"""Input layers: where a dataset enters the network, dense or sparse (CSR batches).

A dense Input applies ``pDropout`` in training (DSSTNE drops at batch load); a sparse
Input applies the network's ``Denoising``: each stored value is dropped with probability
p and the survivors are scaled by 1/(1-p). DSSTNE draws that mask once per epoch; netcfg
draws it per batch (README, compatibility). A sparse batch stays sparse (CSR) unless the
layer's ``Compute`` mode makes it dense (`netcfg.layers.compute`).
"""

from __future__ import annotations

import dataclasses

import torch
from pydantic import ValidationInfo, field_validator
from torch import Tensor, nn

from netcfg.data.batch import SparseBatch
from netcfg.layers.common import LayerSpecBase, LayerType, LayerTypeName, Width
from netcfg.layers.compute import ComputeMode, ComputeModeName, use_dense
from netcfg.layers.registry import BuildContext, Built, Shape, register_layer
from netcfg.spec_base import spec_error, spec_field

__all__ = ["InputLayer", "InputLayerSpec", "build_input", "denoise", "l2_normalize_rows"]


class InputLayerSpec(LayerSpecBase):
    """A layer that receives a dataset."""

    Type: LayerTypeName = spec_field(
        LayerType.FullyConnected,
        description="FullyConnected, or Convolutional for image-shaped inputs.",
    )
    N: Width = spec_field(
        description='Width: an integer, up to four dimensions [x, y, z, w], or "auto" to '
        "take it from the DataSet."
    )
    DataSet: str | None = spec_field(
        None, description="Name of the dataset fed to this layer (bound under Data)."
    )
    Sparse: bool = spec_field(
        False, description="The dataset is sparse: batches arrive in CSR form, never densified."
    )
    pDropout: float = spec_field(
        0.0, ge=0.0, lt=1.0, description="Dropout probability on a dense input (training only)."
    )
    Normalize: bool = spec_field(
        False,
        description="netcfg extension: scale each row to unit L2 norm before dropout or "
        "denoising, in training and inference (as Mult-DAE and Mult-VAE do).",
    )
    Compute: ComputeModeName = spec_field(
        ComputeMode.Auto,
        description="netcfg extension, for Sparse inputs: Auto (keep batches sparse up to a "
        "density of 0.1, as DSSTNE), Sparse (always) or Dense (always make them dense).",
    )

    @field_validator("Type")
    @classmethod
    def _not_pooling(cls, layer_type: LayerType) -> LayerType:
        if layer_type is LayerType.Pooling:
            raise spec_error("an Input layer cannot be of Type 'Pooling'")
        return layer_type

    @field_validator("pDropout")
    @classmethod
    def _dense_only(cls, p: float, info: ValidationInfo) -> float:
        if p > 0 and info.data.get("Sparse"):
            raise spec_error(
                "pDropout has no effect on a Sparse Input layer (DSSTNE ignores it); "
                "use the network-level Denoising instead"
            )
        return p

    @field_validator("Compute")
    @classmethod
    def _sparse_data(cls, mode: ComputeMode, info: ValidationInfo) -> ComputeMode:
        if mode is ComputeMode.Sparse and info.data.get("Sparse") is False:
            raise spec_error('Compute "Sparse" needs a Sparse input (set "Sparse": true)')
        return mode


def denoise(batch: SparseBatch, p: float) -> SparseBatch:
    """Drop each stored entry with probability p and scale the kept values by 1/(1-p).

    Dropped entries are removed from the batch, so later layers do less work.

    Example:
        >>> b = denoise(SparseBatch.from_dense(torch.ones(2, 5)), 0.0)
        >>> b.nnz
        10
    """
    keep = torch.rand(batch.nnz, device=batch.device) >= p
    counts = torch.bincount(batch.row_ids()[keep], minlength=batch.batch_size)
    offsets = torch.zeros_like(batch.offsets)
    offsets[1:] = torch.cumsum(counts, 0)
    dtype = batch.values.dtype if batch.values is not None else torch.float32
    values = batch.values_or_ones(dtype)[keep] / (1.0 - p)
    return dataclasses.replace(batch, offsets=offsets, indices=batch.indices[keep], values=values)


def l2_normalize_rows(batch: SparseBatch) -> SparseBatch:
    """Scale each row's stored values to unit L2 norm (empty rows stay empty).

    Example:
        >>> b = l2_normalize_rows(SparseBatch.from_dense(torch.tensor([[3.0, 4.0]])))
        >>> b.values.tolist()
        [0.6000000238418579, 0.800000011920929]
    """
    values = batch.values_or_ones(torch.float32 if batch.values is None else batch.values.dtype)
    rows = batch.row_ids()
    squares = torch.zeros(batch.batch_size, dtype=values.dtype, device=values.device)
    squares.index_add_(0, rows, values.square())
    scaled = values / squares.sqrt().clamp_min(1e-12)[rows]
    return batch.with_values(scaled)


class InputLayer(nn.Module):
    """Passes a batch on, with dropout (dense) or denoising (sparse) in training mode.

    Args:
        dropout: probability of dropping a unit of a dense input.
        denoising: probability of dropping a stored entry of a sparse input.
        compute: when a sparse batch is passed on dense (`use_dense`).
        normalize: scale each row to unit L2 norm first (training and inference).
    """

    def __init__(
        self,
        *,
        dropout: float = 0.0,
        denoising: float = 0.0,
        compute: ComputeMode = ComputeMode.Auto,
        normalize: bool = False,
    ):
        super().__init__()
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.denoising = denoising
        self.compute = ComputeMode(compute)
        self.normalize = normalize

    def forward(self, x: Tensor | SparseBatch) -> Tensor | SparseBatch:
        if isinstance(x, SparseBatch):
            if self.normalize:
                x = l2_normalize_rows(x)
            if self.training and self.denoising > 0:
                x = denoise(x, self.denoising)
            return x.to_dense() if use_dense(x, self.compute) else x
        if self.normalize:
            x = nn.functional.normalize(x, dim=-1)
        if not self.training:
            return x
        if self.denoising > 0:
            keep = (torch.rand_like(x) >= self.denoising) / (1.0 - self.denoising)
            x = x * keep
        return self.dropout(x) if self.dropout is not None else x

    def extra_repr(self) -> str:
        parts = [f"denoising={self.denoising}"] if self.denoising else []
        if self.normalize:
            parts.append("normalize=True")
        if self.compute is not ComputeMode.Auto:
            parts.append(f"compute={self.compute.value}")
        return ", ".join(parts)


@register_layer("Input")
def build_input(spec: InputLayerSpec, ctx: BuildContext) -> Built:
    """Build an `InputLayer`; its shape is the resolved width, sparse if ``Sparse``."""
    denoising = ctx.model.Denoising.p if spec.Sparse else 0.0
    module = InputLayer(
        dropout=spec.pDropout,
        denoising=denoising,
        compute=spec.Compute,
        normalize=spec.Normalize,
    )
    return Built(module, Shape(ctx.dims, sparse=spec.Sparse))
