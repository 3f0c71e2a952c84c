"""FullyConnected layers: a weighted sum of every source, plus skips, then an activation."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch
from torch import Tensor, nn

from netcfg.data.batch import SparseBatch
from netcfg.layers.activated import ActivatedLayer, add_skips
from netcfg.layers.activations import SoftMax
from netcfg.layers.common import LayerKind, LayerType, LayerTypeName
from netcfg.layers.compute import ComputeMode
from netcfg.layers.computed import WeightedLayerSpec, activation_modules, check_skip_widths
from netcfg.layers.init import init_weight_
from netcfg.layers.kernels import row_ids, sampled_matmul
from netcfg.layers.projection import Projection, RowLayout
from netcfg.layers.registry import BuildContext, Built, Shape, register_layer
from netcfg.spec_base import spec_field

__all__ = ["FullyConnected", "FullyConnectedLayerSpec", "build_fully_connected", "clip_rows"]


class FullyConnectedLayerSpec(WeightedLayerSpec):
    """A Hidden or Output layer connected to every unit of its sources."""

    Type: LayerTypeName = spec_field(
        LayerType.FullyConnected, description="FullyConnected (the default Type)."
    )


def clip_rows(grad: Tensor, max_norm: float) -> Tensor:
    """Scale down each row of ``grad`` whose L2 norm exceeds ``max_norm`` (DeltaNorm)."""
    norms = grad.flatten(1).norm(dim=1).clamp_min(1e-12)
    factor = (max_norm / norms).clamp(max=1.0)
    return grad * factor.view(-1, *([1] * (grad.dim() - 1)))


class FullyConnected(ActivatedLayer):
    """``activation(sum_i x_i @ W_i + b + sum_j skip_j)``, then dropout in training.

    With dense sources and an elementwise activation, `sample` computes the layer at chosen
    (example, unit) entries only, at a cost proportional to their number.

    Args:
        in_features: width of each source.
        out_features: width of the layer.
        activation: module applied to the pre-activation (default identity).
        dropout: module applied to the activation in training (default none).
        shared: per source, a module to use instead of a new `Projection` (tied weights).
        batch_norm: batch-normalize the pre-activation.
        delta_norm: clip each example's gradient of the pre-activation to this L2 norm.
        weight_norm: after each update, `apply_weight_norm_` caps each unit's incoming
            weight vector at this L2 norm (0: off).
        rows: per source, the layout of a new `Projection` (default ``"in"``).
        compute: ``Dense`` forbids `sample` (see `netcfg.layers.compute`).

    Example:
        >>> layer = FullyConnected([5, 3], 4, activation=nn.ReLU())
        >>> layer([torch.randn(2, 5), torch.randn(2, 3)]).shape
        torch.Size([2, 4])
    """

    def __init__(
        self,
        in_features: Sequence[int],
        out_features: int,
        *,
        activation: nn.Module | None = None,
        dropout: nn.Module | None = None,
        shared: Sequence[nn.Module | None] | None = None,
        batch_norm: bool = False,
        delta_norm: float = 0.0,
        weight_norm: float = 0.0,
        rows: Sequence[RowLayout] | None = None,
        compute: ComputeMode = ComputeMode.Auto,
    ):
        super().__init__()
        shared = list(shared) if shared is not None else [None] * len(in_features)
        rows = list(rows) if rows is not None else ["in"] * len(in_features)
        if len(shared) != len(in_features) or len(rows) != len(in_features):
            raise ValueError("shared and rows must have one entry per source")
        self.projections = nn.ModuleList(
            s if s is not None else Projection(n, out_features, rows=r)
            for n, s, r in zip(in_features, shared, rows, strict=True)
        )
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.batch_norm = nn.BatchNorm1d(out_features) if batch_norm else None
        self.activation = activation if activation is not None else nn.Identity()
        self.dropout = dropout
        self.delta_norm = delta_norm
        self.weight_norm = weight_norm
        self.compute = ComputeMode(compute)

    def own_projections(self) -> list[Projection]:
        """The connections whose weights this layer owns (not borrowed)."""
        return [p for p in self.projections if isinstance(p, Projection)]

    def preactivate(
        self, inputs: Sequence[Tensor | SparseBatch], skips: Sequence[Tensor] = ()
    ) -> Tensor:
        """The pre-activation: weighted sources, bias and skips (batch-normalized if asked)."""
        z = None
        for projection, x in zip(self.projections, inputs, strict=True):
            z = projection(x, self.bias) if z is None else z + projection(x)
        z = add_skips(z, skips)
        if self.batch_norm is not None:
            z = self.batch_norm(z)
        if self.training and self.delta_norm > 0 and z.requires_grad:
            z.register_hook(partial(clip_rows, max_norm=self.delta_norm))
        return z

    def can_sample(self, inputs: Sequence[Tensor | SparseBatch]) -> bool:
        """Whether `sample` applies: dense sources, elementwise activation, no BatchNorm or
        DeltaNorm, and a Compute mode other than Dense."""
        return (
            self.compute is not ComputeMode.Dense
            and not isinstance(self.activation, SoftMax)
            and self.batch_norm is None
            and self.delta_norm == 0
            and all(isinstance(x, Tensor) for x in inputs)
        )

    def sample(
        self,
        inputs: Sequence[Tensor],
        skips: Sequence[Tensor],
        offsets: Tensor,
        columns: Tensor,
        dense_z: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """The layer at the entries of a CSR pattern only: row ``b`` at units
        ``columns[offsets[b]:offsets[b+1]]``.

        The weight rows of those units are gathered and dotted with each example's
        sources; their gradients are row-sparse.

        Args:
            inputs: the sources (dense).
            skips: the skip layers' activations.
            offsets: row pointer of the entries, [B + 1].
            columns: unit of each entry, [E].
            dense_z: the whole pre-activation, when it was computed without gradient:
                the entries are then read from it (one source, no skip) instead of being
                computed again; the gradient is the same.

        Returns:
            The pre-activations and the activations (after dropout in training), [E] each.
        """
        rows = row_ids(offsets, columns.numel())
        known = None
        if dense_z is not None and len(inputs) == 1 and not skips:
            known = dense_z[rows, columns]
        z = None
        for projection, x in zip(self.projections, inputs, strict=True):
            weight = projection.output_rows()
            bias = self.bias if z is None else None
            part = sampled_matmul(
                x.flatten(1),
                weight,
                bias,
                offsets,
                columns,
                sparse_grad=weight.is_leaf,
                known=known,
            )
            z = part if z is None else z + part
        for skip in skips:
            z = z + skip.flatten(1)[rows, columns]
        return z, self.activate(z)

    @torch.no_grad()
    def apply_weight_norm_(self) -> None:
        """Cap the L2 norm of each unit's incoming weight vector at ``weight_norm``."""
        if self.weight_norm <= 0:
            return
        for projection in self.own_projections():
            matrix = projection.matrix()
            norms = matrix.norm(dim=0).clamp_min(1e-12)
            matrix.mul_((self.weight_norm / norms).clamp(max=1.0))


@register_layer("FullyConnected")
def build_fully_connected(spec: FullyConnectedLayerSpec, ctx: BuildContext) -> Built:
    """Build a `FullyConnected` module from its spec and its sources' shapes."""
    out = Shape(ctx.dims)
    check_skip_widths(spec, ctx, out)
    activation, dropout = activation_modules(spec)
    output = spec.Kind is LayerKind.Output
    module = FullyConnected(
        [s.size for s in ctx.sources],
        out.size,
        activation=activation,
        dropout=dropout,
        shared=ctx.shared or None,
        batch_norm=spec.BatchNormalization,
        delta_norm=spec.DeltaNorm,
        weight_norm=spec.WeightNorm,
        rows=["out" if output and not s.sparse else "in" for s in ctx.sources],
        compute=spec.Compute,
    )
    for projection in module.own_projections():
        init_weight_(projection.matrix(), spec.WeightInit.Scheme, spec.WeightInit.Scale)
    with torch.no_grad():
        module.bias.fill_(spec.WeightInit.Bias)
    return Built(module, out)
