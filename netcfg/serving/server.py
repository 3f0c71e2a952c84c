"""Run the application under uvicorn: one process, or several workers.

With one worker the models are loaded in this process, before the port opens, and
`serve` runs uvicorn's server on the application. With ``workers > 1`` the models are
loaded here once to check them, then uvicorn starts the workers, and each builds its
application with `app_from_environment` from the settings in `settings.ENV_VARIABLE`
(each loads every model once). SIGTERM (or Ctrl-C) stops accepting connections, lets
the requests in flight finish (``drain_seconds`` at most), then exits: status 0 after
SIGTERM, 130 after Ctrl-C.
"""

from __future__ import annotations

import gc
import os
import signal
import socket
import sys

from netcfg.errors import UsageError
from netcfg.serving.settings import ENV_VARIABLE, ServeSettings, read_token

__all__ = ["app_from_environment", "check_address", "load_models", "serve", "worker_threads"]

FACTORY = "netcfg.serving.server:app_from_environment"


def load_models(settings: ServeSettings) -> list:
    """Every model of ``settings``, loaded (`served.load_served_model`).

    Raises:
        ModelError, DataError, ConfigError: a model that cannot be served (named).
    """
    from netcfg.serving.served import load_served_model

    return [load_served_model(name, reference) for name, reference in settings.models]


def worker_threads(settings: ServeSettings) -> tuple[int, str]:
    """Set torch's threads for one worker: ``NETCFG_THREADS``, else the usable CPUs
    shared among the workers; returns the count and where it came from."""
    from netcfg.trainers.threads import configure_threads, usable_cpus

    return configure_threads(max(1, usable_cpus() // settings.workers))


def check_address(host: str, port: int) -> None:
    """Check that the server can listen on ``host:port`` before loading anything.

    Raises:
        UsageError: the address is taken, or not one of this machine's.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        raise UsageError(
            f"--host {host}: not an address of this machine ({err.strerror})"
        ) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as err:
            raise UsageError(
                f"--host {host} --port {port}: cannot listen there: {err.strerror}"
            ) from None


def app_from_environment():
    """The application of one worker process (uvicorn's factory for ``workers > 1``)."""
    from netcfg.serving.app import create_app

    settings = ServeSettings.from_environment()
    worker_threads(settings)
    token = read_token(settings.token_file) if settings.token_file else None
    app = create_app(load_models(settings), settings, token)
    gc.freeze()  # what is loaded stays: keep the cyclic collector off it
    return app


def serve(settings: ServeSettings) -> int:
    """Serve until SIGTERM or Ctrl-C; returns the exit status.

    Raises:
        UsageError: a token file that cannot be read, an address that cannot be used.
        ModelError, DataError, ConfigError: a model that cannot be served.
    """
    token = read_token(settings.token_file) if settings.token_file else None
    check_address(settings.host, settings.port)
    threads, origin = worker_threads(settings)
    models = load_models(settings)
    _announce(settings, models, threads, origin, token is not None)
    if settings.workers > 1:
        del models
        gc.collect()
        return _serve_workers(settings)
    from netcfg.serving.app import create_app

    app = create_app(models, settings, token)
    gc.freeze()  # what is loaded stays: keep the cyclic collector off it
    return _serve_one(app, settings)


def _uvicorn_options(settings: ServeSettings) -> dict:
    return {
        "host": settings.host,
        "port": settings.port,
        "access_log": settings.access_log,
        "timeout_graceful_shutdown": settings.drain_seconds,
        "log_level": "info",
        "lifespan": "on",
    }


def _serve_one(app, settings: ServeSettings) -> int:
    import uvicorn

    state = app.state.netcfg

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame):  # /ready answers 503 while draining
            state.draining = True
            super().handle_exit(sig, frame)

    server = Server(uvicorn.Config(app, **_uvicorn_options(settings)))
    # uvicorn raises SIGTERM again once it has drained; it ends this process cleanly here
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        server.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0 if server.started else 1


def _serve_workers(settings: ServeSettings) -> int:
    import uvicorn

    os.environ[ENV_VARIABLE] = settings.to_json()
    uvicorn.run(FACTORY, factory=True, workers=settings.workers, **_uvicorn_options(settings))
    return 0


def _announce(settings: ServeSettings, models: list, threads: int, origin: str, token: bool):
    """Say what is served, where, and how, on standard error."""
    for served in models:
        kind = "user-based" if served.orientation == "user" else "item-based"
        users = len(served.rows.matrix.rows)
        print(
            f"netcfg: model '{served.name}' ({served.reference}): {kind}, "
            f"{served.item_count:,} items, {users:,} known users",
            file=sys.stderr,
        )
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    batching = (
        f"batches of up to {settings.max_batch} requests ({settings.batch_window_ms:g} ms window)"
        if settings.max_batch > 1
        else "no batching"
    )
    print(
        f"netcfg: serving on http://{host}:{settings.port} with {settings.workers} "
        f"worker(s), {threads} thread(s) each ({origin}), {batching}"
        + ("; a bearer token is required" if token else ""),
        file=sys.stderr,
    )
