"""The layer table that ``netcfg validate`` prints (and training logs)."""

from __future__ import annotations

from netcfg.networks.network import Network
from netcfg.networks.spec import ModelSpec
from netcfg.tables import table_text

__all__ = ["format_table", "layer_rows"]

HEADER = ("Layer", "Kind", "Type", "Output shape", "Activation", "Params")


def _activation(layer) -> str:
    activation = getattr(layer, "Activation", None)
    if activation is None:
        text = "-"
    else:
        text = activation.value
    dropout = getattr(layer, "pDropout", 0.0)
    return f"{text}, dropout {dropout:g}" if dropout else text


def _shape(layer, dims: tuple[int, ...] | None) -> str:
    if dims is None:
        n = getattr(layer, "N", None)
        return "auto" if n == "auto" else "?"
    text = "x".join(str(d) for d in dims)
    sparse_input = getattr(layer, "Sparse", False) and layer.Kind.value == "Input"
    return f"{text} sparse" if sparse_input else text


def layer_rows(spec: ModelSpec, network: Network | None = None) -> list[tuple[str, ...]]:
    """One row per layer: name, kind, type, output shape, activation, parameter count.

    Without a compiled ``network`` (widths unknown) shapes are symbolic, counts ``?``.
    """
    rows = []
    for layer in spec.Layers:
        module = network.layers[layer.Name] if network is not None else None
        dims = network.shapes.get(layer.Name) if network is not None else None
        count = "?" if module is None else f"{sum(p.numel() for p in module.parameters()):,}"
        rows.append(
            (
                layer.Name,
                layer.Kind.value,
                getattr(layer, "Type", None).value,
                _shape(layer, dims),
                _activation(layer),
                count,
            )
        )
    return rows


def format_table(rows: list[tuple[str, ...]], total: int | None) -> str:
    """The rows under the header (parameter counts aligned right), then the total parameter
    count when known."""
    text = table_text(HEADER, rows, right={len(HEADER) - 1})
    return text if total is None else f"{text}\nTotal parameters: {total:,}"
