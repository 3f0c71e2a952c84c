"""The data of a run: each DataSet name bound to its opened, split source, rows aligned.

The trainer asks this object for what it feeds the network: the training matrices, and
for an evaluation part the inputs (the users' training rows, or the fold-in rows of
held-out users) and the targets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from netcfg.data.interactions import Interactions
from netcfg.data.source import open_source
from netcfg.data.splits import SplitSet
from netcfg.errors import ConfigError, DataError
from netcfg.networks.checks import check_bindings
from netcfg.networks.spec import ModelSpec

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

    def implicit(self) -> bool:
        """Whether the targets carry no values (implicit feedback)."""
        return all(self.splits[name].train.values is None for name in self.targets)


def bind_data(spec: ModelSpec, inputs: Iterable[str], targets: Iterable[str]) -> RunData:
    """Open every source bound under ``Data`` (each distinct source once).

    Raises:
        ConfigError: a DataSet without a ``Data`` entry.
        DataError: unreadable data, or DataSets whose rows do not line up.
    """
    problems = check_bindings(spec)
    if problems:
        raise ConfigError(problems)
    opened: dict[str, SplitSet] = {}
    splits = {}
    for name, source in spec.Data.items():
        key = source.model_dump_json()
        if key not in opened:
            opened[key] = open_source(source)
        splits[name] = opened[key]
    data = RunData(splits, tuple(dict.fromkeys(inputs)), tuple(dict.fromkeys(targets)))
    _check_rows(data.train())
    return data


def _check_rows(matrices: Mapping[str, Interactions]) -> None:
    counts = {name: matrix.shape[0] for name, matrix in matrices.items()}
    if len(set(counts.values())) > 1:
        listing = ", ".join(f"{name}: {count:,}" for name, count in counts.items())
        raise DataError(f"the DataSets of a network must have the same rows; they have {listing}")
