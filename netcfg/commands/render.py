"""``netcfg render``: print the fully resolved config."""

from __future__ import annotations

import argparse
import json

from netcfg.commands.common import add_config_arguments
from netcfg.config import load_config
from netcfg.config.render import render_config

__all__ = ["add_parser"]

EPILOG = """examples:
  netcfg render model.json
  netcfg render model.yaml --set Training.Optimizer=Adam > resolved.json
"""


def run(args: argparse.Namespace) -> int:
    """Print the resolved config as JSON."""
    spec = load_config(args.config, args.overrides)
    print(json.dumps(render_config(spec), indent=2))
    return 0


def add_parser(subparsers, parents) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "render",
        parents=parents,
        help="print the resolved config as JSON",
        description="Print the config with every default filled, Extends and --set applied "
        "and DSSTNE's canonical spellings, as JSON. Loading it again gives the same spec.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_arguments(parser)
    parser.set_defaults(run=run)
