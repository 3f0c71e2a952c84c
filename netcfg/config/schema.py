"""The JSON Schema of the config language, for editors (``netcfg schema``)."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from netcfg.config.schema_dispatch import (
    dispatch_unions,
    key_pattern,
    selector,
    switch_on_type,
)
from netcfg.ensembles.spec import EnsembleSpec
from netcfg.networks.spec import ModelSpec
from netcfg.spec_base import case_insensitive_regex

__all__ = ["config_json_schema"]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

ENSEMBLE_KIND = "Ensemble"
"""The ``Kind`` that makes a config an ensemble (in any case, as the loader reads it)."""


def _any_of(node: Any) -> Any:
    """Replace ``oneOf`` by ``anyOf``: a value may fit several members."""
    if isinstance(node, dict):
        return {("anyOf" if k == "oneOf" else k): _any_of(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_any_of(item) for item in node]
    return node


def _ensemble_kind_any_case(ensemble: dict[str, Any]) -> None:
    """Let the ensemble's ``Kind`` be written in any case, as the loader reads it."""
    spelled = {"type": "string", "pattern": case_insensitive_regex([ENSEMBLE_KIND])}
    pattern = key_pattern(ensemble, "Kind")
    for holder, key in ((ensemble["properties"], "Kind"), (ensemble["patternProperties"], pattern)):
        kind = holder[key]
        holder[key] = {
            "description": kind["description"],
            "anyOf": [{"const": ENSEMBLE_KIND}, spelled],
        }


def config_json_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) accepting every config the loader accepts.

    Keys match case-insensitively and under DSSTNE's aliases (``patternProperties``),
    enum values likewise; every field carries a description. No key is required, since a
    config may inherit any of them through ``Extends``: missing keys are the loader's to
    report. Patterns are valid in ECMA-262 (unicode mode) as well as in Python.

    ``Kind: Ensemble`` selects the ensemble schema, anything else the network schema;
    tagged unions (layers, optimizers, ...) select their member by its tag, as the
    loader does, so a validator's error points at the key at fault.

    Example:
        >>> config_json_schema()["title"]
        'netcfg config'
    """
    models = [(ModelSpec, "validation"), (EnsembleSpec, "validation")]
    refs, generated = models_json_schema(models)
    defs = generated["$defs"]
    _ensemble_kind_any_case(defs[EnsembleSpec.__name__])
    roots = [ModelSpec, EnsembleSpec]
    defs = _any_of(dispatch_unions(defs, roots, defs))
    defs = switch_on_type(defs, defs)
    kind = key_pattern(defs[EnsembleSpec.__name__], "Kind")
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "netcfg config",
        "description": "A network description in DSSTNE's layer definition language, with "
        "netcfg's Training, Data, Evaluation and Extends sections; or an ensemble "
        "(Kind: Ensemble) of such configs.",
        "if": selector(kind, [ENSEMBLE_KIND]),
        "then": refs[(EnsembleSpec, "validation")],
        "else": refs[(ModelSpec, "validation")],
        "$defs": defs,
    }
