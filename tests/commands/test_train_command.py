"""``netcfg train`` on the shipped quickstart, and resuming from the command line."""

from __future__ import annotations

import json

from netcfg.cli import main


def test_quickstart_trains_offline(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "cache"))
    out = tmp_path / "run"
    code = main(["train", "zoo:quickstart", "--out", str(out), "--set", "Training.Epochs=3"])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    lines = stdout.splitlines()
    assert lines[0].startswith("trained: best epoch ") and lines[0].endswith(" of 3")
    test = dict(zip(*[iter(lines[2].split()[1:])] * 2, strict=True))
    assert set(test) == {"Loss", "RMSE", "MAE"} and 0.5 < float(test["RMSE"]) < 1.5
    assert lines[-1] == f"run saved in {out}"
    # a finished run can be extended: resume with more epochs
    code = main(
        ["train", "zoo:quickstart", "--out", str(out), "--resume", "--set", "Training.Epochs=4"]
    )
    assert code == 0
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records if "epoch" in r] == [1, 2, 3, 4]


def test_resume_needs_the_run_directory(capsys):
    code = main(["train", "zoo:quickstart", "--resume"])
    assert code == 2
    assert "resuming needs the run directory: give --out RUN_DIR" in capsys.readouterr().err


def test_unknown_zoo_entry(capsys):
    code = main(["train", "zoo:quickstrat"])
    assert code == 2
    assert (
        "zoo:quickstrat: no zoo entry 'quickstrat'; did you mean 'quickstart'?"
        in capsys.readouterr().err
    )
