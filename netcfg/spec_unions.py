"""Tagged unions of specs: one spec class per value of a tag key (layer Type, optimizer Type).

`tagged_union` builds a pydantic discriminated union whose tag is read case-insensitively,
and records what the loader and the error formatter need to know about it: the key that
holds the tag, how to describe each member in messages, and the accepted spellings.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Union

from pydantic import BeforeValidator, Discriminator, Tag

from netcfg.spec_base import SpecBase, StringShorthand

__all__ = ["UnionInfo", "find_union", "tagged_union", "type_union", "union_by_discriminator"]


@dataclass(frozen=True)
class UnionInfo:
    """What is known about a tagged union.

    Attributes:
        name: the discriminator's name, as pydantic reports it in errors (without ``()``).
        key: the key holding the tag (``"Type"``).
        what: how messages name the tag (``"Optimizer Type"``).
        members: tag -> spec class.
        spellings: the tag values a user may write, for close-match suggestions.
        describe: tag -> phrase naming the member in messages (``"an Input layer"``).
        shorthand: whether a bare string stands for ``{key: string}``.
        rejected: lower-cased tag spelling -> message, for spellings refused with advice.
        tag_of: maps a canonical-key mapping to its tag (an unknown string if invalid).
    """

    name: str
    key: str
    what: str
    members: Mapping[str, type[SpecBase]]
    spellings: tuple[str, ...]
    describe: Mapping[str, str]
    shorthand: bool
    rejected: Mapping[str, str]
    tag_of: Callable[[Mapping[str, Any]], str | None]


_UNIONS: dict[str, UnionInfo] = {}


def tagged_union(
    name: str,
    members: Mapping[str, type[SpecBase]],
    *,
    key: str,
    what: str,
    tag_of: Callable[[Mapping[str, Any]], str | None],
    spellings: tuple[str, ...],
    describe: Mapping[str, str],
    shorthand: bool = False,
    rejected: Mapping[str, str] | None = None,
) -> Any:
    """Build an annotated discriminated union of spec classes.

    Args:
        name: a unique name for the discriminator (appears in pydantic errors).
        members: tag -> spec class.
        key: the key that holds the tag.
        what: how messages name the tag.
        tag_of: maps a (canonical-key) mapping to its tag; may return an unknown string,
            which pydantic then reports as an invalid tag.
        spellings: accepted spellings of the tag, for suggestions.
        describe: tag -> phrase for messages.
        shorthand: accept a bare string as ``{key: string}``.
        rejected: tag spelling -> message, for spellings refused with advice.

    Returns:
        A type usable as a field annotation.
    """
    tags_by_class = {cls: tag for tag, cls in members.items()}

    def discriminate(value: Any) -> str | None:
        if isinstance(value, SpecBase):
            return tags_by_class.get(type(value))
        if isinstance(value, Mapping):
            return tag_of(value)
        return None

    discriminate.__name__ = name
    union = Union[tuple(Annotated[cls, Tag(tag)] for tag, cls in members.items())]  # noqa: UP007
    annotated: Any = Annotated[union, Discriminator(discriminate)]
    if shorthand:
        shorthand_marker = StringShorthand(key)
        annotated = Annotated[annotated, BeforeValidator(shorthand_marker), shorthand_marker]
    _UNIONS[name] = UnionInfo(
        name,
        key,
        what,
        dict(members),
        spellings,
        dict(describe),
        shorthand,
        {k.lower(): v for k, v in (rejected or {}).items()},
        tag_of,
    )
    return annotated


def type_union(
    name: str, members: Mapping[str, type[SpecBase]], what: str, default: enum.Enum
) -> Any:
    """A tagged union chosen by a ``Type`` key (``default`` when it is missing).

    A bare string names the Type with its defaults (``Optimizer: Adam``).
    """
    spellings = {k.lower(): k for k in members}

    def tag_of(value: Any) -> str | None:
        raw = value.get("Type", default.value)
        raw = getattr(raw, "value", raw)
        return spellings.get(raw.strip().lower(), raw) if isinstance(raw, str) else None

    return tagged_union(
        name,
        members,
        key="Type",
        what=what,
        tag_of=tag_of,
        spellings=tuple(members),
        describe={k: f"{what} '{k}'" for k in members},
        shorthand=True,
    )


def find_union(annotation: Any) -> UnionInfo | None:
    """The `UnionInfo` of an annotation built by `tagged_union`, else None."""
    for meta in getattr(annotation, "__metadata__", ()):
        if isinstance(meta, Discriminator) and callable(meta.discriminator):
            return _UNIONS.get(meta.discriminator.__name__)
    inner = getattr(annotation, "__origin__", None)
    if getattr(annotation, "__metadata__", None) is not None and inner is not None:
        return find_union(inner)
    return None


def union_by_discriminator(name: str) -> UnionInfo | None:
    """The `UnionInfo` whose discriminator pydantic reports as ``name()``."""
    return _UNIONS.get(name.removesuffix("()"))
