"""Transfer benchmark: every shipped zoo entry on data it was not tuned on, beside baselines.

Each entry keeps its config but its ``Data`` source (`data_overrides`: ``Data.ratings.Fold=u2``
style, or a new source keeping the entry's treatment keys such as ``Orientation``) and is
trained by ``netcfg.trainers.train.train`` with netcfg's defaults. ``--datasets``:

- ``ml100k``: rating entries on the folds u2..u5 (the zoo tuned on u1); ranking entries on the
  zoo's protocol (ratings >= 4, per-user random 80/20) with split seeds 1..4 (the zoo: 0).
- ``synth-explicit``: ``netcfg data synth`` ratings, per-user random 80/10/10.
- ``synth-implicit``: ``netcfg data synth --implicit`` pairs with lognormal play counts,
  written as a TSV file with a header and read by ``netcfg data import``; binarized
  (``Binarize: 1``), per-user random 80/20.

Baselines fit the split the entries' runs bind (`bind_data`): global mean and biases
for ratings, item popularity and EASE for ranking (`bench/baselines.py`; their lambdas chosen
on 10% of the training part). Two-tower entries train on pairs (`bench/pairs.py`); Netflix
entries are skipped. Prints a markdown table per dataset and task (means over its splits)
and the acceptance: every rating entry's RMSE below the biases', every ranking entry's
Recall@20 and NDCG@20 above popularity's, on every dataset; exit 1 when not. ``--quick``:
2 epochs, one split each, small synthetic data (for tests: acceptance not meaningful).

Usage: ``python bench/transfer.py [--quick] [--only NAME]... [--datasets LIST] [--json FILE]
[--data-dir DIR] [--threads N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import baselines as bl
import numpy as np
import torch
from pairs import PAIR_DATASETS, pair_datasets, pair_scores, save_pairs
from ranking import METRICS
from zoo_ml100k import ML100K, NEGATIVES

from netcfg.cli import main as netcfg
from netcfg.config import load_config
from netcfg.data.fetch import seed_cache
from netcfg.data.source import open_source
from netcfg.data.spec import DATA_KEY_GROUPS, DataSourceSpec
from netcfg.data.splits import SplitSet
from netcfg.data.store import load_dataset
from netcfg.ensembles.load import ensemble_tree, load_ensemble
from netcfg.experiments.run import train
from netcfg.networks.spec import ModelSpec
from netcfg.trainers.bindings import bind_data
from netcfg.trainers.rundir import load_model
from netcfg.zoo import zoo_root
from netcfg.zoo_cards import parse_card

DATASETS = ("ml100k", "synth-explicit", "synth-implicit")
FOLDS, SEEDS = ("u2", "u3", "u4", "u5"), (1, 2, 3, 4)
SYNTH = {"synth-explicit": (2000, 4000, 0.0125, 0), "synth-implicit": (2000, 3000, 0.015, 1)}
"""``netcfg data synth`` users, items, density, seed: 100,000 ratings and 90,000 pairs."""
QUICK_SYNTH = (500, 1000, 0.04, 2)
EXPLICIT_SPLIT = {"Type": "random", "PerUser": True, "Fractions": [0.8, 0.1, 0.1], "Seed": 0}
IMPLICIT_SPLIT = {"Type": "random", "PerUser": True, "Fractions": [0.8, 0.0, 0.2], "Seed": 0}
RATING, RANKING = ("RMSE", "MAE"), METRICS
REFERENCE = {"explicit": "biases", "implicit": "popularity"}
BASELINES = {"global mean", "biases", "popularity", "EASE"}


@dataclass(frozen=True)
class Entry:
    name: str
    config: str
    spec: ModelSpec
    kind: str
    """``explicit``, ``implicit`` or ``pairs`` (two-tower, trained on pair datasets)."""


@dataclass(frozen=True)
class Split:
    dataset: str
    task: str
    """``explicit`` or ``implicit``: which entries and baselines run on it."""
    label: str
    source: dict
    """The ``Data`` source every entry gets (its treatment keys aside)."""
    about: str


def load_spec(config: str, overrides: list[str] = ()) -> ModelSpec:
    """The network spec of a config; of an ensemble, its first member's."""
    tree = ensemble_tree(config)
    return (
        load_ensemble(*tree, overrides).members[0].spec if tree else load_config(config, overrides)
    )


def bound_split(entries: list[Entry], split: Split) -> SplitSet:
    """The split as the first entry of its task binds it (`bind_data`: the validation part
    it trains with, held out of training by default), in user rows; none: the source."""
    entry = next((e for e in entries if e.kind == split.task), None)
    if entry is None:
        return open_source(DataSourceSpec.model_validate(split.source))
    spec = load_spec(entry.config, data_overrides(entry.spec, split.source))
    (target,) = spec.target_datasets()
    return bind_data(spec, spec.input_datasets(), [target]).splits[target].oriented("user")


