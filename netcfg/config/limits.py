"""Limits that keep small inputs small: what a config file may ask of the loader.

A config is a few kilobytes; these limits are far above any real one and far below what
would take minutes or gigabytes to read. Each is reported as a `ConfigError` with the
place that crosses it, never as a crash or a hang.
"""

from __future__ import annotations

import contextlib
import gc
import re
import sys
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = [
    "MAX_ALIAS_VALUES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_LAYERS",
    "MAX_VALUES",
    "alias_message",
    "collector_paused",
    "depth_message",
    "digits_message",
    "file_size_message",
    "layers_message",
    "nests_deeper",
    "too_deep",
    "values_message",
]

MAX_FILE_BYTES = 10_000_000
"""Largest config file read (10 MB)."""

MAX_DEPTH = 100
"""Deepest nesting of lists and objects (real configs nest about 5 levels)."""

MAX_ALIAS_VALUES = 100_000
"""Most values YAML aliases (``*name``, ``<<: *name``) may add to a document."""

MAX_LAYERS = 100_000
"""Most layers in one network."""

MAX_VALUES = 2_000_000
"""Most values in one file, keys included (objects, lists, keys, strings, numbers...):
enough for `MAX_LAYERS` layers of several keys each; reading this many takes seconds."""

_BRACKETS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')  # an unclosed string ends the text


def too_deep(text: str, limit: int = MAX_DEPTH) -> int | None:
    """The offset of the first ``[`` or ``{`` that opens level ``limit + 1`` of JSON
    text (brackets inside strings are skipped), or None when the text nests less."""
    depth = 0
    for match in _BRACKETS.finditer(text):
        char = match.group()[0]
        if char in "[{":
            depth += 1
            if depth > limit:
                return match.start()
        elif char in "]}":
            depth -= 1
    return None


def nests_deeper(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether Python lists and mappings in ``value`` nest more than ``limit`` levels
    (a config given as a Python object); checked without recursion, so any depth is safe."""
    pending = [(value, 1)] if isinstance(value, (Mapping, list, tuple)) else []
    while pending:
        node, depth = pending.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, Mapping) else node
        pending.extend(
            (child, depth + 1) for child in children if isinstance(child, (Mapping, list, tuple))
        )
    return False


def depth_message() -> str:
    """The message for nesting past `MAX_DEPTH`."""
    return f"lists and objects nest deeper than the limit of {MAX_DEPTH} levels here"


def digits_message(digits: int) -> str:
    """The message for an integer of ``digits`` digits, past Python's limit on converting
    digit strings to integers (`sys.get_int_max_str_digits`, 4300 by default)."""
    limit = getattr(sys, "get_int_max_str_digits", lambda: 4300)()  # Python >= 3.10.7
    return f"a number of {digits:,} digits; the limit is {limit:,} digits"


def alias_message() -> str:
    """The message for YAML aliases that expand past `MAX_ALIAS_VALUES`."""
    return (
        f"the YAML expands to more than {MAX_ALIAS_VALUES:,} values through its aliases "
        "(&anchor/*alias); write the repeated parts out or use fewer aliases"
    )


def values_message() -> str:
    """The message for a file of more than `MAX_VALUES` values."""
    return f"the config holds more than the limit of {MAX_VALUES:,} values"


def file_size_message(size: int) -> str:
    """The message for a config file larger than `MAX_FILE_BYTES`."""
    return f"config file is {size / 1e6:.1f} MB; the limit is {MAX_FILE_BYTES // 1_000_000} MB"


def layers_message(count: int) -> str:
    """The message for a network with more than `MAX_LAYERS` layers."""
    return f"the network has {count:,} layers; the limit is {MAX_LAYERS:,}"


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while building a large tree or network.

    Loading and compiling make many objects that all live on (no cycles to free); the
    collector would scan them again and again, and take more time than the work (3x on a
    10,000-layer network). Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
