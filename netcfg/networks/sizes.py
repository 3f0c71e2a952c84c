"""How big a layer may be: its width, and each weight matrix it owns.

A width such as ``N: 1000000000000`` is valid JSON and a valid integer, but its weights
would need terabytes. Widths the config states are checked when it is validated
(`size_issues`, from `netcfg.networks.checks`); ``"auto"`` widths, known only from
the data, are checked by compile (`size_problem`) before anything is allocated.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

from netcfg.errors import Issue
from netcfg.layers import FullyConnectedLayerSpec
from netcfg.layers.common import width_dims

__all__ = ["MAX_WEIGHT_VALUES", "size_issues", "size_problem"]

MAX_WEIGHT_VALUES = 2**31
"""Most values in one weight matrix, and most units in one layer: 2**31 (8.6 GB in
float32), past which torch's and Triton's 32-bit indexing of a matrix fails too."""

_FLOAT_BYTES = 4


def _gb(values: int) -> str:
    return f"{values * _FLOAT_BYTES / 1e9:,.1f} GB"


def size_problem(
    name: str, dims: tuple[int, ...], sources: Mapping[str, int], weighted: bool
) -> str | None:
    """What is too big about a layer, or None.

    Args:
        name: the layer's name.
        dims: its width (resolved).
        sources: the width of each source whose weights the layer owns (not shared).
        weighted: whether the layer has a weight matrix per source (FullyConnected).
    """
    units = math.prod(dims)
    if units > MAX_WEIGHT_VALUES:
        shown = "x".join(str(d) for d in dims)
        return (
            f"layer '{name}': N is {shown} = {units:,} units, whose outputs alone need "
            f"{units * _FLOAT_BYTES:,} bytes per example; the limit is 2**31 units per layer"
        )
    if not weighted:
        return None
    for source, width in sources.items():
        values = width * units
        if values > MAX_WEIGHT_VALUES:
            return (
                f"layer '{name}': its weights from '{source}' ({width:,} x {units:,} values) "
                f"need {values * _FLOAT_BYTES:,} bytes ({_gb(values)} in float32); the limit "
                f"is 2**31 values ({_gb(MAX_WEIGHT_VALUES)}) per weight matrix"
            )
    return None


def size_issues(spec) -> Iterator[Issue]:
    """A problem at ``N`` of every layer too big by the widths the config states
    (``"auto"`` widths and layers without N are left to compile)."""
    widths = {
        layer.Name: width_dims(layer.N)
        for layer in spec.Layers
        if getattr(layer, "N", None) not in (None, "auto")
    }
    for index, layer in enumerate(spec.Layers):
        dims = widths.get(layer.Name)
        if dims is None:
            continue
        weighted = isinstance(layer, FullyConnectedLayerSpec)
        owned = _owned_sources(layer) if weighted else ()
        sources = {s: math.prod(widths[s]) for s in owned if s in widths}
        problem = size_problem(layer.Name, dims, sources, weighted)
        if problem:
            yield Issue(("Layers", index, "N"), problem)


def _owned_sources(layer: FullyConnectedLayerSpec) -> list[str]:
    """The sources whose weights the layer owns: all but those using shared weights."""
    shared = {
        share.InputLayer or (layer.Source[0] if len(layer.Source) == 1 else None)
        for share in layer.SharedWeights
    }
    return [source for source in layer.Source if source not in shared]