def find_entries(only: list[str]) -> tuple[list[Entry], dict[str, str]]:
    """The zoo's entries (``only``: those named), and the skipped ones with the reason."""
    root = zoo_root()
    names = only or sorted(p.name for p in root.iterdir() if (p / "CARD.md").is_file())
    entries, skipped = [], {}
    for name in names:
        card = parse_card(root / name / "CARD.md", name)
        if "netflix" in card.dataset.lower():
            skipped[name] = "Netflix Prize data is not available here"
            continue
        config = f"zoo:{name}"
        spec = load_spec(config)
        (target,) = spec.target_datasets()
        kind = "explicit" if card.task == "rating prediction" else "implicit"
        if kind == "implicit" and target not in spec.input_datasets():
            kind = "pairs"
        entries.append(Entry(name, config, spec, kind))
    return entries, skipped


def data_overrides(spec: ModelSpec, source: dict) -> list[str]:
    """``--set`` overrides giving each ``Data`` entry of ``spec`` the source ``source``: the
    keys that differ when it names the same data (``Data.ratings.Fold=u2``), else the whole
    source, which replaces the entry's source keys and keeps its treatment (Orientation...)."""
    overrides = []
    for name, current in spec.Data.items():
        now = current.model_dump(mode="json")
        kept = {key: now[key] for key in DATA_KEY_GROUPS["treatment"]}
        new = DataSourceSpec.model_validate({**kept, **source}).model_dump(mode="json")
        if all(now[key] == new[key] for key in ("Path", "Fetch", "Synthetic")):
            overrides += [f"Data.{name}.{k}={json.dumps(v)}" for k, v in new.items() if v != now[k]]
        else:
            overrides.append(f"Data.{name}={json.dumps(source)}")
    return overrides


def cli(*args: str) -> int:
    """Run ``netcfg ARGS`` in this process, its statistics kept off our stdout."""
    with contextlib.redirect_stdout(io.StringIO()):
        return netcfg(list(args))


def play_counts(pairs: Path, folder: Path) -> Path:
    """Heavy-tailed play counts for the synthetic pairs, written as ``plays.tsv`` (with a
    header) and imported by ``netcfg data import``; the dataset directory."""
    matrix = load_dataset(pairs)
    counts = np.random.default_rng(0).lognormal(3.5, 1.6, matrix.nnz).round().clip(1)
    users, items = matrix.rows.ids[matrix.row_of_entries()], matrix.columns.ids[matrix.indices]
    tsv, out = folder / "plays.tsv", folder / "plays"
    table = np.column_stack([users, items, counts]).astype(np.int64)
    np.savetxt(tsv, table, fmt="%d", delimiter="\t", header="userID\tartistID\tweight", comments="")
    columns = "user=userID,item=artistID,value=weight"
    options = ["--delimiter", "tab", "--header", "--columns", columns]
    status = cli("data", "import", str(tsv), "-o", str(out), *options)
    if status != 0:
        raise RuntimeError(f"netcfg data import {tsv} failed (status {status})")
    return out


def make_splits(datasets: list[str], quick: bool, folder: Path) -> list[Split]:
    """Every split of the chosen datasets, generating the synthetic ones into ``folder``."""
    splits = []
    if "ml100k" in datasets:
        fetch, about = {"Fetch": "movielens-100k"}, "canonical <fold>.base/<fold>.test"
        for fold in FOLDS[:1] if quick else FOLDS:
            splits.append(Split("ml100k", "explicit", fold, {**fetch, "Fold": fold}, about))
        about = "ratings >= 4, per-user random 80/20 with split seed"
        for seed in SEEDS[:1] if quick else SEEDS:
            source = {**fetch, "Binarize": 4, "Protocol": {**IMPLICIT_SPLIT, "Seed": seed}}
            splits.append(Split("ml100k", "implicit", f"seed {seed}", source, about))
    for name in [d for d in datasets if d in SYNTH]:
        users, items, density, seed = QUICK_SYNTH if quick else SYNTH[name]
        path, implicit = folder / name, ["--implicit"] if name == "synth-implicit" else []
        size = ["--users", str(users), "--items", str(items), "--density", str(density)]
        if cli("data", "synth", *size, "--seed", str(seed), *implicit, "-o", str(path)) != 0:
            raise RuntimeError(f"netcfg data synth failed for {name}")
        about = (
            f"netcfg data synth {users} x {items}, density {density}, seed {seed}; per-user random"
        )
        if implicit:
            source = {"Path": str(play_counts(path, folder)), "Binarize": 1}
            about = f"{about} 80/20 (seed 0) of lognormal play counts, Binarize 1"
            source["Protocol"] = IMPLICIT_SPLIT
            splits.append(Split(name, "implicit", "80/20", source, about))
        else:
            source = {"Path": str(path), "Protocol": EXPLICIT_SPLIT}
            splits.append(Split(name, "explicit", "80/10/10", source, f"{about} 80/10/10 (seed 0)"))
    return splits


