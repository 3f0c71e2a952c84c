"""The ``RBM`` section of a config, and what an RBM network asks of the rest of it.

``Kind: "RBM"`` makes the network a restricted Boltzmann machine for collaborative
filtering (Salakhutdinov, Mnih and Hinton, ICML 2007; `netcfg.networks.rbm`). Its layers
are written as for any network, three of them: an Input reading the ratings (the visible
units of the rows' rated columns, one softmax over the rating ``Levels`` each), a Hidden
layer (its N binary units; Sigmoid: their probabilities) and an Output on the Input's
DataSet (the expected rating of every column). The ``RBM`` section gives the rating levels
and the contrastive-divergence schedule; ``Training.Optimizer`` applies the update (the
paper's rule is ``{"Type": "Momentum", "Mu": 0.9, "WeightDecay": ...}``: v = mu v - lr
(g + lambda w), w += v, biases not decayed).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import Any

from pydantic import PositiveInt, model_validator

from netcfg.layers.activations import ActivationKind
from netcfg.layers.common import LayerKind, LayerType
from netcfg.spec_base import SpecBase, spec_error, spec_field, tuple_of

__all__ = ["ContrastiveDivergenceSpec", "RBMSpec", "cd_steps", "rbm_problems"]

ALLOWED_LAYER_KEYS = {
    LayerKind.Input: {"Name", "Kind", "Type", "N", "DataSet", "Sparse", "Compute"},
    LayerKind.Hidden: {
        *("Name", "Kind", "Type", "N", "Source", "Activation", "WeightInit"),
        *("RELUSlope", "ELUAlpha", "SELULambda", "ActivationMax"),  # unused by Sigmoid
    },
    LayerKind.Output: {
        *("Name", "Kind", "Type", "N", "DataSet", "Sparse", "Source", "Activation"),
        *("RELUSlope", "ELUAlpha", "SELULambda", "ActivationMax", "Compute"),
    },
}
"""Layer keys an RBM reads or ignores; any other key must keep its default."""

LAYOUT = (
    "an RBM has three layers: an Input on the ratings, a Hidden layer of N units reading it, "
    "and an Output on the Input's DataSet reading the Hidden layer"
)


class ContrastiveDivergenceSpec(SpecBase):
    """CD-T: T Gibbs steps per update, T growing at epoch milestones (the paper: 1 to 9)."""

    Steps: tuple_of(PositiveInt) = spec_field(
        (1,),
        description="Gibbs steps T of each stage, in order (e.g. [1, 3, 5, 9]).",
    )
    Milestones: tuple_of(PositiveInt) = spec_field(
        (),
        description="Epochs after which T moves to the next of Steps, increasing; one fewer "
        "than Steps (e.g. [20, 30, 40]: CD-1 for epochs 1-20, CD-3 for 21-30, ...).",
    )

    @model_validator(mode="after")
    def _stages(self) -> ContrastiveDivergenceSpec:
        if len(self.Milestones) != len(self.Steps) - 1:
            raise spec_error(
                f"Milestones must hold one epoch fewer than Steps: {len(self.Steps)} Steps "
                f"need {len(self.Steps) - 1} Milestones (got {len(self.Milestones)})"
            )
        if any(b <= a for a, b in zip(self.Milestones, self.Milestones[1:], strict=False)):
            raise spec_error(f"Milestones must increase (got {list(self.Milestones)})")
        return self


class RBMSpec(SpecBase):
    """The rating levels of the visible units and the contrastive-divergence schedule."""

    Levels: tuple_of(float) = spec_field(
        (1.0, 2.0, 3.0, 4.0, 5.0),
        description="The rating values, increasing: each visible unit is a softmax over "
        "them (default 1 to 5). Every training rating must be one of them.",
    )
    CD: ContrastiveDivergenceSpec = spec_field(
        ContrastiveDivergenceSpec(),
        description="Contrastive divergence: Gibbs Steps and the Milestones where they "
        "change (default CD-1 throughout).",
    )

    @model_validator(mode="after")
    def _levels(self) -> RBMSpec:
        levels = self.Levels
        if len(levels) < 2 or any(b <= a for a, b in zip(levels, levels[1:], strict=False)):
            raise spec_error(
                f"Levels must hold at least two increasing ratings (got {list(levels)})"
            )
        return self


def cd_steps(schedule: ContrastiveDivergenceSpec, epoch: int) -> int:
    """The Gibbs steps T of an update in epoch ``epoch`` (0-based: epochs done before it)."""
    return schedule.Steps[bisect.bisect_right(schedule.Milestones, epoch)]


def rbm_problems(spec: Any) -> Iterator[tuple[tuple, str]]:
    """Each ``(JSON path, message)`` of a ModelSpec that states an RBM wrongly.

    None unless the spec is ``Kind: "RBM"`` or has an ``RBM`` section.
    """
    is_rbm = getattr(spec.Kind, "value", spec.Kind) == "RBM"
    if not is_rbm:
        if spec.RBM is not None:
            yield ("RBM",), 'the RBM section applies to Kind "RBM" only; set Kind or remove it'
        return
    yield from _layout(spec.Layers)
    if spec.Baseline is not None:
        yield ("Baseline",), "an RBM has no Baseline: its visible biases model each item"
    if spec.Denoising.p > 0:
        yield ("Denoising", "p"), "an RBM is not trained by denoising; remove Denoising"
    if spec.Training.RefeedSteps:
        yield ("Training", "RefeedSteps"), "re-feeding does not apply to an RBM; set it to 0"
    if spec.Training.Precision.value == "fp16":
        yield (
            ("Training", "Precision"),
            "an RBM estimates its own gradients, which fp16 loss scaling cannot scale; "
            "use fp32 or bf16",
        )


def _layout(layers) -> Iterator[tuple[tuple, str]]:
    kinds = [layer.Kind for layer in layers]
    if kinds != [LayerKind.Input, LayerKind.Hidden, LayerKind.Output]:
        found = ", ".join(kind.value for kind in kinds)
        yield ("Layers",), f"{LAYOUT} (found {found})"
        return
    visible, hidden, output = layers
    for index, layer in enumerate(layers):
        yield from _unused_keys(index, layer)
    if hidden.Type is not LayerType.FullyConnected or hidden.Source != (visible.Name,):
        yield ("Layers", 1), f"{LAYOUT}: a FullyConnected layer with Source '{visible.Name}'"
    elif hidden.Activation is not ActivationKind.Sigmoid:
        yield (
            ("Layers", 1, "Activation"),
            f"an RBM's hidden units are binary, with Sigmoid probabilities (got "
            f"{hidden.Activation.value})",
        )
    if output.Type is not LayerType.FullyConnected or output.Source != (hidden.Name,):
        yield ("Layers", 2), f"{LAYOUT}: a FullyConnected layer with Source '{hidden.Name}'"
    elif output.DataSet != visible.DataSet:
        yield (
            ("Layers", 2, "DataSet"),
            f"an RBM predicts the ratings it reads: DataSet must be '{visible.DataSet}' "
            f"(got '{output.DataSet}')",
        )


def _unused_keys(index: int, layer) -> Iterator[tuple[tuple, str]]:
    allowed = ALLOWED_LAYER_KEYS[layer.Kind]
    for key, field in type(layer).model_fields.items():
        if key not in allowed and getattr(layer, key) != field.default:
            yield (
                ("Layers", index, key),
                f"'{key}' does not apply to an RBM's {layer.Kind.value} layer; remove it",
            )
