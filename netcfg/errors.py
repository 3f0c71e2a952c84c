"""Errors that netcfg reports to users: each names where the problem is and what it is.

A `ConfigError` carries every problem found at once, as `Issue`s; the CLI prints one
line per issue, ``FILE:LINE: JSON.path: message``, and exits with code 2.

The policy (ARCHITECTURE.md, "Errors"): bad user input (a config, an option, data, a run
directory, a dataset) is a `ConfigError`, `UsageError`, `DataError` or `ModelError` (exit
status 2) naming the file (and line or key) and what to do; a fault of the machine (disk
full, permission denied, out of memory) exits with 1 naming the path and the cause
(`environment_fault`); ``netcfg: internal error`` is left for bugs.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "CompileError",
    "ConfigError",
    "DataError",
    "ModelError",
    "Issue",
    "Location",
    "NetcfgError",
    "UsageError",
    "environment_fault",
    "path_fault",
    "format_path",
    "unusable_folder",
]


@dataclass(frozen=True)
class Location:
    """Where a value came from: a file position, or a command-line override.

    Attributes:
        source: a file path, or a description such as ``--set Layers.Hidden.N=-1``.
        line: 1-based line number, when known.
        column: 1-based column number, when known.
    """

    source: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.source]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


PathPart = str | int


def format_path(path: Sequence[PathPart]) -> str:
    """Render a path such as ``("Layers", 1, "N")`` as ``Layers[1].N``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True)
class Issue:
    """One problem: where it is and what is wrong.

    Attributes:
        path: the JSON path of the offending value (empty for the whole document).
        message: what is wrong, and how to fix it where that is known.
        location: file and line of the value, when known.
    """

    path: tuple[PathPart, ...]
    message: str
    location: Location | None = None

    def __str__(self) -> str:
        head = [str(self.location)] if self.location else []
        if self.path:
            head.append(format_path(self.path))
        return ": ".join([*head, self.message])


def _reading_order(issue: Issue) -> tuple:
    """File problems by file and line, then command-line ones, each group in found order."""
    loc = issue.location
    if loc is None:
        return (2, "", 0)
    if loc.line is None:
        return (1, "", 0)
    return (0, loc.source, loc.line)


class NetcfgError(Exception):
    """Base class of the errors netcfg reports to users (no traceback in the CLI)."""

    exit_code = 1


class ConfigError(NetcfgError):
    """A configuration is invalid; ``issues`` lists every problem found."""

    exit_code = 2

    def __init__(self, issues: Iterable[Issue]):
        self.issues = sorted(issues, key=_reading_order)
        super().__init__("\n".join(str(issue) for issue in self.issues))


class CompileError(ConfigError):
    """A valid spec cannot be compiled (unknown widths, mismatched shapes, unsupported layer)."""


class ModelError(NetcfgError):
    """A trained model cannot be found or used (no run directory, wrong kind of network)."""

    exit_code = 2


class DataError(NetcfgError):
    """Data cannot be read or used: a malformed line, a missing file, an unknown id."""

    exit_code = 2

    def __init__(self, message: str, location: Location | None = None):
        self.location = location
        super().__init__(f"{location}: {message}" if location else message)


class UsageError(NetcfgError):
    """A command-line option has a value that cannot be used (the message names it)."""

    exit_code = 2


ENVIRONMENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS})
"""Error numbers that are faults of the machine, not of netcfg or of its input."""


def environment_fault(err: BaseException) -> str | None:
    """The one-line message of a fault of the machine (full disk, quota, permission denied,
    read-only file system, out of memory), or None when ``err`` is something else.

    Example:
        >>> environment_fault(OSError(errno.ENOSPC, "No space left on device", "out.tsv"))
        'netcfg: out.tsv: No space left on device'
    """
    if isinstance(err, MemoryError):
        detail = f" ({err})" if str(err) else ""
        return (
            f"netcfg: out of memory{detail}: use smaller sizes or batches, or a machine "
            "with more memory"
        )
    if isinstance(err, OSError) and err.errno in ENVIRONMENT_ERRNOS:
        path = err.filename if err.filename is not None else "(unknown file)"
        return f"netcfg: {path}: {err.strerror or err}"
    return None


def path_fault(err: BaseException) -> str | None:
    """The message of a path the system refuses as given (a name too long): bad input, so
    the CLI exits with 2; None when ``err`` is something else."""
    if isinstance(err, OSError) and err.errno == errno.ENAMETOOLONG:
        path = str(err.filename) if err.filename is not None else "(unknown file)"
        shown = path if len(path) <= 80 else path[:77] + "..."
        return f"netcfg: {shown}: {err.strerror or err}: give a shorter path"
    return None


def unusable_folder(err: OSError) -> str:
    """Why a folder cannot be created where the user asked, ``err`` being what ``mkdir``
    raised and not a fault of the machine (`environment_fault`): a file in the way, a name
    too long. The caller names the option and the path.

    Example:
        >>> unusable_folder(FileExistsError(errno.EEXIST, "File exists", "runs"))
        'a file of that name is in the way; give a new folder name'
    """
    if err.errno == errno.EEXIST:
        return "a file of that name is in the way; give a new folder name"
    if err.errno == errno.ENOTDIR:
        return "a part of the path is a file, not a folder"
    if err.errno == errno.ENAMETOOLONG:
        return f"{err.strerror}: give a shorter path"
    return err.strerror or str(err)