def train_pairs(entry: Entry, data: SplitSet, out: Path, overrides: list[str]) -> dict:
    """Train a two-tower entry on pairs of the split's training positives; rank every item."""
    train_part = data.train
    paths = save_pairs(pair_datasets(train_part, per_positive=NEGATIVES, seed=0), out / "pairs")
    bindings = [f"{name}={paths[name]}" for name in PAIR_DATASETS]
    # netcfg's default hold-out (10% of each row) leaves one-entry pair rows nothing to
    # validate on: Loss 0 every epoch, so epoch 1 would be kept. Train all epochs instead.
    overrides = ["Training.Validation=None", *overrides]
    result = train(entry.config, overrides, data=bindings, out=out / "run")
    network = load_model(result.run_dir).network.eval()
    users, items = train_part.shape
    test = data.parts["test"]

    def scores(rows: np.ndarray) -> torch.Tensor:
        return pair_scores(network, rows, users, items)

    return bl.ranking_with_unseen(scores, train_part, test, data.unseen.get("test"), batch_size=32)


def record(split: Split, entry: str, metrics: dict, seconds: float, **extra) -> dict:
    """One measurement, also printed to stderr as it comes."""
    found = {**vars(split), "entry": entry, "metrics": metrics, "seconds": seconds, **extra}
    shown = extra.get("error") or ", ".join(f"{k} {v:.4f}" for k, v in metrics.items())
    print(f"[{split.dataset} {split.label}] {entry}: {shown} ({seconds:.1f} s)", file=sys.stderr)
    return found


def run_entry(entry: Entry, split: Split, data: SplitSet, out: Path, quick: bool) -> dict:
    """Train the entry on the split; its test metrics (an ``error`` when it failed)."""
    overrides = ["Training.Epochs=2"] if quick else []
    start = time.perf_counter()
    try:
        if entry.kind == "pairs":
            metrics = train_pairs(entry, data, out, overrides)
        else:
            overrides = [*data_overrides(entry.spec, split.source), *overrides]
            result = train(entry.config, overrides, out=out)
            keys = RATING if split.task == "explicit" else RANKING
            metrics = {key: result.test[key] for key in keys}
    except Exception as err:  # one failing entry must not hide the others' numbers
        return record(split, entry.name, {}, time.perf_counter() - start, error=repr(err))
    return record(split, entry.name, metrics, time.perf_counter() - start)


def run_baselines(split: Split, data: SplitSet, quick: bool) -> list[dict]:
    """The split's baselines, fitted on its training part, scored on its test part."""
    train_part, test, unseen = data.train, data.parts["test"], data.unseen.get("test")
    start = time.perf_counter()
    if split.task == "explicit":
        mean = bl.rating_metrics(bl.global_mean(train_part), train_part, test, unseen)
        found = [record(split, "global mean", mean, time.perf_counter() - start)]
        lam, _ = bl.tune_biases(train_part)
        biased = bl.rating_metrics(bl.fit_biases(train_part, lam), train_part, test, unseen)
        return [*found, record(split, "biases", biased, time.perf_counter() - start, lam=lam)]
    popular = bl.popularity_metrics(train_part, test, unseen)
    found = [record(split, "popularity", popular, time.perf_counter() - start)]
    start = time.perf_counter()
    lam, _ = bl.tune_ease(train_part, bl.LAMBDAS[::5] if quick else bl.LAMBDAS)
    ease = bl.ease_metrics(train_part, test, lam, unseen)
    return [*found, record(split, "EASE", ease, time.perf_counter() - start, lam=lam)]


def means(records: list[dict]) -> dict[tuple[str, str], dict[str, dict]]:
    """Per (dataset, task), per entry: mean metrics over the splits, total seconds, errors."""
    summary: dict = {}
    for r in records:
        summary.setdefault((r["dataset"], r["task"]), {}).setdefault(r["entry"], []).append(r)
    for group in summary.values():
        for entry, rs in group.items():
            errors = [r["error"] for r in rs if "error" in r]
            keys = [] if errors else rs[0]["metrics"]
            metrics = {k: statistics.mean(r["metrics"][k] for r in rs) for k in keys}
            group[entry] = {"metrics": metrics, "seconds": sum(r["seconds"] for r in rs),
                            "errors": errors}  # fmt: skip
    return summary


