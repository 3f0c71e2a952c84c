"""Data pipeline benchmark: synthesize, import and batch at Netflix scale.

Prints one JSON line per case, all measured in this run:

- ``synth``: a Netflix-shaped synthetic dataset (480,189 users x 17,770 items, ~100M
  ratings) generated and saved as a dataset directory; seconds, and the peak memory of the
  process that did it against the size of the CSR arrays it produced.
- ``import``: a 20M-line ratings file (written from that dataset) imported into a dataset
  directory; seconds, lines per second and peak memory.
- ``batches``: the training iterator (shuffled rows of 128 users, cut from the CSR arrays)
  against a DeepRecommender-style batcher (a dict of per-user lists turned into a sparse
  tensor per batch, ``reco_encoder/data/input_layer.py``), same rows, same output sizes;
  batches per second of each and their ratio.

Each heavy case runs in a child process so that its peak memory (``ru_maxrss``) is its own.

Usage: ``python bench/data.py [--scale 1.0] [--workdir DIR]`` (``--scale 0.1`` for a quick look).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

NETFLIX = (480_189, 17_770, 100_480_507)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _csr_mb(folder: Path) -> float:
    meta = json.loads((folder / "meta.json").read_text())
    return sum(a["length"] * np.dtype(a["dtype"]).itemsize for a in meta["arrays"].values()) / 2**20


def _synth(scale: float, folder: str, queue) -> None:
    from netcfg.data.store import save_dataset
    from netcfg.data.synth import synthesize

    users, items, ratings = NETFLIX
    users = max(1000, int(users * scale))
    start = time.perf_counter()
    matrix = synthesize(users, items, ratings / (NETFLIX[0] * items), seed=0)
    generated = time.perf_counter() - start
    save_dataset(matrix, folder)
    queue.put(
        {
            "users": users,
            "items": items,
            "nnz": matrix.nnz,
            "generate_s": generated,
            "total_s": time.perf_counter() - start,
            "peak_mb": _peak_mb(),
        }
    )


def _write_lines(dataset: str, path: str, lines: int, queue) -> None:
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    from netcfg.data.store import load_dataset

    matrix = load_dataset(dataset)
    count = min(lines, matrix.nnz)
    rows = matrix.row_of_entries()[:count]
    table = pa.table(
        {
            "user": matrix.rows.ids[rows],
            "item": matrix.columns.ids[matrix.indices[:count]],
            "rating": np.asarray(matrix.values[:count]).astype(np.int64),
            "time": np.asarray(matrix.times[:count]),
        }
    )
    options = pa_csv.WriteOptions(include_header=False, delimiter="\t")
    pa_csv.write_csv(table.take(np.random.default_rng(0).permutation(count)), path, options)
    queue.put({"lines": count})


def _import(path: str, folder: str, queue) -> None:
    from netcfg.data.importer import import_file

    start = time.perf_counter()
    matrix = import_file(path, folder, "tsv")
    queue.put({"nnz": matrix.nnz, "seconds": time.perf_counter() - start, "peak_mb": _peak_mb()})


def _child(target, *args) -> dict:
    queue = mp.get_context("fork").Queue()
    process = mp.get_context("fork").Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def deeprec_batches(
    data: dict[int, list[tuple[int, float]]], keys: list[int], batch_size: int, width: int
):
    """DeepRecommender's batching: Python lists per batch, then a sparse COO tensor."""
    import torch

    for start in range(0, len(keys), batch_size):
        i_id, j_id, values = [], [], []
        for i, key in enumerate(keys[start : start + batch_size]):
            for item, rating in data[key]:
                i_id.append(i)
                j_id.append(item)
                values.append(rating)
        index = torch.LongTensor([i_id, j_id])
        yield torch.sparse_coo_tensor(
            index, torch.FloatTensor(values), torch.Size([batch_size, width])
        )


def _batches(dataset: str, batches: int) -> dict:
    from netcfg.data.loader import RowLoader
    from netcfg.data.store import load_dataset

    matrix = load_dataset(dataset, mmap=False)
    loader = RowLoader({"ratings": matrix}, 128, seed=0)
    start = time.perf_counter()
    ours = 0
    for _ in zip(range(batches), loader, strict=False):
        ours += 1
    ours_rate = ours / (time.perf_counter() - start)
    keys = loader.order()[: batches * 128]
    data = {}  # DeepRecommender keeps every user's list; built here for the rows used only
    for key in keys.tolist():
        lo, hi = matrix.indptr[key], matrix.indptr[key + 1]
        data[key] = list(
            zip(matrix.indices[lo:hi].tolist(), matrix.values[lo:hi].tolist(), strict=True)
        )
    start = time.perf_counter()
    theirs = sum(1 for _ in deeprec_batches(data, keys.tolist(), 128, matrix.shape[1]))
    theirs_rate = theirs / (time.perf_counter() - start)
    return {
        "batch_size": 128,
        "batches": batches,
        "ours_per_s": round(ours_rate, 1),
        "deeprec_per_s": round(theirs_rate, 1),
        "ratio": round(ours_rate / theirs_rate, 1),
    }


def main() -> None:
    """Run the three cases and print their JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of Netflix's users")
    parser.add_argument("--import-lines", type=int, default=20_000_000)
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--workdir", help="scratch folder (default: a temporary one)")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="netcfg-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        dataset = work / "netflix"
        synth = _child(_synth, args.scale, str(dataset))
        csr = _csr_mb(dataset)
        print(
            json.dumps(
                {
                    "case": "synth",
                    **synth,
                    "csr_mb": round(csr),
                    "peak_over_csr": round(synth["peak_mb"] / csr, 2),
                }
            ),
            flush=True,
        )
        lines = _child(_write_lines, str(dataset), str(work / "ratings.tsv"), args.import_lines)[
            "lines"
        ]
        imported = _child(_import, str(work / "ratings.tsv"), str(work / "imported"))
        print(
            json.dumps(
                {
                    "case": "import",
                    "lines": lines,
                    **imported,
                    "lines_per_s": round(lines / imported["seconds"]),
                    "csr_mb": round(_csr_mb(work / "imported")),
                }
            ),
            flush=True,
        )
        print(json.dumps({"case": "batches", **_batches(str(dataset), args.batches)}), flush=True)
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
