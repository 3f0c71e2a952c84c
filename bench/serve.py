"""Serving benchmark: ``netcfg serve`` under concurrent load, with and without batching.

A Netflix-shaped model (17,770 items; a small user-based autoencoder, n-256-n, SELU, a
linear output, trained for one epoch on ``netcfg data synth`` data of Netflix's density)
is served by ``netcfg serve`` in second processes on loopback, one with micro-batching
(``--max-batch 64``) and one without (``--max-batch 1``), started together and loaded one
after the other. A bounded asyncio load loop in this process (one keep-alive connection
per client, plain HTTP/1.1 over asyncio streams, so the client costs little CPU beside
the servers) sends top-10 requests for random known users with ``exclude_seen`` for a
fixed time at 1, 8 and 64 concurrent clients, and prints for each: requests/s, p50, p95
and p99 latency, errors; then ``GET /health`` at the most clients, what the HTTP stack
alone costs on this machine. ``--soak SECONDS`` then loads the batching server at 64
clients for that long and reports its resident memory before and after.

Usage: ``python bench/serve.py [--seconds 10] [--clients 1,8,64] [--soak 60] [--quick]``
(``--quick``: a small model and a second per setting, for the tests; ``--workdir DIR``
keeps the data and the model for the next run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

NETFLIX_DENSITY = 100_480_507 / (480_189 * 17_770)


def _config(data: Path, hidden: int) -> dict:
    """A small DeepRec-style autoencoder over the synthetic ratings."""
    return {
        "Name": "serve-bench",
        "ErrorFunction": "MaskedMSE",
        "Layers": [
            {"Name": "Input", "Kind": "Input", "N": "auto", "DataSet": "ratings", "Sparse": True},
            {"Name": "Hidden", "N": hidden, "Activation": "Selu"},
            {
                "Name": "Output",
                "Kind": "Output",
                "N": "auto",
                "DataSet": "ratings",
                "Activation": "Linear",
            },
        ],
        "Data": {"ratings": str(data)},
        "Training": {
            "Optimizer": {"Type": "Adam", "LearningRate": 0.001},
            "BatchSize": 128,
            "Epochs": 1,
            "Validation": "None",
            "Seed": 0,
        },
        "Evaluation": {"Metrics": ["RMSE"]},
    }


def train_model(folder: Path, users: int, items: int, hidden: int) -> Path:
    """``netcfg data synth`` a dataset, train the model for one epoch; its run directory."""
    from netcfg.cli import main as netcfg_main

    data = folder / "data"
    argv = ["data", "synth", "--users", str(users), "--items", str(items)]
    argv += ["--density", f"{NETFLIX_DENSITY:.6f}", "--seed", "0", "-o", str(data)]
    if netcfg_main(argv) != 0:
        raise SystemExit("netcfg data synth failed")
    import netcfg

    run_dir = folder / "run"
    netcfg.train(_config(data, hidden), out=run_dir, progress=False)
    return run_dir


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def servers(run_dir: Path, batches: list[int], folder: Path):
    """``netcfg serve --max-batch B`` for each B, each in its own process, started together;
    yields {B: (port, pid)} once all answer, and stops them with SIGTERM."""
    started = {}
    try:
        for max_batch in batches:
            port = _free_port()
            command = [sys.executable, "-m", "netcfg", "serve", str(run_dir)]
            command += ["--port", str(port), "--max-batch", str(max_batch)]
            log = folder / f"serve-{max_batch}.log"
            with log.open("w") as out:
                process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
            started[max_batch] = (port, process, log)
        deadline = time.monotonic() + 300
        for port, process, log in started.values():
            while not _answers(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server did not start:\n{log.read_text()}")
                time.sleep(0.2)
        yield {b: (port, process.pid) for b, (port, process, _) in started.items()}
    finally:
        for _, process, _ in started.values():
            process.send_signal(signal.SIGTERM)
        for _, process, log in started.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.returncode != 0:
                print(f"netcfg serve exited with {process.returncode}:\n{log.read_text()}")


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"GET /ready HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def recommend_requests(run_dir: Path, count: int = 2000) -> list[bytes]:
    """POST /recommend requests (whole HTTP/1.1 messages): top-10 with ``exclude_seen`` for
    random known users."""
    users = (run_dir / "ids" / "ratings" / "rows.txt").read_text().split()
    rng = random.Random(0)
    requests = []
    for _ in range(count):
        body = json.dumps({"user": rng.choice(users), "k": 10, "exclude_seen": True}).encode()
        head = (
            "POST /recommend HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        requests.append(head.encode() + body)
    return requests


HEALTH = [b"GET /health HTTP/1.1\r\nHost: bench\r\n\r\n"]
"""GET /health: what the HTTP stack alone costs."""


async def _client(port: int, requests: list[bytes], stop_at: float, limit: int, seed: int):
    """One keep-alive connection sending requests until ``stop_at`` (or ``limit`` sent);
    returns (latencies of answered requests, errors)."""
    rng = random.Random(seed)
    latencies, errors = [], 0
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(limit):
            if time.perf_counter() >= stop_at:
                break
            start = time.perf_counter()
            writer.write(rng.choice(requests))
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            answer = await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if not head.startswith(b"HTTP/1.1 200") or not answer.startswith(b"{"):
                errors += 1
    except (OSError, asyncio.IncompleteReadError):
        errors += 1
    finally:
        writer.close()
    return latencies, errors


async def load(port: int, requests: list[bytes], clients: int, seconds: float) -> dict:
    """``clients`` concurrent clients for ``seconds`` (after a short warm-up)."""
    warm = time.perf_counter() + min(1.0, seconds / 4)
    await asyncio.gather(*(_client(port, requests, warm, 10_000, c) for c in range(clients)))
    start = time.perf_counter()
    stop_at = start + seconds
    limit = max(1, int(seconds * 20_000 / clients))  # bounded whatever the speed
    found = await asyncio.gather(
        *(_client(port, requests, stop_at, limit, 1000 + c) for c in range(clients))
    )
    elapsed = time.perf_counter() - start
    latencies = np.array([x for lat, _ in found for x in lat]) * 1000
    errors = sum(e for _, e in found)
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99]) if len(latencies) else (0, 0, 0)
    return {
        "clients": clients,
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "errors": errors,
    }


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _row(label: str, found: dict) -> str:
    return (
        f"| {label} | {found['clients']} | {found['rps']:.0f} | {found['p50_ms']:.1f} | "
        f"{found['p95_ms']:.1f} | {found['p99_ms']:.1f} | {found['errors']} |"
    )


def main(argv: list[str] | None = None) -> int:
    """Train, serve, load, print the table (and the soak)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=17_770)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=10.0, help="per setting")
    parser.add_argument("--clients", default="1,8,64")
    parser.add_argument("--soak", type=float, default=0.0, help="seconds at 64 clients")
    parser.add_argument("--quick", action="store_true", help="small sizes, a second each")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--workdir", type=Path, help="keep the data and model here (reused when present)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.items, args.hidden, args.seconds = 300, 500, 16, 1.0
    clients = [int(c) for c in args.clients.split(",")]
    os.environ.setdefault("NETCFG_THREADS", "1")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.workdir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        run_dir = folder / "run"
        if not (run_dir / "run.json").is_file():
            run_dir = train_model(folder, args.users, args.items, args.hidden)
        print(
            f"model: {args.users:,} users x {args.items:,} items, hidden {args.hidden}, "
            f"trained in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        requests = recommend_requests(run_dir)
        results = {"batching": [], "no batching": [], "GET /health": []}
        with servers(run_dir, [64, 1], folder) as started:
            for label, max_batch in (("batching", 64), ("no batching", 1)):
                port, _ = started[max_batch]
                for count in clients:
                    found = asyncio.run(load(port, requests, count, args.seconds))
                    results[label].append(found)
                    print(_row(label, found), flush=True)
            # the HTTP stack alone, for scale
            found = asyncio.run(load(started[1][0], HEALTH, clients[-1], args.seconds))
            results["GET /health"].append(found)
            if args.soak:
                results["soak"] = soak(*started[64], requests, args.soak)
        print("| server | clients | requests/s | p50 ms | p95 ms | p99 ms | errors |")
        print("|---|---|---|---|---|---|---|")
        for label in ("batching", "no batching", "GET /health"):
            for row in results[label]:
                print(_row(label, row))
        on, off = results["batching"][-1], results["no batching"][-1]
        print(
            f"batching at {on['clients']} clients: {on['rps'] / max(off['rps'], 1e-9):.2f}x "
            "the requests/s of no batching",
            flush=True,
        )
        if "soak" in results:
            print(results["soak"]["line"])
        if args.json:
            args.json.write_text(json.dumps(results, indent=2, default=float))
    return 0


def soak(port: int, pid: int, requests: list[bytes], seconds: float) -> dict:
    """64 clients for ``seconds`` on a warm server; its resident memory before and after."""
    asyncio.run(load(port, requests, 64, min(5.0, seconds)))  # warm: allocator, caches
    before = _rss_kib(pid)
    found = asyncio.run(load(port, requests, 64, seconds))
    after = _rss_kib(pid)
    growth = (after - before) / before * 100
    line = (
        f"soak: {seconds:g} s at 64 clients, {found['requests']:,} requests, "
        f"{found['rps']:.0f}/s, p99 {found['p99_ms']:.1f} ms, {found['errors']} errors; "
        f"RSS {before / 1024:.0f} -> {after / 1024:.0f} MiB ({growth:+.1f}%)"
    )
    print(line, flush=True)
    return {
        **found,
        "rss_before_kib": before,
        "rss_after_kib": after,
        "growth_pct": growth,
        "line": line,
    }


if __name__ == "__main__":
    sys.exit(main())
