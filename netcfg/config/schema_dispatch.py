"""Rewrites of the generated JSON Schema so that a validator reports a mistake where it is.

pydantic describes a tagged union (layers, optimizers, schedules, ...) as a ``oneOf`` of
its members, and a field taking several JSON types (a string shorthand or an object; one
item or a list) as an ``anyOf``. A validator then tries every branch, and its best guess
at the error is often a branch the user never meant (``{...} is not of type 'string'``).
Here each union becomes a chain of ``if``/``then``/``else`` that picks its member the way
the loader does, by the tag the object carries, and each ``anyOf`` whose branches take
different JSON types becomes a chain on the instance's type: only the branch that applies
is checked, so its error names the key at fault.

Everything is derived from the specs: the unions are found by walking the fields of the
root specs, and how a union reads its tag is learnt by asking its ``tag_of`` about each
spelling of each enum-valued key of its members.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, get_args

from pydantic import BaseModel, Discriminator

from netcfg.spec_base import case_insensitive_regex
from netcfg.spec_unions import UnionInfo, union_by_discriminator

__all__ = ["dispatch_unions", "has_key", "key_pattern", "selector", "switch_on_type"]

Schema = dict[str, Any]


def key_pattern(definition: Schema, key: str) -> str | None:
    """The ``patternProperties`` regex of ``definition`` that accepts ``key``, if any."""
    return next((p for p in definition.get("patternProperties", {}) if re.fullmatch(p, key)), None)


def has_key(pattern: str) -> Schema:
    """A schema true of an object with a key that matches ``pattern``."""
    return {"not": {"propertyNames": {"not": {"pattern": pattern}}}}


def selector(pattern: str, spellings: list[str]) -> Schema:
    """A schema true of an object whose key matching ``pattern`` holds one of ``spellings``
    (in any case)."""
    value = {"type": "string", "pattern": case_insensitive_regex(spellings)}
    return {"type": "object", **has_key(pattern), "patternProperties": {pattern: value}}


def _unions_and_models(annotation: Any) -> Iterator[UnionInfo | type[BaseModel]]:
    if isinstance(annotation, Discriminator) and callable(annotation.discriminator):
        info = union_by_discriminator(annotation.discriminator.__name__)
        if info is not None:
            yield info
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    else:
        for arg in get_args(annotation):
            yield from _unions_and_models(arg)


def _spec_unions(roots: list[type[BaseModel]]) -> list[UnionInfo]:
    """Every tagged union reachable from the fields of ``roots``."""
    unions: dict[str, UnionInfo] = {}
    seen: set[type[BaseModel]] = set()
    todo = list(roots)
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for field in model.model_fields.values():
            for annotation in (field.annotation, *field.metadata):
                for found in _unions_and_models(annotation):
                    if isinstance(found, UnionInfo):
                        unions[found.name] = found
                        todo.extend(found.members.values())
                    else:
                        todo.append(found)
    return list(unions.values())


def _spellings(prop: Schema) -> list[str]:
    """The string values an enum-like property schema lists (``spec_enum``, Literal)."""
    for branch in [prop, prop.get("else", {}), *prop.get("anyOf", [])]:
        if "enum" in branch:
            return [v for v in branch["enum"] if isinstance(v, str)]
        if isinstance(branch.get("const"), str):
            return [branch["const"]]
    return []


def _tag(info: UnionInfo, mapping: dict[str, Any]) -> str | None:
    try:
        tag = info.tag_of(mapping)
    except Exception:  # noqa: BLE001 - a probe the union refuses selects nothing
        return None
    return tag if tag in info.members else None


class _Union:
    """One union's members as schema definitions, and how its tag is read."""

    def __init__(self, info: UnionInfo, defs: dict[str, Schema]):
        self.info = info
        self.names = {tag: cls.__name__ for tag, cls in info.members.items()}
        self.defs = {tag: defs[name] for tag, name in self.names.items()}
        self.default = _tag(info, {})

    def ref(self, tag: str) -> Schema:
        return {"$ref": f"#/$defs/{self.names[tag]}"}

    def key_schema(self, key: str) -> tuple[str, Schema] | None:
        """The pattern of ``key`` and the schema of its value, from the first member that
        has it (the default member first)."""
        order = sorted(self.defs, key=lambda tag: tag != self.default)
        for tag in order:
            definition = self.defs[tag]
            pattern = key_pattern(definition, key)
            if pattern is not None:
                return pattern, definition["patternProperties"][pattern]
        return None

    def selectors(self) -> list[tuple[Schema, str]]:
        """``(condition, tag)`` in the order the union reads them: keys that override
        the tag key first, then the tag key, then keys that apply when it is absent."""
        key = self.info.key
        first, by_tag, last = [], [], []
        tag_spellings = _spellings(self.key_schema(key)[1]) if self.key_schema(key) else []
        chosen: dict[tuple[str, str], list[str]] = {}
        for name in sorted({n for d in self.defs.values() for n in d.get("properties", {})}):
            found = self.key_schema(name)
            if found is None:
                continue
            for spelling in _spellings(found[1]):
                tag = _tag(self.info, {name: spelling})
                if tag is not None and (name == key or tag != self.default):
                    chosen.setdefault((name, tag), []).append(spelling)
        for (name, tag), spellings in chosen.items():
            condition = (selector(self.key_schema(name)[0], spellings), tag)
            if name == key:
                by_tag.append(condition)
            elif any(_tag(self.info, {name: spellings[0], key: s}) == tag for s in tag_spellings):
                first.append(condition)
            else:
                last.append(condition)
        by_tag.sort(key=lambda item: list(self.defs).index(item[1]))
        return first + by_tag + last

    def dispatch(self) -> Schema:
        """The chain of ``if``/``then``/``else`` picking this union's member."""
        key = self.info.key
        found = self.key_schema(key)
        if self.default is not None:
            absent: Schema = self.ref(self.default)
        else:
            absent = {"type": "object", "required": [key]}
        node = absent
        if found is not None:
            pattern, value = found
            invalid = {"type": "object", "patternProperties": {pattern: value}}
            node = {"if": has_key(pattern), "then": invalid, "else": absent}
        for condition, tag in reversed(self.selectors()):
            node = {"if": condition, "then": self.ref(tag), "else": node}
        return node

    def shorthand(self) -> Schema | None:
        """The schema of the bare-string form (the tag alone), for a union that has one."""
        found = self.key_schema(self.info.key)
        return {k: v for k, v in found[1].items() if k != "default"} if found else None


