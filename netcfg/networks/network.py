"""The compiled network: runs its layers in graph order and computes its losses.

Inputs and targets are keyed by DataSet name, as layers name them; dense tensors and
sparse `SparseBatch` rows are both accepted. A `Network` returns the activations of its
Output layers and, when targets are given, every term of its training objective: the
trainer sums the terms without knowing what produced them.

An Output layer whose loss reads only the stored entries of a sparse target can compute
just those entries (`OutputMode`): the training step then costs in proportion to the
target's nonzeros instead of the catalogue size.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from netcfg.data.batch import SparseBatch
from netcfg.networks.baseline import RatingBaseline
from netcfg.networks.row_tables import row_tables

__all__ = ["Network", "NetworkOutput", "OutputMode"]


class OutputMode(str, enum.Enum):
    """What a forward pass with targets computes of the Output layers."""

    Dense = "dense"
    """Every output, differentiable (and every loss from them)."""
    Sparse = "sparse"
    """Output layers that can, compute their loss from the entries it reads only; their
    output is then a `SparseBatch` of the activations at the target's stored entries."""
    SparseLoss = "sparse_loss"
    """Losses as ``Sparse``, but every output is also returned dense and without gradient
    (re-feeding reads it)."""


@dataclass
class NetworkOutput:
    """What a forward pass produces.

    Attributes:
        outputs: activations of each Output layer, by layer name (a `SparseBatch` of the
            activations at the target's entries for a layer computed sparsely).
        losses: terms of the objective, by name: each Output layer's ErrorFunction (under
            the layer's name), penalties such as ``Hidden1.SparsenessPenalty``, and in
            training the terms a layer adds itself (``loss_terms``), such as ``Z.KL``.
    """

    outputs: dict[str, Tensor]
    losses: dict[str, Tensor] = field(default_factory=dict)

    @property
    def loss(self) -> Tensor:
        """The objective: the sum of the loss terms.

        Raises:
            ValueError: the forward pass had no targets, so there is no loss.
        """
        if not self.losses:
            raise ValueError(
                "no loss terms: the network was called without targets; call it as "
                "network(inputs, targets) to get a loss"
            )
        return torch.stack(list(self.losses.values())).sum()


torch.export.register_dataclass(NetworkOutput, serialized_type_name="netcfg.NetworkOutput")


def _dense(x: Tensor | SparseBatch) -> Tensor:
    return x.to_dense() if isinstance(x, SparseBatch) else x


