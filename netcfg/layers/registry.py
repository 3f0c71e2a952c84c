"""The layer registry: one builder per layer tag, and what builders receive and return.

A builder turns a layer spec into a plain torch module, given the shapes of its sources
(shapes are threaded through compile; configs never state input widths). A test checks
that the registry's tags are exactly the tags of the layer spec union.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from torch import nn

from netcfg.errors import CompileError, Issue
from netcfg.spec_base import did_you_mean

if TYPE_CHECKING:
    from netcfg.networks.spec import ModelSpec

__all__ = [
    "Built",
    "BuildContext",
    "Shape",
    "get_builder",
    "layer_tags",
    "register_layer",
]


@dataclass(frozen=True)
class Shape:
    """The shape of a layer's output for one example.

    Attributes:
        dims: the dimensions [x, y, z, w] that are given (one for fully connected layers).
        sparse: whether the layer passes on sparse (CSR) batches rather than dense tensors.
    """

    dims: tuple[int, ...]
    sparse: bool = False

    @property
    def size(self) -> int:
        """Number of units (the product of the dimensions)."""
        return math.prod(self.dims)

    def __str__(self) -> str:
        return "x".join(str(d) for d in self.dims) + (" sparse" if self.sparse else "")


@dataclass
class BuildContext:
    """What a builder knows besides the layer's own spec.

    Attributes:
        path: JSON path of the layer, for error messages.
        model: the whole validated spec (network-level settings such as Denoising).
        sources: shapes of the layer's sources, in ``Source`` order.
        skips: shapes of the layers named in ``Skip``.
        dims: the layer's resolved width (``N``, with ``"auto"`` resolved), if it has one.
        shared: per source, a module to use instead of a new weight (``SharedWeights``).
    """

    path: tuple[str | int, ...]
    model: ModelSpec
    sources: Sequence[Shape] = ()
    skips: Sequence[Shape] = ()
    dims: tuple[int, ...] | None = None
    shared: Sequence[nn.Module | None] = field(default_factory=tuple)

    def error(self, message: str, key: str | None = None) -> CompileError:
        """A compile error for this layer (at ``key`` of it, if given)."""
        path = (*self.path, key) if key else self.path
        return CompileError([Issue(path, message)])


@dataclass(frozen=True)
class Built:
    """A builder's result: the module and the shape of its output."""

    module: nn.Module
    shape: Shape


Builder = Callable[[Any, BuildContext], Built]
_BUILDERS: dict[str, Builder] = {}


def register_layer(tag: str) -> Callable[[Builder], Builder]:
    """Register the builder of the layers whose spec union tag is ``tag``.

    Example:
        >>> @register_layer("FullyConnected")
        ... def build_fully_connected(spec, ctx): ...
    """

    def decorate(builder: Builder) -> Builder:
        if tag in _BUILDERS:
            raise ValueError(f"a builder for layer tag '{tag}' is already registered")
        _BUILDERS[tag] = builder
        return builder

    return decorate


def get_builder(tag: str) -> Builder:
    """The builder registered for ``tag``; a KeyError names close matches otherwise."""
    try:
        return _BUILDERS[tag]
    except KeyError:
        raise KeyError(
            f"no layer builder registered for '{tag}'{did_you_mean(tag, _BUILDERS)}"
        ) from None


def layer_tags() -> frozenset[str]:
    """Tags that have a registered builder."""
    return frozenset(_BUILDERS)
