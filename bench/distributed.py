"""Data-parallel throughput: one process against N processes started by torchrun.

The same config (a sparse-input, sparse-output autoencoder on synthetic ratings, global
batch ``--batch``) is trained for ``--epochs`` epochs by ``netcfg train`` in one process
with every usable core, in one process with one thread, and by ``netcfg train --nproc N``
(one thread per process), side by side in this run. Each run's training examples per second
are read from its ``metrics.jsonl`` (the mean over its epochs after the first, which pays
for the start-up); a line gives the ratios against one process.

Then memory (``--memory-items``, default 1,000,000 items; 0 skips it): the same network of
width ``--width`` on a catalogue that size (``--memory-users`` users with about 50 ratings
each), trained for one epoch with lazy Adam by one process, which holds the item tables
whole, and by ``--processes`` processes with ``Training.Distributed.Shard: Auto``. Each run
records, per rank, the bytes it holds for the tables (their rows and optimizer state) and
its peak resident set; the last line gives each rank's share of the whole tables.

Usage: ``python bench/distributed.py [--processes 2] [--users 20000] [--items 20000]
[--density 0.005] [--width 256] [--batch 256] [--epochs 3] [--memory-items 1000000]
[--memory-users 2000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from netcfg.trainers.threads import usable_cpus


def config(args: argparse.Namespace) -> dict:
    """The benchmarked network and data."""
    sparse = {"Sparse": True, "Compute": "Sparse"}
    return {
        "Name": "data-parallel-bench",
        "ErrorFunction": "MaskedMSE",
        "Layers": [
            {"Name": "Input", "Kind": "Input", "N": "auto", "DataSet": "ratings", **sparse},
            {"Name": "Hidden", "N": args.width, "Activation": "Selu"},
            {"Name": "Output", "Kind": "Output", "N": "auto", "DataSet": "ratings", **sparse},
        ],
        "Data": {
            "ratings": {
                "Synthetic": {
                    "Users": args.users,
                    "Items": args.items,
                    "Density": args.density,
                    "Seed": 0,
                },
                "Protocol": {"Type": "random", "Fractions": [0.9, 0.1, 0.0], "Seed": 0},
            }
        },
        "Training": {
            "Optimizer": {"Type": "Adam", "LearningRate": 0.001, "Lazy": True},
            "BatchSize": args.batch,
            "Epochs": args.epochs,
            "EarlyStopping": None,
            "Seed": 0,
        },
        "Evaluation": {"Metrics": ["RMSE"]},
    }


def memory_config(args: argparse.Namespace) -> dict:
    """The memory runs' network and data: a catalogue of ``--memory-items``, one epoch,
    no validation (an evaluation would compute every item's output). One process holds
    what ``Shard`` names whole; several split it."""
    bench = config(args)
    ratings = bench["Data"]["ratings"]
    ratings["Synthetic"].update(
        Users=args.memory_users, Items=args.memory_items, Density=50 / args.memory_items
    )
    ratings["Protocol"]["Fractions"] = [1.0, 0.0, 0.0]
    bench["Training"].update(Epochs=1, Validation="None", Distributed={"Shard": "Auto"})
    return bench


def memory(run: Path) -> dict:
    """What each rank held for the item tables, and its peak resident set, in MiB."""
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    (held,) = [r["memory"] for r in records if "memory" in r]
    return {key: [round(b / 2**20, 1) for b in values] for key, values in held.items()}


def examples_per_second(run: Path) -> float:
    """The mean training examples per second of the run's epochs after the first."""
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    speeds = [r["examples_per_second"] for r in records if "examples_per_second" in r]
    return statistics.mean(speeds[1:] or speeds)


def train(path: Path, out: Path, threads: int, processes: int, env: dict) -> float:
    """Train with ``processes`` processes of ``threads`` threads; examples per second."""
    command = [sys.executable, "-m", "netcfg", "train", str(path), "--out", str(out), "-q"]
    if processes > 1:
        command += ["--nproc", str(processes)]
    done = subprocess.run(
        command, env={**env, "NETCFG_THREADS": str(threads)}, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return examples_per_second(out)


def main() -> None:
    """Run the three trainings and print a JSON line each, then the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--density", type=float, default=0.005)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--memory-items", type=int, default=1_000_000)
    parser.add_argument("--memory-users", type=int, default=2_000)
    args = parser.parse_args()
    cores = usable_cpus()
    with tempfile.TemporaryDirectory(prefix="bench-distributed-") as temp:
        folder = Path(temp)
        path = folder / "model.json"
        path.write_text(json.dumps(config(args)))
        env = {**os.environ, "NETCFG_DATA": str(folder / "cache")}
        runs = {
            f"1 process, {cores} threads": (cores, 1),
            "1 process, 1 thread": (1, 1),
            f"{args.processes} processes, 1 thread each": (1, args.processes),
        }
        speeds = {}
        for name, (threads, processes) in runs.items():
            speeds[name] = train(path, folder / f"run-{len(speeds)}", threads, processes, env)
            print(json.dumps({"run": name, "examples_per_second": round(speeds[name], 1)}))
        if args.memory_items:
            held = {}
            for processes in (1, args.processes):
                path = folder / f"memory-{processes}.json"
                path.write_text(json.dumps(memory_config(args)))
                out = folder / f"memory-run-{processes}"
                train(path, out, 1, processes, env)
                held[processes] = memory(out)
                print(
                    json.dumps(
                        {"processes": processes, "items": args.memory_items, **held[processes]}
                    )
                )
            whole = held[1]["tables"][0]
            print(
                json.dumps(
                    {
                        "tables_share_per_rank": [
                            round(t / whole, 3) for t in held[args.processes]["tables"]
                        ]
                    }
                )
            )
    parallel = speeds[f"{args.processes} processes, 1 thread each"]
    print(
        json.dumps(
            {
                "usable_cores": cores,
                "shape": [args.users, args.items, args.density, args.width, args.batch],
                "speedup_vs_1_process_all_cores": round(parallel / speeds[next(iter(speeds))], 2),
                "speedup_vs_1_process_1_thread": round(parallel / speeds["1 process, 1 thread"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
