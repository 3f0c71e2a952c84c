"""Where netcfg keeps files of its own on this machine: the data cache and the user zoo.

netcfg's environment variables come first; otherwise platformdirs gives the folders each
operating system expects (on Linux ``$XDG_CACHE_HOME/netcfg`` or ``~/.cache/netcfg`` and
``$XDG_DATA_HOME/netcfg`` or ``~/.local/share/netcfg``; ``~/Library/Caches/netcfg`` and
``~/Library/Application Support/netcfg`` on macOS; under ``%LOCALAPPDATA%\\netcfg`` on
Windows). Empty variables count as unset.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["cache_dir", "user_zoo_dir"]

APP = "netcfg"


def cache_dir() -> Path:
    """Where fetched datasets are kept: ``$NETCFG_DATA``, else the user cache folder of
    netcfg (``platformdirs.user_cache_dir``)."""
    explicit = os.environ.get("NETCFG_DATA")
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_cache_dir(APP, appauthor=False))


def user_zoo_dir() -> Path:
    """Where trained models are registered: ``$NETCFG_ZOO``, else ``zoo`` in the user data
    folder of netcfg (``platformdirs.user_data_dir``)."""
    explicit = os.environ.get("NETCFG_ZOO")
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_data_dir(APP, appauthor=False)) / "zoo"
