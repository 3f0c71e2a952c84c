"""Write recommendations as TSV, JSON lines or DSSTNE's ``user<TAB>item,score:...`` lines,
and check output files before any work is done."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from netcfg.errors import UsageError, environment_fault
from netcfg.inference.recommend import Recommendations

__all__ = [
    "FORMATS",
    "check_output_file",
    "output_file",
    "recommendation_record",
    "write_recommendations",
]

FORMATS = ("tsv", "jsonl", "dsstne")


def write_recommendations(recommendations: Recommendations, out: TextIO, fmt: str = "tsv") -> int:
    """Write every user's list; returns the number of lines written.

    - ``tsv``: ``user<TAB>item<TAB>score<TAB>rank`` per recommendation (rank from 1).
    - ``jsonl``: ``{"user": ..., "items": [...], "scores": [...]}`` per user.
    - ``dsstne``: ``user<TAB>item,score:item,score:...:`` per user, as DSSTNE's predict.
    """
    lines = 0
    for user, ranked in recommendations.lists():
        if fmt == "tsv":
            for rank, (item, score) in enumerate(ranked, start=1):
                out.write(f"{user}\t{item}\t{score:.6g}\t{rank}\n")
                lines += 1
            continue
        if fmt == "jsonl":
            out.write(json.dumps(recommendation_record(user, ranked)) + "\n")
        else:
            out.write(
                f"{user}\t" + "".join(f"{item},{score:.6g}:" for item, score in ranked) + "\n"
            )
        lines += 1
    return lines


def recommendation_record(user, ranked: list[tuple[object, float]]) -> dict:
    """One user's list as a JSON object, ``{"user", "items", "scores"}`` (scores rounded
    to 6 decimals): a line of ``predict --output-format jsonl``, and what ``serve``
    answers."""
    return {
        "user": user,
        "items": [item for item, _ in ranked],
        "scores": [round(score, 6) for _, score in ranked],
    }


def check_output_file(path: str | Path, option: str = "--out") -> Path:
    """Check, before any work, that ``path`` names a file that can be written: not a
    folder, in a folder that exists.

    Raises:
        UsageError: ``path`` is a folder, or its folder does not exist.
    """
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{option} {path}: is a folder; give a file name")
    parent = path.parent
    if not parent.is_dir():
        state = "is not a folder" if parent.exists() else "does not exist"
        raise UsageError(f"{option} {path}: the folder {parent} {state}; create it first")
    return path


@contextmanager
def output_file(path: str | Path, option: str = "--out", *, binary: bool = False) -> Iterator:
    """Open ``path`` for writing (text, or bytes when ``binary``); a failure names the file:
    a fault of the machine (disk full, permission denied) stays an `OSError` with the path,
    anything else (a place where no file can be created) is a `UsageError`."""
    path = check_output_file(path, option)
    try:
        handle = open(path, "wb") if binary else open(path, "w", encoding="utf-8")  # noqa: SIM115
    except OSError as err:
        if environment_fault(err) is None:
            raise UsageError(f"{option} {path}: cannot create the file: {err.strerror}") from None
        raise
    try:
        with handle:
            yield handle
    except OSError as err:
        if err.filename is None:
            raise OSError(err.errno, err.strerror or str(err), str(path)) from err
        raise
