"""A zoo name is reserved from before training to the registration: a second process that
wants it fails at once, and a reservation dies with its process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from netcfg.errors import ModelError
from netcfg.inference.user_zoo import register_model, reserve_model_name

CONFIG = {
    "Name": "tiny",
    "ErrorFunction": "MaskedMSE",
    "Layers": [
        {"Name": "Input", "Kind": "Input", "N": "auto", "DataSet": "ratings", "Sparse": True},
        {"Name": "Hidden", "N": 16, "Activation": "Selu"},
        {"Name": "Output", "Kind": "Output", "N": "auto", "DataSet": "ratings", "Sparse": True},
    ],
    "Data": {
        "ratings": {
            "Synthetic": {"Users": 1000, "Items": 200, "Density": 0.05, "Seed": 0},
            "Protocol": {"Type": "random", "Fractions": [0.8, 0.1, 0.1], "Seed": 0},
        }
    },
    "Training": {"BatchSize": 16, "Epochs": 3, "Seed": 3},
}

RESERVE = """
import sys, time
from netcfg.inference.user_zoo import reserve_model_name
with reserve_model_name(sys.argv[1]):
    print("reserved", flush=True)
    time.sleep(600)
"""


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("NETCFG_ZOO", str(tmp_path / "zoo"))
    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "cache"))
    return {**os.environ, "NETCFG_THREADS": "1"}


def _train(tmp_path, out, name, env):
    config = tmp_path / "model.json"
    config.write_text(json.dumps(CONFIG))
    command = [sys.executable, "-m", "netcfg", "train", str(config), "--out", str(out)]
    return subprocess.Popen(
        [*command, "--save-as", name, "--no-progress"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _hold(name, env):
    holder = subprocess.Popen(
        [sys.executable, "-c", RESERVE, name], env=env, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline() == "reserved\n"
    return holder


def test_a_second_save_as_of_a_name_fails_before_training(tmp_path, env):
    zoo = tmp_path / "zoo"
    first = _train(tmp_path, tmp_path / "a", "same", env)
    deadline = time.monotonic() + 300
    while not (tmp_path / "a" / "run.json").is_file():  # reserved, and training
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    first.send_signal(signal.SIGSTOP)  # paused in training, whatever the machine's speed
    try:
        second = _train(tmp_path, tmp_path / "b", "same", env)
        out, err = second.communicate(timeout=300)
    finally:
        first.send_signal(signal.SIGCONT)
    assert (second.returncode, out) == (2, "")
    assert err == (
        f"'same' is reserved by another netcfg process (pid {first.pid} on "
        f"{os.uname().nodename}) that will register a model under that name; choose another "
        "name, or wait for it to finish\n"
    )
    assert not (tmp_path / "b").exists()  # refused before training
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    assert out.splitlines()[-1] == f"registered zoo:same in {zoo / 'same'}"
    assert sorted(p.name for p in zoo.iterdir()) == ["same"]  # the reservation is gone


def test_a_reservation_blocks_zoo_add_until_its_process_dies(tmp_path, env):
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"status": "completed"}))
    holder = _hold("kept", env)
    try:
        with pytest.raises(ModelError, match=rf"'kept' is reserved by .*\(pid {holder.pid} "):
            register_model(run, "kept")
        with pytest.raises(ModelError, match="'kept' is reserved"), reserve_model_name("kept"):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert (tmp_path / "zoo" / ".kept.reserved").is_file()  # left behind, but not held
    assert register_model(run, "kept") == tmp_path / "zoo" / "kept"
    assert sorted(p.name for p in (tmp_path / "zoo").iterdir()) == ["kept"]


def test_register_inside_a_reservation_uses_it(tmp_path, env):
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"status": "completed"}))
    with reserve_model_name("zoo:mine") as target:
        assert target == Path(tmp_path / "zoo" / "mine")
        assert register_model(run, "mine") == target
        with pytest.raises(ModelError, match="already in the user zoo"):
            register_model(run, "mine")
    assert sorted(p.name for p in (tmp_path / "zoo").iterdir()) == ["mine"]
