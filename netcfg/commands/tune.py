"""``netcfg tune``: search a config's ``Search`` space with Optuna, on the validation part."""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path

from netcfg.commands.common import (
    add_config_arguments,
    add_data_argument,
    add_space_argument,
)

__all__ = ["add_parser"]

EPILOG = """a search space (in the config, or in a file given with --space):
  Search:
    Layers.Hidden.N: {Type: Int, Low: 100, High: 1000, Step: 50}
    Training.Optimizer.LearningRate: {Type: Float, Low: 1.0e-4, High: 1.0e-2, Log: true}
    Layers.Hidden.pDropout: {Type: Float, Low: 0.0, High: 0.8, Step: 0.1}
    Training.BatchSize: [64, 128, 256]            # a list: one of these values

examples:
  netcfg tune zoo:deeprec-ml100k --trials 40 --out studies/deeprec
  netcfg tune zoo:deeprec-ml100k --data my-ratings.csv --trials 40 --save-as my-deeprec
  netcfg tune model.yaml --space space.yaml --trials 100 --timeout 3600 --jobs 2
  netcfg tune zoo:ensemble-ml100k --trials 200        # member weights, members trained once
  netcfg train studies/deeprec/best.json              # the best trial's config
  netcfg tune model.yaml --trials 20 --json > study.json   # the outcome as JSON
  tensorboard --logdir studies/deeprec/trials         # compare trials (HPARAMS tab)

Run the same command again to continue a study that was stopped or killed: finished
trials are kept, an interrupted one is retried, and --trials counts them all.

exit status: 0 done, 2 bad config, search space or data, 1 another error
"""


def run(args: argparse.Namespace) -> int:
    """Run or continue the study, then print the best trials and where they are (with
    ``--json``, one JSON object alone on stdout: the study's ``summary.json`` and paths)."""
    from netcfg.commands.output import print_json, stdout_to_stderr
    from netcfg.errors import NetcfgError
    from netcfg.inference.user_zoo import reserve_model_name

    try:
        import optuna  # noqa: F401
    except ImportError as err:
        raise NetcfgError(
            "netcfg tune needs Optuna, an optional extra: pip install 'netcfg[tune]'"
        ) from err
    from netcfg.experiments.study import tune

    saving = args.save_as is not None  # the name is kept for this process from the start
    with (
        reserve_model_name(args.save_as) if saving else contextlib.nullcontext(),
        stdout_to_stderr(args.json),
    ):
        study = tune(
            args.config,
            args.overrides,
            data=args.data,
            space=args.space,
            trials=args.trials,
            timeout=args.timeout,
            study=args.study,
            storage=args.storage,
            out=args.out,
            jobs=args.jobs,
            sampler=args.sampler,
            pruning=not args.no_pruning,
            seed=args.seed,
            save_as=args.save_as,
            progress=not args.quiet,
        )
    if args.json:
        print_json(_outcome(study.study_name, args))
    return 0


def _outcome(name: str, args: argparse.Namespace) -> dict:
    """What ``--json`` prints: the study's ``summary.json`` (best trial, its parameters,
    validation and test metrics, trial counts) with the study directory and ``best.json``."""
    from netcfg.experiments.study_plan import default_study_dir

    folder = (Path(args.out) if args.out else default_study_dir(name)).resolve()
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    found = {"out": str(folder), "best_config": str(folder / "best.json"), **summary}
    if args.save_as is not None:
        found["registered"] = f"zoo:{args.save_as}"
    return found


def add_parser(subparsers, parents) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "tune",
        parents=parents,
        help="search hyper-parameters (Optuna)",
        description="Search the hyper-parameters a config's Search section (or --space) "
        "names, with an Optuna study (seeded TPE, median pruning on the per-epoch "
        "validation metric) stored in a database (SQLite DIR/study.db by default). Every "
        "trial is an ordinary run directory (DIR/trials/NNNN) trained with netcfg's "
        "validation: the study maximizes or minimizes the monitored validation metric and "
        "never looks at the test part, which is scored once, for the best trial, at the "
        "end. DIR/best.json is the best trial's complete config. An ensemble's study "
        "trains its members once and tunes their weights on their validation predictions.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_arguments(parser)
    add_data_argument(parser, ", for every trial")
    add_space_argument(parser)
    parser.add_argument(
        "--trials",
        type=int,
        default=20,
        help="finished trials the study should hold, counting earlier runs (default 20)",
    )
    parser.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="start no trial after this long"
    )
    parser.add_argument("--study", metavar="NAME", help="the study's name (default: Name)")
    parser.add_argument(
        "--storage", metavar="URL", help="an Optuna storage URL (default sqlite:///DIR/study.db)"
    )
    parser.add_argument("--out", metavar="DIR", help="study directory (default studies/NAME)")
    parser.add_argument(
        "--jobs", type=int, default=1, help="trials trained at once, in worker processes"
    )
    parser.add_argument(
        "--sampler", choices=["tpe", "random"], default="tpe", help="Optuna sampler (tpe)"
    )
    parser.add_argument("--no-pruning", action="store_true", help="let every trial run to its end")
    parser.add_argument("--seed", type=int, default=0, help="the sampler's seed (default 0)")
    parser.add_argument(
        "--save-as", metavar="NAME", help="register the best trial in your zoo as zoo:NAME"
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no line per trial: print the best trials and the outcome only",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the outcome as one JSON object on stdout (out, best_config, best_trial, "
        "params, validation, test, trials...); everything else goes to stderr",
    )
    parser.set_defaults(run=run)
