"""``netcfg zoo list|show|add`` and ``netcfg train --save-as``: the shipped entries and the
user's zoo of trained models, and their errors (exit 2, one line, no traceback)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from netcfg.cli import main
from netcfg.zoo import zoo_names, zoo_root
from netcfg.zoo_cards import zoo_card

TINY = [
    "--set",
    "Training.Epochs=1",
    "--set",
    'Data.ratings={"Synthetic": {"Users": 60, "Items": 40, "Density": 0.2, "Seed": 0}, '
    '"Protocol": {"Type": "random"}}',
]
"""Overrides that train zoo:quickstart in a second."""


def run(capsys, *argv):
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A completed run of a tiny quickstart (trained once for the module; do not modify)."""
    root = tmp_path_factory.mktemp("finished")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NETCFG_DATA", str(root / "cache"))
        assert main(["train", "zoo:quickstart", "--out", str(root / "run"), *TINY]) == 0
    return root / "run"


@pytest.fixture
def zoo(tmp_path, monkeypatch) -> Path:
    """An empty user zoo in tmp_path."""
    monkeypatch.setenv("NETCFG_ZOO", str(tmp_path / "zoo"))
    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "cache"))
    return tmp_path / "zoo"


def one_error_line(code: int, out: str, err: str) -> str:
    """The error of a command that failed with exit 2 and printed one line."""
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    return err.strip()


def test_list_shows_every_shipped_entry(capsys):
    code, out, err = run(capsys, "zoo", "list")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "TASK", "DATASET", "METRIC", "MEASURED"]
    assert [line.split()[0] for line in lines[1:]] == zoo_names()
    (quickstart,) = [line for line in lines if line.startswith("quickstart ")]
    cells = [cell for cell in quickstart.split("  ") if cell]
    assert [c.strip() for c in cells] == [
        "quickstart",
        "rating prediction",
        "synthetic 6000 x 1500 (generated)",
        "RMSE",
        f"{zoo_card('quickstart').measured:g}",
    ]


def test_list_json_has_the_front_matter_of_every_card(capsys):
    code, out, _ = run(capsys, "zoo", "list", "--json")
    entries = json.loads(out)
    assert code == 0 and [e["name"] for e in entries] == zoo_names()
    assert entries[zoo_names().index("quickstart")] == {
        "name": "quickstart",
        "title": "Quickstart",
        "task": "rating prediction",
        "dataset": "synthetic 6000 x 1500 (generated)",
        "metric": "RMSE",
        "measured": zoo_card("quickstart").measured,
        "published": None,
        "train_seconds": zoo_card("quickstart").train_seconds,
    }


def test_list_prints_a_dash_when_nothing_was_measured(capsys, monkeypatch, tmp_path):
    card = (zoo_root() / "quickstart" / "CARD.md").read_text()
    (tmp_path / "netflix").mkdir()
    (tmp_path / "netflix" / "CARD.md").write_text(
        re.sub(r"(?m)^measured: .*$", "measured: null", card)
    )
    monkeypatch.setattr("netcfg.zoo.zoo_root", lambda: tmp_path)
    code, out, _ = run(capsys, "zoo", "list")
    assert code == 0 and out.splitlines()[1].split()[0] == "netflix"
    assert out.splitlines()[1].split()[-2:] == ["RMSE", "-"]


def test_show_prints_the_card_then_the_config(capsys):
    code, out, err = run(capsys, "zoo", "show", "zoo:quickstart")
    assert (code, err) == (0, "")
    card = (zoo_root() / "quickstart" / "CARD.md").read_text().rstrip()
    config = (zoo_root() / "quickstart" / "model.json").read_text().rstrip()
    assert out == (
        f"{card}\n\n# model.json of zoo:quickstart (netcfg train zoo:quickstart)\n{config}\n"
    )


def test_show_an_unknown_entry_suggests_a_close_name(capsys):
    error = one_error_line(*run(capsys, "zoo", "show", "quickstrat"))
    assert error == "zoo:quickstrat: no zoo entry 'quickstrat'; did you mean 'quickstart'?"


