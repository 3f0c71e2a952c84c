"""``netcfg data split``: split a dataset by one of the protocols papers use."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from netcfg.commands.common import positive_int
from netcfg.data import splits, transforms
from netcfg.data.interactions import Interactions
from netcfg.data.readers import read_interactions
from netcfg.data.split_store import save_split
from netcfg.errors import DataError, UsageError

__all__ = ["add_parser"]

PROTOCOLS = ("files", "random", "temporal", "user-temporal", "leave-last-out", "heldout-users")


def _fractions(text: str) -> tuple[float, float, float]:
    parts = [_fraction(p) for p in text.split(",")]
    if len(parts) == 2:
        parts = [parts[0], 0.0, parts[1]]
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(
            f"expected TRAIN,TEST or TRAIN,VALIDATION,TEST, got {text}"
        )
    return parts[0], parts[1], parts[2]


def _fraction(text: str) -> float:
    """A number in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1], got {text!r}")
    return value


def _number(text: str) -> float:
    """A finite number."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _count(text: str) -> int:
    """A whole number >= 0."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def _prepare(matrix: Interactions, args: argparse.Namespace) -> Interactions:
    if args.binarize is not None:
        matrix = transforms.binarize(matrix, args.binarize)
    if args.transform == "log1p":
        matrix = transforms.log1p(matrix)
    return matrix


def run(args: argparse.Namespace) -> int:
    """Split, save and print the counts."""
    from netcfg.commands.data import load_source

    if Path(args.out).resolve() == Path(args.source).resolve():
        raise UsageError(
            f"-o {args.out}: is the source being split, and writing the split would replace "
            "it; give a new folder name"
        )
    matrix = load_source(args, args.source)
    if args.protocol == "files":
        if args.test is None:
            raise DataError("the files protocol needs --test FILE (and optionally --validation)")
        others = {
            name: read_interactions(path, args.format, skip_bad_lines=args.skip_bad_lines)
            for name, path in (("validation", args.validation), ("test", args.test))
            if path
        }
        split = splits.split_files(matrix, others)
        split.parts = {name: _prepare(part, args) for name, part in split.parts.items()}
    else:
        matrix = _prepare(matrix, args)
        matrix = transforms.min_counts(
            matrix, rows=args.min_user_interactions, columns=args.min_item_interactions
        )
        if not matrix.nnz:
            raise DataError(
                "no interactions left to split (after --binarize and the minimum counts "
                "--min-user-interactions, --min-item-interactions)"
            )
        split = _split(matrix, args)
    split.meta["counts"] = {name: part.nnz for name, part in split.parts.items()}
    save_split(split, args.out, orientation=args.orientation)
    for name, part in split.parts.items():
        dropped = split.meta["dropped"].get(name)
        note = (
            (
                f" (dropped: {dropped['unseen_users']:,} of unseen users, "
                f"{dropped['unseen_items']:,} of unseen items)"
            )
            if dropped
            else ""
        )
        print(
            f"{name:<17}{part.nnz:>12,} interactions, {int((part.row_counts() > 0).sum()):,} "
            f"users{note}"
        )
    print(f"saved to {args.out}")
    return 0


def _split(matrix: Interactions, args: argparse.Namespace) -> splits.SplitSet:
    if args.protocol == "random":
        return splits.split_random(matrix, args.fractions, seed=args.seed, per_user=args.per_user)
    if args.protocol == "temporal":
        return splits.split_temporal(
            matrix,
            cut_time=args.cut_time,
            cut_fraction=args.cut_fraction,
            end_time=args.end_time,
            validation_fraction=args.validation_fraction,
            seed=args.seed,
        )
    if args.protocol == "user-temporal":
        return splits.split_user_temporal(
            matrix,
            train_fraction=args.train_fraction,
            validation_fraction=args.validation_fraction,
            seed=args.seed,
        )
    if args.protocol == "leave-last-out":
        return splits.split_leave_last_out(matrix, validation=not args.no_validation)
    if args.heldout is None:
        raise DataError("the heldout-users protocol needs --heldout N")
    return splits.split_heldout_users(matrix, args.heldout, fold_in=args.fold_in, seed=args.seed)


def add_parser(commands, parents) -> None:
    """Register the subcommand."""
    from netcfg.commands.data import add_reading_arguments

    parser = commands.add_parser(
        "split",
        parents=parents,
        help="split a dataset (files, random, temporal, ...)",
        description="Split a dataset into train, validation and test parts that share one id "
        "index. Evaluation parts keep only users and items seen in training; the dropped "
        "entries are counted.",
    )
    parser.add_argument("source", help="a dataset directory, or an interaction file")
    parser.add_argument("-o", "--out", required=True, help="split directory to write")
    parser.add_argument(
        "--protocol",
        required=True,
        choices=PROTOCOLS,
        help="files: given files (--test, --validation); random: fractions; "
        "temporal: a global time cut (DeepRec, Netflix); user-temporal: each "
        "user's earliest part trains (DeepRec, MovieLens); leave-last-out; "
        "heldout-users: Mult-VAE's held-out users with fold-in",
    )
    parser.add_argument(
        "--orientation",
        choices=("user", "item"),
        default="user",
        help="rows of the model's input: users (default) or items (I-AutoRec)",
    )
    parser.add_argument("--seed", type=_count, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--binarize",
        type=_number,
        metavar="THRESHOLD",
        help="keep values >= THRESHOLD as implicit positives, drop the others",
    )
    parser.add_argument("--transform", choices=("log1p",), help="transform the values")
    parser.add_argument(
        "--min-user-interactions",
        type=_count,
        default=0,
        metavar="K",
        help="drop users with fewer than K interactions first",
    )
    parser.add_argument(
        "--min-item-interactions",
        type=_count,
        default=0,
        metavar="K",
        help="drop items with fewer than K interactions first",
    )
    parser.add_argument("--test", help="files: the test file")
    parser.add_argument("--validation", help="files: the validation file")
    parser.add_argument(
        "--fractions",
        type=_fractions,
        default=(0.8, 0.1, 0.1),
        metavar="TRAIN,[VALIDATION,]TEST",
        help="random: default 0.8,0.1,0.1",
    )
    parser.add_argument(
        "--per-user",
        action="store_true",
        help="random: split each user's interactions in these fractions",
    )
    parser.add_argument("--cut-time", type=int, help="temporal: first timestamp of evaluation")
    parser.add_argument(
        "--cut-fraction",
        type=_fraction,
        help="temporal: the cut leaves this fraction of interactions before it",
    )
    parser.add_argument("--end-time", type=int, help="temporal: drop interactions from here on")
    parser.add_argument(
        "--train-fraction",
        type=_fraction,
        default=0.7,
        help="user-temporal: each user's earliest fraction trains (default 0.7)",
    )
    parser.add_argument(
        "--validation-fraction",
        type=_fraction,
        default=0.5,
        help="temporal protocols: share of users evaluated in validation",
    )
    parser.add_argument(
        "--no-validation",
        action="store_true",
        help="leave-last-out: only a test interaction per user",
    )
    parser.add_argument(
        "--heldout",
        type=positive_int,
        metavar="N",
        help="heldout-users: N validation users and N test users",
    )
    parser.add_argument(
        "--fold-in",
        type=_fraction,
        default=0.8,
        help="heldout-users: fraction of a held-out user's interactions given "
        "as input (default 0.8)",
    )
    add_reading_arguments(parser)
    parser.set_defaults(run=run)
