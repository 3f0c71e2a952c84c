"""Arguments shared by subcommands."""

from __future__ import annotations

import argparse

__all__ = ["add_config_arguments", "add_data_argument", "add_space_argument", "positive_int"]


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """The config file and its ``--set`` overrides."""
    parser.add_argument(
        "config", help="config file (JSON or YAML), a folder with model.json, or zoo:NAME"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a key, e.g. Layers.Hidden.N=256 or Training.Optimizer.LearningRate=0.005 "
        "(repeatable)",
    )


def add_data_argument(parser: argparse.ArgumentParser, purpose: str) -> None:
    """``--data [NAME=]PATH`` (repeatable); ``purpose`` ends the help text."""
    parser.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="[NAME=]PATH",
        help="bind a DataSet (NAME=PATH) or every DataSet (PATH) to data: a dataset or split "
        f"directory, or a raw file (repeatable){purpose}",
    )


def add_space_argument(parser: argparse.ArgumentParser) -> None:
    """``--space FILE``: a search space file replacing the config's ``Search``."""
    parser.add_argument(
        "--space",
        metavar="FILE",
        help="a search space file (JSON or YAML: paths -> ranges, or one Search key) that "
        "replaces the config's Search section",
    )


def positive_int(text: str) -> int:
    """An option's whole number >= 1 (argparse would name this function in the message of a
    word)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (got {text})")
    return value
