"""A rating baseline the network predicts around: global mean, column bias, row offset.

Rating autoencoders (AutoRec, DeepRec) see a row of ratings and reproduce it. Left to
themselves they must rebuild each row's overall level (an item's or user's mean) through
their hidden layers, which a sum over a few ratings conveys poorly: on data with strong
row effects and short rows such networks lose to a plain biases model. With a
``Baseline`` the network predicts only what the baseline misses:

    offset(r)  = sum_{c in row r} (x_rc - mean - bias_c) / (n_r + Shrinkage)
    base(r, c) = mean + bias_c + offset(r)
    output     = network(centered input) + base

``mean`` (started at the training data's mean rating, `RatingBaseline.start_at`) and the
column biases (started at 0) are parameters learned with the rest; the row offset is
computed from the input row itself, as the biases model would fit it, so a new row (a
user not seen in training) gets one too. The losses see targets minus the baseline,
which for MaskedMSE is the same objective as comparing the restored outputs with the raw
ratings.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from netcfg.data.batch import SparseBatch
from netcfg.spec_base import SpecBase, spec_field

__all__ = ["BaselineSpec", "RatingBaseline"]


class BaselineSpec(SpecBase):
    """netcfg extension: predict ratings as a baseline plus what the network adds."""

    Shrinkage: float = spec_field(
        5.0,
        ge=0.0,
        description="Pseudo-count pulling a row's offset toward the global mean: a row with "
        "n ratings gets sum(x - mean) / (n + Shrinkage).",
    )
    CenterInput: bool = spec_field(
        True,
        description="Feed the network the ratings minus the global mean (true) or the raw "
        "ratings (false); outputs and targets are relative to the baseline either way.",
    )
    Indicators: bool = spec_field(
        False,
        description="Also feed the network which entries are rated: the Input layer reads "
        "twice the DataSet's width, the (centered) ratings then a 1 for each rated entry, "
        "so that centering does not hide a rating equal to the mean.",
    )


class RatingBaseline(nn.Module):
    """Global mean, column biases and each row's shrunk offset (see the module docstring).

    Args:
        width: columns of the rows (the Output layer's width).
        shrinkage: pseudo-count of the row offset, >= 0.
        center_input: subtract the global mean from the stored input values.
        indicators: append a block of ones at the stored entries to the input (which then
            has twice the width).

    Example:
        >>> baseline = RatingBaseline(3, shrinkage=0.0, center_input=True)
        >>> baseline.start_at(3.0)
        >>> baseline.row_offsets(torch.tensor([[4.0, 0.0, 5.0], [0.0, 0.0, 0.0]])).tolist()
        [1.5, 0.0]
    """

    def __init__(self, width: int, shrinkage: float, center_input: bool, indicators: bool = False):
        super().__init__()
        self.shrinkage = float(shrinkage)
        self.center_input = bool(center_input)
        self.indicators = bool(indicators)
        self.mean = nn.Parameter(torch.zeros(()))
        self.bias = nn.Parameter(torch.zeros(width))

    def start_at(self, mean: float) -> None:
        """Set the global mean (training starts from the training data's mean rating)."""
        with torch.no_grad():
            self.mean.fill_(float(mean))

    def row_offsets(self, x: Tensor | SparseBatch) -> Tensor:
        """Each row's offset from the mean and column biases: a [batch] tensor."""
        if isinstance(x, SparseBatch):
            deviations = x.values_or_ones(self.mean.dtype) - self.mean - self.bias[x.indices]
            # row sums as differences of a running sum (in float64): exported to ONNX as
            # it is, where a scatter-add would not be
            running = torch.cat([deviations.new_zeros(1), deviations]).double().cumsum(0)
            sums = (running[x.offsets[1:]] - running[x.offsets[:-1]]).to(deviations.dtype)
            counts = x.offsets[1:] - x.offsets[:-1]
        else:  # dense rows: the nonzero entries are the ratings (as exported models read)
            rated = x != 0
            deviations = x.to(self.mean.dtype) - self.mean - self.bias
            sums = torch.where(rated, deviations, 0.0).sum(dim=1)
            counts = rated.sum(dim=1)
        return sums / (counts.to(sums.dtype) + self.shrinkage).clamp_min(1e-12)

    def center(self, x: Tensor | SparseBatch) -> Tensor | SparseBatch:
        """The input the network sees: the stored values (minus the global mean, if
        centering), then the indicator block if asked for."""
        shift = self.mean if self.center_input else torch.zeros_like(self.mean)
        if not isinstance(x, SparseBatch):
            seen = torch.where(x != 0, x - shift, x)
            return torch.cat([seen, (x != 0).to(seen.dtype)], dim=1) if self.indicators else seen
        values = x.values_or_ones(self.mean.dtype) - shift
        if not self.indicators:
            return x.with_values(values)
        # entry j of row r moves to j + offsets[r]; its indicator to j + offsets[r + 1]
        rows, entry = x.row_ids(), torch.arange(x.nnz, device=x.device)
        at = torch.cat([entry + x.offsets[rows], entry + x.offsets[rows + 1]])
        indices = x.indices.new_zeros(2 * x.nnz).index_put(
            (at,), torch.cat([x.indices, x.indices + x.num_columns])
        )
        values = values.new_zeros(2 * x.nnz).index_put(
            (at,), torch.cat([values, torch.ones_like(values)])
        )
        return SparseBatch(x.offsets * 2, indices, values, 2 * x.num_columns)

    def residual(self, target: Tensor | SparseBatch, offsets: Tensor) -> SparseBatch:
        """A target relative to the baseline, at the target's stored entries only (a dense
        target is made sparse so that a zero residual is not mistaken for a missing
        rating)."""
        if not isinstance(target, SparseBatch):
            target = SparseBatch.from_dense(target)
        values = target.values_or_ones(offsets.dtype)
        base = self.mean + self.bias[target.indices] + offsets[target.row_ids()]
        return target.with_values(values - base)

    def restore(self, output: Tensor | SparseBatch, offsets: Tensor) -> Tensor | SparseBatch:
        """An output of the network with the baseline added back."""
        if isinstance(output, SparseBatch):
            base = self.mean + self.bias[output.indices] + offsets[output.row_ids()]
            return output.with_values(output.values_or_ones() + base)
        return output + (self.mean + self.bias).unsqueeze(0) + offsets.unsqueeze(1)
