"""A run directory is used by one process at a time; every way a run ends is recorded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import TINY

import netcfg
from netcfg.cli import main
from netcfg.errors import ConfigError, NetcfgError
from netcfg.trainers.lock import LOCK_FILE, hold_run_dir
from netcfg.trainers.train import train as train_network

HOLD = """
import sys, time
from pathlib import Path
from netcfg.errors import ConfigError
from netcfg.trainers.lock import hold_run_dir
folder, go, release = (Path(arg) for arg in sys.argv[1:])
print("ready", flush=True)
while not go.exists():
    time.sleep(0.0005)
try:
    with hold_run_dir(folder):
        print("won", flush=True)
        while not release.exists():
            time.sleep(0.01)
except ConfigError as err:
    print("lost", err, flush=True)
"""


def _hold(folder, go, release):
    """A process that takes the lock on ``folder`` once ``go`` exists and holds it until
    ``release`` exists; it prints ``ready``, then ``won`` or ``lost`` and the error."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(folder), str(go), str(release)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline() == "ready\n"
    return process


def _wait_for(path, process, seconds=120):
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, "the process ended first"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def test_processes_starting_at_the_same_instant_get_the_lock_once(tmp_path):
    folder, go, release = tmp_path / "a" / "run", tmp_path / "go", tmp_path / "release"
    processes = [_hold(folder, go, release) for _ in range(4)]
    go.touch()
    lines = [process.stdout.readline().strip() for process in processes]
    release.touch()
    for process in processes:
        process.communicate(timeout=60)
    assert sorted(line.split()[0] for line in lines) == ["lost", "lost", "lost", "won"]
    winner = processes[lines.index("won")].pid
    for line in lines:
        if line != "won":
            assert line == (
                f"lost {folder} is in use by another netcfg process (pid {winner} on "
                f"{os.uname().nodename}): choose another --out, or wait for it to finish"
            ) or line.startswith(f"lost {folder} is in use by another netcfg process: ")
    assert list(folder.iterdir()) == []  # the holder removed its lock file


def test_a_lock_left_by_a_killed_process_does_not_block(tmp_path):
    folder = tmp_path / "run"
    holder = _hold(folder, tmp_path, tmp_path / "never")
    assert holder.stdout.readline().strip() == "won"
    with pytest.raises(ConfigError, match=rf"\(pid {holder.pid} on "), hold_run_dir(folder):
        pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (folder / LOCK_FILE).is_file()  # left behind, but no longer locked
    with hold_run_dir(folder):
        assert (folder / LOCK_FILE).read_text().split()[0] == str(os.getpid())
    assert not (folder / LOCK_FILE).exists()


def test_train_fails_fast_on_a_directory_in_use(tiny, tmp_path):
    holder = _hold(tmp_path / "run", tmp_path, tmp_path / "never")
    try:
        assert holder.stdout.readline().strip() == "won"
        with pytest.raises(ConfigError, match="is in use by another netcfg process"):
            netcfg.train(tiny, out=tmp_path / "run")
        assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [LOCK_FILE]
        assert not (tmp_path / "cache").exists()  # refused before the data was loaded
    finally:
        holder.kill()
        holder.wait()


def test_interrupted_and_failed_runs_say_so_and_resume(tiny, tmp_path):
    run = tmp_path / "run"

    def interrupt(epoch, record):
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_network(tiny, out=run, on_epoch=interrupt)
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"
    assert not (run / LOCK_FILE).exists()

    def fail(epoch, record):
        raise RuntimeError("boom in epoch hook")

    with pytest.raises(RuntimeError):
        train_network(tiny, out=run, resume=True, on_epoch=fail)
    info = json.loads((run / "run.json").read_text())
    assert (info["status"], info["message"]) == ("failed", "boom in epoch hook")
    result = netcfg.train(tiny, out=run, resume=True)  # in the same process: lock released
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed" and "message" not in info
    assert result.epochs == tiny["Training"]["Epochs"]


