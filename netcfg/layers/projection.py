"""Weighted connections: ``x @ W`` for a dense or a sparse (CSR) input batch.

Weights are stored as [in_features, out_features], DSSTNE's layout: each input feature
owns a row, so a sparse input only reads (and its gradient only touches) the rows of the
features present in the batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from netcfg.data.batch import SparseBatch
from netcfg.layers.common import WeightInitScheme
from netcfg.layers.init import init_weight_

__all__ = ["Projection", "SharedProjection", "project"]


def project(x: Tensor | SparseBatch, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight (+ bias)`` for a dense [B, in] tensor or a sparse batch with ``in`` columns.

    A sparse batch is multiplied row by row from the weight rows of its stored columns
    (an EmbeddingBag sum weighted by the values), without building the dense input. A dense
    product adds the bias in the same call (``addmm``).

    Example:
        >>> w = torch.arange(6.0).view(3, 2)
        >>> project(SparseBatch.from_dense(torch.tensor([[0.0, 2.0, 0.0]])), w)
        tensor([[4., 6.]])
    """
    if not isinstance(x, SparseBatch):
        dense = x.flatten(1)
        return dense @ weight if bias is None else torch.addmm(bias, dense, weight)
    values = x.values_or_ones(weight.dtype)
    if weight.is_contiguous():
        out = F.embedding_bag(
            x.indices,
            weight,
            x.offsets[:-1],
            mode="sum",
            per_sample_weights=values,
            include_last_offset=False,
        )
    else:
        rows = weight.index_select(0, x.indices) * values.unsqueeze(1)
        out = torch.zeros(x.batch_size, weight.shape[1], dtype=weight.dtype, device=weight.device)
        out = out.index_add_(0, x.row_ids(), rows)
    return out if bias is None else out + bias


class Projection(nn.Module):
    """A connection with a weight of its own, shape [in_features, out_features].

    Args:
        in_features: width of the input.
        out_features: width of the output.
    """

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        init_weight_(self.weight, WeightInitScheme.Xavier)

    @property
    def in_features(self) -> int:
        """Width of the input."""
        return self.weight.shape[0]

    @property
    def out_features(self) -> int:
        """Width of the output."""
        return self.weight.shape[1]

    def matrix(self) -> Tensor:
        """The [in_features, out_features] matrix this connection multiplies by."""
        return self.weight

    def forward(self, x: Tensor | SparseBatch, bias: Tensor | None = None) -> Tensor:
        return project(x, self.weight, bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class SharedProjection(nn.Module):
    """A connection that borrows the weight of another `Projection`, maybe transposed.

    The owner is referenced, not registered as a submodule, so the weight appears once in
    ``parameters()`` and ``state_dict()``; gradients of both uses add up in it. Keep the
    owner inside the same parent module so that ``.to()`` moves it too.

    Args:
        owner: the connection whose weight is used.
        transposed: use the owner's matrix transposed (a tied decoder).
    """

    def __init__(self, owner: Projection, *, transposed: bool = False):
        super().__init__()
        self._owner = (owner,)  # a tuple: not registered as a submodule
        self.transposed = transposed

    @property
    def owner(self) -> Projection:
        """The connection that owns the weight."""
        return self._owner[0]

    @property
    def in_features(self) -> int:
        """Width of the input."""
        return self.owner.out_features if self.transposed else self.owner.in_features

    @property
    def out_features(self) -> int:
        """Width of the output."""
        return self.owner.in_features if self.transposed else self.owner.out_features

    def matrix(self) -> Tensor:
        """The [in_features, out_features] matrix this connection multiplies by."""
        weight = self.owner.weight
        return weight.t() if self.transposed else weight

    def forward(self, x: Tensor | SparseBatch, bias: Tensor | None = None) -> Tensor:
        return project(x, self.matrix(), bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"transposed={self.transposed}"
        )
