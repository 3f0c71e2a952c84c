"""Scores of given (user, item) pairs: against the network run on each dense row, for
user-based and item-based models; unknown ids; input order; ``netcfg predict --pairs``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from inference_models import autoencoder_config, random_matrix

import netcfg
from netcfg.cli import main
from netcfg.data.source import open_source
from netcfg.inference.models import open_model
from netcfg.inference.pairs import score_pairs
from netcfg.trainers.evaluation import value_range


def _write_ratings(path, seed, users=40, items=25):
    matrix = random_matrix(users, items, 0.3, seed)
    rows = matrix.row_of_entries()
    triples = [
        (int(matrix.rows.ids[r]), int(matrix.columns.ids[c]), float(v))
        for r, c, v in zip(rows, matrix.indices, matrix.values, strict=True)
    ]
    path.write_text("".join(f"{u}\t{i}\t{v:g}\t{n}\n" for n, (u, i, v) in enumerate(triples)))
    return triples


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A user-based and an item-based model trained on the same ratings."""
    folder = tmp_path_factory.mktemp("pairs")
    triples = _write_ratings(folder / "train.tsv", 3)
    _write_ratings(folder / "test.tsv", 4)
    made = {}
    for orientation in ("User", "Item"):
        config = autoencoder_config()
        config["Data"] = {
            "ratings": {
                "Path": str(folder / "train.tsv"),
                "Test": str(folder / "test.tsv"),
                "Orientation": orientation,
            }
        }
        config["Training"] = {"Optimizer": "Adam", "Epochs": 2, "BatchSize": 8}
        made[orientation] = netcfg.train(config, out=folder / orientation).run_dir
    return made, triples


def _dense_reference(model, triples, orientation, user, item, clip):
    """The network on the dense row of the pair (the user's ratings, or the item's), read
    at the pair's column, clipped: computed pair by pair, without netcfg's batching."""
    rows_ids, columns_ids = model.ids["ratings"]
    row_key, column_key = (user, item) if orientation == "user" else (item, user)
    if row_key not in set(rows_ids.ids.tolist()) or column_key not in set(columns_ids.ids.tolist()):
        return None
    column_of = {c: k for k, c in enumerate(columns_ids.ids.tolist())}
    dense = torch.zeros(1, len(columns_ids))
    for u, i, v in triples:
        r, c = (u, i) if orientation == "user" else (i, u)
        if r == row_key:
            dense[0, column_of[c]] = v
    with torch.no_grad():
        score = float(model.network({"ratings": dense}).outputs["Out"][0, column_of[column_key]])
    return score if clip is None else min(max(score, clip[0]), clip[1])


def _pairs(triples, seed=0):
    """Known pairs (seen and unseen ones) in a random order, with unknown ids mixed in."""
    rng = np.random.default_rng(seed)
    users = sorted({u for u, _, _ in triples})
    items = sorted({i for _, i, _ in triples})
    pairs = [(int(rng.choice(users)), int(rng.choice(items))) for _ in range(120)]
    pairs += [(999_999, items[0]), (users[0], 888_888), (999_999, 888_888)]
    pairs += [pairs[5], pairs[5]]  # repeats are scored each time
    order = rng.permutation(len(pairs))
    return [pairs[k] for k in order]


@pytest.mark.parametrize("orientation", ["User", "Item"])
def test_scores_equal_the_dense_computation(trained, orientation):
    runs, triples = trained
    model = open_model(runs[orientation])
    rows = open_source(model.spec.Data["ratings"]).train
    clip = value_range(rows)
    values = [v for _, _, v in triples]
    assert clip == (min(values), max(values))
    pairs = _pairs(triples)
    users, items = (np.array(column) for column in zip(*pairs, strict=True))
    for bound, batch_size in ((clip, 7), (None, 1024)):
        found = score_pairs(model, rows, users, items, clip=bound, batch_size=batch_size)
        assert found.users.tolist() == users.tolist() and found.items.tolist() == items.tolist()
        for (user, item), score in zip(pairs, found.scores.tolist(), strict=True):
            expected = _dense_reference(model, triples, orientation.lower(), user, item, bound)
            if expected is None:
                assert np.isnan(score)
            else:
                assert score == pytest.approx(expected, rel=1e-5, abs=1e-5)
        assert (found.unknown_users, found.unknown_items, found.unknown) == (2, 2, 3)


