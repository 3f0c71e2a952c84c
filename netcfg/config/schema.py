"""The JSON Schema of the config language, for editors (``netcfg schema``)."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from netcfg.ensembles.spec import EnsembleSpec
from netcfg.networks.spec import ModelSpec

__all__ = ["config_json_schema"]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _any_of(node: Any) -> Any:
    """Replace ``oneOf`` by ``anyOf``: a layer without Kind may fit several members."""
    if isinstance(node, dict):
        return {("anyOf" if k == "oneOf" else k): _any_of(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_any_of(item) for item in node]
    return node


def config_json_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) accepting every config the loader accepts.

    Keys match case-insensitively and under DSSTNE's aliases (``patternProperties``),
    enum values likewise; every field carries a description. No key is required, since a
    config may inherit any of them through ``Extends``: missing keys are the loader's to
    report.

    Example:
        >>> config_json_schema()["title"]
        'netcfg config'
    """
    models = [(ModelSpec, "validation"), (EnsembleSpec, "validation")]
    refs, defs = models_json_schema(models)
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "netcfg config",
        "description": "A network description in DSSTNE's layer definition language, with "
        "netcfg's Training, Data, Evaluation and Extends sections; or an ensemble "
        "(Kind: Ensemble) of such configs.",
        "anyOf": [refs[model] for model in models],
        **_any_of(defs),
    }
