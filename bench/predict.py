"""Inference benchmark: top-10 for every user of a Netflix-shaped model.

The model is DeepRec's Netflix-full autoencoder (n, 512, 512, 1024, 512, 512, n; SELU) over
17,770 items, with random weights (speed does not depend on training), and 100,000
synthetic users with Netflix-like activity. Printed as JSON lines, measured in one run:

- ``netcfg``: `netcfg.inference.recommend.recommend` (batches of users, one forward pass
  per batch, seen items removed, top-K by ``torch.topk``), users per second;
- ``per_user_loop``: a loop in the style of DeepRecommender's ``infer.py``: for each user,
  build the dense input vector, run the model on it alone, take its top 10; measured on a
  sample of users (its cost per user does not depend on how many there are);
- the ratio of the two rates.

Usage: ``python bench/predict.py [--users 100000] [--loop-users 500]``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from netcfg import compile_network, load_config
from netcfg.data.synth import synthesize
from netcfg.inference.recommend import recommend
from netcfg.trainers.rundir import LoadedModel

CONFIG = "examples/deeprec-netflix-full.yaml"


def _model(matrix) -> LoadedModel:
    spec = load_config(CONFIG)
    torch.manual_seed(0)
    network = compile_network(spec, {"ratings": matrix.shape[1]}).eval()
    run = {
        "datasets": {
            "ratings": {"orientation": "user", "numeric_ids": {"rows": True, "columns": True}}
        }
    }
    return LoadedModel(spec, network, run, {"ratings": (matrix.rows, matrix.columns)})


@torch.no_grad()
def per_user_loop(
    model: LoadedModel,
    data: dict[int, list[tuple[int, float]]],
    users: list[int],
    width: int,
    k: int,
) -> list[list[int]]:
    """DeepRecommender-style inference: one user at a time, dense input."""
    output = next(iter(model.network.outputs))
    found = []
    for user in users:
        dense = torch.zeros(1, width)
        for item, rating in data[user]:
            dense[0, item] = rating
        scores = model.network({"ratings": dense}).outputs[output][0]
        scores[dense[0] != 0] = float("-inf")
        found.append(torch.topk(scores, k).indices.tolist())
    return found


def main() -> None:
    """Generate the users, time both ways, print the JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=17_770)
    parser.add_argument("--loop-users", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=1024)
    args = parser.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    density = 100_480_507 / (480_189 * 17_770)
    matrix = synthesize(args.users, args.items, density, seed=0)
    model = _model(matrix)
    start = time.perf_counter()
    recs = recommend(model, matrix, 10, exclude_seen=True, batch_size=args.batch_size)
    ours = time.perf_counter() - start
    print(
        json.dumps(
            {
                "case": "netcfg",
                "users": len(recs.user_ids),
                "items": args.items,
                "nnz": matrix.nnz,
                "seconds": round(ours, 2),
                "users_per_s": round(len(recs.user_ids) / ours, 1),
            }
        ),
        flush=True,
    )
    sample = np.random.default_rng(0).choice(matrix.shape[0], args.loop_users, replace=False)
    data = {
        int(u): list(
            zip(
                matrix.indices[matrix.indptr[u] : matrix.indptr[u + 1]].tolist(),
                matrix.values[matrix.indptr[u] : matrix.indptr[u + 1]].tolist(),
                strict=True,
            )
        )
        for u in sample
    }
    start = time.perf_counter()
    loop = per_user_loop(model, data, sample.tolist(), matrix.shape[1], 10)
    theirs = time.perf_counter() - start
    same = sum(loop[i] == recs.items[u].tolist() for i, u in enumerate(sample))
    print(
        json.dumps(
            {
                "case": "per_user_loop",
                "users": len(sample),
                "seconds": round(theirs, 2),
                "users_per_s": round(len(sample) / theirs, 1),
                "same_top10": f"{same}/{len(sample)}",
            }
        ),
        flush=True,
    )
    print(
        json.dumps(
            {
                "case": "ratio",
                "speedup": round((len(recs.user_ids) / ours) / (len(sample) / theirs), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
