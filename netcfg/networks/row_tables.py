"""Item tables: the parameters of a network stored one row per column of a DataSet and, in
training, read only at the rows of the columns a batch holds.

A sparse Input's projection (one row per input feature) and a sampled Output's weight and
bias (one row per output unit, computed only at the target's stored entries) are such
tables, as is a rating baseline's column bias. A training step then computes the same
losses from the rows of the batch's columns alone, renumbered: this is what lets the
trainer split a table by rows across processes (`netcfg.trainers.sharding`). A DataSet
counts only when every use of its columns is understood; one that some layer reads
otherwise (a dense Output over every unit, a weight norm over all rows, a layer type with
no row layout) has no tables.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

__all__ = ["row_tables"]


def row_tables(network) -> dict[str, str]:
    """The item tables of a `netcfg.networks.Network`: parameter name -> DataSet.

    Example:
        For an autoencoder ``in -> h -> out`` on the DataSet ``r`` with a sparse target,
        ``{"layers.h.projections.0.weight": "r", "layers.out.projections.0.weight": "r",
        "layers.out.bias": "r"}``.
    """
    names = {id(p): n for n, p in network.named_parameters()}
    uses: dict[int, set[str | None]] = {}
    opaque: set[str] = set()
    for parameter, dataset, read in _uses(network):
        if parameter is None:
            opaque.add(read)
            continue
        uses.setdefault(id(parameter), set()).add(dataset)
        if dataset is None and read is not None:
            opaque.add(read)
    for datasets in uses.values():
        if len(datasets) > 1:  # a table of one DataSet read otherwise too
            opaque |= {d for d in datasets if d is not None}
    return {
        names[key]: dataset
        for key, (dataset,) in ((k, tuple(d)) for k, d in uses.items() if len(d) == 1)
        if dataset is not None and dataset not in opaque
    }


Use = tuple[nn.Parameter | None, str | None, str | None]
"""A parameter, the DataSet whose columns index its rows in this use (None: the use reads
otherwise), and the DataSet whose batch the use reads (None: none). A use without a
parameter marks that DataSet's batch as read in a way tables cannot follow."""


def _uses(network) -> Iterator[Use]:
    for name, layer in network.layers.items():
        if name in network.inputs:
            continue
        sources = network.sources[name]
        projections = getattr(layer, "projections", None)
        if projections is None:
            for source in sources:
                if source in network.inputs:
                    yield None, None, network.inputs[source]
            continue
        for source, projection in zip(sources, projections, strict=True):
            if source in network.inputs or name not in network.outputs:
                yield _input_use(network, layer, source, projection)
        if name in network.outputs:
            yield from _output_uses(network, name, layer, projections)
    baseline = network.baseline
    if baseline is not None:
        dataset = network.baseline_dataset
        sampled = all(_sampled(network, n) for n, d in network.outputs.items() if d == dataset)
        yield baseline.bias, dataset if sampled else None, dataset


def _stored(projection) -> nn.Parameter:
    """The parameter a connection reads (its own or its owner's)."""
    return projection.weight if hasattr(projection, "weight") else projection.owner.weight


def _input_use(network, layer, source: str, projection) -> Use:
    if source not in network.inputs:
        return _stored(projection), None, None
    dataset = network.inputs[source]
    weight = projection.row_weight("in")
    width = int(torch.Size(network.data_shape(source)).numel())
    if weight is None or weight.shape[0] != width or getattr(layer, "weight_norm", 0) > 0:
        return _stored(projection), None, dataset
    return weight, dataset, dataset


def _output_uses(network, name: str, layer, projections) -> Iterator[Use]:
    dataset = network.outputs[name]
    sampled = _sampled(network, name)
    for projection in projections:
        weight = projection.row_weight("out")
        if weight is None or not sampled:
            yield _stored(projection), None, dataset
        else:
            yield weight, dataset, dataset
    yield layer.bias, dataset if sampled else None, dataset


def _sampled(network, name: str) -> bool:
    """Whether training computes Output ``name`` at its target's stored entries only."""
    layer = network.layers[name]
    sources = network.sources[name]
    return (
        network.sampled(name)
        and hasattr(layer, "can_sample")
        and not any(s in network.inputs for s in sources)
        and layer.can_sample([torch.empty(0)] * len(sources))
    )
