"""bench/tune.py --quick: three studies side by side, a table and the pruning line."""

from __future__ import annotations

import re

import tune as tune_bench


def test_the_search_benchmark_compares_three_searches(capsys, monkeypatch):
    monkeypatch.setenv("NETCFG_THREADS", "1")  # restored after the bench sets them
    monkeypatch.setenv("NETCFG_DATA", "")
    assert tune_bench.main(["--quick", "--trials", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = [line for line in out if line.startswith("| ") and not line.startswith("| search")]
    assert [row.split(" | ")[0] for row in rows] == ["| TPE + pruning", "| TPE", "| random"]
    for row in rows:
        epochs = int(row.split(" | ")[-3])
        assert 3 <= epochs <= 9  # three trials of at most 3 epochs each
    assert re.match(r"pruning: best \d\.\d{4} vs \d\.\d{4} without", out[-1])
