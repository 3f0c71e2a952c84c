"""A study killed with SIGKILL during a trial continues where it stopped when started again."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState


def _states(database: Path) -> list[str]:
    """The trials' states, read with plain SQL (creating an Optuna storage object here
    would race the tune process that is creating the tables)."""
    if not database.is_file():
        return []
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as connection:
            rows = connection.execute("SELECT state FROM trials ORDER BY number").fetchall()
    except sqlite3.OperationalError:  # tables not created yet, or locked
        return []
    return [state for (state,) in rows]


def test_a_study_killed_during_a_trial_continues_without_running_a_finished_trial_again(
    tmp_path, tiny_config
):
    config, out = tiny_config(epochs=400), tmp_path / "study"
    storage = f"sqlite:///{out / 'study.db'}"
    command = [sys.executable, "-m", "netcfg", "tune", str(config), "--trials", "3"]
    command += ["--out", str(out), "--no-pruning", "--set", "Training.EarlyStopping=null"]
    environment = {**os.environ, "NETCFG_THREADS": "1"}
    process = subprocess.Popen(command, env=environment, start_new_session=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        states = _states(out / "study.db")
        running = out / "trials" / f"{len(states) - 1:04d}" / "metrics.jsonl"
        if "COMPLETE" in states and states[-1] == "RUNNING" and running.is_file():
            break  # a trial is training after a completed one
        assert process.poll() is None, "the study ended before it could be killed"
        time.sleep(0.2)
    else:
        raise AssertionError("no trial was running after a completed one")
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    before = optuna.load_study(study_name="tiny", storage=storage).trials
    completed = [t for t in before if t.state is TrialState.COMPLETE]
    interrupted = [t for t in before if t.state is TrialState.RUNNING]
    assert len(interrupted) == 1
    logs = {
        t.number: (out / "trials" / f"{t.number:04d}" / "metrics.jsonl").read_bytes()
        for t in completed
    }

    restarted = subprocess.run(command, env=environment, capture_output=True, text=True)
    assert restarted.returncode == 0, restarted.stderr
    study = optuna.load_study(study_name="tiny", storage=storage)
    finished = [t for t in study.trials if t.state is TrialState.COMPLETE]
    assert len(finished) == 3  # the requested count, those before the kill included
    lost = study.trials[interrupted[0].number]
    assert lost.state is TrialState.FAIL and lost.user_attrs["error"] == "interrupted"
    retries = [t for t in study.trials if t.user_attrs.get("retry_of") == lost.number]
    assert len(retries) == 1 and retries[0].params == lost.params
    assert retries[0].state is TrialState.COMPLETE
    for number, log in logs.items():  # trained once, never again
        assert (out / "trials" / f"{number:04d}" / "metrics.jsonl").read_bytes() == log
    for trial in finished:
        lines = (out / "trials" / f"{trial.number:04d}" / "metrics.jsonl").read_text()
        assert sum(json.loads(line).get("final", False) for line in lines.splitlines()) == 1
    run = json.loads((out / "trials" / f"{lost.number:04d}" / "run.json").read_text())
    assert run["status"] == "interrupted"
