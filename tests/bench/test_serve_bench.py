"""bench/serve.py --quick: a served model under load, with and without batching, and a soak."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed")
pytest.importorskip("uvicorn", reason="the serve extra is not installed")

import serve as serve_bench  # noqa: E402


def test_the_serving_benchmark_loads_both_servers(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("NETCFG_THREADS", "1")
    out_json = tmp_path / "serve.json"
    assert serve_bench.main(["--quick", "--soak", "1", "--json", str(out_json)]) == 0
    out = capsys.readouterr().out.splitlines()
    header = out.index("| server | clients | requests/s | p50 ms | p95 ms | p99 ms | errors |")
    rows = [line.split(" | ") for line in out[header + 2 : header + 9]]
    assert [(r[0], r[1]) for r in rows] == [
        ("| batching", "1"),
        ("| batching", "8"),
        ("| batching", "64"),
        ("| no batching", "1"),
        ("| no batching", "8"),
        ("| no batching", "64"),
        ("| GET /health", "64"),
    ]
    for row in rows:
        assert float(row[2]) > 0 and row[-1] == "0 |"  # requests answered, no errors
        assert float(row[3]) <= float(row[4]) <= float(row[5])  # p50 <= p95 <= p99
    assert re.match(r"batching at 64 clients: \d+\.\d\dx the requests/s", out[header + 9])
    assert re.match(r"soak: 1 s at 64 clients, [\d,]+ requests, .* 0 errors; RSS", out[-1])
    assert out_json.stat().st_size > 0
