"""Walk the spec's type annotations alongside config data or pydantic error locations.

The loader needs to know, at any JSON path, which spec classes a mapping is checked
against (to canonicalize its keys, resolve ``--set`` paths, and turn pydantic's error
locations into JSON paths). These helpers answer that from the annotations alone.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from netcfg.spec_base import SpecBase, StringShorthand
from netcfg.spec_unions import UnionInfo, find_union

__all__ = ["Slot", "field_type", "slot_of", "spec_path"]


@functools.cache
def field_type(cls: type[SpecBase], name: str) -> Any:
    """The full annotation of a field, with its metadata (validators, discriminator).

    The same object every time, so that `slot_of` answers it from its cache.
    """
    info = cls.model_fields[name]
    return Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation


def _strip(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _is_spec(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, SpecBase)


@dataclass(frozen=True)
class Slot:
    """What an annotation expects at one place of the data.

    Attributes:
        models: spec classes a mapping here is checked against (several for a union).
        union: the tagged union, when there is one.
        items: annotation of the items, when a list or tuple is expected.
        values: annotation of the values, when a mapping with free keys is expected.
        shorthand: the key a bare string stands for, where one is accepted.
    """

    models: tuple[type[SpecBase], ...] = ()
    union: UnionInfo | None = None
    items: Any = None
    values: Any = None
    shorthand: str | None = None

    def field(self, name: str) -> Any:
        """Annotation of the field ``name`` in the first model that has it, else None."""
        for cls in self.models:
            if name in cls.model_fields:
                return field_type(cls, name)
        return None


_SLOTS: dict[int, tuple[Any, Slot]] = {}
"""id(annotation) -> (annotation, its slot); the annotation is kept so the id stays its own."""


def slot_of(annotation: Any) -> Slot:
    """Describe what ``annotation`` expects (empty `Slot` for plain values)."""
    known = _SLOTS.get(id(annotation))
    if known is not None and known[0] is annotation:
        return known[1]
    slot = _slot_of(annotation)
    if len(_SLOTS) < 10_000:  # annotations are a fixed set; the bound is only a guard
        _SLOTS[id(annotation)] = (annotation, slot)
    return slot


def _slot_of(annotation: Any) -> Slot:
    shorthand = next(
        (m.key for m in getattr(annotation, "__metadata__", ()) if isinstance(m, StringShorthand)),
        None,
    )
    union = find_union(annotation)
    if union is not None:
        return Slot(models=tuple(union.members.values()), union=union, shorthand=shorthand)
    bare = _strip(annotation)
    if _is_spec(bare):
        return Slot(models=(bare,), shorthand=shorthand)
    origin = get_origin(bare)
    if origin in (list, tuple):
        return Slot(items=get_args(bare)[0])
    if origin is dict:
        return Slot(values=get_args(bare)[1])
    if origin in (Union, types.UnionType):
        merged = Slot()
        for member in get_args(bare):
            slot = slot_of(member)
            merged = Slot(
                models=merged.models + slot.models,
                union=merged.union or slot.union,
                items=merged.items if merged.items is not None else slot.items,
                values=merged.values if merged.values is not None else slot.values,
            )
        return merged
    return Slot()


def spec_path(
    root: type[SpecBase], loc: Sequence[str | int]
) -> tuple[tuple[str | int, ...], str | None]:
    """Turn a pydantic error location into a JSON path, dropping union tag segments.

    Returns:
        The JSON path, and how messages name the member of the innermost tagged union
        passed (``"Input layers"``), or None.
    """
    path: list[str | int] = []
    member = None
    annotation: Any = root
    last = len(loc) - 1
    for position, part in enumerate(loc):
        slot = slot_of(annotation)
        if slot.union is not None and part in slot.union.members and not _is_field(slot, part):
            member = slot.union.describe.get(str(part), str(part))
            annotation = slot.union.members[part]
        elif slot.models:
            if _is_field(slot, part):
                path.append(part)
                annotation = slot.field(part)
            elif position == last:
                path.append(part)  # an unknown key (extra_forbidden)
        elif slot.items is not None and isinstance(part, int):
            path.append(part)
            annotation = slot.items
        elif slot.values is not None:
            path.append(part)
            annotation = slot.values
        elif isinstance(part, int):
            path.append(part)
    return tuple(path), member


def _is_field(slot: Slot, part: Any) -> bool:
    return isinstance(part, str) and any(part in m.model_fields for m in slot.models)
