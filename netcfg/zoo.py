"""The model zoo: named, reusable configs shipped with netcfg (``zoo:NAME``).

Entries live in the repository's ``zoo/<name>/`` folders and are installed with the
package (as the ``netcfg._zoo`` package data), so ``zoo:NAME`` works outside a checkout.
Their model cards, config files and smoke overrides are read by ``netcfg.zoo_cards``.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from netcfg.spec_base import did_you_mean

__all__ = [
    "ZOO_NAME",
    "ZOO_PREFIX",
    "is_zoo_name",
    "zoo_entry",
    "zoo_name_problem",
    "zoo_names",
    "zoo_root",
]

ZOO_PREFIX = "zoo:"
ZOO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""A zoo name (shipped entries and trained models alike): up to 100 letters, digits, ``-``,
``_`` and ``.``, beginning with a letter or digit, so never a path (``..``, ``a/b``)."""


def zoo_name_problem(name: str) -> str | None:
    """What is wrong with a zoo name (``NAME`` or ``zoo:NAME``), or None when it is valid."""
    bare = name.removeprefix(ZOO_PREFIX)
    if ZOO_NAME.fullmatch(bare):
        return None
    return (
        f"invalid zoo name '{bare}': use up to 100 letters, digits, '-', '_' and '.', "
        "beginning with a letter or digit (a zoo name is not a path)"
    )


def zoo_root() -> Path:
    """The folder holding the shipped zoo entries."""
    return Path(str(resources.files("netcfg._zoo")))


def zoo_names() -> list[str]:
    """Names of the shipped zoo entries, sorted."""
    root = zoo_root()
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("_"))


def is_zoo_name(text: str) -> bool:
    """Whether ``text`` is a ``zoo:NAME`` reference."""
    return text.startswith(ZOO_PREFIX)


def zoo_entry(reference: str) -> Path:
    """The folder of the zoo entry ``zoo:NAME`` (or ``NAME``).

    Raises:
        KeyError: no such entry (the message names a close match), or a name that is not
            a zoo name (`ZOO_NAME`).
    """
    name = reference.removeprefix(ZOO_PREFIX)
    problem = zoo_name_problem(name)
    if problem is not None:
        raise KeyError(problem)
    folder = zoo_root() / name
    if name and folder.is_dir():
        return folder
    names = zoo_names()
    hint = did_you_mean(name, names) or (
        "; entries: " + ", ".join(names) if names else "; the zoo is empty"
    )
    raise KeyError(f"no zoo entry '{name}'{hint}")
