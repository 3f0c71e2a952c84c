"""``netcfg serve``: recommendations over HTTP from trained models (`netcfg.serving`)."""

from __future__ import annotations

import argparse

from netcfg.commands.common import positive_int

__all__ = ["add_parser"]

EPILOG = """examples:
  netcfg serve runs/u1
  netcfg serve zoo:qs --port 9000 --workers 2 --token-file token.txt
  netcfg serve runs/u1 --model implicit=runs/implicit --max-batch 128

  curl -s localhost:8080/recommend -H 'Content-Type: application/json' \\
      -d '{"user": "196", "k": 10, "exclude_seen": true}'

endpoints: POST /recommend (one request or a list), POST /score, GET /health, /ready,
/models, /metrics (Prometheus), /docs and /openapi.json. A request names its model with
"model": NAME; the MODEL argument is served as 'default'. SIGTERM finishes the requests
in flight, then exits with status 0.

The server needs the serve extra: pip install 'netcfg[serve]'
"""

EXTRA_MESSAGE = (
    "netcfg serve needs FastAPI and uvicorn, an optional extra: pip install 'netcfg[serve]'"
)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535 (got {text})")
    return value


def _milliseconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1000 milliseconds (got {text})")
    return value


def run(args: argparse.Namespace) -> int:
    """Check the extra and the options, load the models, serve until SIGTERM."""
    from netcfg.errors import UsageError
    from netcfg.serving.settings import DEFAULT_MODEL, ServeSettings, parse_model_option

    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise UsageError(EXTRA_MESSAGE) from None
    models = [(DEFAULT_MODEL, args.model)] if args.model else []
    for text in args.models:
        name, reference = parse_model_option(text)
        if any(name == known for known, _ in models):
            raise UsageError(f"--model {text}: the name '{name}' is given twice")
        models.append((name, reference))
    if not models:
        args.usage_error("give the MODEL to serve (a run directory or zoo:NAME), or --model")
    settings = ServeSettings(
        models=tuple(models),
        host=args.host,
        port=args.port,
        workers=args.workers,
        max_batch=args.max_batch,
        batch_window_ms=args.batch_window_ms,
        max_body_bytes=args.max_body_bytes,
        token_file=args.token_file,
        access_log=args.access_log,
    )
    from netcfg.serving.server import serve

    return serve(settings)


def add_parser(subparsers, parents) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "serve",
        parents=parents,
        help="serve recommendations over HTTP from trained models",
        description="Serve top-K recommendations and pair scores over HTTP (FastAPI and "
        "uvicorn), with the code netcfg predict runs: known users from the data the model "
        "was trained on, new users folded in from the interactions a request gives. "
        "Concurrent requests are ranked together in micro-batches.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "model",
        nargs="?",
        help="the default model: a run directory (netcfg train --out) or zoo:NAME",
    )
    parser.add_argument(
        "--model",
        dest="models",
        action="append",
        default=[],
        metavar="NAME=MODEL",
        help="serve another model under NAME (repeatable); requests choose it by name",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8080, help="TCP port (8080)")
    parser.add_argument(
        "--workers", type=positive_int, default=1, help="server processes, each loading the models"
    )
    parser.add_argument(
        "--max-batch",
        type=positive_int,
        default=64,
        help="most /recommend requests ranked in one forward pass (64; 1: no batching)",
    )
    parser.add_argument(
        "--batch-window-ms",
        type=_milliseconds,
        default=2.0,
        help="how long a batch waits for more requests (2 ms)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=positive_int,
        default=1 << 20,
        help="largest request body accepted (1 MiB; larger: 413)",
    )
    parser.add_argument(
        "--token-file",
        metavar="FILE",
        help="every request must carry 'Authorization: Bearer TOKEN', TOKEN being this "
        "file's content (else 401)",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.set_defaults(run=run, usage_error=parser.error)
