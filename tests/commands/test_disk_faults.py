"""Real faults of the disk, on a small tmpfs (mounted as root; skipped otherwise): a full
disk and a read-only file system under ``netcfg train``, ``data synth``, ``data import`` and
``zoo add``. Each exits with status 1 naming the path and the cause, without a traceback,
and leaves no partial file: what survives is whole and loadable (a run that failed says so
in ``run.json``), a staging folder or temporary file is removed, an earlier dataset stays."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import TINY
from safetensors.torch import load_file

from netcfg.cli import main
from netcfg.data.store import load_dataset
from netcfg.trainers.rundir import load_model

FULL = "No space left on device"
READ_ONLY = "Read-only file system"

# TINY with 80 x 256 weights each way: ~165 KB of weights, twice that of Adam state
CONFIG = copy.deepcopy(TINY)
CONFIG["Layers"][1]["N"] = 256
CONFIG["Training"]["Epochs"] = 1
CONFIG["Evaluation"]["Metrics"] = ["RMSE"]


@pytest.fixture
def tmpfs(tmp_path):
    """``tmpfs(name, size, read_only=False)`` mounts a tmpfs of ``size`` (``64k``) at
    ``tmp_path/name`` and returns it; every mount is unmounted after the test. Skips when
    not root or when mounting fails."""
    mounted: list[Path] = []

    def mount(name: str, size: str, read_only: bool = False) -> Path:
        if os.geteuid() != 0 or shutil.which("mount") is None:
            pytest.skip("mounting a tmpfs needs root and mount(8)")
        folder = tmp_path / name
        folder.mkdir()
        options = f"size={size}" + (",ro" if read_only else "")
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(folder)
        return folder

    yield mount
    for folder in reversed(mounted):
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def remount_read_only(folder: Path) -> None:
    done = subprocess.run(
        ["mount", "-o", "remount,ro", str(folder)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot remount a tmpfs read-only here: {done.stderr.strip()}")


def run(capsys, *argv) -> tuple[int, str]:
    code = main([str(arg) for arg in argv])
    return code, capsys.readouterr().err


def fault_line(err: str) -> str:
    """The one line of a fault of the machine (the notes a run prints first aside)."""
    assert "Traceback" not in err and "internal error" not in err, err
    notes = ("threads:", "validation:", "test:", "epoch ")
    lines = [line for line in err.splitlines() if not line.startswith(notes)]
    assert len(lines) == 1, err
    return lines[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def assert_no_partial_file(folder: Path) -> None:
    """No staging folder or temporary file, and every file whole: JSON that parses,
    safetensors that load, id files of whole lines, metrics.jsonl of whole records.
    (TensorBoard's event files are logs, read up to their last whole record.)"""
    for path in folder.rglob("*"):
        assert not path.name.startswith(".") or path.name == ".lock", path
        if not path.is_file() or "events" in path.relative_to(folder).parts:
            continue
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix == ".safetensors":
            assert load_file(str(path))
        elif path.suffix == ".jsonl":
            for line in path.read_text(encoding="utf-8").splitlines():
                json.loads(line)
        elif path.suffix == ".txt":
            text = path.read_text(encoding="utf-8")
            assert text.endswith("\n"), path
    assert not (folder / ".lock").exists()


@pytest.fixture
def config(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "cache"))  # the data stay off the tmpfs
    path = tmp_path / "model.json"
    path.write_text(json.dumps(CONFIG))
    return path


# sizes measured for CONFIG: the run's first files take 6 pages of 4 KB with the lock; the
# best weights ~165 KB; the checkpoint ~165 KB of weights, then ~330 KB of optimizer state
@pytest.mark.parametrize(
    ("size", "failing"),
    [
        ("8k", ""),  # the run's own files (config.json, ids, run.json)
        ("24k", "events"),  # TensorBoard's first event, written by its thread
        ("96k", "best/weights.safetensors"),  # the best weights, in the first epoch
        ("320k", "checkpoint"),  # the checkpoint's weights, after the best weights
        ("512k", "checkpoint"),  # the checkpoint's optimizer state (torch.save)
    ],
)
def test_train_on_a_full_disk(capsys, tmpfs, config, size, failing):
    disk = tmpfs("disk", size)
    out = disk / "run"
    code, err = run(capsys, "train", config, "--out", out, "--no-progress")
    assert code == 1
    line = fault_line(err)
    assert line.startswith(f"{(out / failing) if failing else out}: cannot write: ")
    assert FULL in line
    assert_no_partial_file(out)
    if not failing:  # its own files could not be written: it never started
        assert not (out / "run.json").exists()
        return
    run_json = json.loads((out / "run.json").read_text())
    if failing == "events":  # no room left to record the status: the run looks killed
        assert run_json["status"] == "running"
        return
    assert run_json["status"] == "failed" and FULL in run_json["message"]
    assert not (out / "checkpoint").exists()
    if failing == "checkpoint":  # the best weights were kept whole: the model loads
        assert load_model(out).network is not None
    else:
        assert not (out / "best" / "weights.safetensors").exists()


def test_train_into_a_read_only_folder(capsys, tmpfs, config):
    disk = tmpfs("disk", "1m", read_only=True)
    out = disk / "run"
    code, err = run(capsys, "train", config, "--out", out, "--no-progress")
    assert code == 1
    assert fault_line(err) == f"{out}: cannot create the run directory: {READ_ONLY}"
    assert list(disk.iterdir()) == []


