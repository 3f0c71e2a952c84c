"""``netcfg data``: import, inspect, split, synthesize and fetch interaction datasets."""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

from netcfg.data.formats import ROLES, TextFormat, guess_format, parse_format, text_format
from netcfg.data.importer import import_file
from netcfg.data.info import dataset_info, format_info
from netcfg.data.interactions import DuplicatePolicy, Interactions
from netcfg.data.spec import DataFormat
from netcfg.data.split_store import is_split, load_split
from netcfg.data.store import is_dataset, load_dataset
from netcfg.errors import UsageError

__all__ = ["add_parser", "add_reading_arguments", "load_source"]

EPILOG = """examples:
  netcfg data import ../shared/data/ml-100k/u.data --format movielens-100k -o data/ml-100k
  netcfg data info data/ml-100k
  netcfg data split ../shared/data/ml-100k/u1.base --protocol files \\
      --test ../shared/data/ml-100k/u1.test -o data/ml-100k-u1
  netcfg data split data/ml-100k --protocol random --fractions 0.8,0,0.2 --per-user \\
      --binarize 4 --seed 0 -o data/ml-100k-implicit
  netcfg data synth --users 5000 --items 2000 --density 0.02 --seed 0 -o data/synth
  netcfg data fetch movielens-1m
  netcfg data fetch movielens-100k --from ../shared/data/ml-100k
"""


def _format(args: argparse.Namespace, source: str | Path) -> DataFormat | TextFormat:
    """The format the reading options of ``args`` give for the file ``source``."""
    fmt = parse_format(args.format)
    if args.delimiter is None and not args.header and args.columns is None:
        return fmt
    delimiter = args.delimiter
    if delimiter is not None:
        delimiter = {"tab": "\t", "\\t": "\t", "space": " "}.get(delimiter, delimiter)
        if not delimiter.strip(" ") and delimiter != " " or "\n" in delimiter:
            raise UsageError(
                f"--delimiter {args.delimiter!r}: give a field separator such as ',', tab, "
                "space or '::'"
            )
    if fmt in (DataFormat.auto, DataFormat.dsstne, DataFormat.netcfg):
        base = _delimited(source, delimiter)
    else:
        base = text_format(fmt)
    return base.with_options(
        delimiter=delimiter, header=args.header or None, columns=_columns(args.columns)
    )


def _delimited(source: str | Path, delimiter: str | None) -> TextFormat:
    """A generic delimited format for ``source``: the given delimiter, else the one its
    name (``.tsv``, ``.tab``) or its first line shows, else ','."""
    if delimiter is not None:
        return text_format(DataFormat.csv if delimiter == "," else DataFormat.tsv)
    path = Path(source)
    if path.suffix.lower() in (".tsv", ".tab"):
        return text_format(DataFormat.tsv)
    if path.is_file():
        guessed = guess_format(path)
        if isinstance(guessed, TextFormat):
            return guessed
        if guessed in (DataFormat.movielens_100k, DataFormat.movielens_dat, DataFormat.tsv):
            return text_format(guessed)
    return text_format(DataFormat.csv)


def _columns(text: str | None) -> dict[str, int | str] | None:
    """``--columns ROLE=COLUMN,...`` as role -> column number or header name."""
    if text is None:
        return None
    columns: dict[str, int | str] = {}
    for item in text.split(","):
        role, _, column = item.partition("=")
        if role not in ROLES or not column:
            raise UsageError(
                f"--columns expects ROLE=COLUMN with ROLE one of {', '.join(ROLES)} (got {item!r})"
            )
        if role in columns:
            raise UsageError(f"--columns: the {role} column is given twice ({text!r})")
        column = int(column) if column.isdigit() else column
        taken = next((other for other, given in columns.items() if given == column), None)
        if taken is not None:
            raise UsageError(f"--columns: {taken} and {role} are both column {column!r}")
        columns[role] = column
    if not {"user", "item"} <= set(columns):
        raise UsageError("--columns must map at least user and item")
    return columns


def load_source(args: argparse.Namespace, source: str) -> Interactions:
    """A dataset directory, or a file read with the reading options of ``args``."""
    if is_dataset(source):
        return load_dataset(source)
    return import_file(
        source,
        None,
        _format(args, source),
        duplicates=DuplicatePolicy(args.duplicates),
        skip_bad_lines=args.skip_bad_lines,
        value_range=args.value_range,
        implicit=args.implicit,
    )


