"""Thread count: usable CPUs (affinity, cgroup v1/v2 quotas) and the NETCFG_THREADS override."""

from __future__ import annotations

import os

import pytest
import torch

from netcfg.errors import ConfigError
from netcfg.trainers import threads
from netcfg.trainers.spec import TrainingSpec


@pytest.fixture(autouse=True)
def _restore_threads(monkeypatch):
    monkeypatch.delenv("NETCFG_THREADS", raising=False)
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture
def eight_cpus(monkeypatch):
    monkeypatch.setattr(threads, "_affinity", lambda: 8)


def _v2(root, text):
    (root / "cpu.max").write_text(text)
    return root


def _v1(root, quota, period):
    folder = root / "cpu"
    folder.mkdir()
    (folder / "cpu.cfs_quota_us").write_text(f"{quota}\n")
    (folder / "cpu.cfs_period_us").write_text(f"{period}\n")
    return root


def test_no_cgroup_files_give_the_affinity(tmp_path, eight_cpus):
    assert threads.usable_cpus(tmp_path) == 8


@pytest.mark.parametrize(
    ("text", "expected"),
    [("max 100000\n", 8), ("200000 100000\n", 2), ("150000 100000\n", 2), ("5000 100000", 1)],
)
def test_cgroup_v2_quota(tmp_path, eight_cpus, text, expected):
    assert threads.usable_cpus(_v2(tmp_path, text)) == expected


def test_cgroup_v2_quota_above_affinity_is_capped(tmp_path, eight_cpus):
    assert threads.usable_cpus(_v2(tmp_path, "3200000 100000")) == 8


@pytest.mark.parametrize(
    ("quota", "period", "expected"), [(-1, 100000, 8), (300000, 100000, 3), (50000, 100000, 1)]
)
def test_cgroup_v1_quota(tmp_path, eight_cpus, quota, period, expected):
    assert threads.usable_cpus(_v1(tmp_path, quota, period)) == expected


def test_malformed_cgroup_files_are_ignored(tmp_path, eight_cpus):
    assert threads.usable_cpus(_v2(tmp_path, "garbage")) == 8
    assert threads.usable_cpus(_v2(tmp_path, "0 100000")) == 8


def test_affinity_is_what_the_process_may_use(monkeypatch, tmp_path):
    if hasattr(os, "sched_getaffinity"):
        assert threads.usable_cpus(tmp_path) == len(os.sched_getaffinity(0))
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    assert threads.usable_cpus(tmp_path) == (os.cpu_count() or 1)


def test_default_is_the_usable_cpus(monkeypatch):
    monkeypatch.setattr(threads, "usable_cpus", lambda root=None: 3)
    assert threads.configure_threads(None) == (3, "usable CPUs")
    assert torch.get_num_threads() == 3


def test_config_value_beats_the_default(monkeypatch):
    monkeypatch.setattr(threads, "usable_cpus", lambda root=None: 3)
    assert threads.configure_threads(2) == (2, "Training.Threads")
    assert torch.get_num_threads() == 2


def test_environment_overrides_everything(monkeypatch):
    monkeypatch.setattr(threads, "usable_cpus", lambda root=None: 3)
    monkeypatch.setenv("NETCFG_THREADS", "1")
    assert threads.configure_threads(2) == (1, "NETCFG_THREADS")
    assert torch.get_num_threads() == 1
    monkeypatch.setenv("NETCFG_THREADS", " 2 ")
    assert threads.configure_threads(None) == (2, "NETCFG_THREADS")


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_invalid_environment_value(monkeypatch, value):
    monkeypatch.setenv("NETCFG_THREADS", value)
    before = torch.get_num_threads()
    with pytest.raises(ConfigError, match="NETCFG_THREADS"):
        threads.configure_threads(4)
    assert torch.get_num_threads() == before


def test_training_spec_field():
    assert TrainingSpec().Threads is None
    assert TrainingSpec(Threads=4).Threads == 4
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        TrainingSpec(Threads=0)


def test_empty_environment_value_is_unset(monkeypatch):
    monkeypatch.setenv("NETCFG_THREADS", "  ")
    assert threads.configure_threads(2) == (2, "Training.Threads")
