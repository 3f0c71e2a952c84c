"""Arguments shared by subcommands."""

from __future__ import annotations

import argparse

__all__ = ["add_config_arguments"]


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """The config file and its ``--set`` overrides."""
    parser.add_argument("config", help="config file (JSON or YAML), or a folder with model.json")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a key, e.g. Layers.Hidden.N=256 or Training.Optimizer.LearningRate=0.005 "
        "(repeatable)",
    )