def test_resume_on_a_read_only_disk_writes_nothing(capsys, tmpfs, config):
    disk = tmpfs("disk", "2m")
    out = disk / "run"
    assert run(capsys, "train", config, "--out", out, "--no-progress")[0] == 0
    before = snapshot(out)
    remount_read_only(disk)
    code, err = run(capsys, "train", config, "--out", out, "--resume", "--set", "Training.Epochs=2")
    assert code == 1
    assert fault_line(err) == f"{out / '.lock'}: cannot lock the run directory: {READ_ONLY}"
    assert snapshot(out) == before


SYNTH = ["data", "synth", "--users", "2000", "--items", "500", "--density", "0.05"]


@pytest.mark.parametrize("size", ["8k", "64k"])  # the first array; a later one
def test_data_synth_on_a_full_disk(capsys, tmpfs, size):
    disk = tmpfs("disk", size)
    code, err = run(capsys, *SYNTH, "-o", disk / "data")
    assert code == 1
    assert fault_line(err) == f"netcfg: {disk / 'data'}: {FULL}"
    assert list(disk.iterdir()) == []  # the staging folder is gone


def test_a_dataset_replaced_on_a_full_disk_stays_as_it_was(capsys, tmpfs):
    disk = tmpfs("disk", "64k")
    small = ["data", "synth", "--users", "100", "--items", "50", "--density", "0.1"]
    assert run(capsys, *small, "-o", disk / "data")[0] == 0
    before = snapshot(disk / "data")
    code, err = run(capsys, *SYNTH, "-o", disk / "data")
    assert code == 1
    assert fault_line(err) == f"netcfg: {disk / 'data'}: {FULL}"
    assert [p.name for p in disk.iterdir()] == ["data"]
    assert snapshot(disk / "data") == before
    assert load_dataset(disk / "data").shape == (100, 50)


@pytest.fixture
def ratings(tmp_path) -> Path:
    path = tmp_path / "ratings.tsv"
    lines = (
        f"{u}\t{(u * 7 + k * 13) % 500}\t{1 + (u + k) % 5}\n"
        for u in range(2000)
        for k in range(25)
    )
    path.write_text("".join(lines))
    return path


@pytest.mark.parametrize("size", ["8k", "64k"])
def test_data_import_on_a_full_disk(capsys, tmpfs, ratings, size):
    disk = tmpfs("disk", size)
    code, err = run(capsys, "data", "import", ratings, "-o", disk / "data")
    assert code == 1
    assert fault_line(err) == f"netcfg: {disk / 'data'}: {FULL}"
    assert list(disk.iterdir()) == []


@pytest.mark.parametrize("command", ["synth", "import"])
def test_data_into_a_read_only_folder(capsys, tmpfs, ratings, command):
    disk = tmpfs("disk", "1m", read_only=True)
    argv = [*SYNTH] if command == "synth" else ["data", "import", ratings]
    code, err = run(capsys, *argv, "-o", disk / "data")
    assert code == 1
    assert fault_line(err) == f"netcfg: {disk / 'data'}: {READ_ONLY}"
    assert list(disk.iterdir()) == []


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A completed run (~90 KB) of a small config, trained once for the module."""
    root = tmp_path_factory.mktemp("finished")
    config = copy.deepcopy(CONFIG)
    config["Layers"][1]["N"] = 16
    (root / "model.json").write_text(json.dumps(config))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NETCFG_DATA", str(root / "cache"))
        assert main(["train", str(root / "model.json"), "--out", str(root / "run")]) == 0
    return root / "run"


@pytest.mark.parametrize("size", ["8k", "48k"])
def test_zoo_add_on_a_full_disk(capsys, tmpfs, finished_run, monkeypatch, size):
    disk = tmpfs("disk", size)
    zoo = disk / "zoo"
    monkeypatch.setenv("NETCFG_ZOO", str(zoo))
    code, err = run(capsys, "zoo", "add", finished_run, "m")
    assert code == 1
    assert fault_line(err) == f"cannot register {finished_run} as {zoo / 'm'}: [Errno 28] {FULL}"
    assert list(zoo.iterdir()) == []  # no model, no staging folder, no reservation left
    assert run(capsys, "zoo", "list")[0] == 0


def test_zoo_add_into_a_read_only_zoo(capsys, tmpfs, finished_run, monkeypatch):
    zoo = tmpfs("zoo", "1m", read_only=True)
    monkeypatch.setenv("NETCFG_ZOO", str(zoo))
    code, err = run(capsys, "zoo", "add", finished_run, "m")
    assert code == 1
    assert fault_line(err) == f"{zoo / '.m.reserved'}: cannot reserve the name 'm': {READ_ONLY}"
    assert list(zoo.iterdir()) == []


def test_a_checkpoint_that_failed_on_a_full_disk_leaves_the_previous_one(capsys, tmpfs, config):
    """Two epochs, a checkpoint each: the second does not fit beside the first, which stays
    whole; the run resumes from it once the disk has room."""
    disk = tmpfs("disk", "1m")
    out = disk / "run"
    two = ["--set", "Training.Epochs=2"]
    code, err = run(capsys, "train", config, "--out", out, "--no-progress", *two)
    assert code == 1
    line = fault_line(err)
    assert line.startswith(f"{out / 'checkpoint'}: cannot write: ") and FULL in line
    assert_no_partial_file(out)
    assert json.loads((out / "run.json").read_text())["status"] == "failed"
    assert json.loads((out / "checkpoint" / "state.json").read_text())["epoch"] == 1

    subprocess.run(["mount", "-o", "remount,size=4m", str(disk)], check=True)
    code, err = run(capsys, "train", config, "--out", out, "--no-progress", "--resume", *two)
    assert code == 0, err
    assert json.loads((out / "run.json").read_text())["status"] == "completed"
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records if "epoch" in r] == [1, 2]
    assert_no_partial_file(out)
