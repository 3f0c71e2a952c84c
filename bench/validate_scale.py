"""How validation scales with the number of layers: it must be linear.

For each size, a chain of FullyConnected layers (Input, N-2 Hidden layers of 8 units, an
Output) is written as JSON and validated as ``netcfg validate`` does: loaded (read, keys,
pydantic, cross-field checks) and compiled on the meta device. Prints one line per size
with the seconds of each step and the microseconds per layer; the last column is the time
per layer against the smallest size's (1.0 = perfectly linear).

Usage: ``python bench/validate_scale.py [--sizes 1000 2000 5000 10000 20000]``
(``NETCFG_THREADS=1`` on a busy machine).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from netcfg.config import load_config
from netcfg.networks.compile import compile_network

SIZES = (1_000, 2_000, 5_000, 10_000, 20_000)


def chain_config(layers: int) -> dict:
    """A chain of ``layers`` layers: Input, Hidden ``H1``..., Output, all 8 units wide."""
    chain = [{"Name": "In", "Kind": "Input", "N": 8, "DataSet": "x", "Sparse": True}]
    chain += [{"Name": f"H{i}", "N": 8} for i in range(1, layers - 1)]
    chain.append({"Name": "Out", "Kind": "Output", "N": 8, "DataSet": "x"})
    return {"Layers": chain}


def time_validation(path: Path) -> tuple[float, float, int]:
    """Seconds to load and to compile (on meta) the config at ``path``, and its layers."""
    start = time.perf_counter()
    spec = load_config(path)
    loaded = time.perf_counter()
    with torch.device("meta"):
        compile_network(spec)
    return loaded - start, time.perf_counter() - loaded, len(spec.Layers)


def main() -> None:
    """Time every size and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        warm = Path(folder) / "warm.json"
        warm.write_text(json.dumps(chain_config(100)), encoding="utf-8")
        time_validation(warm)  # imports and first-call costs out of the way
        print(
            f"{'layers':>7} {'MB':>6} {'load s':>7} {'compile s':>9} {'total s':>8} "
            f"{'us/layer':>9} {'vs first':>8}"
        )
        first = None
        for size in args.sizes:
            path = Path(folder) / f"chain{size}.json"
            path.write_text(json.dumps(chain_config(size), indent=1), encoding="utf-8")
            load, build, count = time_validation(path)
            per_layer = (load + build) / count * 1e6
            first = first or per_layer
            print(
                f"{count:>7} {path.stat().st_size / 1e6:>6.2f} {load:>7.2f} {build:>9.2f} "
                f"{load + build:>8.2f} {per_layer:>9.0f} {per_layer / first:>8.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