def test_sigterm_is_an_interruption(tmp_path):
    config = json.loads(json.dumps(TINY))
    config["Training"].update(Epochs=10000, CheckpointInterval=1000)
    (tmp_path / "m.json").write_text(json.dumps(config))
    run = tmp_path / "run"
    command = [sys.executable, "-m", "netcfg", "train", str(tmp_path / "m.json")]
    environment = {**os.environ, "NETCFG_THREADS": "1"}
    process = subprocess.Popen(
        [*command, "--out", str(run), "--no-progress"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(run / "metrics.jsonl", process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130 and err.endswith("interrupted\n")
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"
    assert not (run / LOCK_FILE).exists()


def test_stale_staging_folders_are_removed_and_a_whole_one_recovered(tiny, tmp_path):
    run = tmp_path / "run"
    tiny["Training"]["Epochs"] = 2
    netcfg.train(tiny, out=run)
    (run / ".checkpoint.k2x9_a1q").mkdir()  # killed while writing a checkpoint
    (run / ".checkpoint.k2x9_a1q" / "weights.safetensors").write_bytes(b"half")
    (run / ".run.json.tmp").write_text("{")
    (run / "best" / ".weights.safetensors.tmp").write_bytes(b"")
    netcfg.train(tiny, ["Training.Epochs=3"], out=run, resume=True)
    hidden = [p.name for p in run.rglob(".*")]
    assert hidden == []
    # killed between removing the old checkpoint and renaming the new one into place
    os.rename(run / "checkpoint", run / ".checkpoint.z8q1rr0p")
    netcfg.train(tiny, ["Training.Epochs=4"], out=run, resume=True)
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records if "epoch" in r] == [1, 2, 3, 4]
    assert [p.name for p in run.rglob(".*")] == []


def test_resume_of_a_run_killed_before_its_first_file_starts_it(tiny, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / LOCK_FILE).write_text("4321 elsewhere\n")  # its process is gone
    (run / ".config.json.tmp").write_text("{")
    result = netcfg.train(tiny, out=run, resume=True)
    assert result.epochs == tiny["Training"]["Epochs"]
    with pytest.raises(ConfigError, match="no such run directory to resume"):
        netcfg.train(tiny, out=tmp_path / "missing", resume=True)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="is not a netcfg run directory"):
        netcfg.train(tiny, out=tmp_path / "other", resume=True)
    assert [p.name for p in (tmp_path / "other").iterdir()] == ["notes.txt"]


def test_a_full_disk_while_checkpointing_exits_1_naming_the_path(
    tiny, tmp_path, monkeypatch, capsys
):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("netcfg.trainers.checkpoint.torch.save", disk_full)
    run = tmp_path / "run"
    with pytest.raises(NetcfgError) as caught:
        netcfg.train(tiny, out=run)
    assert caught.value.exit_code == 1
    assert str(caught.value) == f"{run / 'checkpoint'}: cannot write: No space left on device"
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "failed" and "No space left" in info["message"]
    config = tmp_path / "m.json"
    config.write_text(json.dumps(tiny))
    code = main(["train", str(config), "--out", str(tmp_path / "again"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and "internal error" not in err
    assert err.endswith(
        f"{tmp_path / 'again' / 'checkpoint'}: cannot write: No space left on device\n"
    )


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("state.json", b"{not json"),
        ("state.json", b'{"epoch": 1, "bogus": 2}'),
        ("optimizer.pt", b"garbage"),
        ("rng.pt", b""),
        ("weights.safetensors", b"\x00\x01"),
    ],
)
def test_a_damaged_checkpoint_is_named_without_torch_advice(tiny, tmp_path, capsys, name, damage):
    """--resume on a damaged checkpoint exits 2 naming the file, never relaying torch's
    advice to load with weights_only=False."""
    from netcfg.cli import main

    config = tmp_path / "m.json"
    config.write_text(json.dumps(tiny))
    out = tmp_path / "run"
    assert main(["train", str(config), "--out", str(out), "--set", "Training.Epochs=1"]) == 0
    (out / "checkpoint" / name).write_bytes(damage)
    capsys.readouterr()
    code = main(["train", str(config), "--out", str(out), "--resume", "--set", "Training.Epochs=2"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{out / 'checkpoint' / name}: damaged checkpoint" in err
    assert "weights_only" not in err and "internal error" not in err
