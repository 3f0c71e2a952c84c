"""``netcfg data``: import, inspect, split, synthesize and fetch interaction datasets."""

from __future__ import annotations

import argparse
import json

from netcfg.data.formats import ROLES, TextFormat, parse_format, text_format
from netcfg.data.importer import import_file
from netcfg.data.info import dataset_info, format_info
from netcfg.data.interactions import DuplicatePolicy, Interactions
from netcfg.data.spec import DataFormat
from netcfg.data.split_store import is_split, load_split
from netcfg.data.store import is_dataset, load_dataset
from netcfg.errors import DataError

__all__ = ["add_parser"]

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


def _format(args: argparse.Namespace) -> DataFormat | TextFormat:
    fmt = parse_format(args.format)
    if args.delimiter is None and not args.header and args.columns is None:
        return fmt
    if fmt in (DataFormat.auto, DataFormat.dsstne, DataFormat.netcfg):
        fmt = DataFormat.csv if args.delimiter in (None, ",") else DataFormat.tsv
    columns = None
    if args.columns is not None:
        columns = {}
        for item in args.columns.split(","):
            role, _, column = item.partition("=")
            if role not in ROLES or not column:
                raise DataError(
                    f"--columns expects ROLE=COLUMN with ROLE one of "
                    f"{', '.join(ROLES)} (got {item!r})"
                )
            columns[role] = int(column) if column.isdigit() else column
        if not {"user", "item"} <= set(columns):
            raise DataError("--columns must map at least user and item")
    delimiter = {"tab": "\t", "\\t": "\t", "space": " "}.get(args.delimiter, args.delimiter)
    return text_format(fmt).with_options(
        delimiter=delimiter, header=args.header or None, columns=columns
    )


def load_source(args: argparse.Namespace, source: str) -> Interactions:
    """A dataset directory, or a file read with the reading options of ``args``."""
    if is_dataset(source):
        return load_dataset(source)
    return import_file(
        source,
        None,
        _format(args),
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
        _format(args),
        duplicates=DuplicatePolicy(args.duplicates),
        skip_bad_lines=args.skip_bad_lines,
        value_range=args.value_range,
        implicit=args.implicit,
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
        "directory (CSR arrays, id indexes, metadata).",
    )
    importer.add_argument("source", help="the interaction file")
    importer.add_argument("-o", "--out", required=True, help="dataset directory to write")
    add_reading_arguments(importer)
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
    parser.add_argument(
        "--value-range",
        nargs=2,
        type=float,
        metavar=("LOW", "HIGH"),
        help="values outside [LOW, HIGH] are errors (or skipped)",
    )
