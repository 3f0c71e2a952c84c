"""Machine-readable output (``--json``): one JSON object on stdout, everything else on
stderr."""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["print_json", "stdout_to_stderr"]


@contextlib.contextmanager
def stdout_to_stderr(active: bool = True) -> Iterator[None]:
    """While active, whatever is printed to stdout goes to stderr: by Python code and, through
    file descriptor 1, by child processes (a study's workers) and native code; stdout is
    kept for the one JSON object printed after."""
    if not active:
        yield
        return
    for stream in (sys.stdout, sys.__stdout__):
        if stream is not None:
            stream.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no descriptor 1 (an embedding host): Python's stdout alone
        saved = None
    if saved is not None:
        os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        for stream in (sys.stderr, sys.__stdout__):
            if stream is not None:
                stream.flush()
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def print_json(value: Any) -> None:
    """Print ``value`` as one JSON document on stdout (NaN and infinities as null)."""
    print(json.dumps(_finite(value), indent=2), flush=True)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
