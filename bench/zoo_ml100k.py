"""Model-zoo benchmark: every zoo entry whose card's dataset is MovieLens 100K, measured here.

Each entry is trained with ``netcfg.trainers.train.train`` from ``zoo:NAME`` on the local
copy of MovieLens 100K (``--data-dir``, default ``../shared/data/ml-100k``), seeded into a
temporary data cache (``NETCFG_DATA``), so nothing is downloaded. One JSON line is printed
per measurement: ``entry``, ``protocol``, ``metrics``, ``train_seconds``.

- **Rating prediction** entries (their Data has a ``Fold``): test RMSE and MAE on the u1
  fold (the headline), and, unless ``--quick``, on u2..u5 with ``Data.<name>.Fold=uK``,
  then the 5-fold mean.
- **Top-N ranking** entries: test Recall@20 and NDCG@20 as ``netcfg train`` computes them,
  with ``same_split``: whether the entry's data is the split the baselines use (ratings
  >= 4, each user's positives split 80/20 at random, seed 0).
- **Two-tower** entries (whose target DataSet no Input layer reads): trained on pair
  datasets ``user``/``item``/``clicked`` built from that split's training positives (4
  sampled negatives per positive, seed 0); every (user, item) pair is then scored by the
  trained network and ranked with the same metric code.
- **Baselines** on that split: item popularity, and EASE with lambda chosen on 10% of each
  user's training positives (seed 0) by NDCG@20, then refitted on all of them. For rating
  entries, on each fold they are measured on: the biased baseline (global mean + user bias
  + item bias, lambda chosen by RMSE on 10% of each user's training ratings, seed 0, then
  refitted on all of them; `baselines.fit_biases`).

A final line summarises: the best u1 RMSE against the biased baseline's, and the best
ranking entry (by NDCG@20) against EASE. ``--check`` compares each entry's headline (the
card's ``metric``) with the card's ``measured`` and exits 1 when one differs by more than
0.005; ``--write-cards`` writes ``measured``, ``train_seconds`` and the results table into
the cards.
``--export-pairs DIR`` only writes the two-tower pair datasets and the command that trains
on them.
``--validation`` measures the two-tower entries on a validation part instead of the test
part, to choose their settings: 10% of each user's training positives (seed 0); the rest
trains, and the baselines are measured on the same part. (The other entries choose on the
validation part `netcfg train` keeps and reports.)
``--set PATH=VALUE`` overrides the entries' configs (repeatable, as ``netcfg train --set``).

Usage: ``python bench/zoo_ml100k.py [--only NAME]... [--quick] [--check] [--write-cards]
[--validation] [--set PATH=VALUE]... [--export-pairs DIR] [--data-dir DIR] [--zoo DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from baselines import (
    ease_metrics,
    fit_biases,
    popularity_metrics,
    ranking_with_unseen,
    rating_metrics,
    tune_biases,
    tune_ease,
)
from cards import headline, results_table, update_card
from pairs import PAIR_DATASETS, pair_datasets, pair_scores, save_pairs
from ranking import METRICS

from netcfg.config import load_config
from netcfg.data.fetch import seed_cache
from netcfg.data.source import open_source
from netcfg.data.spec import DataSourceSpec
from netcfg.data.splits import SplitSet, split_random
from netcfg.ensembles.load import ensemble_tree, load_ensemble
from netcfg.experiments.run import train
from netcfg.networks.spec import ModelSpec
from netcfg.trainers.rundir import load_model
from netcfg.zoo import zoo_root
from netcfg.zoo_cards import ZooCard, parse_card

REPO = Path(__file__).resolve().parents[1]
ML100K = REPO.parent / "shared" / "data" / "ml-100k"
FOLDS = ("u1", "u2", "u3", "u4", "u5")
TOLERANCE = 0.005
SELECT = "NDCG@20"
NEGATIVES = 4
IMPLICIT = {
    "Fetch": "movielens-100k",
    "Binarize": 4,
    "Protocol": {"Type": "random", "PerUser": True, "Fractions": [0.8, 0.0, 0.2], "Seed": 0},
}
IMPLICIT_PROTOCOL = "ratings >= 4, per-user random 80/20, seed 0"
RATING_BASELINES = ("biases",)
"""The baselines of the rating entries (the others are the ranking entries')."""


@dataclass(frozen=True)
class Entry:
    """A zoo entry to measure: its card, its config reference and how it is measured."""

    name: str
    card: ZooCard
    card_path: Path
    config: str
    spec: ModelSpec
    kind: str
    """``explicit``, ``implicit`` or ``pairs``."""


def emit(record: dict) -> dict:
    """Print a record as one JSON line and return it."""
    print(json.dumps(record), flush=True)
    return record


def measurement(entry: str, protocol: str, metrics: dict, seconds: float, **extra) -> dict:
    """Print and return one measurement: what, on which protocol, the metrics, the time."""
    record = {"entry": entry, "protocol": protocol, "metrics": metrics, "train_seconds": seconds}
    return emit({**record, **extra})


def _kind(card: ZooCard, spec: ModelSpec) -> str:
    if card.task == "rating prediction":
        if not any(source.Fold is not None for source in spec.Data.values()):
            raise ValueError(
                f"{card.name}: rating entries are measured on folds: give its Data a Fold"
            )
        return "explicit"
    (target,) = spec.target_datasets()
    if target in spec.input_datasets():
        return "implicit"
    if sorted(spec.input_datasets() + [target]) != sorted(PAIR_DATASETS):
        raise ValueError(f"{card.name}: a two-tower entry's DataSets must be {PAIR_DATASETS}")
    return "pairs"


def find_entries(zoo: Path | None, only: list[str]) -> list[Entry]:
    """The MovieLens 100K entries of the zoo (``--only``: those named, which must be)."""
    root = zoo or zoo_root()
    names = only or sorted(p.name for p in root.iterdir() if (p / "CARD.md").is_file())
    found = []
    for name in names:
        card_path = root / name / "CARD.md"
        card = parse_card(card_path, name)
        if not re.search(r"movielens[\s-]*100k", card.dataset, re.IGNORECASE):
            if only:
                raise ValueError(f"{name}: its card's dataset is not MovieLens 100K")
            continue
        config = f"zoo:{name}" if zoo is None else str(root / name)
        ensemble = ensemble_tree(config)
        # an ensemble is measured like its members: its --set overrides reach all of them
        spec = load_ensemble(*ensemble).members[0].spec if ensemble else load_config(config)
        found.append(Entry(name, card, card_path, config, spec, _kind(card, spec)))
    return found


OVERRIDES: list[str] = []
"""``--set`` overrides applied to every entry trained."""


def _timed_train(config: str, out: Path, **kwargs):
    start = time.perf_counter()
    overrides = [*OVERRIDES, *kwargs.pop("overrides", ())]
    result = train(config, overrides, out=out, **kwargs)
    return result, time.perf_counter() - start


def measure_explicit(entry: Entry, folds: tuple[str, ...], workdir: Path) -> list[dict]:
    """Train on each fold; the test RMSE and MAE of each, and their mean over the folds."""
    names = [name for name, source in entry.spec.Data.items() if source.Fold is not None]
    records = []
    for fold in folds:
        overrides = [f"Data.{name}.Fold={fold}" for name in names]
        result, seconds = _timed_train(
            entry.config, workdir / f"{entry.name}-{fold}", overrides=overrides
        )
        metrics = {k: result.test[k] for k in ("RMSE", "MAE")}
        records.append(measurement(entry.name, fold, metrics, seconds))
    return _with_fold_mean(entry.name, records, folds)


def _with_fold_mean(name: str, records: list[dict], folds: tuple[str, ...]) -> list[dict]:
    """The per-fold records, and (for several folds) their mean RMSE, its spread, the mean
    MAE and the summed time as one more record."""
    if len(folds) > 1:
        rmse = [r["metrics"]["RMSE"] for r in records]
        mean = {
            "RMSE": statistics.mean(rmse),
            "RMSE_std": statistics.stdev(rmse),
            "MAE": statistics.mean(r["metrics"]["MAE"] for r in records),
        }
        seconds = sum(r["train_seconds"] for r in records)
        protocol = f"{len(folds)}-fold mean {folds[0]}-{folds[-1]}"
        records.append(measurement(name, protocol, mean, seconds))
    return records


def measure_rating_baselines(folds: tuple[str, ...]) -> list[dict]:
    """The biased baseline on each fold: lambda chosen on 10% of each user's training
    ratings, refitted on all of them, scored on the fold's test ratings (unseen ones too)."""
    records = []
    for fold in folds:
        split = open_source(DataSourceSpec(Fetch="movielens-100k", Fold=fold))
        start = time.perf_counter()
        lam, tried = tune_biases(split.train)
        model = fit_biases(split.train, lam)
        metrics = rating_metrics(model, split.train, split.parts["test"], split.unseen.get("test"))
        seconds = time.perf_counter() - start
        extra = {"lambda": lam, "validation_RMSE": tried}
        records.append(measurement(RATING_BASELINES[0], fold, metrics, seconds, **extra))
    return _with_fold_mean(RATING_BASELINES[0], records, folds)


def _same_split(spec: ModelSpec, split: SplitSet) -> bool:
    (target,) = spec.target_datasets()
    mine = open_source(spec.Data[target])
    return set(mine.parts) == set(split.parts) and all(
        mine.parts[name] == part for name, part in split.parts.items()
    )


def measure_implicit(entry: Entry, split: SplitSet, workdir: Path) -> dict:
    """Train; the test ranking metrics netcfg reports."""
    result, seconds = _timed_train(entry.config, workdir / entry.name)
    metrics = {k: result.test[k] for k in METRICS}
    same = _same_split(entry.spec, split)
    return measurement(entry.name, IMPLICIT_PROTOCOL, metrics, seconds, same_split=same)


def measure_pairs(entry: Entry, split: SplitSet, workdir: Path) -> dict:
    """Train on pairs of the split's training positives; rank every item for each user."""
    train_part = split.train
    paths = save_pairs(pair_datasets(train_part, per_positive=NEGATIVES, seed=0), workdir / "pairs")
    bindings = [f"{name}={paths[name]}" for name in PAIR_DATASETS]
    result, seconds = _timed_train(entry.config, workdir / entry.name, data=bindings)
    model = load_model(result.run_dir)
    if not (model.ids["user"][1] == train_part.rows and model.ids["item"][1] == train_part.columns):
        raise ValueError(f"{entry.name}: the trained model's ids are not the split's")
    network = model.network.eval()
    users, items = train_part.shape
    metrics = ranking_with_unseen(
        lambda rows: pair_scores(network, rows, users, items),
        train_part,
        split.parts["test"],
        split.unseen.get("test"),
        batch_size=32,
    )
    protocol = f"{IMPLICIT_PROTOCOL}; pairs with {NEGATIVES} negatives per positive"
    return measurement(entry.name, protocol, metrics, seconds, same_split=True)


def measure_baselines(split: SplitSet) -> list[dict]:
    """Item popularity and tuned EASE on the split."""
    train_part, test = split.train, split.parts["test"]
    start = time.perf_counter()
    unseen = split.unseen.get("test")  # counted as netcfg counts them: never hit
    popular = popularity_metrics(train_part, test, unseen)
    popular_seconds = time.perf_counter() - start
    records = [measurement("popularity", IMPLICIT_PROTOCOL, popular, popular_seconds)]
    start = time.perf_counter()
    lam, tried = tune_ease(train_part, metric=SELECT)
    ease = ease_metrics(train_part, test, lam, unseen)
    seconds = time.perf_counter() - start
    extra = {"lambda": lam, f"validation_{SELECT}": tried}
    return [*records, measurement("EASE", IMPLICIT_PROTOCOL, ease, seconds, **extra)]


def summarize(records: list[dict], baselines: list[dict], seconds: float) -> dict:
    """The best u1 RMSE (against the biased baseline's, when measured), and the best ranking
    entry on the baselines' split against EASE."""
    explicit = [r for r in records if r["protocol"] == "u1"]
    ranked = [r for r in records if r.get("same_split")]
    summary: dict = {"summary": True, "total_seconds": seconds}
    if explicit:
        best = min(explicit, key=lambda r: r["metrics"]["RMSE"])
        summary["best_explicit"] = {"entry": best["entry"], "RMSE_u1": best["metrics"]["RMSE"]}
        biases = [b for b in baselines if b["entry"] in RATING_BASELINES and b["protocol"] == "u1"]
        if biases:
            rmse = biases[0]["metrics"]["RMSE"]
            summary["best_explicit"].update(
                biases_RMSE_u1=rmse, beats_biases=best["metrics"]["RMSE"] < rmse
            )
    if ranked and baselines:
        best = max(ranked, key=lambda r: r["metrics"][SELECT])
        ease = next(b for b in baselines if b["entry"] == "EASE")["metrics"]
        summary["best_implicit"] = {
            "entry": best["entry"],
            **best["metrics"],
            "EASE": ease,
            "beats_EASE": {k: best["metrics"][k] > ease[k] for k in METRICS},
        }
    return summary


def _headline_record(entry: Entry, records: list[dict]) -> dict:
    protocol = "u1" if entry.kind == "explicit" else None
    return next(
        r for r in records if r["entry"] == entry.name and protocol in (None, r["protocol"])
    )


def check_cards(entries: list[Entry], records: list[dict]) -> bool:
    """Print how each entry's headline compares with its card; whether all are within 0.005."""
    ok = True
    for entry in entries:
        record = _headline_record(entry, records)
        metric = headline(entry.card.metric, record["metrics"])
        value, card = record["metrics"][metric], entry.card.measured
        good = card is not None and abs(value - card) <= TOLERANCE
        emit({"check": entry.name, "metric": metric, "card": card, "measured": value, "ok": good})
        ok &= good
    return ok


def _cells(metrics: dict[str, float]) -> dict[str, str]:
    """Each metric to 4 decimals, with ``± std`` where the record has its spread."""
    cells = {}
    for metric, value in metrics.items():
        if not metric.endswith("_std"):
            spread = metrics.get(f"{metric}_std")
            cells[metric] = f"{value:.4f}" + ("" if spread is None else f" ± {spread:.4f}")
    return cells


def _table(entry: Entry, records: list[dict], baselines: list[dict]) -> str:
    mine = [(r["protocol"], _cells(r["metrics"])) for r in records if r["entry"] == entry.name]
    for b in baselines:
        rating = b["entry"] in RATING_BASELINES
        if rating and entry.kind == "explicit":
            mine.append((f"{b['entry']}, {b['protocol']}", _cells(b["metrics"])))
        elif not rating and entry.kind != "explicit":
            mine.append((f"{b['entry']}, same split", _cells(b["metrics"])))
    return results_table(mine)


def write_cards(entries: list[Entry], records: list[dict], baselines: list[dict]) -> None:
    """Write each entry's headline, training time and results table into its card."""
    for entry in entries:
        record = _headline_record(entry, records)
        metric = headline(entry.card.metric, record["metrics"])
        table = _table(entry, records, baselines)
        update_card(entry.card_path, record["metrics"][metric], record["train_seconds"], table)


def export_pairs(folder: Path, split: SplitSet) -> dict:
    """Write the two-tower pair datasets and print the command that trains on them."""
    paths = save_pairs(pair_datasets(split.train, per_positive=NEGATIVES, seed=0), folder)
    bindings = " ".join(f"--data {name}={paths[name]}" for name in PAIR_DATASETS)
    return emit(
        {"export_pairs": str(folder), "command": f"netcfg train zoo:two-tower-ml100k {bindings}"}
    )


def validation_split(split: SplitSet) -> SplitSet:
    """10% of each user's training positives (seed 0) as the part measured, the rest as
    the training part."""
    carved = split_random(split.train, (0.9, 0.1, 0.0), seed=0, per_user=True)
    return SplitSet({"train": carved.train, "test": carved.parts["validation"]})


def run(args: argparse.Namespace, workdir: Path) -> int:
    """Seed the cache, measure, summarize, and check or write the cards."""
    seed_cache("movielens-100k", args.data_dir)
    split = open_source(DataSourceSpec.model_validate(IMPLICIT))
    OVERRIDES[:] = args.set
    if args.validation:
        split = validation_split(split)
    if args.export_pairs is not None:
        export_pairs(args.export_pairs, split)
        return 0
    start = time.perf_counter()
    entries = find_entries(args.zoo, args.only)
    if args.validation and any(entry.kind != "pairs" for entry in entries):
        raise SystemExit("--validation measures two-tower entries only: give --only NAME")
    if args.validation and (args.write_cards or args.check):
        raise SystemExit("--validation measures no card's numbers: drop --write-cards/--check")
    folds = FOLDS[:1] if args.quick else FOLDS
    records: list[dict] = []
    for entry in entries:
        if entry.kind == "explicit":
            records += measure_explicit(entry, folds, workdir)
        elif entry.kind == "implicit":
            records.append(measure_implicit(entry, split, workdir))
        else:
            records.append(measure_pairs(entry, split, workdir / entry.name))
    ranking = any(entry.kind != "explicit" for entry in entries)
    rating = any(entry.kind == "explicit" for entry in entries)
    baselines = measure_rating_baselines(folds) if rating else []
    baselines += measure_baselines(split) if ranking else []
    emit(summarize(records, baselines, time.perf_counter() - start))
    if args.write_cards:
        write_cards(entries, records, baselines)
    if args.check and not check_cards(entries, records):
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run the benchmark in a temporary data cache and work folder."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", action="append", default=[], metavar="NAME", help="this entry only (repeatable)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="rating entries: u1 only, no 5-fold mean"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when a headline differs from its card's by > 0.005",
    )
    parser.add_argument(
        "--write-cards",
        action="store_true",
        help="write measured, train_seconds and results into the cards",
    )
    parser.add_argument(
        "--validation",
        action="store_true",
        help="two-tower entries: measure on 10%% of the training positives, not on test",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override the entries' configs (repeatable)",
    )
    parser.add_argument(
        "--export-pairs",
        type=Path,
        metavar="DIR",
        help="only write the two-tower pair datasets to DIR",
    )
    parser.add_argument(
        "--data-dir", type=Path, default=ML100K, help="the extracted ml-100k folder"
    )
    parser.add_argument(
        "--zoo", type=Path, help="measure the entries of this folder instead of the shipped zoo"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="zoo-ml100k-") as temp:
        with mock.patch.dict(os.environ, {"NETCFG_DATA": str(Path(temp) / "cache")}):
            return run(args, Path(temp) / "runs")


if __name__ == "__main__":
    sys.exit(main())
