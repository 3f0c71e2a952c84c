"""``netcfg schema``: print the JSON Schema of the config language."""

from __future__ import annotations

import argparse
import json

from netcfg.config.schema import config_json_schema

__all__ = ["add_parser"]

EPILOG = """examples:
  netcfg schema > netcfg.schema.json
  # VS Code: "json.schemas": [{"fileMatch": ["*.netcfg.json"], "url": "./netcfg.schema.json"}]
"""


MAX_INDENT = 16
"""The widest indentation: each level of the schema's deep nesting repeats it, so a huge
one would print gigabytes."""


def _indent(text: str) -> int:
    """``--indent``: a whole number from 0 to `MAX_INDENT`."""
    if not text.isdigit() or int(text) > MAX_INDENT:
        raise argparse.ArgumentTypeError(
            f"expected a whole number from 0 to {MAX_INDENT}, got {text!r}"
        )
    return int(text)


def run(args: argparse.Namespace) -> int:
    """Print the schema."""
    print(json.dumps(config_json_schema(), indent=args.indent))
    return 0


def add_parser(subparsers, parents) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "schema",
        parents=parents,
        help="print the JSON Schema of configs",
        description="Print a JSON Schema (draft 2020-12) of the config language, with a "
        "description for every key, for editors to check and complete config files.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--indent", type=_indent, default=2, help=f"JSON indentation, 0 to {MAX_INDENT} (default 2)"
    )
    parser.set_defaults(run=run)
