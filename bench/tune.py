"""Search benchmark: TPE with pruning, TPE without pruning and random search, same budget.

Runs three `netcfg.tune` studies of the same config and search space, one after the other,
each with ``--trials`` trials (seed 0), and prints, for each:

- the best validation metric found after 25%, 50%, 75% and 100% of the longest study's
  wall time (the curve "best so far against time"), and at its end;
- the epochs trained in all (each trial's ``metrics.jsonl``), the trials pruned, the time.

Then the check the search issue asks for: TPE with pruning reaches the best of TPE without
pruning within 10% (relative difference of the metric) with at least 30% fewer trained
epochs; exit status 1 when not (``--quick``: tiny synthetic data, nothing checked).

The default config is I-AutoRec on MovieLens 100K's u1 fold (``--data-dir``, seeded into a
temporary data cache) with ``Training.Epochs=40``. Usage: ``python bench/tune.py [--config
CONFIG] [--set KEY=VALUE]... [--trials N] [--threads N] [--quick] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

from netcfg.data.fetch import seed_cache
from netcfg.experiments.study import tune

ML100K = Path(__file__).resolve().parents[2] / "shared" / "data" / "ml-100k"
VARIANTS = {
    "TPE + pruning": {"sampler": "tpe", "pruning": True},
    "TPE": {"sampler": "tpe", "pruning": False},
    "random": {"sampler": "random", "pruning": False},
}
QUICK_SET = ["Training.Epochs=3"]
FRACTIONS = (0.25, 0.5, 0.75, 1.0)


def epochs_trained(folder: Path) -> int:
    """The epochs a trial's run trained (its metrics.jsonl epoch records)."""
    path = folder / "metrics.jsonl"
    if not path.is_file():
        return 0
    return sum("epoch" in json.loads(line) for line in path.read_text().splitlines() if line)


def run_variant(name: str, args: argparse.Namespace, folder: Path) -> dict:
    """One study; returns its trials' end times, values and epochs."""
    options = VARIANTS[name]
    started = time.perf_counter()
    study = tune(
        args.config,
        args.overrides,
        trials=args.trials,
        out=folder,
        seed=0,
        echo=None,
        **options,
    )
    seconds = time.perf_counter() - started
    direction = study.direction == optuna.study.StudyDirection.MAXIMIZE
    trials, first = [], min(t.datetime_start for t in study.trials)
    for trial in study.trials:
        done = (trial.datetime_complete - first).total_seconds()
        epochs = epochs_trained(Path(trial.user_attrs.get("run_dir", folder / "none")))
        value = trial.value if trial.state is TrialState.COMPLETE else None
        trials.append({"end": done, "value": value, "epochs": epochs, "state": trial.state.name})
    return {
        "name": name,
        "maximize": direction,
        "seconds": seconds,
        "trials": trials,
        "epochs": sum(t["epochs"] for t in trials),
        "pruned": sum(t["state"] == "PRUNED" for t in trials),
    }


def best_by(result: dict, seconds: float) -> float | None:
    """The best completed value among the trials that ended by ``seconds``."""
    trials = result["trials"]
    values = [t["value"] for t in trials if t["value"] is not None and t["end"] <= seconds]
    if not values:
        return None
    return max(values) if result["maximize"] else min(values)


def report(results: list[dict], quick: bool) -> int:
    """Print the table and the check; returns the exit status."""
    longest = max(r["seconds"] for r in results)
    heads = [f"best @{int(f * 100)}% ({f * longest:.0f} s)" for f in FRACTIONS]
    print("| search | " + " | ".join(heads) + " | epochs | pruned | seconds |")
    print("|---" * (len(heads) + 4) + "|")
    for result in results:
        cells = [best_by(result, f * longest) for f in FRACTIONS]
        shown = " | ".join("-" if c is None else f"{c:.4f}" for c in cells)
        print(
            f"| {result['name']} | {shown} | {result['epochs']} | {result['pruned']} | "
            f"{result['seconds']:.0f} |"
        )
    pruned, full = results[0], results[1]
    best_pruned, best_full = best_by(pruned, longest), best_by(full, longest)
    gap = abs(best_pruned - best_full) / abs(best_full)
    saved = 1 - pruned["epochs"] / max(full["epochs"], 1)
    print(
        f"pruning: best {best_pruned:.4f} vs {best_full:.4f} without ({gap:.1%} apart), "
        f"{saved:.0%} fewer epochs ({pruned['epochs']} vs {full['epochs']})"
    )
    if quick:
        return 0
    passed = gap <= 0.10 and saved >= 0.30
    print("check: " + ("PASS" if passed else "FAIL") + " (within 10%, at least 30% fewer epochs)")
    return 0 if passed else 1


def main(argv: list[str] | None = None) -> int:
    """Run the three studies and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=None)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--data-dir", type=Path, default=ML100K)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    os.environ["NETCFG_THREADS"] = str(args.threads)
    with tempfile.TemporaryDirectory(prefix="netcfg-tune-bench-") as work:
        work = Path(work)
        os.environ["NETCFG_DATA"] = str(work / "cache")
        if args.quick:
            args.config = args.config or "zoo:quickstart"
            args.overrides = [*QUICK_SET, *args.overrides]
            args.trials = min(args.trials, 5)
        else:
            seed_cache("movielens-100k", args.data_dir)
            args.config = args.config or "zoo:autorec-i-ml100k"
            args.overrides = args.overrides or ["Training.Epochs=40"]
        print(f"config {args.config} {' '.join(args.overrides)}; {args.trials} trials each")
        results = []
        for name in VARIANTS:
            results.append(run_variant(name, args, work / name.replace(" ", "")))
            print(f"{name}: {results[-1]['seconds']:.0f} s", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return report(results, args.quick)


if __name__ == "__main__":
    sys.exit(main())
