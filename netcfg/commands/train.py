"""``netcfg train``: train the network a config describes."""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from typing import TYPE_CHECKING

from netcfg.commands.common import add_config_arguments, add_data_argument, positive_int

if TYPE_CHECKING:
    from pathlib import Path

    from netcfg.trainers.train import TrainResult

__all__ = ["add_parser"]

EPILOG = """examples:
  netcfg train zoo:quickstart
  netcfg train model.yaml --data ../shared/data/ml-100k/u1.base --out runs/u1
  netcfg train model.json --set Training.Epochs=50 --set Training.Optimizer.LearningRate=0.001
  netcfg train model.json --out runs/u1 --resume          # continue after a crash
  netcfg train zoo:quickstart --save-as qs                # then: netcfg predict zoo:qs
  netcfg train zoo:ensemble-ml100k --set Data.ratings.Fold=u2   # every member on u2
  netcfg train model.json --json > result.json          # the result as JSON, for scripts
  netcfg train model.json --set 'Training.Loggers=[TensorBoard,MLflow]'
  netcfg train model.json --nproc 2                     # data-parallel, 2 processes
  torchrun --nproc-per-node 4 -m netcfg train model.json   # the same, by torchrun
  tensorboard --logdir runs                             # compare runs (HPARAMS tab)

output: a line per epoch on stderr (loss, monitored validation metric, seconds, ETA); a live
bar within epochs on a terminal, else a plain line every NETCFG_PROGRESS_INTERVAL seconds
(default 30); the result on stdout.

exit status: 0 trained, 2 bad config or data, or --out or --save-as in use by another
process; 1 training diverged or another error
"""


def run(args: argparse.Namespace) -> int:
    """Train, then print the final metrics and where the run is saved (with ``--json``, one
    JSON object alone on stdout); with ``--save-as`` reserve the name first (another process
    cannot take it meanwhile), and register the run in the user zoo after training.

    ``--nproc N`` starts this command again in N processes with torchrun; started by
    torchrun, a process other than rank 0 trains beside rank 0 and prints nothing."""
    from netcfg.commands.output import print_json, stdout_to_stderr
    from netcfg.experiments.run import train
    from netcfg.inference.user_zoo import register_model, reserve_model_name

    if args.nproc is not None:
        return _launch(args.nproc, args.argv)
    if os.environ.get("RANK", "0") != "0" and "WORLD_SIZE" in os.environ:
        train(
            args.config,
            args.overrides,
            data=args.data,
            out=args.out,
            resume=args.resume,
            quiet=True,
        )
        return 0
    saving = args.save_as is not None
    registered = None
    with (
        reserve_model_name(args.save_as) if saving else contextlib.nullcontext(),
        stdout_to_stderr(args.json),
    ):
        result = train(
            args.config,
            args.overrides,
            data=args.data,
            out=args.out,
            resume=args.resume,
            progress=not args.no_progress,
            quiet=args.quiet,
        )
        if not args.json:
            _print_result(result)
        if saving:
            registered = register_model(result.run_dir, args.save_as)
            if not args.json:
                print(f"registered zoo:{registered.name} in {registered}")
    if args.json:
        print_json(_result_json(result, registered))
    return 0


def _launch(processes: int, argv: list[str]) -> int:
    """Run ``netcfg`` with ``argv`` (less ``--nproc``) in ``processes`` data-parallel
    processes on this machine, started by torchrun; its exit status."""
    kept, skip = [], False
    for word in argv:
        if skip:
            skip = False
        elif word == "--nproc":
            skip = True
        elif not word.startswith("--nproc="):
            kept.append(word)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc-per-node", str(processes), "-m", "netcfg", *kept]
    return subprocess.run(command, check=False).returncode


def _result_json(result: TrainResult, registered: Path | None) -> dict:
    """What ``--json`` prints: the run directory, its status and final metrics (as in its
    ``run.json``), and the zoo name it was registered as."""
    found = {
        "run_dir": str(result.run_dir.resolve()),
        "status": "stopped" if result.stopped else "completed",
        "epochs": result.epochs,
        "best_epoch": result.best_epoch,
        "monitor": result.monitor,
        "stopped": result.stopped,
        "validation": result.validation,
        "test": result.test,
    }
    if result.members:
        found["members"] = result.members
    if registered is not None:
        found["registered"] = f"zoo:{registered.name}"
    return found


def _print_result(result: TrainResult) -> None:
    if result.members:
        print(f"trained: an ensemble of {len(result.members)} members")
        for name, member in result.members.items():
            scores = "  ".join(f"{k} {v:.4f}" for k, v in member["test"].items())
            print(f"  {name:<20} weight {member['weight']:.3f}  test {scores}")
    else:
        best = (
            f"best epoch {result.best_epoch} of {result.epochs}"
            if result.best_epoch
            else f"{result.epochs} epochs, the last one kept (no validation part)"
        )
        print(f"trained: {best}")
    for part in ("validation", "test"):
        metrics = getattr(result, part)
        if metrics:
            print(f"{part:<11} " + "  ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
    print(f"run saved in {result.run_dir}")


def add_parser(subparsers, parents) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "train",
        parents=parents,
        help="train a network",
        description="Train the network a config describes (optimizer, schedule, re-feeding, "
        "evaluation, early stopping, checkpoints, TensorBoard). Without a validation part in "
        "the data, 10% of each user's training interactions are held out to choose the epoch "
        "and stop early (Training.Validation; None keeps the last epoch); test metrics use the "
        "best epoch's weights and count held-out items unseen in training "
        "(Evaluation.UnseenItems). The run directory holds the "
        "resolved config, weights, id indexes, metrics and events: the model can be reloaded "
        "from it alone. An ensemble config (Kind: Ensemble) trains each member into "
        "members/<name> of the run directory and reports the weighted mean of their ratings; "
        "--set then reaches every member, except on the ensemble's own keys.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_arguments(parser)
    add_data_argument(parser, "")
    parser.add_argument("--out", help="run directory (default runs/<name>-<date-time>)")
    parser.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its last checkpoint"
    )
    parser.add_argument(
        "--save-as",
        metavar="NAME",
        help="after training, keep the model in your zoo of trained models as zoo:NAME (the "
        "name is reserved from the start, so that no other process takes it meanwhile)",
    )
    parser.add_argument(
        "--nproc",
        type=positive_int,
        metavar="N",
        help="train data-parallel in N processes on this machine (started by torchrun; "
        "BatchSize stays the global batch)",
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress within epochs (the line per epoch stays)",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print nothing on stderr but errors (no epoch lines, progress or notes)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the result as one JSON object on stdout (run_dir, status, epochs, "
        "best_epoch, monitor, validation, test...); everything else goes to stderr",
    )
    parser.set_defaults(run=run)
