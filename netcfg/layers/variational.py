"""Variational layers: a reparameterised Gaussian sample, and its KL term with annealing.

A ``Variational`` layer reads the parameters of a diagonal Gaussian q(z|x) = N(mu, sigma^2)
from its sources and passes on ``z = mu + sigma * eps`` (eps ~ N(0, I)) in training and
``mu`` at evaluation, so predictions and exports are deterministic. Its sources are either
one layer of width 2k (the first k units are mu, the last k the log-variance) or two layers
of width k (mu, then the log-variance); the layer is k wide.

It contributes ``beta * KL(q(z|x) || N(0, I))``, averaged over the batch, to the training
objective (`Variational.loss_terms`). beta grows linearly with the number of updates,
``beta = min(Cap, updates / AnnealSteps)``, as in Liang et al., "Variational Autoencoders
for Collaborative Filtering" (WWW 2018), whose defaults are taken (cap 0.2 over 200,000
updates); ``AnnealSteps: 0`` holds beta at Cap. The module counts its updates in a buffer,
so checkpoints and resumed runs keep the schedule.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from pydantic import field_validator
from torch import Tensor, nn

from netcfg.data.batch import SparseBatch
from netcfg.layers.activated import ActivatedLayer, add_skips
from netcfg.layers.activations import ActivationKind, ActivationName
from netcfg.layers.common import LayerKind, LayerType, LayerTypeName, Width
from netcfg.layers.computed import ComputedLayerSpec, activation_modules, check_skip_widths
from netcfg.layers.registry import BuildContext, Built, Shape, register_layer
from netcfg.spec_base import SpecBase, spec_error, spec_field

__all__ = [
    "KLSpec",
    "Variational",
    "VariationalLayerSpec",
    "build_variational",
    "gaussian_kl",
]


class KLSpec(SpecBase):
    """The weight beta of the KL term and its linear annealing."""

    Cap: float = spec_field(
        0.2, ge=0.0, description="Largest beta (Liang et al.: 0.2; 1 is the plain ELBO)."
    )
    AnnealSteps: int = spec_field(
        200000,
        ge=0,
        description="Updates over which beta grows linearly from 0 (beta = min(Cap, "
        "updates / AnnealSteps)); 0: beta is Cap from the first update.",
    )


class VariationalLayerSpec(ComputedLayerSpec):
    """A Hidden layer sampling a diagonal Gaussian whose mean and log-variance it reads."""

    Type: LayerTypeName = spec_field(LayerType.Variational, description="Variational.")
    N: Width | None = spec_field(
        None,
        description="Width k of the sample; derived from the sources: half the width of "
        "one source (mean and log-variance side by side), or the width of two (mean, "
        "log-variance).",
    )
    Activation: ActivationName = spec_field(
        ActivationKind.Linear,
        description="Activation applied to the sample (default Linear for Variational).",
    )
    KL: KLSpec = spec_field(
        KLSpec(), description="Weight of the KL term: Cap and AnnealSteps of its annealing."
    )

    @field_validator("Kind")
    @classmethod
    def _hidden_only(cls, kind: LayerKind) -> LayerKind:
        if kind is not LayerKind.Hidden:
            raise spec_error(
                f"a Variational layer must be Hidden (got Kind '{kind.value}'); follow it "
                "with a decoder and an Output layer"
            )
        return kind

    @field_validator("Source")
    @classmethod
    def _one_or_two_sources(cls, sources: tuple[str, ...]) -> tuple[str, ...]:
        if len(sources) > 2:
            raise spec_error(
                f"a Variational layer reads 1 source (mean and log-variance side by side) or "
                f"2 (mean, log-variance), not {len(sources)}"
            )
        return sources


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """``KL(N(mu, exp(logvar)) || N(0, I))`` of each row: ``0.5 * sum(exp(lv) + mu^2 - 1 - lv)``.

    Example:
        >>> gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 3))
        tensor([0., 0.])
    """
    return 0.5 * (logvar.exp() + mu.square() - 1.0 - logvar).sum(dim=1)


class Variational(ActivatedLayer):
    """A reparameterised Gaussian sample; the KL term of its mean and log-variance.

    Args:
        latent: width k of the sample.
        cap: the largest weight beta of the KL term.
        anneal_steps: updates over which beta grows linearly to ``cap`` (0: always ``cap``).
        activation: module applied to the sample (default identity).
        dropout: module applied after the activation in training (default none).

    The buffer ``updates`` counts the calls of `loss_terms` in training mode with gradients
    enabled: one per update when the loss is built once per update.

    Example:
        >>> layer = Variational(2, cap=1.0, anneal_steps=0).eval()
        >>> layer([torch.tensor([[1.0, 2.0, 0.0, 0.0]])])
        tensor([[1., 2.]])
    """

    def __init__(
        self,
        latent: int,
        *,
        cap: float = 0.2,
        anneal_steps: int = 200000,
        activation: nn.Module | None = None,
        dropout: nn.Module | None = None,
    ):
        super().__init__()
        if cap < 0 or anneal_steps < 0:
            raise ValueError(f"cap and anneal_steps must be >= 0, got {cap}, {anneal_steps}")
        self.latent = latent
        self.cap = cap
        self.anneal_steps = anneal_steps
        self.activation = activation if activation is not None else nn.Identity()
        self.dropout = dropout
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))

    def beta(self) -> float:
        """The weight of the KL term at the current update count."""
        if self.anneal_steps == 0:
            return self.cap
        return min(self.cap, int(self.updates) / self.anneal_steps)

    def parameters_of(self, inputs: Sequence[Tensor | SparseBatch]) -> tuple[Tensor, Tensor]:
        """The mean and log-variance the sources hold, [B, k] each."""
        dense = [x.to_dense() if isinstance(x, SparseBatch) else x.flatten(1) for x in inputs]
        if len(dense) == 1:
            mu, logvar = dense[0].split(self.latent, dim=1)
        else:
            mu, logvar = dense
        if mu.shape[1] != self.latent or logvar.shape[1] != self.latent:
            raise ValueError(
                f"expected a mean and a log-variance of width {self.latent}, got "
                f"{mu.shape[1]} and {logvar.shape[1]}"
            )
        return mu, logvar

    def preactivate(
        self, inputs: Sequence[Tensor | SparseBatch], skips: Sequence[Tensor] = ()
    ) -> Tensor:
        """A sample ``mu + exp(logvar / 2) * eps`` in training, ``mu`` otherwise; plus skips."""
        mu, logvar = self.parameters_of(inputs)
        z = mu + (0.5 * logvar).exp() * torch.randn_like(mu) if self.training else mu
        return add_skips(z, skips)

    def loss_terms(self, inputs: Sequence[Tensor | SparseBatch]) -> dict[str, Tensor]:
        """``{"KL": beta * mean over the batch of the KL}``; counts an update in training.

        beta is read before the count grows, so the first update has ``beta = 0`` when
        annealing (as Liang et al.'s code).
        """
        mu, logvar = self.parameters_of(inputs)
        term = self.beta() * gaussian_kl(mu, logvar).mean()
        if self.training and torch.is_grad_enabled():
            self.updates += 1
        return {"KL": term}

    def extra_repr(self) -> str:
        return f"latent={self.latent}, cap={self.cap}, anneal_steps={self.anneal_steps}"


@register_layer("Variational")
def build_variational(spec: VariationalLayerSpec, ctx: BuildContext) -> Built:
    """Build a `Variational` module; its width comes from its sources' widths."""
    sizes = [shape.size for shape in ctx.sources]
    if len(sizes) == 1 and sizes[0] % 2:
        raise ctx.error(
            f"a Variational layer with one source reads its mean and log-variance side by "
            f"side, so the source must have an even width (got {sizes[0]})",
            "Source",
        )
    if len(sizes) == 2 and sizes[0] != sizes[1]:
        raise ctx.error(
            f"the mean and log-variance sources of a Variational layer must have equal "
            f"widths (got {sizes[0]} and {sizes[1]})",
            "Source",
        )
    out = Shape((sizes[0] // 2 if len(sizes) == 1 else sizes[0],))
    if ctx.dims is not None and ctx.dims != out.dims:
        raise ctx.error(
            f"this Variational layer's sources give it N = {out.size}, not "
            f"{'x'.join(map(str, ctx.dims))}",
            "N",
        )
    check_skip_widths(spec, ctx, out)
    activation, dropout = activation_modules(spec)
    module = Variational(
        out.size,
        cap=spec.KL.Cap,
        anneal_steps=spec.KL.AnnealSteps,
        activation=activation,
        dropout=dropout,
    )
    return Built(module, out)
