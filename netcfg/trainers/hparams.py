"""The hyper-parameters a run logs (TensorBoard's hparams view, MLflow's params)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from netcfg.config.render import render_config
from netcfg.networks.spec import ModelSpec

__all__ = ["config_hparams"]


def config_hparams(
    spec: ModelSpec, shapes: Mapping[str, tuple[int, ...]] | None = None
) -> dict[str, bool | int | float | str]:
    """Every scalar of the rendered config, keyed by dotted path, layers by name
    (``Layers.Hidden.N``), for comparing and filtering runs.

    Numbers stay numbers and booleans booleans; a list of scalars is one string
    (``Evaluation.Metrics``: ``"RMSE,MAE"``); each DataSet gets ``Data.<name>.Source``: its
    Path, ``fetch:<name>`` or ``synthetic``.

    Args:
        spec: the run's config.
        shapes: each layer's output dimensions in the compiled network; a layer's ``N`` is
            then its width with ``auto`` resolved (``"AxB"`` for several dimensions).
    """
    rendered = render_config(spec)
    params: dict[str, Any] = {}
    for section, value in rendered.items():
        if section not in ("Layers", "Search"):
            params.update(_flat(section, value))
    for name, dataset in rendered.get("Data", {}).items():
        params[f"Data.{name}.Source"] = _source(dataset)
    for layer in rendered["Layers"]:
        name = layer["Name"]
        params.update(_flat(f"Layers.{name}", {k: v for k, v in layer.items() if k != "Name"}))
        dims = (shapes or {}).get(name)
        if dims is not None:
            params[f"Layers.{name}.N"] = dims[0] if len(dims) == 1 else "x".join(map(str, dims))
    return params


def _flat(prefix: str, value: Any) -> dict[str, Any]:
    """The scalars under ``value``, keyed by dotted path from ``prefix``."""
    if isinstance(value, dict):
        return {
            k: v for key, item in value.items() for k, v in _flat(f"{prefix}.{key}", item).items()
        }
    if isinstance(value, bool | int | float | str):
        return {prefix: value}
    if isinstance(value, list) and value and all(_scalar(item) for item in value):
        return {prefix: ",".join(_text(item) for item in value)}
    return {}


def _scalar(value: Any) -> bool:
    return isinstance(value, bool | int | float | str)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _source(dataset: dict[str, Any]) -> str:
    """Where a DataSet's data comes from (it has exactly one source), in one string."""
    if dataset.get("Path") is not None:
        return str(dataset["Path"])
    if dataset.get("Fetch") is not None:
        return f"fetch:{dataset['Fetch']}"
    return "synthetic"