class Network(nn.Module):
    """A graph of layers with named inputs, outputs and loss terms.

    Args:
        layers: module of each layer, by name. Input layers map a batch to a batch; other
            layers have ``preactivate(inputs, skips)`` and ``activate(z)``, and may have
            ``loss_terms(inputs)``: named terms of the objective, added in training.
        order: layer names in an order where every layer follows what it reads.
        sources: per computed layer, the names of its sources.
        skips: per computed layer, the names of its skip layers.
        inputs: per Input layer, the DataSet it reads.
        outputs: per Output layer, the DataSet of its targets.
        losses: per Output layer, its loss module ``(a, target, z=, weight=) -> scalar``.
        penalties: per layer, a penalty module ``(a) -> scalar`` (sparseness).
        shapes: per layer, the dimensions of its output for one example.
        baseline: a rating baseline around which the outputs on ``baseline_dataset`` are
            predicted (`RatingBaseline`); its row offsets come from that DataSet's input.
        baseline_dataset: the DataSet read and predicted relative to the baseline.
    """

    def __init__(
        self,
        layers: Mapping[str, nn.Module],
        *,
        order: Sequence[str],
        sources: Mapping[str, Sequence[str]],
        skips: Mapping[str, Sequence[str]],
        inputs: Mapping[str, str],
        outputs: Mapping[str, str],
        losses: Mapping[str, nn.Module],
        penalties: Mapping[str, nn.Module] | None = None,
        shapes: Mapping[str, tuple[int, ...]] | None = None,
        baseline: RatingBaseline | None = None,
        baseline_dataset: str | None = None,
    ):
        super().__init__()
        self.layers = nn.ModuleDict(layers)
        self.losses = nn.ModuleDict(losses)
        self.penalties = nn.ModuleDict(penalties or {})
        self.order = list(order)
        self.sources = {k: list(v) for k, v in sources.items()}
        self.skips = {k: list(v) for k, v in skips.items()}
        self.inputs = dict(inputs)
        self.outputs = dict(outputs)
        self.shapes = dict(shapes or {})
        self.baseline = baseline
        self.baseline_dataset = baseline_dataset
        self._read = {s for names in (*self.sources.values(), *self.skips.values()) for s in names}

    def data_shape(self, input_layer: str) -> tuple[int, ...]:
        """Dimensions of the data an Input layer reads: its own, or half its width when
        the baseline appends indicators to that data."""
        widened = self.baseline is not None and self.baseline.indicators
        if widened and self.inputs[input_layer] == self.baseline_dataset:
            return (self.shapes[input_layer][0] // 2,)
        return self.shapes[input_layer]

    def forward(
        self,
        inputs: Mapping[str, Tensor | SparseBatch] | Tensor | SparseBatch,
        targets: Mapping[str, Tensor | SparseBatch] | Tensor | SparseBatch | None = None,
        weights: Mapping[str, Tensor] | None = None,
        *,
        mode: OutputMode | str = OutputMode.Dense,
    ) -> NetworkOutput:
        """Run the network.

        Args:
            inputs: a batch for each DataSet read by an Input layer (a single batch, not
                in a mapping, when one DataSet feeds every Input layer).
            targets: a batch for each DataSet of an Output layer, to compute the losses
                (a single batch when the Output layers predict one DataSet).
            weights: optional per-example data weights, by target DataSet.
            mode: what to compute of the Output layers (`OutputMode`); without targets
                every output is dense.

        Returns:
            The outputs, and the loss terms when ``targets`` are given.
        """
        mode = OutputMode(mode)
        inputs = self._keyed(inputs, self.inputs, "inputs")
        if targets is not None:
            targets = self._keyed(targets, self.outputs, "targets")
        offsets = None
        if self.baseline is not None and self.baseline_dataset in inputs:
            inputs, targets, offsets = self._relative(inputs, targets)
        values: dict[str, Tensor | SparseBatch] = {}
        result = NetworkOutput(outputs={})
        for name in self.order:
            layer = self.layers[name]
            if name in self.inputs:
                values[name] = layer(self._batch(inputs, self.inputs[name], "Input", name))
                continue
            sources = [values[s] for s in self.sources[name]]
            skips = [_dense(values[s]) for s in self.skips.get(name, ())]
            target = self._sampled_target(name, sources, targets, mode)
            if target is not None:
                result.outputs[name], result.losses[name] = self._sampled_output(
                    name, sources, skips, target, weights, mode
                )
                continue
            z = layer.preactivate(sources, skips)
            a = layer.activate(z)
            values[name] = a
            if name in self.penalties and self.training:
                result.losses[f"{name}.SparsenessPenalty"] = self.penalties[name](a)
            terms = getattr(layer, "loss_terms", None)
            if terms is not None and self.training:
                for key, term in terms(sources).items():
                    result.losses[f"{name}.{key}"] = term
            if name in self.outputs:
                result.outputs[name] = a
                if targets is not None:
                    dataset = self.outputs[name]
                    exact_z = getattr(layer, "dropout", None) is None or not self.training
                    result.losses[name] = self.losses[name](
                        a,
                        self._batch(targets, dataset, "Output", name),
                        z=z if exact_z else None,
                        weight=(weights or {}).get(dataset),
                    )
        if offsets is not None:
            for name, dataset in self.outputs.items():
                if dataset == self.baseline_dataset and name in result.outputs:
                    result.outputs[name] = self.baseline.restore(result.outputs[name], offsets)
        return result

    def _relative(
        self,
        inputs: Mapping[str, Tensor | SparseBatch],
        targets: Mapping[str, Tensor | SparseBatch] | None,
    ) -> tuple[dict, dict | None, Tensor]:
        """Inputs and targets relative to the baseline, and the row offsets to add back."""
        name = self.baseline_dataset
        offsets = self.baseline.row_offsets(inputs[name])
        inputs = {**inputs, name: self.baseline.center(inputs[name])}
        if targets is not None and name in targets:
            targets = {**targets, name: self.baseline.residual(targets[name], offsets)}
        return inputs, targets, offsets

    def sampled(self, name: str, mode: OutputMode | str = OutputMode.Sparse) -> bool:
        """Whether Output layer ``name`` can be computed at its target's entries in ``mode``
        (given dense sources and a sparse target)."""
        layer = self.layers[name]
        return (
            OutputMode(mode) is not OutputMode.Dense
            and name in self.outputs
            and name not in self._read
            and self.losses[name].observed_only
            and hasattr(layer, "sample")
        )

    def _sampled_target(
        self,
        name: str,
        sources: Sequence[Tensor | SparseBatch],
        targets: Mapping[str, Tensor | SparseBatch] | None,
        mode: OutputMode,
    ) -> SparseBatch | None:
        if targets is None or not self.sampled(name, mode):
            return None
        target = self._batch(targets, self.outputs[name], "Output", name)
        if isinstance(target, SparseBatch) and self.layers[name].can_sample(sources):
            return target
        return None

    def _sampled_output(
        self,
        name: str,
        sources: Sequence[Tensor],
        skips: Sequence[Tensor],
        target: SparseBatch,
        weights: Mapping[str, Tensor] | None,
        mode: OutputMode,
    ) -> tuple[Tensor | SparseBatch, Tensor]:
        layer = self.layers[name]
        dense = None
        if mode is OutputMode.SparseLoss:
            with torch.no_grad():
                dense_z = layer.preactivate(sources, skips)
                dense = layer.activate(dense_z)
        z, a = layer.sample(
            sources, skips, target.offsets, target.indices, None if dense is None else dense_z
        )
        exact_z = getattr(layer, "dropout", None) is None or not self.training
        loss = self.losses[name].entry_loss(
            a,
            target,
            z=z if exact_z else None,
            weight=(weights or {}).get(self.outputs[name]),
        )
        return (target.with_values(a) if dense is None else dense), loss

    @staticmethod
    def _keyed(
        batches: Mapping[str, Tensor | SparseBatch] | Tensor | SparseBatch,
        datasets: Mapping[str, str],
        what: str,
    ) -> Mapping[str, Tensor | SparseBatch]:
        """``batches`` keyed by DataSet name: a lone batch stands for the only DataSet."""
        if not isinstance(batches, (Tensor, SparseBatch)):
            return batches
        names = sorted(set(datasets.values()))
        if len(names) != 1:
            raise TypeError(
                f"{what}: this network reads several DataSets ({', '.join(names)}); give "
                "a dict of batches by DataSet name"
            )
        return {names[0]: batches}

    @staticmethod
    def _batch(
        batches: Mapping[str, Tensor | SparseBatch], dataset: str, kind: str, layer: str
    ) -> Tensor | SparseBatch:
        try:
            return batches[dataset]
        except KeyError:
            raise KeyError(
                f"no batch for DataSet '{dataset}' ({kind} layer '{layer}'); "
                f"got {', '.join(sorted(batches)) or 'none'}"
            ) from None

    def loss_counts(self, targets: Mapping[str, Tensor | SparseBatch]) -> dict[str, float]:
        """What each output's loss term divides its sum by, for a batch of ``targets``
        (keyed by DataSet): its rows, or its observed entries for ``MaskedMSE``. The other
        loss terms (penalties, KL) are means over the batch's rows."""
        targets = self._keyed(targets, self.outputs, "targets")
        return {
            name: self.losses[name].count(self._batch(targets, dataset, "Output", name))
            for name, dataset in self.outputs.items()
        }

    def row_tables(self) -> dict[str, str]:
        """The parameters stored one row per column of a DataSet and read in training only
        at the batch's columns (`netcfg.networks.row_tables`): name -> DataSet. A trainer
        may split them by rows across processes."""
        return row_tables(self)

    @torch.no_grad()
    def apply_constraints(self) -> None:
        """Enforce weight constraints (``WeightNorm``); call after each optimizer step."""
        for layer in self.layers.values():
            apply = getattr(layer, "apply_weight_norm_", None)
            if apply is not None:
                apply()
