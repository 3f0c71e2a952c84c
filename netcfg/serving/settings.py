"""What ``netcfg serve`` was asked for: the models, the address, batching and limits.

`ServeSettings` travels to every worker process as JSON in an environment variable
(`ENV_VARIABLE`); the token itself never does: workers read it from the token file.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from netcfg.errors import UsageError

__all__ = [
    "DEFAULT_MODEL",
    "ENV_VARIABLE",
    "MAX_K",
    "ServeSettings",
    "parse_model_option",
    "read_token",
]

ENV_VARIABLE = "NETCFG_SERVE_SETTINGS"
"""The environment variable that hands the settings to worker processes."""

DEFAULT_MODEL = "default"
"""The name of the model given as ``netcfg serve MODEL``."""

MAX_K = 1000
"""The longest list a request may ask for (``k``)."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class ServeSettings:
    """Everything a worker needs to build the application.

    Attributes:
        models: (name, model reference) pairs, the first being the default model; a
            reference is a run directory or ``zoo:NAME``.
        host: the address to listen on.
        port: the TCP port.
        workers: server processes, each loading every model once.
        max_batch: the most /recommend requests ranked in one forward pass (1: no
            batching).
        batch_window_ms: how long the first request of a batch waits for others.
        max_body_bytes: the largest request body accepted.
        token_file: a file holding the bearer token every request must carry, or None.
        access_log: log every request (uvicorn's access log).
        drain_seconds: how long SIGTERM waits for requests in flight.
    """

    models: tuple[tuple[str, str], ...]
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    max_batch: int = 64
    batch_window_ms: float = 2.0
    max_body_bytes: int = 1 << 20
    token_file: str | None = None
    access_log: bool = False
    drain_seconds: float = 30.0

    def to_json(self) -> str:
        """The settings as JSON (for `ENV_VARIABLE`)."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServeSettings:
        """Settings written by `to_json`."""
        data = json.loads(text)
        data["models"] = tuple((name, ref) for name, ref in data["models"])
        return cls(**data)

    @classmethod
    def from_environment(cls) -> ServeSettings:
        """The settings the parent process left in `ENV_VARIABLE`.

        Raises:
            UsageError: the variable is not set (a worker started by hand).
        """
        text = os.environ.get(ENV_VARIABLE)
        if not text:
            raise UsageError(f"{ENV_VARIABLE} is not set: start the server with netcfg serve")
        return cls.from_json(text)


def parse_model_option(text: str) -> tuple[str, str]:
    """``NAME=MODEL`` of ``--model`` as (name, reference).

    Raises:
        UsageError: no ``=``, or a name that is not letters, digits, ``-``, ``_`` and ``.``
            (at most 64, starting with a letter or digit).
    """
    name, sep, reference = text.partition("=")
    if not sep or not reference:
        raise UsageError(f"--model {text}: give NAME=MODEL (a run directory or zoo:NAME)")
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"--model {text}: the name '{name}' must be letters, digits, '-', '_' and '.' "
            "(at most 64, starting with a letter or digit)"
        )
    return name, reference


def read_token(path: str | Path) -> str:
    """The bearer token in ``path`` (surrounding whitespace removed).

    Raises:
        UsageError: the file cannot be read, is empty, or the token holds whitespace or
            characters outside printable ASCII (a header could not carry it).
    """
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise UsageError(f"--token-file {path}: cannot read the token: {reason}") from None
    if not token:
        raise UsageError(f"--token-file {path}: the file is empty; write the token in it")
    if not all(33 <= ord(c) < 127 for c in token):
        raise UsageError(
            f"--token-file {path}: the token must be printable ASCII without spaces "
            "(an Authorization header carries it)"
        )
    return token