def test_add_registers_a_copy_that_evaluate_predict_and_export_accept(
    capsys, zoo, finished_run, tmp_path
):
    code, out, err = run(capsys, "zoo", "add", finished_run, "tiny-qs")
    assert (code, err, out) == (0, "", f"registered zoo:tiny-qs in {zoo / 'tiny-qs'}\n")
    assert sorted(p.name for p in zoo.iterdir()) == ["tiny-qs"]  # no staging folder left
    assert (finished_run / "run.json").is_file()  # copied, not moved
    files = sorted(p.relative_to(finished_run) for p in finished_run.rglob("*"))
    assert sorted(p.relative_to(zoo / "tiny-qs") for p in (zoo / "tiny-qs").rglob("*")) == files
    for command in (["evaluate"], ["predict", "--top-k", "3", "--no-progress"]):
        by_name = run(capsys, *command[:1], "zoo:tiny-qs", *command[1:])
        by_folder = run(capsys, *command[:1], finished_run, *command[1:])
        assert by_name[0] == 0 and by_name == by_folder
    code, out, _ = run(
        capsys, "export", "zoo:tiny-qs", "--format", "torchscript", "-o", tmp_path / "m.pt"
    )
    assert code == 0 and (tmp_path / "m.pt").is_file()


def test_list_trained_shows_name_metrics_and_path(capsys, zoo, finished_run):
    code, out, _ = run(capsys, "zoo", "list", "--trained")
    assert code == 0 and out.startswith(f"no trained models in {zoo}; ")
    assert run(capsys, "zoo", "add", finished_run, "b.model")[0] == 0
    assert run(capsys, "zoo", "add", finished_run, "a_model")[0] == 0
    recorded = json.loads((finished_run / "run.json").read_text())
    code, out, _ = run(capsys, "zoo", "list", "--trained")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["NAME", "METRICS", "PATH"]
    test = " ".join(f"{k} {v:.4f}" for k, v in recorded["test"].items())
    assert lines[1].split() == ["a_model", "test", *test.split(), str(zoo / "a_model")]
    assert lines[2].split()[0] == "b.model"
    code, out, _ = run(capsys, "zoo", "list", "--trained", "--json")
    assert json.loads(out)[0] == {
        "name": "a_model",
        "path": str(zoo / "a_model"),
        "config": "quickstart",
        "created": recorded["created"],
        "metrics": {"validation": recorded["validation"], "test": recorded["test"]},
    }


def test_a_damaged_entry_is_left_out_of_the_list_with_a_warning(capsys, zoo, finished_run):
    assert run(capsys, "zoo", "add", finished_run, "good")[0] == 0
    (zoo / "broken").mkdir()
    (zoo / "broken" / "run.json").write_text("{")
    code, out, err = run(capsys, "zoo", "list", "--trained")
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == ["NAME", "good"]
    assert f"{zoo / 'broken' / 'run.json'}: cannot read" in err and "left out" in err
    code, out, _ = run(capsys, "zoo", "list", "--trained", "--json")
    assert [entry["name"] for entry in json.loads(out)] == ["good"]


def test_train_save_as_registers_the_finished_run(capsys, zoo, tmp_path):
    out_dir = tmp_path / "run"
    code, out, err = run(
        capsys, "train", "zoo:quickstart", "--out", out_dir, "--save-as", "zoo:mine", *TINY
    )
    assert code == 0, err
    assert out.splitlines()[-2:] == [
        f"run saved in {out_dir}",
        f"registered zoo:mine in {zoo / 'mine'}",
    ]
    registered = json.loads((zoo / "mine" / "run.json").read_text())
    assert registered == json.loads((out_dir / "run.json").read_text())
    assert registered["status"] == "completed"


@pytest.mark.parametrize("name", ["a/b", "..", ".hidden", "with space", "x" * 101, ""])
def test_train_save_as_refuses_a_bad_name_before_training(capsys, zoo, tmp_path, name):
    error = one_error_line(
        *run(capsys, "train", "zoo:quickstart", "--out", tmp_path / "run", "--save-as", name)
    )
    assert error.startswith(f"invalid model name '{name}': use up to 100 letters, digits")
    assert not (tmp_path / "run").exists()


def test_train_save_as_refuses_a_taken_name_before_training(capsys, zoo, tmp_path):
    (zoo / "taken").mkdir(parents=True)
    error = one_error_line(
        *run(capsys, "train", "zoo:quickstart", "--out", tmp_path / "run", "--save-as", "taken")
    )
    assert error == (
        f"'taken' is already in the user zoo ({zoo / 'taken'}); choose another name, or "
        "replace it with: netcfg zoo add RUN_DIR taken --replace"
    )
    assert not (tmp_path / "run").exists()


