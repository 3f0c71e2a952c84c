"""The hyper-parameters a run shows in TensorBoard's hparams view."""

from __future__ import annotations

from netcfg.config.render import render_config
from netcfg.networks.spec import ModelSpec

__all__ = ["config_hparams"]


def config_hparams(spec: ModelSpec) -> dict:
    """Every scalar of the rendered config (numbers kept as numbers) for TensorBoard's
    hparams view, keyed by dotted path, layers by name (``Layers.Hidden.N``)."""

    def flat(prefix: str, value) -> dict:
        if isinstance(value, dict):
            return {
                k: v
                for key, item in value.items()
                for k, v in flat(f"{prefix}.{key}", item).items()
            }
        if isinstance(value, int | float | str | bool):
            return {prefix: value}
        return {}

    rendered = render_config(spec)
    params = {}
    for section, value in rendered.items():
        if section not in ("Layers", "Search"):
            params.update(flat(section, value))
    for layer in rendered["Layers"]:
        params.update(flat(f"Layers.{layer['Name']}", layer))
    return params
