"""netcfg's own folders: its environment variables first, else platformdirs' answer."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs
import pytest

from netcfg.data.fetch import fetch
from netcfg.folders import cache_dir, user_zoo_dir
from netcfg.inference.models import resolve_model


@pytest.fixture
def unset(monkeypatch):
    for name in ("NETCFG_DATA", "NETCFG_ZOO", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_platformdirs_answers(unset):
    assert cache_dir() == Path(platformdirs.user_cache_dir("netcfg", appauthor=False))
    assert user_zoo_dir() == Path(platformdirs.user_data_dir("netcfg", appauthor=False)) / "zoo"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG folders are Linux's")
def test_linux_follows_xdg(unset, monkeypatch, tmp_path):
    assert cache_dir() == Path.home() / ".cache" / "netcfg"
    assert user_zoo_dir() == Path.home() / ".local" / "share" / "netcfg" / "zoo"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert cache_dir() == tmp_path / "cache" / "netcfg"
    assert user_zoo_dir() == tmp_path / "data" / "netcfg" / "zoo"


def test_netcfg_variables_come_first(unset, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("NETCFG_ZOO", str(tmp_path / "zoo"))
    assert cache_dir() == tmp_path / "data"
    assert user_zoo_dir() == tmp_path / "zoo"
    monkeypatch.setenv("NETCFG_DATA", "")  # empty counts as unset
    monkeypatch.setenv("NETCFG_ZOO", "")
    assert cache_dir() == Path(platformdirs.user_cache_dir("netcfg", appauthor=False))
    assert user_zoo_dir() == Path(platformdirs.user_data_dir("netcfg", appauthor=False)) / "zoo"


def test_fetch_and_the_zoo_use_them(unset, monkeypatch, tmp_path):
    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("NETCFG_ZOO", str(tmp_path / "zoo"))
    seeded = tmp_path / "data" / "movielens-100k" / "dataset"
    seeded.mkdir(parents=True)
    monkeypatch.setattr("netcfg.data.fetch.is_dataset", lambda path: path == seeded)
    assert fetch("movielens-100k") == seeded
    run = tmp_path / "zoo" / "mine"
    run.mkdir(parents=True)
    (run / "run.json").write_text("{}")
    assert resolve_model("zoo:mine") == run