def dispatch_unions(schema: Any, roots: list[type[BaseModel]], defs: dict[str, Schema]) -> Any:
    """``schema`` with every union ``oneOf`` of the specs reachable from ``roots``
    replaced by its dispatch, and a plain ``{"type": "string"}`` beside a union that
    takes a string shorthand narrowed to the tag's spellings."""
    unions = {}
    for info in _spec_unions(roots):
        union = _Union(info, defs)
        unions[frozenset(f"#/$defs/{n}" for n in union.names.values())] = union

    def union_of(node: Any) -> _Union | None:
        if isinstance(node, dict) and isinstance(node.get("oneOf"), list):
            refs = frozenset(item.get("$ref") for item in node["oneOf"])
            return unions.get(refs)
        return None

    def rewrite(node: Any) -> Any:
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        if not isinstance(node, dict):
            return node
        union = union_of(node)
        if union is not None:
            rest = {k: rewrite(v) for k, v in node.items() if k != "oneOf"}
            return {**rest, **union.dispatch()}
        branches = node.get("anyOf")
        if isinstance(branches, list) and {"type": "string"} in branches:
            shorthands = [u.shorthand() for u in map(union_of, branches) if u and u.info.shorthand]
            if len(shorthands) == 1 and shorthands[0] is not None:
                node = {
                    **node,
                    "anyOf": [shorthands[0] if b == {"type": "string"} else b for b in branches],
                }
        return {k: rewrite(v) for k, v in node.items()}

    return rewrite(schema)


def _types(node: Any, defs: dict[str, Schema]) -> frozenset[str] | None:
    """The JSON types ``node`` can accept, when evident (None: unknown, any)."""
    if not isinstance(node, dict):
        return None
    if isinstance(node.get("type"), str):
        return frozenset([node["type"]])
    if isinstance(node.get("type"), list):
        return frozenset(node["type"])
    if isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/$defs/"):
        return _types(defs.get(node["$ref"].removeprefix("#/$defs/")), defs)
    values = node.get("enum", [node["const"]] if "const" in node else None)
    if values is not None:
        return frozenset(_json_type(v) for v in values)
    if "if" in node and "then" in node and "else" in node:
        branches = [node["then"], node["else"]]
    else:
        branches = node.get("anyOf")
    if isinstance(branches, list):
        types = [_types(b, defs) for b in branches]
        return None if None in types else frozenset().union(*types)
    return None


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if value is None:
        return "null"
    return {str: "string", list: "array", dict: "object"}.get(type(value), "object")


def _widened(types: frozenset[str]) -> frozenset[str]:
    return (
        types | {"number"}
        if "integer" in types
        else types | {"integer"}
        if "number" in types
        else types
    )


def switch_on_type(schema: Any, defs: dict[str, Schema]) -> Any:
    """``schema`` with each ``anyOf`` whose branches take different JSON types replaced by
    a chain on the instance's type; an instance of none of them is told the types it may
    have. Nested ones are rewritten first."""

    def rewrite(node: Any) -> Any:
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {k: rewrite(v) for k, v in node.items()}
        branches = node.get("anyOf")
        if not isinstance(branches, list) or len(branches) < 2 or "if" in node:
            return node
        types = [_types(b, defs) for b in branches]
        if None in types or any(
            _widened(a) & b for i, a in enumerate(types) for b in types[i + 1 :]
        ):
            return node
        chain: Schema = {"type": sorted(frozenset().union(*types))}
        for branch, accepted in reversed(list(zip(branches, types, strict=True))):
            chain = {"if": {"type": sorted(accepted)}, "then": branch, "else": chain}
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        return {**rest, **chain}

    return rewrite(schema)
