"""The ``netcfg`` command line: thin argparse subcommands over the library.

Errors in user input (configs, options, data, run directories) print one line per problem
and exit with status 2, without a traceback unless ``--debug`` is given; faults of the
machine (disk full, permission denied, out of memory) exit with 1 naming the path and the
cause; only bugs print ``netcfg: internal error``.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from netcfg import __version__
from netcfg.commands import (
    data,
    evaluate,
    export,
    predict,
    render,
    schema,
    serve,
    train,
    tune,
    validate,
    zoo,
)
from netcfg.errors import NetcfgError, environment_fault, path_fault

__all__ = ["build_parser", "main"]

EPILOG = """examples:
  netcfg zoo list
  netcfg train zoo:quickstart --out runs/quickstart --save-as qs
  netcfg predict zoo:qs --top-k 10 --exclude-seen --out recs.tsv
  netcfg serve zoo:qs --port 8080
  netcfg validate model.json --data ratings.tsv
  netcfg data import ratings.csv --format movielens-20m -o data/ml-20m
  netcfg render model.yaml --set Layers.Hidden.N=256
  netcfg schema > netcfg.schema.json

run 'netcfg COMMAND --help' for the options of a command.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="netcfg",
        description="Declarative deep networks for sparse recommender data: DSSTNE's config "
        "language on PyTorch.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    parser.add_argument("--version", action="version", version=f"netcfg {__version__}")
    # every subcommand takes --debug too; SUPPRESS keeps a subparser that did not see it
    # from resetting the one given before the subcommand (netcfg --debug data import ...)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks of errors"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands = (train, tune, predict, serve, evaluate, export, validate, render, schema, data, zoo)
    for command in commands:
        command.add_parser(subparsers, [common])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # to start it again (torchrun)
    try:
        return args.run(args)
    except NetcfgError as err:
        if args.debug:
            traceback.print_exc()
        print(err, file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (OSError, MemoryError) as err:  # a fault of the machine, a refused path, or a bug
        refused = path_fault(err)
        message = environment_fault(err) or refused
        if message is None:
            return _internal_error(err, args.debug)
        if args.debug:
            traceback.print_exc()
        print(message, file=sys.stderr)
        return 2 if refused else 1
    except Exception as err:
        return _internal_error(err, args.debug)


def _internal_error(err: Exception, debug: bool) -> int:
    """A bug: say so briefly; the traceback is one flag away."""
    if debug:
        raise err
    print(f"netcfg: internal error: {err!r} (run with --debug for the traceback)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
