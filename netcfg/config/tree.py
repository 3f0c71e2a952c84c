"""Config data that remembers where each value was written (file and line).

The loader reads files into `LocDict` and `LocList` containers; every later stage
(key canonicalization, inheritance, overrides) keeps the locations with the values, so an
error found at a JSON path can be reported at the line that wrote it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from netcfg.errors import Location

__all__ = ["LocDict", "LocList", "locate", "to_plain"]


class LocDict(dict):
    """A dict with the location of the object itself and of each of its keys."""

    def __init__(self, *args: Any, loc: Location | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.loc = loc
        self.key_locs: dict[str, Location] = {}

    def put(self, key: str, value: Any, loc: Location | None) -> None:
        """Set ``key`` and remember where it was written."""
        self[key] = value
        if loc is not None:
            self.key_locs[key] = loc
        else:
            self.key_locs.pop(key, None)


class LocList(list):
    """A list with the location of the list itself and of each item."""

    def __init__(
        self,
        items: Sequence[Any] = (),
        locs: Sequence[Location | None] = (),
        *,
        loc: Location | None = None,
    ):
        super().__init__(items)
        self.loc = loc
        self.item_locs: list[Location | None] = list(locs) or [None] * len(self)


def locate(tree: Any, path: Sequence[str | int]) -> Location | None:
    """The location of the deepest value along ``path`` that has one.

    A path into a missing key stops at the closest enclosing object, so "missing key"
    errors point at the object that lacks it.
    """
    found = getattr(tree, "loc", None)
    node = tree
    for part in path:
        if isinstance(node, LocDict) and isinstance(part, str) and part in node:
            found = node.key_locs.get(part, found)
            node = node[part]
        elif isinstance(node, LocList) and isinstance(part, int) and -len(node) <= part < len(node):
            found = node.item_locs[part] or found
            node = node[part]
        else:
            break
        found = getattr(node, "loc", None) or found
    return found


def to_plain(tree: Any) -> Any:
    """The same data as plain dicts and lists (what pydantic validates)."""
    if isinstance(tree, dict):
        return {key: to_plain(value) for key, value in tree.items()}
    if isinstance(tree, list):
        return [to_plain(item) for item in tree]
    return tree
