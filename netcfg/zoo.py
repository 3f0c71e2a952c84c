"""The model zoo: named, reusable configs shipped with netcfg (``zoo:NAME``).

Entries live in the repository's ``zoo/<name>/`` folders and are installed with the
package (as the ``netcfg._zoo`` package data), so ``zoo:NAME`` works outside a checkout.
Their model cards, config files and smoke overrides are read by ``netcfg.zoo_cards``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from netcfg.spec_base import did_you_mean

__all__ = ["ZOO_PREFIX", "is_zoo_name", "zoo_entry", "zoo_names", "zoo_root"]

ZOO_PREFIX = "zoo:"


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
        KeyError: no such entry; the message names a close match.
    """
    name = reference.removeprefix(ZOO_PREFIX)
    folder = zoo_root() / name
    if name and folder.is_dir():
        return folder
    names = zoo_names()
    hint = did_you_mean(name, names) or (
        "; entries: " + ", ".join(names) if names else "; the zoo is empty"
    )
    raise KeyError(f"no zoo entry '{name}'{hint}")
