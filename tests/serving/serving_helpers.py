"""Servers on loopback, data files and metric parsing for the serving tests (imported as
``serving_helpers``)."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from netcfg.cli import main


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running(app) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on a free loopback port; yields its URL."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def ratings_file(
    path: Path, users: int, items: int, density: float, seed: int, user_prefix="", item_prefix=""
) -> Path:
    """Random 1-5 ratings as ``user<TAB>item<TAB>rating`` lines (every user rates at least
    two items); ids are numbers, or strings with the prefixes."""
    rng = np.random.default_rng(seed)
    lines = []
    for user in range(1, users + 1):
        rated = np.flatnonzero(rng.random(items) < density) + 1
        if len(rated) < 2:
            rated = rng.choice(np.arange(1, items + 1), 2, replace=False)
        for item in rated:
            lines.append(f"{user_prefix}{user}\t{item_prefix}{item}\t{rng.integers(1, 6)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def read_ratings(path: Path) -> dict[str, dict[str, float]]:
    """user -> {item: rating} of a file written by `ratings_file` (ids as strings)."""
    found: dict[str, dict[str, float]] = {}
    for line in path.read_text().splitlines():
        user, item, value = line.split("\t")
        found.setdefault(user, {})[item] = float(value)
    return found


def predict_lists(capsys, *argv) -> dict:
    """``netcfg predict ... --output-format jsonl``: user -> (items, scores)."""
    code = main(["predict", *map(str, argv), "--output-format", "jsonl", "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    return {r["user"]: (r["items"], r["scores"]) for r in records}


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of Prometheus text (0 when absent)."""
    for line in text.splitlines():
        match = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(3))
    return 0.0


def assert_error(answer, status: int, field: str | None, fragment: str) -> None:
    """A refusal: the status, a one-line JSON body naming the field, the message."""
    assert answer.status_code == status, answer.text
    assert "\n" not in answer.text.strip() and "Traceback" not in answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert set(body) == {"error", "field"}
    assert body["field"] == field, body
    assert fragment in body["error"], body
    if field is not None:
        assert body["error"].startswith(f"{field}: ")
