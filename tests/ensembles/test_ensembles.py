"""Ensembles: members trained apart, their clipped ratings averaged at the held-out pairs."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from netcfg.cli import main
from netcfg.data.source import open_source
from netcfg.ensembles.load import ensemble_tree, load_ensemble
from netcfg.errors import ConfigError
from netcfg.experiments.run import train
from netcfg.trainers.rundir import load_model

DATA = {
    "Synthetic": {"Users": 60, "Items": 40, "Density": 0.25, "Seed": 0},
    "Protocol": {"Type": "random", "Fractions": [0.8, 0.1, 0.1], "Seed": 0},
}


def member_config(hidden: int, seed: int) -> dict:
    return {
        "Kind": "AutoEncoder",
        "ErrorFunction": "MaskedMSE",
        "Layers": [
            {"Name": "Input", "Kind": "Input", "N": "auto", "DataSet": "ratings", "Sparse": True},
            {"Name": "Hidden", "N": hidden, "Activation": "Sigmoid"},
            {
                "Name": "Output",
                "Kind": "Output",
                "N": "auto",
                "DataSet": "ratings",
                "Sparse": True,
                "Activation": "Linear",
            },
        ],
        "Data": {"ratings": DATA},
        "Training": {
            "Optimizer": {"Type": "Adam", "LearningRate": 0.01},
            "Epochs": 15,
            "BatchSize": 16,
            "Seed": seed,
        },
    }


def write_ensemble(folder: Path, members: list[dict], **extra) -> Path:
    """Write ``a.json`` and ``b.json`` members and the ensemble ``ens.json`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.json").write_text(json.dumps(member_config(8, 1)))
    (folder / "b.json").write_text(json.dumps(member_config(12, 2)))
    ensemble = {"Kind": "Ensemble", "Name": "test ensemble", "Members": members, **extra}
    path = folder / "ens.json"
    path.write_text(json.dumps(ensemble))
    return path


MEMBERS = [
    {"Name": "users", "Network": "a.json", "Weight": 1},
    {"Name": "items", "Network": "b.json", "Weight": 3, "Set": ["Data.ratings.Orientation=Item"]},
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One trained two-member ensemble (a user-based and an item-based member)."""
    root = tmp_path_factory.mktemp("ensemble")
    config = write_ensemble(root, MEMBERS)
    result = train(config, out=root / "run")
    return config, root / "run", result


def reference_ratings(member_dir: Path) -> dict[tuple, tuple[float, float]]:
    """(user, item) -> (clipped prediction, rating) at the test entries, from the member's
    network run densely on its whole training matrix."""
    model = load_model(member_dir)
    split = open_source(model.spec.Data["ratings"])
    train_part, test = split.parts["train"], split.parts["test"]
    everything = np.arange(train_part.shape[0])
    outputs = model.network({"ratings": train_part.batch(everything)}).outputs["Output"]
    outputs = outputs.detach().numpy()
    low, high = train_part.values.min(), train_part.values.max()
    found = {}
    for row in range(test.shape[0]):
        start, end = test.indptr[row], test.indptr[row + 1]
        for column, rating in zip(test.indices[start:end], test.values[start:end], strict=True):
            key = (train_part.rows.ids[row], train_part.columns.ids[column])
            if train_part.orientation == "item":
                key = key[::-1]
            found[key] = (float(np.clip(outputs[row, column], low, high)), float(rating))
    return found


def fallback_errors(member_dir: Path) -> list[float]:
    """Squared errors at the test entries whose user or item has no training rating: they
    are rated with the user's mean training rating, else the global mean, by every member
    alike."""
    split = open_source(load_model(member_dir).spec.Data["ratings"])  # user rows
    train_part, unseen = split.parts["train"], split.unseen["test"]
    values = train_part.values.astype(np.float64)
    counts = train_part.row_counts()
    errors = []
    for row, rating in zip(unseen.rows, unseen.values, strict=True):
        start, end = train_part.indptr[row], train_part.indptr[row + 1]
        predicted = values[start:end].mean() if counts[row] else values.mean()
        errors.append((predicted - rating) ** 2)
    return errors


def test_the_ensemble_is_the_weighted_mean_of_its_members(trained):
    _, run, result = trained
    users = reference_ratings(run / "members" / "users")
    items = reference_ratings(run / "members" / "items")
    assert set(users) == set(items) and len(users) > 20
    squared = [(0.25 * users[k][0] + 0.75 * items[k][0] - users[k][1]) ** 2 for k in users]
    unseen = fallback_errors(run / "members" / "users")
    assert unseen  # the split has test entries outside the training data
    squared += unseen
    assert result.test["RMSE"] == pytest.approx(math.sqrt(np.mean(squared)), rel=1e-9)
    assert result.members["users"]["weight"] == 0.25
    own = json.loads((run / "members" / "items" / "run.json").read_text())["test"]
    assert result.members["items"]["test"]["RMSE"] == pytest.approx(own["RMSE"], rel=1e-12)
    assert result.test["RMSE"] != pytest.approx(own["RMSE"], rel=1e-6)  # not a member's


def test_each_member_is_a_complete_run_directory(trained):
    _, run, _ = trained
    for name in ("users", "items"):
        model = load_model(run / "members" / name)
        assert model.spec.Data["ratings"].Orientation == ("User" if name == "users" else "Item")
    saved = json.loads((run / "run.json").read_text())
    assert saved["status"] == "completed" and set(saved["members"]) == {"users", "items"}


def test_identical_members_score_as_one(tmp_path):
    config = write_ensemble(
        tmp_path, [{"Name": "one", "Network": "a.json"}, {"Name": "two", "Network": "a.json"}]
    )
    result = train(config, out=tmp_path / "run")
    alone = result.members["one"]["test"]
    assert result.members["two"]["test"] == alone
    assert result.test["RMSE"] == pytest.approx(alone["RMSE"], rel=1e-12)


def test_resuming_a_finished_ensemble_trains_nothing_again(trained, tmp_path):
    config, run, result = trained
    weights = sorted((run / "members").glob("*/best/*"))
    stamps = [w.stat().st_mtime_ns for w in weights]
    again = train(config, out=run, resume=True)
    assert again.test == result.test
    assert [w.stat().st_mtime_ns for w in weights] == stamps


def test_evaluate_command_scores_the_ensemble_again(trained, capsys):
    _, run, result = trained
    assert main(["evaluate", str(run), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["test"]["RMSE"] == pytest.approx(result.test["RMSE"], rel=1e-12)
    assert main(["evaluate", str(run), "--part", "all", "--json"]) == 0
    both = json.loads(capsys.readouterr().out)
    assert list(both) == ["validation", "test"] and both["test"] == printed["test"]


def test_single_model_commands_name_the_members(trained, capsys):
    _, run, _ = trained
    assert main(["predict", str(run), "--top-k", "3"]) == 2
    err = capsys.readouterr().err
    assert "is an ensemble (items, users)" in err and "members" in err
    assert "Traceback" not in err


def test_overrides_reach_every_member_or_the_ensemble(tmp_path):
    config = write_ensemble(tmp_path, MEMBERS)
    ensemble = load_ensemble(
        *ensemble_tree(config), ["Training.Epochs=7", "Members.0.Weight=3", "Name=x"]
    )
    assert [m.spec.Training.Epochs for m in ensemble.members] == [7, 7]
    assert [m.weight for m in ensemble.members] == [0.5, 0.5]
    assert ensemble.spec.Name == "x"
    assert ensemble.members[1].spec.Data["ratings"].Orientation == "Item"


def test_every_problem_is_reported_with_its_path(tmp_path):
    members = [
        {"Name": "users", "Network": "a.json", "Wieght": 2},
        {"Name": "users", "Network": "missing.json"},
    ]
    config = write_ensemble(tmp_path, members)
    with pytest.raises(ConfigError) as caught:
        load_ensemble(*ensemble_tree(config), ["Trainig.Epochs=1"])
    text = str(caught.value)
    assert "Members[0].Wieght: unknown key 'Wieght'; did you mean 'Weight'?" in text
    assert "Members[0].Network.Trainig: unknown key 'Trainig'" in text
    assert "missing.json" in text


def test_members_must_predict_the_same_ratings(tmp_path):
    config = write_ensemble(
        tmp_path,
        [
            {"Name": "a", "Network": "a.json"},
            {"Name": "b", "Network": "b.json", "Set": ["Data.ratings.Synthetic.Seed=5"]},
        ],
    )
    with pytest.raises(ConfigError, match="members must predict the same ratings"):
        load_ensemble(*ensemble_tree(config))


def test_repeated_member_names_are_refused(tmp_path):
    config = write_ensemble(
        tmp_path, [{"Name": "a", "Network": "a.json"}, {"Name": "a", "Network": "b.json"}]
    )
    with pytest.raises(ConfigError, match="member names must differ: a repeated"):
        load_ensemble(*ensemble_tree(config))


def test_validate_command_checks_every_member(tmp_path, capsys):
    config = write_ensemble(tmp_path, MEMBERS)
    assert main(["validate", str(config)]) == 0
    out = capsys.readouterr().out
    assert "valid ensemble of 2 members" in out
    assert "member users" in out and "member items" in out
    assert main(["validate", str(config), "--set", "Members.1.Weight=0"]) == 2
    assert "Members[1].Weight: must be greater than 0" in capsys.readouterr().err


def test_resume_trains_only_the_members_that_did_not_finish(tmp_path):
    config = write_ensemble(tmp_path, MEMBERS)
    run = tmp_path / "run"
    first = train(config, out=run)
    kept = (run / "members" / "users" / "best").stat().st_mtime_ns
    shutil.rmtree(run / "members" / "items")  # as if killed before the second member ran
    again = train(config, out=run, resume=True)
    assert (run / "members" / "users" / "best").stat().st_mtime_ns == kept
    assert (run / "members" / "items" / "run.json").is_file()
    assert again.test == pytest.approx(first.test, rel=1e-12)  # seeded: the same member


def test_an_ensemble_run_goes_into_the_user_zoo(trained, tmp_path, monkeypatch, capsys):
    _, run, result = trained
    monkeypatch.setenv("NETCFG_ZOO", str(tmp_path / "zoo"))
    assert main(["zoo", "add", str(run), "three-views"]) == 0
    capsys.readouterr()
    assert main(["evaluate", "zoo:three-views", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["test"]["RMSE"] == pytest.approx(result.test["RMSE"], rel=1e-12)


def test_a_member_cannot_be_an_ensemble(tmp_path):
    inner = write_ensemble(tmp_path / "inner", MEMBERS)
    config = write_ensemble(
        tmp_path,
        [{"Name": "a", "Network": "a.json"}, {"Name": "b", "Network": str(inner)}],
    )
    with pytest.raises(ConfigError, match="is an ensemble; members are networks"):
        load_ensemble(*ensemble_tree(config))
