"""Importing heavy-tailed play counts (a header line, >20 distinct values): the value
histogram, ``data info`` on the result, and no half-made dataset when a statistic fails."""

from __future__ import annotations

import json

import numpy as np

from netcfg.cli import main
from netcfg.data import info as info_module
from netcfg.data.info import dataset_info
from netcfg.data.store import is_dataset, load_dataset


def _play_counts(path, rows: int = 500, seed: int = 0):
    """A header line and ``rows`` lines of user, artist, play count (Pareto-like, 1..350000)."""
    rng = np.random.default_rng(seed)
    weights = np.minimum(np.floor(rng.pareto(0.6, rows) * 20) + 1, 350_000).astype(np.int64)
    weights[:2] = (1, 350_000)
    pairs = rng.choice(60 * 200, rows, replace=False)
    lines = ["userID\tartistID\tweight"]
    lines += [f"{p // 200}\t{p % 200}\t{w}" for p, w in zip(pairs, weights, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return weights


def test_import_and_info_of_heavy_tailed_counts(tmp_path, capsys):
    weights = _play_counts(tmp_path / "plays.tsv")
    assert len(np.unique(weights)) > 20
    out = tmp_path / "plays"
    assert main(["data", "import", str(tmp_path / "plays.tsv"), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "histogram" in printed and "saved to" in printed
    assert main(["data", "info", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    histogram = report["histogram"]
    assert sum(histogram.values()) == len(weights) == report["interactions"]
    assert 3 <= len(histogram) <= 30
    counts = list(histogram.values())
    assert counts[0] > 0 and counts[-1] > 0  # bins span the data, no empty ends
    # log-spaced bins: the tail is not squeezed into one bin holding almost everything
    assert max(counts) < 0.9 * len(weights)


def test_histogram_bins_cover_every_value_once():
    rng = np.random.default_rng(1)
    values = np.minimum(np.floor(rng.pareto(0.6, 5000) * 20) + 1, 350_000).astype(np.float32)
    values[:2] = (1, 350_000)
    histogram = info_module._histogram(values)
    assert sum(histogram.values()) == len(values)
    assert next(iter(histogram)).startswith("1")
    # evenly spread values with many distinct fractions: linear bins
    spread = info_module._histogram(np.linspace(0.5, 5.0, 1000).astype(np.float32))
    assert sum(spread.values()) == 1000 and 5 <= len(spread) <= 12


def test_failed_statistics_leave_no_dataset(tmp_path, monkeypatch, capsys):
    _play_counts(tmp_path / "plays.tsv")
    out = tmp_path / "plays"

    def broken(matrix):
        raise ValueError("boom")

    monkeypatch.setattr(info_module, "_histogram", broken)
    assert main(["data", "import", str(tmp_path / "plays.tsv"), "-o", str(out)]) == 1
    assert "boom" in capsys.readouterr().err
    assert not out.exists() and not is_dataset(out)
    assert [p.name for p in tmp_path.iterdir()] == ["plays.tsv"]  # no staging folder left


def test_imported_values_round_trip(tmp_path):
    weights = _play_counts(tmp_path / "plays.tsv")
    main(["data", "import", str(tmp_path / "plays.tsv"), "-o", str(tmp_path / "d")])
    matrix = load_dataset(tmp_path / "d")
    assert sorted(np.asarray(matrix.values).tolist()) == sorted(weights.astype(float).tolist())
    assert dataset_info(matrix)["values"] == "explicit"