def test_add_refuses_a_taken_name_unless_replace(capsys, zoo, finished_run, tmp_path):
    assert run(capsys, "zoo", "add", finished_run, "m")[0] == 0
    error = one_error_line(*run(capsys, "zoo", "add", finished_run, "m"))
    assert error.startswith(f"'m' is already in the user zoo ({zoo / 'm'})")
    other = shutil.copytree(finished_run, tmp_path / "other")
    run_json = json.loads((other / "run.json").read_text())
    run_json["test"] = {"RMSE": 0.5}
    (other / "run.json").write_text(json.dumps(run_json))
    assert run(capsys, "zoo", "add", other, "m", "--replace")[0] == 0
    assert json.loads((zoo / "m" / "run.json").read_text())["test"] == {"RMSE": 0.5}
    assert sorted(p.name for p in zoo.iterdir()) == ["m"]


def test_add_move_removes_the_run_directory(capsys, zoo, finished_run, tmp_path):
    moved = shutil.copytree(finished_run, tmp_path / "moved")
    assert run(capsys, "zoo", "add", moved, "m", "--move")[0] == 0
    assert not moved.exists() and (zoo / "m" / "best").is_dir()


def test_add_leaves_the_zoo_as_it_was_when_copying_fails(
    capsys, zoo, finished_run, tmp_path, monkeypatch
):
    assert run(capsys, "zoo", "add", finished_run, "m")[0] == 0
    before = sorted(p.relative_to(zoo) for p in zoo.rglob("*"))

    def disk_full(source, target, **options):
        Path(target).mkdir()
        (Path(target) / "run.json").write_text("{")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("shutil.copytree", disk_full)
    code, out, err = run(capsys, "zoo", "add", finished_run, "m", "--replace")
    assert (code, out) == (1, "")
    assert (
        err
        == f"cannot register {finished_run} as {zoo / 'm'}: [Errno 28] No space left on device\n"
    )
    assert sorted(p.relative_to(zoo) for p in zoo.rglob("*")) == before


def test_add_refuses_what_is_not_a_run_directory(capsys, zoo, tmp_path):
    error = one_error_line(*run(capsys, "zoo", "add", tmp_path, "m"))
    assert error == (
        f"{tmp_path}: not a run directory (no run.json); give the --out folder of a netcfg "
        "train run, or zoo:NAME"
    )
    assert not zoo.exists()


def test_add_refuses_an_unfinished_run(capsys, zoo, finished_run, tmp_path):
    running = shutil.copytree(finished_run, tmp_path / "running")
    run_json = json.loads((running / "run.json").read_text())
    (running / "run.json").write_text(json.dumps(run_json | {"status": "running"}))
    error = one_error_line(*run(capsys, "zoo", "add", running, "m"))
    assert error.startswith(f"{running}: the run is running, not completed; only a finished")
    assert not (zoo / "m").exists()


def test_add_refuses_a_bad_name(capsys, zoo, finished_run):
    error = one_error_line(*run(capsys, "zoo", "add", finished_run, "../escape"))
    assert error.startswith("invalid model name '../escape'")
    assert not zoo.exists()


def test_an_unknown_trained_model_suggests_a_close_name(capsys, zoo, finished_run):
    assert run(capsys, "zoo", "add", finished_run, "autorec")[0] == 0
    error = one_error_line(*run(capsys, "evaluate", "zoo:autorek"))
    assert error.startswith(f"no trained model 'autorek' in the user zoo ({zoo}); did you mean")


def test_remove_deletes_one_trained_model_and_names_close_ones(capsys, zoo, finished_run):
    assert run(capsys, "zoo", "add", finished_run, "keep")[0] == 0
    assert run(capsys, "zoo", "add", finished_run, "drop-me")[0] == 0
    code, out, _ = run(capsys, "zoo", "remove", "zoo:drop-me")
    assert code == 0 and out.strip() == f"removed zoo:drop-me from {zoo}"
    assert sorted(p.name for p in zoo.iterdir()) == ["keep"]  # no staging folder left behind
    code, out, err = run(capsys, "zoo", "remove", "kep")
    assert code == 2
    assert "no trained model 'kep'" in one_error_line(code, out, err)
    assert "did you mean 'keep'?" in err
    assert (zoo / "keep" / "run.json").is_file()
