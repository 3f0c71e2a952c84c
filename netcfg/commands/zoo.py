"""``netcfg zoo``: the shipped model configs, and the user's zoo of trained models."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from netcfg.tables import print_table

__all__ = ["add_parser"]

EPILOG = """examples:
  netcfg zoo list                              # shipped configs and their results
  netcfg zoo show quickstart                   # the model card, then the config
  netcfg train zoo:quickstart --save-as qs     # train, then keep the model as zoo:qs
  netcfg zoo add runs/u1 autorec-u1            # keep a finished run as zoo:autorec-u1
  netcfg zoo list --trained                    # your trained models
  netcfg predict zoo:qs --top-k 10 --exclude-seen
"""


def _metrics(metrics: dict[str, dict[str, float]]) -> str:
    """The test metrics of a run (the validation ones when it has no test part)."""
    part = "test" if "test" in metrics else next(iter(metrics), None)
    if part is None:
        return "-"
    return f"{part} " + " ".join(f"{k} {v:.4f}" for k, v in metrics[part].items())


def _list_shipped(as_json: bool) -> None:
    from netcfg.zoo_cards import zoo_cards

    cards = zoo_cards()
    if as_json:
        print(json.dumps([{k: v for k, v in asdict(c).items() if k != "body"} for c in cards]))
        return
    rows = [
        [c.name, c.task, c.dataset, c.metric, "-" if c.measured is None else f"{c.measured:g}"]
        for c in cards
    ]
    print_table(["NAME", "TASK", "DATASET", "METRIC", "MEASURED"], rows)


def _list_trained(as_json: bool) -> None:
    from netcfg.inference.models import user_zoo_dir
    from netcfg.inference.user_zoo import trained_models

    problems: list[str] = []
    models = trained_models(problems)
    for problem in problems:
        print(f"netcfg: warning: {problem}; left out of the list", file=sys.stderr)
    if as_json:
        print(json.dumps([asdict(m) | {"path": str(m.path)} for m in models]))
    elif models:
        rows = [[m.name, _metrics(m.metrics), str(m.path)] for m in models]
        print_table(["NAME", "METRICS", "PATH"], rows)
    else:
        print(
            f"no trained models in {user_zoo_dir()}; add one with 'netcfg zoo add RUN_DIR NAME' "
            "or 'netcfg train CONFIG --save-as NAME'"
        )


def run_list(args: argparse.Namespace) -> int:
    """Print the shipped entries, or the trained models with ``--trained``."""
    (_list_trained if args.trained else _list_shipped)(args.json)
    return 0


def run_show(args: argparse.Namespace) -> int:
    """Print an entry's model card, then its config file."""
    from netcfg.zoo_cards import zoo_card, zoo_config

    card = zoo_card(args.name)
    config = zoo_config(card.name)
    print((config.parent / "CARD.md").read_text(encoding="utf-8").rstrip())
    print(f"\n# {config.name} of zoo:{card.name} (netcfg train zoo:{card.name})")
    print(config.read_text(encoding="utf-8").rstrip())
    return 0


def run_add(args: argparse.Namespace) -> int:
    """Register a finished run directory in the user zoo."""
    from netcfg.inference.user_zoo import register_model

    path = register_model(args.run_dir, args.name, copy=not args.move, replace=args.replace)
    print(f"registered zoo:{path.name} in {path}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    """Remove a trained model from the user zoo."""
    from netcfg.inference.user_zoo import remove_model

    path = remove_model(args.name)
    print(f"removed zoo:{path.name} from {path.parent}")
    return 0


def add_parser(subparsers, parents) -> None:
    """Register ``netcfg zoo`` and its subcommands."""
    parser = subparsers.add_parser(
        "zoo",
        parents=parents,
        help="shipped model configs and your trained models",
        description="The model zoo: configs shipped with netcfg (zoo:NAME as a config), each "
        "with a model card and its result, and your zoo of trained models (zoo:NAME as a "
        "model for predict, evaluate and export).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="zoo_command", metavar="SUBCOMMAND", required=True)

    listing = commands.add_parser(
        "list",
        parents=parents,
        help="list the shipped entries or your trained models",
        description="List the shipped entries (name, task, dataset, headline metric and the "
        "value measured with netcfg; '-' when not measured here), or with --trained the "
        "models of your zoo.",
    )
    listing.add_argument("--trained", action="store_true", help="list your trained models")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=run_list)

    show = commands.add_parser(
        "show",
        parents=parents,
        help="print an entry's model card and config",
        description="Print the model card of a shipped entry, then its config file.",
    )
    show.add_argument("name", help="a shipped entry (NAME or zoo:NAME)")
    show.set_defaults(run=run_show)

    add = commands.add_parser(
        "add",
        parents=parents,
        help="keep a finished run as zoo:NAME",
        description="Copy a finished run directory into your zoo of trained models "
        "($NETCFG_ZOO, else zoo/ in netcfg's user data folder, e.g. ~/.local/share/netcfg/zoo "
        "on Linux) as NAME; "
        "then predict, evaluate and export accept zoo:NAME.",
    )
    add.add_argument("run_dir", help="the run directory (the --out folder of netcfg train)")
    add.add_argument("name", help="letters, digits, '-', '_' and '.'")
    add.add_argument("--replace", action="store_true", help="replace a model of that name")
    add.add_argument("--move", action="store_true", help="remove the run directory afterwards")
    add.set_defaults(run=run_add)

    remove = commands.add_parser(
        "remove",
        parents=parents,
        help="delete zoo:NAME from your trained models",
        description="Delete a trained model from your zoo (shipped entries are not affected).",
    )
    remove.add_argument("name", help="a model of your zoo (NAME or zoo:NAME)")
    remove.set_defaults(run=run_remove)
