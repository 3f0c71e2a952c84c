"""``netcfg predict``: top-K recommendations for every user, or the scores of given
(user, item) pairs (``--pairs``), from a trained model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from netcfg.commands.common import positive_int
from netcfg.data.formats import parse_format
from netcfg.data.id_files import read_id_lines
from netcfg.errors import DataError, Location, UsageError
from netcfg.inference.writers import check_output_file, output_file

__all__ = ["add_parser", "read_filters"]

EPILOG = """examples:
  netcfg predict runs/u1 --top-k 10 --exclude-seen --out recs.tsv
  netcfg predict runs/u1 --input new_ratings.tsv --top-k 20 --exclude-seen \\
      --filter deny:out_of_stock.txt --output-format jsonl
  netcfg predict zoo:my-model --users users.txt --top-k 500 --output-format dsstne
  netcfg predict runs/u1 --pairs candidates.tsv --out scores.tsv

filters: a file of item ids (one per line) is a deny list; allow:FILE keeps only those items;
lines 'user<TAB>item' deny items to one user.

pairs: a delimited file of user, item (a values column and a header line are allowed),
scored in its order as 'user<TAB>item<TAB>score' lines. The input rows are the model's
training data. Ratings are clipped to the training value range unless --no-clip (or the
config's Evaluation.ClipPredictions is false). A pair whose user or item the model does
not know is written with an EMPTY score and counted on standard error; --strict makes
that an error (exit status 2, nothing written).
"""


def _ids(values: list[str], numeric: bool) -> list:
    if not numeric:
        return values
    try:
        return [int(v) for v in values]
    except ValueError:
        return values


def read_filters(specs: list[str], items_numeric: bool, users_numeric: bool):
    """Build an `ItemFilter` from ``[allow:|deny:]FILE`` arguments.

    Raises:
        UsageError: an unknown ``MODE:`` prefix, or no file after it.
        DataError: a file that is missing, a folder, or not lines of ids (file and line).
    """
    from netcfg.inference.recommend import ItemFilter

    filters = ItemFilter()
    for spec in specs:
        mode, path = _filter_mode(spec)
        lines = read_id_lines(path, "filter file", ("item", "user<TAB>item"))
        pairs = [line for line in lines if len(line) == 2]
        singles = _ids([line[0] for line in lines if len(line) == 1], items_numeric)
        if mode == "allow":
            if pairs:
                raise DataError(
                    "allow lists are global: give item ids, not user<TAB>item", Location(path)
                )
            filters.allow = set(singles) if filters.allow is None else filters.allow | set(singles)
            continue
        filters.deny |= set(singles)
        for user, item in pairs:
            (user,) = _ids([user], users_numeric)
            (item,) = _ids([item], items_numeric)
            filters.per_user.setdefault(user, set()).add(item)
    return filters


def _filter_mode(spec: str) -> tuple[str, str]:
    """``allow:FILE`` / ``deny:FILE`` / ``FILE`` as (mode, file)."""
    mode, colon, path = spec.partition(":")
    if colon and mode in ("allow", "deny"):
        if not path:
            raise UsageError(f"--filter {spec}: give a file after '{mode}:'")
        return mode, path
    if colon and mode.isalpha() and len(mode) > 1 and not Path(spec).exists():
        raise UsageError(
            f"--filter {spec}: unknown filter mode '{mode}': use allow:FILE, deny:FILE or FILE "
            "(a deny list)"
        )
    return "deny", spec


def run(args: argparse.Namespace) -> int:
    """Recommend (or score ``--pairs``), write, and report what was ignored."""
    if args.pairs is not None:
        return _run_pairs(args)
    pairs_only = [option for option in ("strict", "no_clip") if getattr(args, option)]
    if pairs_only:
        options = " and ".join("--" + name.replace("_", "-") for name in pairs_only)
        args.usage_error(f"{options}: for scoring --pairs only; top-K lists take neither")
    if args.top_k is None:
        args.usage_error("give --top-k K, or --pairs FILE")
    parse_format(args.format)
    if args.out:
        check_output_file(args.out)
    from netcfg.data.source import open_source
    from netcfg.data.spec import DataSourceSpec
    from netcfg.inference.models import open_model, training_interactions
    from netcfg.inference.recommend import recommend
    from netcfg.inference.writers import write_recommendations

    model = open_model(args.model)
    if args.input:
        source = DataSourceSpec(Path=args.input, Format=args.format)
        interactions = open_source(source).train
    else:
        interactions = training_interactions(model)
    (dataset,) = model.network.inputs.values()
    numeric = model.run["datasets"][dataset]["numeric_ids"]
    orientation = model.run["datasets"][dataset]["orientation"]
    items_numeric = numeric["columns" if orientation == "user" else "rows"]
    users_numeric = numeric["rows" if orientation == "user" else "columns"]
    users = None
    if args.users:
        lines = read_id_lines(args.users, "users file", ("user",))
        users = _ids([line[0] for line in lines], users_numeric)
    filters = read_filters(args.filter, items_numeric, users_numeric)
    recs = recommend(
        model,
        interactions,
        args.top_k,
        exclude_seen=args.exclude_seen,
        filters=filters,
        users=users,
        batch_size=args.batch_size,
        progress=not args.no_progress and sys.stderr.isatty(),
    )
    for line in recs.warnings():
        print(f"netcfg: warning: {line}", file=sys.stderr)
    if args.out:
        with output_file(args.out) as out:
            lines = write_recommendations(recs, out, args.output_format)
        print(
            f"{len(recs.user_ids):,} users, {lines:,} lines written to {args.out}", file=sys.stderr
        )
    else:
        write_recommendations(recs, sys.stdout, args.output_format)
    return 0


def add_parser(subparsers, parents) -> None:
    """Register the subcommand."""
    from netcfg.inference.writers import FORMATS

    parser = subparsers.add_parser(
        "predict",
        parents=parents,
        help="top-K recommendations, or scores of given pairs, from a trained model",
        description="Recommend the top K items for every user of the input (default: the "
        "data the model was trained on). Users unknown to the model are folded in from their "
        "input interactions; items unknown to the model are ignored and counted. With --pairs, "
        "score the given (user, item) pairs instead.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", help="a run directory (netcfg train --out) or zoo:NAME")
    parser.add_argument(
        "--input",
        help="interactions of the users to recommend for: a dataset or split directory, or a file",
    )
    parser.add_argument("--format", default="auto", help="format of an --input or --pairs file")
    parser.add_argument(
        "--top-k", type=positive_int, help="items per user (any number; needed without --pairs)"
    )
    parser.add_argument(
        "--exclude-seen",
        action="store_true",
        help="never recommend an item the user interacted with in the input",
    )
    parser.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="[allow:|deny:]FILE",
        help="deny (default) or allow list of items (repeatable)",
    )
    parser.add_argument("--users", help="file of user ids (one per line) to recommend for")
    parser.add_argument("--out", help="output file (default: standard output)")
    parser.add_argument(
        "--output-format",
        choices=FORMATS,
        default="tsv",
        help="tsv: user, item, score, rank; jsonl; dsstne: user<TAB>item,score:",
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=1024, help="users per batch (default 1024)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_pairs_arguments(parser)
    parser.set_defaults(run=run, usage_error=parser.error)


_TOP_K_ONLY = ("top_k", "exclude_seen", "filter", "users", "input")


def _add_pairs_arguments(parser: argparse.ArgumentParser) -> None:
    """``--pairs`` and its options."""
    parser.add_argument(
        "--pairs",
        metavar="FILE",
        help="score these (user, item) pairs instead of recommending: a delimited file, "
        "values column optional, header allowed; unknown users or items get an empty score",
    )
    parser.add_argument(
        "--no-clip", action="store_true", help="--pairs: do not clip ratings to the training range"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="--pairs: unknown users or items are an error (exit status 2)",
    )


def _run_pairs(args: argparse.Namespace) -> int:
    """Score every pair of ``--pairs`` in its order; report (or refuse) unknown ids."""
    from netcfg.data.readers import read_interactions
    from netcfg.inference.models import open_model
    from netcfg.inference.pairs import format_scores, pair_inputs, score_pairs

    given = [name for name in _TOP_K_ONLY if getattr(args, name) not in (None, False, [])]
    if given or args.output_format != "tsv":
        options = ", ".join("--" + n.replace("_", "-") for n in given) or "--output-format"
        args.usage_error(f"--pairs writes user, item, score lines: {options} do not apply")
    parse_format(args.format)
    if args.out:
        check_output_file(args.out)
    pairs = read_interactions(args.pairs, args.format)
    model = open_model(args.model)
    rows, clip = pair_inputs(model, clip=not args.no_clip)
    found = score_pairs(
        model, rows, pairs.users, pairs.items, clip=clip, batch_size=args.batch_size
    )
    report = (
        f"{found.unknown_users:,} pairs with unknown users, "
        f"{found.unknown_items:,} with unknown items"
    )
    if args.strict and found.unknown:
        raise DataError(f"{report} (--strict)", Location(str(args.pairs)))
    if found.unknown:
        print(f"netcfg: warning: {report}; their score is empty", file=sys.stderr)
    if args.out:
        with output_file(args.out) as out:
            out.writelines(format_scores(found))
        print(f"{len(found.scores):,} pairs scored, written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.writelines(format_scores(found))
    return 0
