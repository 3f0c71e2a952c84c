"""``Extends``: a config built on another one, by deep merge.

Objects merge key by key, the extending config winning; arrays and plain values are
replaced, except ``Layers``, which merge by ``Name``: a layer whose name the base has is
merged into that layer, a new one is inserted after the layer that precedes it in the
extending config. An object whose union tag changes (a different Optimizer ``Type``, say)
is replaced, not merged, so keys of the old choice do not leak into the new one. A data
source entry that gives a new source (Path, Fetch or Synthetic) replaces the inherited
source and keeps its treatment (`netcfg.config.data_sources`).
"""

from __future__ import annotations

from typing import Any

from netcfg.config.data_sources import gives_source, is_data_source, replace_source
from netcfg.config.navigate import slot_of
from netcfg.config.overrides import located
from netcfg.config.tree import LocDict, LocList

__all__ = ["merge_configs"]


def merge_configs(base: Any, child: Any, annotation: Any) -> Any:
    """Deep-merge ``child`` over ``base`` (located, canonical trees) at ``annotation``.

    Example:
        >>> merged = merge_configs(base_tree, child_tree, ModelSpec)
    """
    if is_data_source(annotation) and gives_source(child):
        return replace_source(base, child)
    slot = slot_of(annotation)
    if isinstance(child, LocDict) and isinstance(base, str) and slot.shorthand:
        base = located({slot.shorthand: base}, child.loc)
    if isinstance(base, LocList) and isinstance(child, LocList) and _named_items(slot, child):
        return _merge_layers(base, child, slot.items)
    if not (isinstance(base, LocDict) and isinstance(child, LocDict)) or _tag_changes(
        slot, base, child
    ):
        return child
    merged = LocDict(loc=base.loc)
    for key, value in base.items():
        merged.put(key, value, base.key_locs.get(key))
    for key, value in child.items():
        inner = slot.field(key) if slot.models else slot.values
        if key in base:
            value = merge_configs(base[key], value, inner)
        merged.put(key, value, child.key_locs.get(key))
    return merged


def _named_items(slot: Any, items: LocList) -> bool:
    item_slot = slot_of(slot.items) if slot.items is not None else None
    named = item_slot is not None and any("Name" in m.model_fields for m in item_slot.models)
    return named and all(isinstance(item, LocDict) for item in items)


def _tag_changes(slot: Any, base: LocDict, child: LocDict) -> bool:
    if slot.union is None or slot.union.key not in child:
        return False
    old, new = base.get(slot.union.key), child.get(slot.union.key)
    return not (isinstance(old, str) and isinstance(new, str) and old.lower() == new.lower())


def _merge_layers(base: LocList, child: LocList, annotation: Any) -> LocList:
    items = list(base)
    locs = list(base.item_locs)
    position = -1
    for layer, loc in zip(child, child.item_locs, strict=True):
        names = [item.get("Name") if isinstance(item, LocDict) else None for item in items]
        name = layer.get("Name")
        if name is not None and name in names:
            position = names.index(name)
            items[position] = merge_configs(items[position], layer, annotation)
            locs[position] = loc or locs[position]
        else:
            position += 1
            items.insert(position, layer)
            locs.insert(position, loc)
    return LocList(items, locs, loc=child.loc or base.loc)
