"""``netcfg evaluate``: the trainer's metrics for a trained model, on any split."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_parser"]

EPILOG = """examples:
  netcfg evaluate runs/u1                      # the test part of the data it was trained on
  netcfg evaluate runs/u1 --data data/u2-split --part all --json
  netcfg evaluate runs/implicit --metrics NDCG@20,Recall@20
"""


def run(args: argparse.Namespace) -> int:
    """Evaluate and print a table (or, with ``--json``, one JSON object alone on stdout)."""
    from netcfg.commands.output import stdout_to_stderr

    with stdout_to_stderr(args.json):
        results = _results(args)
    _print(results, args.json)
    return 0


def _results(args: argparse.Namespace) -> dict:
    """The metrics of each part asked for (a warning on stderr for dropped interactions)."""
    from netcfg.ensembles.rundir import is_ensemble_run
    from netcfg.inference.evaluate import evaluate_model
    from netcfg.inference.models import open_model, resolve_model

    parts = ("validation", "test") if args.part == "all" else (args.part,)
    folder = resolve_model(args.model)
    if is_ensemble_run(folder):
        return _ensemble(folder, args, parts)
    model = open_model(args.model)
    data = None
    if args.data:
        names = list(dict.fromkeys([*model.spec.input_datasets(), *model.spec.target_datasets()]))
        data = {}
        for text in args.data:
            name, sep, path = text.partition("=")
            data.update({name: path} if sep and name in names else dict.fromkeys(names, text))
    metrics = args.metrics.split(",") if args.metrics else None
    results, dropped = evaluate_model(model, data, parts=parts, metrics=metrics)
    if dropped:
        print(
            f"netcfg: warning: ignored {dropped:,} interactions unknown to the model",
            file=sys.stderr,
        )
    return results


def _ensemble(folder, args: argparse.Namespace, parts: tuple[str, ...]) -> dict:
    """An ensemble's metrics on the parts of its own data that exist."""
    from netcfg.ensembles.rundir import evaluate_ensemble
    from netcfg.errors import ModelError

    if args.data or args.metrics:
        raise ModelError(
            "an ensemble is evaluated on its own data with its own metrics (RMSE, MAE): "
            "--data and --metrics apply to single models (evaluate a member instead)"
        )
    found = evaluate_ensemble(folder, parts)
    return {part: found[part] for part in parts if part in found}


def _print(results: dict, as_json: bool) -> None:
    if as_json:
        from netcfg.commands.output import print_json

        print_json(results)
        return
    from netcfg.tables import print_table

    names = list(dict.fromkeys(k for values in results.values() for k in values))
    nan = float("nan")
    rows = [[part, *(f"{v.get(n, nan):.4f}" for n in names)] for part, v in results.items()]
    print_table(["part", *names], rows, right=range(1, len(names) + 1))


def add_parser(subparsers, parents) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "evaluate",
        parents=parents,
        help="metrics of a trained model on a split",
        description="Evaluate a trained model with the trainer's metrics (RMSE/MAE, or "
        "top-K ranking metrics) on the validation or test part of any split, mapped through "
        "the model's ids.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", help="a run directory or zoo:NAME")
    parser.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="[NAME=]PATH",
        help="a split directory (or other data) per DataSet; default: the model's own data",
    )
    parser.add_argument(
        "--part",
        choices=("validation", "test", "all"),
        default="test",
        help="the held-out part to score (default: test)",
    )
    parser.add_argument("--metrics", help="comma-separated metric names (default: the run's)")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object {part: {metric: value}} on stdout (messages go to stderr)",
    )
    parser.set_defaults(run=run)
