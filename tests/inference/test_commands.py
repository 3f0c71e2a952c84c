"""``netcfg predict``, ``evaluate`` and ``export`` on trained runs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from inference_models import autoencoder_config, random_matrix

import netcfg
from netcfg.cli import main


def _ratings_file(path, seed, users=60, items=30):
    matrix = random_matrix(users, items, 0.3, seed)
    rows = matrix.row_of_entries()
    lines = [
        f"{matrix.rows.ids[r]}\t{matrix.columns.ids[c]}\t{v:g}\t{i}"
        for i, (r, c, v) in enumerate(zip(rows, matrix.indices, matrix.values, strict=True))
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    train = _ratings_file(folder / "train.tsv", 1)
    test = _ratings_file(folder / "test.tsv", 2)
    made = {}
    for orientation in ("User", "Item"):
        config = autoencoder_config()
        config["Data"] = {
            "ratings": {"Path": str(train), "Test": str(test), "Orientation": orientation}
        }
        config["Training"] = {"Optimizer": "Adam", "Epochs": 2, "BatchSize": 16}
        made[orientation] = netcfg.train(config, out=folder / orientation)
    return made, train


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("orientation", ["User", "Item"])
def test_predict_formats(runs, capsys, tmp_path, orientation):
    results, train = runs
    run_dir = results[orientation].run_dir
    code, out, _ = run(capsys, "predict", run_dir, "--top-k", 3, "--exclude-seen")
    assert code == 0
    lines = [line.split("\t") for line in out.splitlines()]
    users = {int(u) for u, *_ in lines}
    assert len(users) == 60 and all(len(line) == 4 for line in lines)
    assert {int(rank) for *_, rank in lines} == {1, 2, 3}
    seen = {
        (int(u), int(i))
        for u, i, *_ in (line.split("\t") for line in train.read_text().splitlines())
    }
    assert not seen & {(int(u), int(i)) for u, i, *_ in lines}
    code, _, err = run(
        capsys,
        "predict",
        run_dir,
        "--top-k",
        2,
        "--output-format",
        "jsonl",
        "--out",
        tmp_path / "recs.jsonl",
    )
    records = [json.loads(line) for line in (tmp_path / "recs.jsonl").read_text().splitlines()]
    assert code == 0 and len(records) == 60 and all(len(r["items"]) == 2 for r in records)
    assert "60 users, 60 lines written" in err
    code, out, _ = run(capsys, "predict", run_dir, "--top-k", 2, "--output-format", "dsstne")
    user, rest = out.splitlines()[0].split("\t")
    assert rest.count(":") == 2 and rest.endswith(":")


def test_predict_input_and_users(runs, capsys, tmp_path):
    results, _ = runs
    new = tmp_path / "new.tsv"
    new.write_text("555\t1000\t5\t1\n555\t1001\t4\t2\n555\t4242\t3\t3\n556\t1002\t1\t4\n")
    users = tmp_path / "users.txt"
    users.write_text("555\n777\n")
    code, out, err = run(
        capsys,
        "predict",
        results["User"].run_dir,
        "--input",
        new,
        "--users",
        users,
        "--top-k",
        4,
        "--exclude-seen",
    )
    assert code == 0
    assert {line.split("\t")[0] for line in out.splitlines()} == {"555"}
    assert not {"1000", "1001"} & {line.split("\t")[1] for line in out.splitlines()}
    assert "ignored 1 input interactions" in err and "1 requested users" in err


def test_evaluate_matches_training(runs, capsys):
    results, _ = runs
    result = results["User"]
    code, out, _ = run(capsys, "evaluate", result.run_dir, "--json")
    assert code == 0
    assert json.loads(out)["test"]["RMSE"] == pytest.approx(result.test["RMSE"], rel=1e-6)
    code, out, _ = run(capsys, "evaluate", result.run_dir, "--metrics", "MAE")
    assert code == 0 and out.split("\n")[0].split() == ["part", "MAE"]
    assert out.split("\n")[1].split() == ["test", f"{result.test['MAE']:.4f}"]


def test_export_and_errors(runs, capsys, tmp_path):
    results, _ = runs
    code, out, _ = run(
        capsys,
        "export",
        results["Item"].run_dir,
        "--format",
        "torchscript",
        "-o",
        tmp_path / "m.pt",
    )
    assert code == 0 and (tmp_path / "m.pt").is_file()
    code, _, err = run(capsys, "predict", tmp_path, "--top-k", 3)
    assert code == 2 and "not a run directory (no run.json)" in err
    code, _, err = run(capsys, "predict", "zoo:nothing-here", "--top-k", 3)
    assert code == 2 and "no trained model 'nothing-here' in the user zoo" in err
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(results["User"].run_dir), "--top-k", "0"])
    assert exit_info.value.code == 2
    assert "must be a positive integer (got 0)" in capsys.readouterr().err
    assert np.isfinite(results["User"].test["RMSE"])
