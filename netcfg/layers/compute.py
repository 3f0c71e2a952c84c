"""The ``Compute`` key: whether a layer takes its sparse path, its dense path, or chooses.

A sparse Input layer passes its batches on in CSR form, so the next layer's cost follows
the nonzeros; above a density of 0.1 (DSSTNE's switch, ``NNLayer.cpp``) the batch is made
dense instead, as dense products are then faster. An Output layer whose loss reads only
the target's stored entries computes only those entries in training (the gather-dot of
`netcfg.layers.kernels.sampled_matmul`).
"""

from __future__ import annotations

import enum

from netcfg.data.batch import SparseBatch
from netcfg.spec_base import spec_enum

__all__ = ["SPARSE_DENSITY_LIMIT", "ComputeMode", "ComputeModeName", "use_dense"]

SPARSE_DENSITY_LIMIT = 0.1
"""Densest batch (nonzeros / (rows x columns)) that the Auto mode keeps sparse."""


class ComputeMode(str, enum.Enum):
    """netcfg's ``Compute`` key of Input and Output layers."""

    Auto = "Auto"
    """Sparse where the data and the loss allow it and the batch is at most 10% dense."""
    Sparse = "Sparse"
    """Always the sparse path (an error where it cannot apply)."""
    Dense = "Dense"
    """Always the dense path: sparse batches are made dense, every output is computed."""


ComputeModeName = spec_enum(ComputeMode, "Compute")
"""The ``Compute`` key of a layer."""


def use_dense(batch: SparseBatch, mode: ComputeMode) -> bool:
    """Whether a sparse input batch should be made dense under ``mode``.

    Example:
        >>> import torch
        >>> use_dense(SparseBatch.from_dense(torch.eye(4)), ComputeMode.Auto)
        True
    """
    if mode is ComputeMode.Auto:
        return batch.density > SPARSE_DENSITY_LIMIT
    return mode is ComputeMode.Dense