def run_import(args: argparse.Namespace) -> int:
    """Import a file into a dataset directory and print its statistics."""
    matrix = import_file(
        args.source,
        args.out,
        _format(args, args.source),
        duplicates=DuplicatePolicy(args.duplicates),
        skip_bad_lines=args.skip_bad_lines,
        value_range=args.value_range,
        implicit=args.implicit,
        row_ids=args.row_ids,
        column_ids=args.column_ids,
    )
    print(format_info(dataset_info(matrix)))
    print(f"saved to {args.out}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    """Print the statistics of a dataset, or of every part of a split."""
    if is_split(args.folder):
        split = load_split(args.folder, orientation="user")
        report = {
            "split": split.meta,
            "parts": {name: dataset_info(part) for name, part in split.parts.items()},
        }
        text = "\n\n".join(
            f"[{name}]\n{format_info(info)}" for name, info in report["parts"].items()
        )
        text = f"protocol {split.meta['protocol']}, dropped {split.meta['dropped']}\n\n{text}"
    else:
        report = dataset_info(load_dataset(args.folder))
        text = format_info(report)
    print(json.dumps(report, indent=2) if args.json else text)
    return 0


def add_parser(subparsers, parents) -> None:
    """Register ``netcfg data`` and its subcommands."""
    from netcfg.commands import data_split, data_tools

    parser = subparsers.add_parser(
        "data",
        parents=parents,
        help="import, inspect, split, synthesize and fetch datasets",
        description="Interaction datasets: files of (user, item, value, time) events kept as "
        "sparse CSR matrices with their original ids.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)

    importer = commands.add_parser(
        "import",
        parents=parents,
        help="import a file",
        description="Import an interaction file into a dataset "
        "directory (CSR arrays, id indexes, metadata). A .npz file written by "
        "scipy.sparse.save_npz is a whole matrix, users as rows.",
    )
    importer.add_argument("source", help="the interaction file")
    importer.add_argument("-o", "--out", required=True, help="dataset directory to write")
    add_reading_arguments(importer)
    for option, what in (("--row-ids", "row"), ("--column-ids", "column")):
        importer.add_argument(
            option,
            metavar="FILE",
            help=f".npz only: the id of each {what}, one per line (default: the {what} "
            "numbers 0..n-1)",
        )
    importer.set_defaults(run=run_import)

    info = commands.add_parser(
        "info",
        parents=parents,
        help="print dataset statistics",
        description="Users, items, interactions, density, value "
        "histogram, per-user and per-item count quantiles.",
    )
    info.add_argument("folder", help="a dataset or split directory")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(run=run_info)

    data_split.add_parser(commands, parents)
    data_tools.add_parsers(commands, parents)


def add_reading_arguments(parser: argparse.ArgumentParser) -> None:
    """Options that say how to read an interaction file."""
    formats = ", ".join(f.value for f in DataFormat if f is not DataFormat.netcfg)
    parser.add_argument(
        "--format",
        default="auto",
        help=f"file format: {formats} (aliases: movielens-1m, movielens-20m, "
        "...; default auto: guessed from the name and first line)",
    )
    parser.add_argument("--delimiter", help="field separator of csv/tsv files (',', tab, '::')")
    parser.add_argument("--header", action="store_true", help="the first line names the columns")
    parser.add_argument(
        "--columns",
        metavar="ROLE=COL,...",
        help="which column is user, item, value, time: numbers (0-based) or "
        "header names, e.g. user=userId,item=movieId,value=rating",
    )
    parser.add_argument(
        "--implicit", action="store_true", help="ignore values: every interaction counts as 1"
    )
    parser.add_argument(
        "--duplicates",
        default="latest",
        choices=[p.value for p in DuplicatePolicy],
        help="a (user, item) pair given twice: keep the latest by time (default; "
        "the last without times), the first, the last, sum the values, or fail",
    )
    parser.add_argument(
        "--skip-bad-lines",
        action="store_true",
        help="skip malformed lines (and report how many) instead of failing",
    )
    # argparse takes '-inf' (and '-1e3') for an option; these are numbers here
    parser._negative_number_matcher = _NEGATIVE_NUMBER
    parser.add_argument(
        "--value-range",
        nargs=2,
        type=_bound,
        action=_ValueRange,
        metavar=("LOW", "HIGH"),
        help="values outside [LOW, HIGH] are errors (or skipped); -inf and inf are allowed",
    )


_NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-inf(inity)?$", re.IGNORECASE)
"""What argparse must read as a negative number, not as an option, in the reading options
(its own pattern knows ``-5`` and ``-.5``, not ``-inf`` or ``-1e3``)."""


def _bound(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if math.isnan(value):
        raise argparse.ArgumentTypeError(f"LOW and HIGH must be numbers, not {text!r}")
    return value


class _ValueRange(argparse.Action):
    """``--value-range LOW HIGH`` with LOW <= HIGH (a usage error otherwise)."""

    def __call__(self, parser, namespace, values, option_string=None):
        low, high = values
        if low > high:
            parser.error(f"{option_string}: LOW must not exceed HIGH (got {low:g} {high:g})")
        setattr(namespace, self.dest, (low, high))
