"""``netcfg data synth`` and ``netcfg data fetch``."""

from __future__ import annotations

import argparse
import time

from netcfg.data.info import dataset_info, format_info
from netcfg.data.store import DATASET_FORMAT, check_replaceable, load_dataset, save_dataset

__all__ = ["add_parsers"]

MAX_SIZE = (1 << 31) - 1
"""Most users or items: row and column numbers are 32-bit."""


def _size(text: str) -> int:
    """A number of users or items: 1 .. `MAX_SIZE`."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= MAX_SIZE:
        raise argparse.ArgumentTypeError(
            f"must be between 1 and {MAX_SIZE:,} (2**31 - 1), got {text}"
        )
    return value


def _seed(text: str) -> int:
    """A random seed: a whole number >= 0."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def _density(text: str) -> float:
    """A density in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
    return value


def run_synth(args: argparse.Namespace) -> int:
    """Generate a synthetic dataset and print its statistics."""
    from netcfg.data.synth import synthesize

    check_replaceable(args.out, (DATASET_FORMAT,))
    start = time.perf_counter()
    matrix = synthesize(
        args.users, args.items, args.density, implicit=args.implicit, seed=args.seed
    )
    save_dataset(matrix, args.out)
    print(format_info(dataset_info(matrix)))
    print(f"saved to {args.out} in {time.perf_counter() - start:.1f} s")
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    """Download (or find in the cache, or seed it from a folder) a public dataset, import
    it, print where it is."""
    from netcfg.data.fetch import fetch, seed_cache

    if args.source is not None:
        folder = seed_cache(args.name, args.source, cache=args.cache)
    else:
        folder = fetch(args.name, cache=args.cache, force=args.force, progress=True)
    print(format_info(dataset_info(load_dataset(folder))))
    print(f"dataset at {folder}")
    return 0


def add_parsers(commands, parents) -> None:
    """Register the subcommands."""
    synth = commands.add_parser(
        "synth",
        parents=parents,
        help="generate a synthetic dataset",
        description="A realistic synthetic dataset: low-rank tastes, power-law item "
        "popularity, heavy-tailed user activity, noisy 1-5 ratings (or implicit events), "
        "timestamps. Deterministic for a seed.",
    )
    synth.add_argument("--users", type=_size, required=True, help="rows (1 .. 2**31 - 1)")
    synth.add_argument("--items", type=_size, required=True, help="columns (1 .. 2**31 - 1)")
    synth.add_argument(
        "--density",
        type=_density,
        required=True,
        help="interactions / (users x items), e.g. 0.0118 for Netflix's shape",
    )
    synth.add_argument("--implicit", action="store_true", help="events without ratings")
    synth.add_argument("--seed", type=_seed, default=0, help="random seed (>= 0)")
    synth.add_argument("-o", "--out", required=True, help="dataset directory to write")
    synth.set_defaults(run=run_synth)

    fetch = commands.add_parser(
        "fetch",
        parents=parents,
        help="download a public dataset",
        description="Download a MovieLens dataset from GroupLens into the cache ($NETCFG_DATA, "
        "default: the user cache folder, ~/.cache/netcfg on Linux), verify its checksum and "
        "import it. Without internet it "
        "says where to put the file by hand; --from DIR imports an extracted copy instead.",
    )
    fetch.add_argument(
        "name", help="movielens-100k, movielens-1m, movielens-20m or movielens-latest-small"
    )
    fetch.add_argument(
        "--cache", help="cache folder (default $NETCFG_DATA, else the user cache folder)"
    )
    fetch.add_argument("--force", action="store_true", help="download and import again")
    fetch.add_argument(
        "--from",
        dest="source",
        metavar="DIR",
        help="no download: import from the archive's files extracted in DIR (e.g. "
        "../shared/data/ml-100k), replacing what the cache holds",
    )
    fetch.set_defaults(run=run_fetch)
