"""The shape shared by layers computed as ``activate(preactivate(inputs, skips))``.

A subclass computes its pre-activation from its sources in ``preactivate`` (adding the
skips with `add_skips`); this base applies the layer's activation and, in training, its
dropout, and lets a lone source stand for a list of one.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from netcfg.data.batch import SparseBatch

__all__ = ["ActivatedLayer", "add_skips"]


def add_skips(z: Tensor, skips: Sequence[Tensor]) -> Tensor:
    """``z`` plus every skip source, flattened to ``z``'s [batch, units]."""
    for skip in skips:
        z = z + skip.flatten(1)
    return z


class ActivatedLayer(nn.Module):
    """A layer whose output is its activation (then dropout) of ``preactivate``.

    Subclasses set ``activation`` (a module) and ``dropout`` (a module or None) and define
    ``preactivate(inputs, skips)``.
    """

    activation: nn.Module
    dropout: nn.Module | None

    def preactivate(
        self, inputs: Sequence[Tensor | SparseBatch], skips: Sequence[Tensor] = ()
    ) -> Tensor:
        """The pre-activation of the sources plus skips, [batch, units]."""
        raise NotImplementedError

    def activate(self, z: Tensor) -> Tensor:
        """Activation, then dropout in training."""
        a = self.activation(z)
        return self.dropout(a) if self.dropout is not None else a

    def forward(
        self,
        inputs: Tensor | SparseBatch | Sequence[Tensor | SparseBatch],
        skips: Sequence[Tensor] = (),
    ) -> Tensor:
        if isinstance(inputs, Tensor | SparseBatch):
            inputs = [inputs]
        return self.activate(self.preactivate(inputs, skips))
