"""The trainer's per-epoch hook (what a study's pruner uses) and the parts it scores."""

from __future__ import annotations

import json

from netcfg.trainers.train import train


def test_a_hook_that_returns_a_reason_stops_the_run(tmp_path, tiny):
    seen = []

    def hook(epoch, record):
        seen.append((epoch, sorted(record["validation"])))
        return "enough" if epoch == 2 else None

    result = train(tiny, ["Training.Epochs=6"], out=tmp_path / "run", on_epoch=hook)
    assert [epoch for epoch, _ in seen] == [1, 2]
    assert "RMSE" in seen[0][1]
    assert (result.epochs, result.stopped) == (2, "enough")
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["status"] == "stopped" and run["stopped"] == "enough"
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line).get("epoch") for line in lines[:-1]] == [1, 2]


def test_parts_limits_the_final_metrics(tmp_path, tiny):
    result = train(tiny, ["Training.Epochs=1"], out=tmp_path / "run", parts=["validation"])
    assert result.validation and result.test == {}
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["test"] == {} and set(run["validation"]) == set(result.validation)
