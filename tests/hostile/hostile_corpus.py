"""The hostile-input corpus: what a case is, and helpers that damage files in a case's folder.

A case runs ``netcfg ARGV`` in a fresh folder (the current directory) after copying the
world's runs or datasets into it and writing or damaging files, and states the exit status
and a fragment of what is printed. ``{User}``, ``{Item}``, ``{dataset}``, ``{split}`` and
``{train}`` in ``argv`` are the world's paths (see ``conftest.py``).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import load_file, save_file

# commands and files several case lists share
IMPORT = "data import r.tsv -o out"
RATINGS = {"r.tsv": "1\t10\t4\n2\t10\t3\n2\t11\t5\n"}
SYNTH = "data synth --users 20 --items 10 --density 0.1"
SPLIT = "data split {train} --protocol random -o out"

CONFIG = json.dumps(
    {
        "ErrorFunction": "MaskedMSE",
        "Layers": [
            {"Name": "In", "Kind": "Input", "N": "auto", "DataSet": "ratings", "Sparse": True},
            {"Name": "H", "N": 4},
            {"Name": "Out", "Kind": "Output", "N": "auto", "DataSet": "ratings"},
        ],
        "Data": {"ratings": {"Path": "/etc/passwd"}},
        "Training": {"Epochs": 1, "Threads": 1},
    }
)


ARRAYS = ("indptr.bin", "indices.bin", "values.bin", "times.bin")

Edit = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    """One hostile input.

    Attributes:
        id: the test id.
        argv: the command line (after ``netcfg``); placeholders are the world's paths.
        code: the expected exit status.
        message: a fragment of standard error (or output) the case must print.
        files: files to write first, relative to the case's folder (text or bytes).
        copy: folders to copy in first: name in the case's folder -> world key.
        edits: changes applied after copying and writing (see the helpers below).
        patch: monkeypatching to apply (a fault of the machine, a missing package).
        absent: fragments that must not be printed (e.g. a secret file's content).
    """

    id: str
    argv: tuple[str, ...]
    code: int
    message: str
    files: dict[str, str | bytes] = field(default_factory=dict)
    copy: dict[str, str] = field(default_factory=dict)
    edits: tuple[Edit, ...] = ()
    patch: Callable[[pytest.MonkeyPatch], None] | None = None
    absent: tuple[str, ...] = ()


def case(id: str, argv: str | list[str], code: int, message: str, **options) -> Case:
    """A `Case`; ``argv`` may be one string split at spaces."""
    words = argv.split() if isinstance(argv, str) else argv
    if "edits" in options and callable(options["edits"]):
        options["edits"] = (options["edits"],)
    return Case(id, tuple(words), code, message, **options)


def edit_json(file: str, change: Callable[[dict], object]) -> Edit:
    """Change a JSON file in place (``change`` edits the object; what it returns is unused)."""

    def apply(root: Path) -> None:
        path = root / file
        data = json.loads(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(json.dumps(data), encoding="utf-8")

    return apply


def set_key(data: dict, dotted: str, value) -> None:
    """``data[a][b] = value`` for ``dotted`` = ``a.b``."""
    *parents, last = dotted.split(".")
    for key in parents:
        data = data[key]
    data[last] = value


def meta(folder: str, **changes) -> Edit:
    """Set keys of a dataset's ``meta.json`` (``arrays__indices__file="x"`` is a nested key)."""

    def change(data: dict) -> None:
        for key, value in changes.items():
            set_key(data, key.replace("__", "."), value)

    return edit_json(f"{folder}/meta.json", change)


def rechecksum(folder: str) -> Edit:
    """Recompute a dataset's checksum as saving does: a crafted dataset that passes it."""

    def apply(root: Path) -> None:
        base = root / folder
        data = json.loads((base / "meta.json").read_text())
        digest = hashlib.sha256()
        for name in [*ARRAYS, "rows.txt", "columns.txt"]:
            if (base / name).is_file():
                digest.update((base / name).read_bytes())
        data["checksum"] = "sha256:" + digest.hexdigest()
        (base / "meta.json").write_text(json.dumps(data))

    return apply


def array(folder: str, name: str, dtype: str, change: Callable[[np.ndarray], None]) -> Edit:
    """Change a dataset array in place (same length), then fix the checksum."""

    def apply(root: Path) -> None:
        path = root / folder / f"{name}.bin"
        values = np.fromfile(path, dtype=dtype)
        change(values)
        values.tofile(path)
        rechecksum(folder)(root)

    return apply


def weights(run: str, change: Callable[[dict], None]) -> Edit:
    """Change the best weights of a run (a dict of tensors) and save them back."""

    def apply(root: Path) -> None:
        path = root / run / "best" / "weights.safetensors"
        state = load_file(str(path))
        change(state)
        save_file(state, str(path))

    return apply


def truncate(file: str, size: int) -> Edit:
    """Keep the first ``size`` bytes of a file."""

    def apply(root: Path) -> None:
        path = root / file
        path.write_bytes(path.read_bytes()[:size])

    return apply


def remove(file: str) -> Edit:
    """Delete a file."""
    return lambda root: (root / file).unlink()


def append(file: str, text: str) -> Edit:
    """Add text at the end of a file."""

    def apply(root: Path) -> None:
        with (root / file).open("a", encoding="utf-8") as out:
            out.write(text)

    return apply


def fail_with(target: str, error: BaseException) -> Callable[[pytest.MonkeyPatch], None]:
    """Make the function ``target`` (``module.name``) raise ``error``."""

    def patch(monkeypatch: pytest.MonkeyPatch) -> None:
        def broken(*args, **kwargs):
            raise error

        monkeypatch.setattr(target, broken, raising=False)

    return patch


def disk_fault(target: str, code: int, path: str) -> Callable[[pytest.MonkeyPatch], None]:
    """Make ``target`` fail as the machine would (a full disk, a permission denied)."""
    import os

    return fail_with(target, OSError(code, os.strerror(code), path))


FULL = errno.ENOSPC
DENIED = errno.EACCES
READ_ONLY = errno.EROFS
QUOTA = errno.EDQUOT


CASE_SECONDS = 60
"""The most one hostile case (or one generated example) may take: past it, it hangs."""


@contextlib.contextmanager
def bounded(seconds: float = CASE_SECONDS):
    """Fail the running test when the block takes longer than ``seconds`` (a hang).

    SIGALRM interrupts the main thread wherever it is; `pytest.fail` raises an exception
    that netcfg's own ``except Exception`` handlers do not catch.
    """

    def expire(signum, frame):
        pytest.fail(f"hang: still running after {seconds} s", pytrace=False)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
