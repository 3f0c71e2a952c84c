"""The data of a run: each DataSet name bound to its opened, split source, rows aligned.

The trainer asks this object for what it feeds the network: the training matrices, and
for an evaluation part the inputs (the users' training rows, or the fold-in rows of
held-out users) and the targets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from netcfg.data.holdout import hold_out_validation
from netcfg.data.interactions import Interactions
from netcfg.data.source import open_source
from netcfg.data.splits import SplitSet
from netcfg.data.unseen import UnseenEntries
from netcfg.errors import ConfigError, DataError
from netcfg.networks.checks import check_bindings
from netcfg.networks.spec import ModelSpec
from netcfg.trainers.spec import HoldoutProtocol, HoldoutSpec

__all__ = ["RunData", "bind_data"]

EVALUATION_PARTS = ("validation", "test")


@dataclass
class RunData:
    """Opened data per DataSet name, and which DataSets feed inputs and targets.

    Attributes:
        splits: DataSet name -> its parts (``train``, ``validation``, ``test``, ...).
        inputs: DataSet names read by Input layers.
        targets: DataSet names of Output layers.
    """

    splits: dict[str, SplitSet]
    inputs: tuple[str, ...]
    targets: tuple[str, ...]

    def widths(self) -> dict[str, int]:
        """Columns of each DataSet (what ``"auto"`` layers take)."""
        return {name: split.train.shape[1] for name, split in self.splits.items()}

    def train(self) -> dict[str, Interactions]:
        """The training matrix of every DataSet the network reads or predicts."""
        return {name: self.splits[name].train for name in (*self.inputs, *self.targets)}

    def parts(self) -> list[str]:
        """The evaluation parts every target DataSet has, in the order validation, test."""
        return [
            p
            for p in EVALUATION_PARTS
            if all(p in self.splits[name].parts for name in self.targets)
        ]

    def evaluation(self, part: str) -> tuple[dict[str, Interactions], dict[str, Interactions]]:
        """Inputs and targets of an evaluation part, by DataSet name."""
        inputs = {}
        for name in self.inputs:
            parts = self.splits[name].parts
            inputs[name] = parts.get(f"{part}_input", parts["train"])
        targets = {name: self.splits[name].parts[part] for name in self.targets}
        return inputs, targets

    def unseen(self, part: str) -> UnseenEntries:
        """The entries of an evaluation part of the (first) target whose user or item has
        no training interaction."""
        split = self.splits[self.targets[0]]
        return split.unseen.get(part) or UnseenEntries.empty(split.train.values is None)

    def held_out(self) -> dict | None:
        """How the validation part was held out of the training part, if it was."""
        meta = self.splits[self.targets[0]].meta.get("validation")
        return meta if isinstance(meta, dict) and meta.get("held_out_of") else None

    def implicit(self) -> bool:
        """Whether the targets carry no values (implicit feedback)."""
        return all(self.splits[name].train.values is None for name in self.targets)


def bind_data(spec: ModelSpec, inputs: Iterable[str], targets: Iterable[str]) -> RunData:
    """Open every source bound under ``Data`` (each distinct source once).

    A target source without a validation part gets one held out of its training part, as
    ``Training.Validation`` says (`hold_out_validation`).

    Raises:
        ConfigError: a DataSet without a ``Data`` entry.
        DataError: unreadable data, or DataSets whose rows do not line up.
    """
    problems = check_bindings(spec)
    if problems:
        raise ConfigError(problems)
    targets = tuple(dict.fromkeys(targets))
    opened: dict[str, SplitSet] = {}
    splits = {}
    for name, source in spec.Data.items():
        key = source.model_dump_json()
        if key not in opened:
            opened[key] = open_source(source, name)
            if any(spec.Data[t].model_dump_json() == key for t in targets if t in spec.Data):
                opened[key] = _with_validation(opened[key], spec.Training.Validation)
        splits[name] = opened[key]
    data = RunData(splits, tuple(dict.fromkeys(inputs)), targets)
    _check_rows(data.train())
    return data


def _with_validation(split: SplitSet, holdout: HoldoutSpec) -> SplitSet:
    """The split, with a validation part held out of its training part if it has none."""
    if "validation" in split.parts or holdout.Protocol is HoldoutProtocol.none:
        return split
    held = hold_out_validation(
        split,
        holdout.Fraction,
        seed=holdout.Seed,
        per_user=holdout.Protocol is HoldoutProtocol.PerUser,
    )
    # data with one entry per row (a label per example) leaves nothing to hold out by user
    return held if held.parts["validation"].nnz else split


def _check_rows(matrices: Mapping[str, Interactions]) -> None:
    counts = {name: matrix.shape[0] for name, matrix in matrices.items()}
    if len(set(counts.values())) > 1:
        listing = ", ".join(f"{name}: {count:,}" for name, count in counts.items())
        raise DataError(f"the DataSets of a network must have the same rows; they have {listing}")
