"""The fully resolved config as JSON data (``netcfg render``)."""

from __future__ import annotations

from typing import Any

from netcfg.networks.spec import ModelSpec

__all__ = ["render_config"]


def render_config(spec: ModelSpec) -> dict[str, Any]:
    """The spec as JSON data: canonical spellings, every default filled, Extends applied.

    Loading the result again gives an equal spec.

    Example:
        >>> render_config(load_config("model.json"))["Layers"][0]["Kind"]
        'Input'
    """
    return spec.model_dump(mode="json", exclude_none=True)
