"""A DSSTNE-language convolutional network on scikit-learn's 8x8 digits, trained by netcfg.

The 1,797 bundled images (``sklearn.datasets.load_digits``, no download; 16 grey levels,
scaled to [0, 1]) are split at random (seed 0) into 1,167 training, 270 validation and 360
test images, and written as two netcfg split directories whose rows are the images:
``pixels`` (64 columns; the validation and test images are their parts' inputs,
``validation_input`` and ``test_input``) and ``labels`` (one entry per image, in column
0-9). The network reads ``pixels`` as an [8, 8, 1] grid (x, y, channels), with two 3x3
Convolutional layers (ReLU) each followed by Max pooling 2x2 / 2, a FullyConnected layer
with dropout, and a SoftMax Output with CrossEntropy; ``netcfg.trainers.train`` trains it
and keeps the epoch with the best validation loss. With one positive per image,
``HitRate@1`` is the classification accuracy.

The architecture was chosen with ``--select``: each candidate is trained and evaluated on
the validation part only (highest accuracy, then lowest loss), never on test.

Usage: ``python bench/digits.py [--select] [--out DIR]``; prints one JSON line per run
(validation and, for the chosen network, test accuracy, the best epoch and the wall time).
Needs the ``bench`` extra (scikit-learn).
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

from netcfg.data.ids import IdIndex
from netcfg.data.interactions import Interactions
from netcfg.data.split_store import save_split
from netcfg.data.splits import SplitSet
from netcfg.trainers.train import train

SEED = 0
SIZES = {"test": 360, "validation": 270}


def _conv(name: str, filters: int, batch_norm: bool) -> dict:
    layer = {"Name": name, "Type": "Convolutional", "N": filters, "Kernel": [3, 3]}
    layer |= {"Activation": "Relu", "BatchNormalization": batch_norm}
    return layer


def network(filters=(32, 64), batch_norm=True, learning_rate=0.002, epochs=30) -> dict:
    """The config (without Data) of a candidate network."""
    pool = {"Type": "Pooling", "Function": "Max", "Kernel": [2, 2], "KernelStride": [2, 2]}
    return {
        "Name": "digits-conv",
        "ErrorFunction": "CrossEntropy",
        "Layers": [
            {"Name": "Input", "Kind": "Input", "N": [8, 8, 1], "DataSet": "pixels"},
            _conv("C1", filters[0], batch_norm),
            {"Name": "P1", **pool},
            _conv("C2", filters[1], batch_norm),
            {"Name": "P2", **pool},
            {"Name": "Hidden", "N": 128, "Activation": "Relu", "pDropout": 0.3},
            {"Name": "Output", "Kind": "Output", "N": "auto", "DataSet": "labels"}
            | {"Activation": "SoftMax"},
        ],
        "Training": {
            "Optimizer": {"Type": "Adam", "LearningRate": learning_rate},
            "BatchSize": 32,
            "Epochs": epochs,
            "Seed": SEED,
        },
        "Evaluation": {"Metrics": ["HitRate@1"], "K": [1]},
    }


CANDIDATES = {
    "32-64": network(batch_norm=False),
    "32-64-bn": network(),
    "32-64-lr0.005": network(batch_norm=False, learning_rate=0.005),
    "64-128": network(filters=(64, 128), batch_norm=False),
}
CHOSEN = "32-64-lr0.005"
"""The candidate ``--select`` ranks first (validation accuracy 0.9926; the others 0.9889,
0.9889 and 0.9815 with batch normalization)."""


def _part(values: np.ndarray, rows: np.ndarray) -> Interactions:
    """The nonzero values of ``rows`` of a dense [images, columns] array, as a matrix over
    every image (the other rows empty)."""
    kept = np.zeros_like(values)
    kept[rows] = values[rows]
    r, c = np.nonzero(kept)
    ids = IdIndex(np.arange(values.shape[0], dtype=np.int64))
    columns = IdIndex(np.arange(values.shape[1], dtype=np.int64))
    matrix, _ = Interactions.from_coo(r, c, kept[r, c], None, ids, columns)
    return matrix


def write_data(folder: Path) -> dict[str, str]:
    """Split the digits and write the two split directories; their ``Data`` entries."""
    digits = load_digits()
    pixels = (digits.data / 16.0).astype(np.float32)
    labels = np.eye(10, dtype=np.float32)[digits.target]
    order = np.random.default_rng(SEED).permutation(len(labels))
    test = order[: SIZES["test"]]
    validation = order[SIZES["test"] : SIZES["test"] + SIZES["validation"]]
    training = order[SIZES["test"] + SIZES["validation"] :]
    inputs = {"train": training, "validation_input": validation, "test_input": test}
    targets = {"train": training, "validation": validation, "test": test}
    save_split(SplitSet({k: _part(pixels, v) for k, v in inputs.items()}), folder / "pixels")
    save_split(SplitSet({k: _part(labels, v) for k, v in targets.items()}), folder / "labels")
    return {"pixels": str(folder / "pixels"), "labels": str(folder / "labels")}


def run(name: str, config: dict, data: dict, out: Path, parts: list[str]) -> dict:
    """Train one candidate; its metrics on ``parts`` and the wall time."""
    config = copy.deepcopy(config) | {"Data": data}
    start = time.perf_counter()
    result = train(config, out=out / name, quiet=True, parts=parts)
    seconds = time.perf_counter() - start
    record = {"network": name, "best_epoch": result.best_epoch}
    for part in parts:
        metrics = getattr(result, part)
        record[f"{part}_accuracy"] = round(metrics["HitRate@1"], 4)
        record[f"{part}_loss"] = round(metrics["Loss"], 4)
    return record | {"train_seconds": round(seconds, 1)}


def main() -> None:
    """Run the chosen network (or, with ``--select``, every candidate on validation)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--select", action="store_true", help="rank the candidates")
    parser.add_argument("--out", type=Path, help="folder for the data and runs (default: temp)")
    args = parser.parse_args()
    start = time.perf_counter()
    out = args.out or Path(tempfile.mkdtemp(prefix="netcfg-digits-"))
    data = write_data(out / "data")
    if args.select:
        records = [
            run(name, config, data, out, ["validation"]) for name, config in CANDIDATES.items()
        ]
        records.sort(key=lambda r: (-r["validation_accuracy"], r["validation_loss"]))
        for record in records:
            print(json.dumps(record), flush=True)
        print(json.dumps({"chosen": records[0]["network"]}))
        return
    record = run(CHOSEN, CANDIDATES[CHOSEN], data, out, ["validation", "test"])
    print(json.dumps(record | {"wall_seconds": round(time.perf_counter() - start, 1)}))


if __name__ == "__main__":
    main()
