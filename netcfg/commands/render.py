"""``netcfg render``: print the fully resolved config (of a network, or of an ensemble and
each of its members)."""

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
  netcfg render zoo:ensemble-ml100k --set Training.Epochs=2

an ensemble (Kind: Ensemble) prints {"Ensemble": ..., "Members": {NAME: ...}}: the ensemble
with its defaults filled and member paths absolute, then each member's resolved config
(its own Set and the shared --set applied), which loads again on its own.
"""


def run(args: argparse.Namespace) -> int:
    """Print the resolved config as JSON (for an ensemble: it, then each member's)."""
    from netcfg.ensembles.load import ensemble_tree, load_ensemble

    found = ensemble_tree(args.config)
    if found is None:
        rendered = render_config(load_config(args.config, args.overrides))
    else:
        ensemble = load_ensemble(*found, args.overrides)
        rendered = {
            "Ensemble": ensemble.spec.model_dump(mode="json"),
            "Members": {m.name: render_config(m.spec) for m in ensemble.members},
        }
    print(json.dumps(rendered, indent=2))
    return 0


def add_parser(subparsers, parents) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "render",
        parents=parents,
        help="print the resolved config as JSON",
        description="Print the config with every default filled, Extends and --set applied "
        "and DSSTNE's canonical spellings, as JSON. Loading it again gives the same spec. "
        'For an ensemble, print {"Ensemble": the ensemble spec, "Members": {NAME: the '
        "member's resolved config}}; --set applies as for training (to the ensemble when "
        "its first key is the ensemble's own, else to every member).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_arguments(parser)
    parser.set_defaults(run=run)