def test_clipping_reaches_the_bounds(trained):
    runs, triples = trained
    model = open_model(runs["User"])
    rows = open_source(model.spec.Data["ratings"]).train
    users, items = (np.array(c) for c in zip(*[(u, i) for u, i, _ in triples], strict=True))
    raw = score_pairs(model, rows, users, items).scores
    clipped = score_pairs(model, rows, users, items, clip=(2.0, 3.0)).scores
    np.testing.assert_allclose(clipped, np.clip(raw, 2.0, 3.0))
    assert (raw < 2).any() or (raw > 3).any()


def test_string_ids_and_empty_input(trained):
    runs, _ = trained
    model = open_model(runs["User"])
    rows = open_source(model.spec.Data["ratings"]).train
    empty = score_pairs(model, rows, np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert len(empty.scores) == 0 and empty.unknown_users == 0
    odd = score_pairs(model, rows, np.array(["x", "100"], dtype=object), np.array([1000, 1000]))
    assert np.isnan(odd.scores[0]) and not np.isnan(odd.scores[1])
    assert odd.unknown_users == 1


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("orientation", ["User", "Item"])
def test_cli_round_trip(trained, capsys, tmp_path, orientation):
    runs, triples = trained
    run_dir = runs[orientation]
    pairs = _pairs(triples, seed=1)
    file = tmp_path / "pairs.tsv"
    file.write_text("user\titem\n" + "".join(f"{u}\t{i}\n" for u, i in pairs))
    code, _, err = _run(capsys, "predict", run_dir, "--pairs", file, "--out", tmp_path / "s.tsv")
    assert code == 0
    assert "2 pairs with unknown users, 2 with unknown items" in err
    lines = [line.split("\t") for line in (tmp_path / "s.tsv").read_text().splitlines()]
    assert [(int(u), int(i)) for u, i, _ in lines] == pairs
    model = open_model(run_dir)
    clip = value_range(open_source(model.spec.Data["ratings"]).train)
    for (user, item), (_, _, text) in zip(pairs, lines, strict=True):
        expected = _dense_reference(model, triples, orientation.lower(), user, item, clip)
        if expected is None:
            assert text == ""
        else:
            assert float(text) == pytest.approx(expected, rel=1e-5, abs=1e-5)
    # standard output, no clipping, a values column in the pairs file
    rated = tmp_path / "rated.tsv"
    rated.write_text("".join(f"{u}\t{i}\t3\n" for u, i in pairs))
    code, out, _ = _run(capsys, "predict", run_dir, "--pairs", rated, "--no-clip")
    assert code == 0
    scores = [line.split("\t")[2] for line in out.splitlines()]
    for (user, item), text in zip(pairs, scores, strict=True):
        expected = _dense_reference(model, triples, orientation.lower(), user, item, None)
        assert (
            (text == "")
            if expected is None
            else float(text) == pytest.approx(expected, rel=1e-5, abs=1e-5)
        )


def test_cli_strict_and_argument_errors(trained, capsys, tmp_path):
    runs, triples = trained
    run_dir = runs["User"]
    file = tmp_path / "pairs.csv"
    file.write_text(f"{triples[0][0]},{triples[0][1]}\n999999,{triples[0][1]}\n")
    code, out, err = _run(capsys, "predict", run_dir, "--pairs", file, "--strict")
    assert code == 2 and out == "" and "1 pairs with unknown users, 0 with unknown items" in err
    file.write_text(f"{triples[0][0]},{triples[0][1]}\n")
    code, out, _ = _run(capsys, "predict", run_dir, "--pairs", file, "--strict")
    assert code == 0 and out.startswith(f"{triples[0][0]}\t{triples[0][1]}\t")
    for extra in (["--top-k", "3"], ["--exclude-seen"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["predict", str(run_dir), "--pairs", str(file), *extra])
        assert exit_info.value.code == 2
        assert "--pairs" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(run_dir)])
    assert exit_info.value.code == 2 and "--top-k" in capsys.readouterr().err
    code, _, err = _run(capsys, "predict", run_dir, "--pairs", tmp_path / "missing.tsv")
    assert code == 2 and "missing.tsv" in err