def tables(summary: dict, splits: list[Split]) -> str:
    """A markdown table per dataset and task."""
    text = []
    for (dataset, task), entries in summary.items():
        mine = [s for s in splits if (s.dataset, s.task) == (dataset, task)]
        labels = ", ".join(s.label for s in mine)
        keys = RATING if task == "explicit" else RANKING
        text += [
            f"\n### {dataset}, {task}: {mine[0].about} ({labels}; means over splits)\n",
            f"| entry | {' | '.join(keys)} | seconds |",
            "|---" * (len(keys) + 2) + "|",
        ]
        for entry, found in entries.items():
            name = f"*{entry}*" if entry in BASELINES else entry
            cells = [f"{found['metrics'][k]:.4f}" for k in keys] if found["metrics"] else [
                "error: " + found["errors"][0][:80], *[""] * (len(keys) - 1)]  # fmt: skip
            text.append(f"| {name} | {' | '.join(cells)} | {found['seconds']:.1f} |")
    return "\n".join(text)


def failures(summary: dict) -> list[str]:
    """Entries that do not beat the reference baseline of their dataset and task."""
    failed = []
    for (dataset, task), entries in summary.items():
        name = REFERENCE[task]
        reference = entries.get(name, {}).get("metrics")
        keys, sign = (("RMSE",), -1) if task == "explicit" else (RANKING, 1)
        for entry, found in entries.items():
            mine = found["metrics"]
            if entry in BASELINES:
                continue
            if not mine or not reference:
                failed.append(f"{entry} on {dataset}: {(found['errors'] or ['no baseline'])[0]}")
                continue
            worse = [f"{k} {mine[k]:.4f} vs {reference[k]:.4f}" for k in keys
                     if not sign * (mine[k] - reference[k]) > 0]  # fmt: skip
            if worse:
                failed.append(f"{entry} on {dataset}: {', '.join(worse)} ({name})")
    return failed


def run(args: argparse.Namespace, workdir: Path) -> int:
    """Make the data, measure every entry and baseline, print the tables and the verdict."""
    start = time.perf_counter()
    entries, skipped = find_entries(args.only)
    binders = find_entries([])[0] if args.only else entries  # the same split whatever --only
    if "ml100k" in args.datasets:
        seed_cache("movielens-100k", args.data_dir)
    (workdir / "data").mkdir(parents=True)
    splits = make_splits(args.datasets, args.quick, workdir / "data")
    records = []
    for split in splits:
        data = bound_split(binders, split)
        for entry in entries:
            if (entry.kind == "explicit") == (split.task == "explicit"):
                tag = f"{entry.name}-{split.dataset}-{split.label}".replace(" ", "")
                records.append(run_entry(entry, split, data, workdir / "runs" / tag, args.quick))
        if any((e.kind == "explicit") == (split.task == "explicit") for e in entries):
            records += run_baselines(split, data, args.quick)
    summary = means(records)
    print(tables(summary, splits))
    if skipped:
        print("\nskipped: " + "; ".join(f"{name} ({why})" for name, why in skipped.items()))
    failed = failures(summary)
    quick = " (--quick: 2 epochs, not meaningful)" if args.quick else ""
    verdict = "FAIL" if failed else "PASS"
    print(
        f"\nacceptance{quick}: {verdict}: every rating entry beats the biases (RMSE) and every "
        f"ranking entry item popularity (Recall@20, NDCG@20) on every dataset"
    )
    for failure in failed:
        print(f"  - {failure}")
    print(f"total {time.perf_counter() - start:.0f} s")
    if args.json is not None:
        found = {
            "quick": args.quick,
            "splits": [vars(s) for s in splits],
            "records": records,
            "means": {f"{d} {t}": v for (d, t), v in summary.items()},
            "skipped": skipped,
            "failures": failed,
        }
        args.json.write_text(json.dumps(found, indent=1) + "\n", encoding="utf-8")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run in a temporary data cache and work folder."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 epochs, one split per dataset")
    parser.add_argument(
        "--only", action="append", default=[], metavar="NAME", help="this entry only (repeatable)"
    )
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated subset")
    parser.add_argument("--json", type=Path, metavar="FILE", help="save every number here")
    parser.add_argument("--data-dir", type=Path, default=ML100K, help="the ml-100k folder")
    parser.add_argument("--threads", type=int, help="CPU threads (default: netcfg's)")
    args = parser.parse_args(argv)
    args.datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    unknown = sorted(set(args.datasets) - set(DATASETS))
    if unknown:
        parser.error(f"unknown datasets {unknown}; choose from {', '.join(DATASETS)}")
    with tempfile.TemporaryDirectory(prefix="transfer-") as temp:
        env = {"NETCFG_DATA": str(Path(temp) / "cache")}
        if args.threads:  # the baselines' torch, and every run's (Training.Threads)
            torch.set_num_threads(args.threads)
            env["NETCFG_THREADS"] = str(args.threads)
        with mock.patch.dict(os.environ, env):
            return run(args, Path(temp))


if __name__ == "__main__":
    sys.exit(main())
