"""``netcfg validate``: check a config and, when widths are known, compile it on meta.

Widths come from ``--data``, from ``--set Layers.<name>.N``, or from the config's own
``Data`` entries where they open without a download: a dataset or split directory, a raw
file, a fetched dataset already in the cache, a synthetic spec (its size, not generated).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import torch

from netcfg.commands.common import add_config_arguments, add_space_argument
from netcfg.config import load_config
from netcfg.data.probe import dataset_width
from netcfg.data.source import open_source
from netcfg.data.spec import DataSourceSpec, Orientation
from netcfg.data.store import is_dataset
from netcfg.errors import ConfigError, DataError, Issue, Location
from netcfg.experiments.spec import describe_search
from netcfg.networks.compile import compile_network
from netcfg.networks.spec import ModelSpec
from netcfg.networks.summary import format_table, layer_rows
from netcfg.trainers.sharding import tables_to_shard

__all__ = ["add_parser", "config_widths", "data_widths", "unknown_widths"]

EPILOG = """examples:
  netcfg validate model.json
  netcfg validate model.json --set Layers.Input.N=1682 --set Layers.Output.N=1682
  netcfg validate model.yaml --data ../shared/data/ml-100k/u1.base
  netcfg validate model.json --data gl_input=ratings.tsv --data gl_output=ratings.tsv
  netcfg validate model.yaml --space space.yaml

exit status: 0 valid, 2 invalid (one line per problem: FILE:LINE: JSON.path: message)
"""


def _datasets(spec: ModelSpec) -> list[str]:
    return list(
        dict.fromkeys(layer.DataSet for layer in spec.Layers if getattr(layer, "DataSet", None))
    )


def data_widths(spec: ModelSpec, data: Sequence[str]) -> dict[str, int]:
    """Widths of the DataSets from ``--data PATH`` / ``--data NAME=PATH`` arguments.

    A bare PATH serves every DataSet not named otherwise; orientation comes from the
    config's ``Data`` entry of the DataSet (user-based by default).

    Raises:
        ConfigError: a NAME that no layer uses.
        DataError: a file that cannot be read.
    """
    datasets = _datasets(spec)
    named: dict[str, str] = {}
    default = None
    for text in data:
        name, sep, path = text.partition("=")
        if sep and name in datasets:
            named[name] = path
        elif sep and not name.strip().startswith((".", "/")) and "/" not in name:
            raise ConfigError(
                [
                    Issue(
                        (),
                        f"no layer uses DataSet '{name}' (DataSets: {', '.join(datasets)})",
                        Location(f"--data {text}"),
                    )
                ]
            )
        else:
            default = text
    widths = {}
    for name in datasets:
        path = named.get(name, default)
        if path is not None:
            source = spec.Data.get(name)
            orientation = source.Orientation if source is not None else Orientation.User
            widths[name] = dataset_width(path, orientation)
    return widths


def config_widths(spec: ModelSpec, names: Sequence[str]) -> tuple[dict[str, int], dict[str, str]]:
    """Widths of the DataSets ``names`` from the config's own ``Data`` entries.

    An entry is read when that is cheap: a path (dataset or split directory, raw file), a
    fetched dataset already in the cache (with its fold's files), a synthetic spec (Users
    or Items, by orientation, without generating it). Nothing is downloaded.

    Returns:
        The widths found, and for each entry that could not be read, why.
    """
    widths, problems = {}, {}
    for name in names:
        source = spec.Data.get(name)
        if source is None or not _cached(source):
            continue
        try:
            widths[name] = _source_width(source)
        except DataError as err:
            problems[name] = str(err)
    return widths, problems


def _cached(source: DataSourceSpec) -> bool:
    """Whether a fetched source is in the cache (other sources are local)."""
    if source.Fetch is None:
        return True
    from netcfg.data.fetch import cache_dir

    folder = cache_dir() / source.Fetch.value
    if source.Fold is None:
        return is_dataset(folder / "dataset")
    folds = [folder / "ml-100k" / f"{source.Fold.value}.{p}" for p in ("base", "test")]
    return is_dataset(folder / "dataset") and all(f.is_file() for f in folds)


def _source_width(source: DataSourceSpec) -> int:
    synthetic = source.Synthetic
    if synthetic is not None:  # a Users x Items matrix; filters and splits keep its shape
        return synthetic.Users if source.Orientation is Orientation.Item else synthetic.Items
    return open_source(source).train.shape[1]


def unknown_widths(spec: ModelSpec, widths: dict[str, int]) -> list[str]:
    """DataSets whose width an ``"auto"`` layer needs but nothing gives."""
    stated = {
        layer.DataSet
        for layer in spec.Layers
        if getattr(layer, "DataSet", None) and getattr(layer, "N", None) not in (None, "auto")
    }
    return [
        name
        for name in _datasets(spec)
        if name not in widths
        and name not in stated
        and any(
            getattr(layer, "N", None) == "auto" and layer.DataSet == name for layer in spec.Layers
        )
    ]


def run(args: argparse.Namespace) -> int:
    """Validate, compile on the meta device when possible, print the layer table; for an
    ensemble, do so for every member."""
    from netcfg.ensembles.load import ensemble_tree, load_ensemble

    found = ensemble_tree(args.config)
    if found is None:
        spec = load_config(args.config, args.overrides, space=args.space)
        _check(args.config, spec, args.data)
        _print_search(spec.Search)
        return 0
    ensemble = load_ensemble(*found, args.overrides, space=args.space)
    print(f"{args.config}: valid ensemble of {len(ensemble.members)} members")
    _print_search(ensemble.spec.Search)
    for member in ensemble.members:
        print(f"\nmember {member.name} (weight {member.weight:.3f}, {member.config}):")
        _check(member.name, member.spec, args.data)
    return 0


def _print_search(search: dict) -> None:
    """The search line, when the config has a Search section."""
    if search:
        print(f"search: {describe_search(search)}")


def _check(label: str, spec, data: list[str]) -> None:
    widths = data_widths(spec, data)
    found, problems = config_widths(spec, unknown_widths(spec, widths))
    widths.update(found)
    missing = unknown_widths(spec, widths)
    if missing:
        print(
            f"{label}: valid ({len(spec.Layers)} layers); not compiled: the width of "
            f"DataSet {', '.join(repr(m) for m in missing)} is unknown (give --data PATH, "
            "or --set Layers.<name>.N=WIDTH)"
        )
        for name, problem in problems.items():
            print(f"  DataSet '{name}': {problem}")
        print(format_table(layer_rows(spec), None))
        return
    with torch.device("meta"):
        network = compile_network(spec, widths)
    tables_to_shard(spec.Training.Distributed, network)
    total = sum(p.numel() for p in network.parameters())
    print(f"{label}: valid ({len(spec.Layers)} layers); compiled")
    print(format_table(layer_rows(spec, network), total))


def add_parser(subparsers, parents) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "validate",
        parents=parents,
        help="check a config (and compile it when widths are known)",
        description='Validate a config. When every "auto" width is known (from --data, '
        "--set, or the config's own Data where it opens without a download: a dataset or "
        "split directory, a raw file, a fetched dataset already cached, a synthetic spec), "
        "also compile the network on the meta device (no memory is allocated) and print "
        "each layer's shape and parameter count.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_arguments(parser)
    parser.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="[NAME=]PATH",
        help='data file giving the widths of "auto" layers; NAME=PATH binds one DataSet '
        "(repeatable)",
    )
    add_space_argument(parser)
    parser.set_defaults(run=run)
