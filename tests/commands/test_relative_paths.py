"""A run trained from a relative config path works from any directory (issue 12).

Every path stored in a spec (data files, ensemble member configs) is absolute, so a run
directory's ``config.json`` names its data wherever the run, or the user zoo, is used from.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from helpers import write

from netcfg.cli import main

CONFIG = """
Name: tiny
Kind: AutoEncoder
ErrorFunction: MaskedMSE
Layers:
  - {Name: Input, Kind: Input, N: auto, DataSet: ratings, Sparse: true}
  - {Name: Hidden, N: 4, Activation: Sigmoid}
  - {Name: Output, Kind: Output, N: auto, DataSet: ratings, Sparse: true, Activation: Linear}
Data:
  ratings: {Path: ../data/train.tsv, Test: ../data/test.tsv, Orientation: Item}
Training: {Optimizer: Adam, BatchSize: 8, Epochs: 1, Seed: 1}
Evaluation: {Metrics: [RMSE]}
"""


def _tiny_project(root: Path) -> Path:
    """``root/project`` with ``examples/tiny.yaml`` and its ``data/`` (30 users, 12 items)."""
    project = root / "project"
    (project / "examples").mkdir(parents=True)
    (project / "data").mkdir()
    rng = random.Random(0)
    lines = {"train": [], "test": []}
    for user in range(1, 31):
        for item in rng.sample(range(1, 13), 6):
            part = "test" if item % 5 == 0 and user % 3 == 0 else "train"
            lines[part].append(f"{user}\t{item}\t{rng.randint(1, 5)}\t{user * 100 + item}")
    for part, rows in lines.items():
        (project / "data" / f"{part}.tsv").write_text("\n".join(rows) + "\n")
    write(project / "examples", "tiny.yaml", CONFIG)
    return project


def _strings(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def test_a_run_from_a_relative_config_works_elsewhere(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NETCFG_ZOO", str(tmp_path / "zoo"))
    project = _tiny_project(tmp_path)
    monkeypatch.chdir(project)
    code = main(["train", "examples/tiny.yaml", "--out", "runs/u1", "--no-progress"])
    assert code == 0, capsys.readouterr().err
    config = json.loads((project / "runs" / "u1" / "config.json").read_text())
    paths = [config["Data"]["ratings"][key] for key in ("Path", "Test")]
    assert paths == [
        str(project / "examples" / "../data/train.tsv"),
        str(project / "examples" / "../data/test.tsv"),
    ]
    assert all(Path(p).is_absolute() for p in paths)
    code = main(["zoo", "add", "runs/u1", "tiny-u1"])
    assert code == 0, capsys.readouterr().err
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    capsys.readouterr()
    for argv in (
        ["evaluate", "../project/runs/u1"],
        ["predict", "../project/runs/u1", "--top-k", "2", "--out", "recs.tsv", "--no-progress"],
        ["evaluate", "zoo:tiny-u1"],
    ):
        code = main(argv)
        assert code == 0, (argv, capsys.readouterr().err)
    assert (elsewhere / "recs.tsv").read_text().count("\n") == 30 * 2  # 2 items per user


def test_set_and_data_paths_follow_the_current_directory(tmp_path, monkeypatch, capsys):
    project = _tiny_project(tmp_path)
    monkeypatch.chdir(project / "data")
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "../examples/tiny.yaml",
            "--data",
            "train.tsv",
            "--set",
            "Data.ratings.Test=test.tsv",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0, capsys.readouterr().err
    source = json.loads((out / "config.json").read_text())["Data"]["ratings"]
    data = project / "data"
    assert source == {
        **source,
        "Path": str(data / "train.tsv"),
        "Test": str(data / "test.tsv"),
        "Orientation": "Item",
    }
    assert all(Path(s).is_absolute() for s in _strings(source) if s.endswith(".tsv"))


def test_ensemble_member_paths_are_absolute(tmp_path, monkeypatch):
    from netcfg.ensembles.load import ensemble_tree, load_ensemble

    project = _tiny_project(tmp_path)
    members = [
        {"Name": "a", "Network": "tiny.yaml"},
        {"Name": "b", "Network": "tiny.yaml", "Set": ["Data.ratings.Orientation=User"]},
    ]
    ensemble = {"Kind": "Ensemble", "Members": members}
    write(project / "examples", "ens.json", json.dumps(ensemble))
    monkeypatch.chdir(project)
    loaded = load_ensemble(*ensemble_tree("examples/ens.json"))
    assert [m.Network for m in loaded.spec.Members] == [str(project / "examples" / "tiny.yaml")] * 2
    assert all(m.config.is_absolute() for m in loaded.members)
