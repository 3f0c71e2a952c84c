"""What holds a run directory while a run uses it: an exclusive lock, and SIGTERM taken as
an interrupt.

The lock is an ``flock`` on ``ROOT/.lock`` (`exclusive`, also used for the user zoo's name
reservations). The kernel releases it when its process dies, so a crashed or killed run
never leaves a stale lock behind; the file records the pid and host of its holder for the
message another process gets, and the holder removes it when it lets go (a process that
opened the file as it was removed sees that it locked a file that is no longer there, and
opens it again).
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from netcfg.errors import (
    ConfigError,
    Issue,
    NetcfgError,
    UsageError,
    environment_fault,
    unusable_folder,
)

__all__ = ["LOCK_FILE", "Terminated", "exclusive", "hold_run_dir", "sigterm_interrupts"]

LOCK_FILE = ".lock"


@contextmanager
def hold_run_dir(root: Path, *, create: bool = True) -> Iterator[None]:
    """Use the run directory ``root`` exclusively for the block (creating it first when
    ``create``); another process that tries gets a `ConfigError` at once.

    A process that does not get the lock neither writes nor removes anything in ``root``
    (it may create ``root`` and an empty lock file, as the winner would).

    Raises:
        ConfigError: another process holds ``root``.
        UsageError: ``root`` cannot be a folder (a file is in the way, a name too long).
        NetcfgError: ``root`` cannot be created or the lock file opened (permissions, disk).
    """

    def busy(holder: str) -> ConfigError:
        message = (
            f"{root} is in use by another netcfg process{holder}: choose another --out, "
            "or wait for it to finish"
        )
        return ConfigError([Issue((), message)])

    root = Path(root)
    if create:
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            if environment_fault(err) is not None:
                message = f"{root}: cannot create the run directory: {err.strerror}"
                raise NetcfgError(message) from err
            problem = f"cannot create the run directory: {unusable_folder(err)}"
            raise UsageError(f"--out {root}: {problem}") from None
    with exclusive(root / LOCK_FILE, busy, "lock the run directory"):
        yield


@contextmanager
def exclusive(path: Path, busy: Callable[[str], NetcfgError], purpose: str) -> Iterator[None]:
    """Hold an ``flock`` on the file ``path`` (created if need be, removed at the end) for
    the block, the pid and host of this process written in it.

    Args:
        path: the lock file; its folder must exist.
        busy: the error to raise when another process holds it, given `` (pid N on HOST)``
            (empty when the holder has not written it yet).
        purpose: what the lock is for, in the error when it cannot be taken at all.

    Raises:
        NetcfgError: ``busy``'s, or the file cannot be opened or written.
    """
    handle = None
    try:
        while handle is None:
            handle = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise busy(_holder(handle)) from None
            if not _same_file(handle, path):
                os.close(handle)  # its holder removed it as we opened it: open the new one
                handle = None
        os.ftruncate(handle, 0)
        os.write(handle, f"{os.getpid()} {socket.gethostname()}\n".encode())
    except BaseException as err:
        if handle is not None:
            os.close(handle)
        if isinstance(err, OSError):
            raise NetcfgError(f"{path}: cannot {purpose}: {err.strerror or err}") from err
        raise
    try:
        yield
    finally:
        _release(path, handle)


def _holder(handle: int, patience: float = 1.0) -> str:
    """`` (pid N on HOST)`` from the lock file, or nothing when the holder has not written
    it within ``patience`` seconds (it writes right after taking the lock)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            pid, host = os.pread(handle, 300, 0).decode().split()
            return f" (pid {pid} on {host})"
        except (OSError, UnicodeDecodeError, ValueError):
            if time.monotonic() >= deadline:
                return ""
            time.sleep(0.01)


def _same_file(handle: int, path: Path) -> bool:
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(handle)
    return (found.st_dev, found.st_ino) == (held.st_dev, held.st_ino)


def _release(path: Path, handle: int) -> None:
    try:
        if _same_file(handle, path):
            os.unlink(path)  # still holding it: no other process can be using this file
    except OSError:
        pass  # the run directory was removed or made read-only meanwhile: nothing to tidy
    finally:
        os.close(handle)


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM during a run (handled as an interrupt)."""


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM raises `Terminated` (a KeyboardInterrupt), so that a run
    stopped by ``kill`` or a scheduler records its status and lets go of its directory;
    the previous handler is restored after. Outside the main thread it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        raise Terminated(f"terminated by signal {signum}")

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
