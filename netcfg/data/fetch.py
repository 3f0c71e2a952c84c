"""Download public datasets (MovieLens) into a cache and import them as dataset directories.

Layout of the cache (see `cache_dir`)::

    <cache>/movielens-100k/ml-100k.zip        the archive, as published
    <cache>/movielens-100k/dataset/           the imported ratings (a dataset directory)
    <cache>/movielens-100k/ml-100k/u1.base    MovieLens 100K only: its canonical splits

Nothing is downloaded when the dataset directory is already there, nor when the archive
is: an archive saved by hand under the path that the error message names is used as is
(after its checksum is verified), which is how to fetch on a machine without internet.
Downloads go to a temporary file that is renamed into place only once complete and
verified, so a half-written archive never sits under its final name.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from netcfg.data.importer import import_file
from netcfg.data.spec import DataFormat, FetchName
from netcfg.data.store import is_dataset, save_dataset
from netcfg.errors import DataError
from netcfg.spec_base import did_you_mean

__all__ = ["DATASETS", "RemoteDataset", "cache_dir", "fetch"]

_GROUPLENS = "https://files.grouplens.org/datasets/movielens"
_LICENSE = (
    "GroupLens MovieLens terms: research use; do not redistribute without permission; "
    "cite F. M. Harper and J. A. Konstan, The MovieLens Datasets: History and Context, "
    "ACM TiiS 5(4), 2015 (see the README in the archive)"
)
_CHUNK = 1 << 20
_TIMEOUT = 60.0


@dataclass(frozen=True)
class RemoteDataset:
    """A dataset that `fetch` can download.

    Attributes:
        url: where the zip archive is published.
        member: path of the ratings file inside the archive.
        format: the format of that file, for `import_file`.
        md5: checksum of the archive, or None when the publisher updates it (then the
            checksum published at ``<url>.md5`` is used when it can be fetched).
        size: approximate size of the archive in bytes (a hint for users and progress).
        license: the terms of use, in short.
        extras: further members extracted beside the archive when present (the
            canonical splits of MovieLens 100K).
    """

    url: str
    member: str
    format: DataFormat
    md5: str | None
    size: int
    license: str = _LICENSE
    extras: tuple[str, ...] = ()

    @property
    def archive(self) -> str:
        """File name of the archive in the cache (``ml-100k.zip``)."""
        return PurePosixPath(self.url).name


_SPLITS_100K = tuple(
    f"ml-100k/{split}.{part}"
    for split in ("u1", "u2", "u3", "u4", "u5", "ua", "ub")
    for part in ("base", "test")
)

DATASETS: dict[FetchName, RemoteDataset] = {
    FetchName.movielens_100k: RemoteDataset(
        url=f"{_GROUPLENS}/ml-100k.zip",
        member="ml-100k/u.data",
        format=DataFormat.movielens_100k,
        md5="0e33842e24a9c977be4e0107933c0723",
        size=4_924_029,
        extras=_SPLITS_100K,
    ),
    FetchName.movielens_1m: RemoteDataset(
        url=f"{_GROUPLENS}/ml-1m.zip",
        member="ml-1m/ratings.dat",
        format=DataFormat.movielens_dat,
        md5="c4d9eecfca2ab87c1945afe126590906",
        size=5_917_549,
    ),
    FetchName.movielens_20m: RemoteDataset(
        url=f"{_GROUPLENS}/ml-20m.zip",
        member="ml-20m/ratings.csv",
        format=DataFormat.movielens_csv,
        md5="cd245b17a1ae2cc31bb14903e1204af3",
        size=198_702_078,
    ),
    FetchName.movielens_latest_small: RemoteDataset(
        url=f"{_GROUPLENS}/ml-latest-small.zip",
        member="ml-latest-small/ratings.csv",
        format=DataFormat.movielens_csv,
        md5=None,
        size=978_202,
    ),
}


def cache_dir() -> Path:
    """Where fetched datasets are kept.

    ``$NETCFG_DATA`` when set, else ``$XDG_CACHE_HOME/netcfg``, else ``~/.cache/netcfg``
    (empty variables count as unset).
    """
    explicit = os.environ.get("NETCFG_DATA")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "netcfg"
    return Path.home() / ".cache" / "netcfg"


def fetch(
    name: FetchName | str,
    *,
    cache: Path | str | None = None,
    url: str | None = None,
    md5: str | None = None,
    force: bool = False,
    progress: bool = False,
) -> Path:
    """Download a public dataset (once) and import its ratings as a dataset directory.

    Steps, each skipped when its result is already in the cache: download the archive
    to ``<cache>/<name>/<archive>`` and verify its MD5, extract the ratings file (only
    that member, streamed), import it into ``<cache>/<name>/dataset``. For MovieLens 100K
    the canonical splits (``u1.base`` ... ``u5.test``, ``ua``/``ub``) are also extracted to
    ``<cache>/movielens-100k/ml-100k/``.

    MovieLens "latest-small" is updated by GroupLens, so no checksum is pinned: the
    archive is verified against the MD5 published next to it (``<url>.md5``) when that
    can be fetched, and otherwise only by the CRCs inside the zip.

    Args:
        name: which dataset (`FetchName` or its value, e.g. ``"movielens-100k"``).
        cache: the cache folder (default `cache_dir`).
        url: download from here instead (a mirror, or a ``file://`` URL).
        md5: expected MD5 of the archive instead of the known one.
        force: download and import again even when the cache has them.
        progress: print download progress on stderr.

    Returns:
        The dataset directory, e.g. ``~/.cache/netcfg/movielens-100k/dataset``.

    Raises:
        DataError: unknown name; download failed (the message names the URL and the path
            where the archive can be saved by hand); checksum mismatch; corrupt archive
            or missing member; full disk; bad ratings file.

    Example:
        >>> folder = fetch("movielens-100k")
        >>> load_dataset(folder).shape
        (943, 1682)
    """
    key = _resolve(name)
    remote = DATASETS[key]
    folder = Path(cache if cache is not None else cache_dir()).expanduser() / key.value
    dataset = folder / "dataset"
    archive = folder / remote.archive
    if is_dataset(dataset) and not force:
        if archive.is_file():
            try:  # splits deleted since: restore them (best effort, no network)
                with _disk_errors(folder):
                    _extract_extras(archive, remote, folder, only_missing=True)
            except DataError:
                pass
        return dataset

    source = url or remote.url
    expected = md5.lower() if md5 else remote.md5
    with _disk_errors(folder):
        _make_folder(folder)
        if archive.is_file() and not force:
            digest = _file_md5(archive)
            if expected and digest != expected:
                raise DataError(
                    f"{archive}: MD5 is {digest}, expected {expected}; the file is corrupt "
                    f"or another version: delete it (it is downloaded again from {source}) "
                    "or replace it with a good copy, then run the command again"
                )
        else:
            if expected is None:
                expected = _published_md5(source)
            digest = _download(source, archive, expected, progress)
        with _extracted(archive, remote.member, folder) as ratings:
            matrix = import_file(ratings, fmt=remote.format)
        matrix.meta["source"] = {
            **matrix.meta.get("source", {}),
            "path": str(archive),
            "member": remote.member,
            "fetch": key.value,
            "url": source,
            "md5": digest,
        }
        save_dataset(matrix, dataset)
        _extract_extras(archive, remote, folder, only_missing=False)
    return dataset


def _resolve(name: FetchName | str) -> FetchName:
    if isinstance(name, FetchName):
        return name
    text = str(name).strip()
    for key in FetchName:
        if key.value.lower() == text.lower():
            return key
    known = [key.value for key in FetchName]
    raise DataError(
        f"unknown dataset '{text}'{did_you_mean(text, known)} (known: {', '.join(known)})"
    )


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise DataError(
            f"{folder}: exists and is not a folder; move it away or choose "
            "another cache folder (NETCFG_DATA)"
        ) from None


@contextmanager
def _disk_errors(folder: Path) -> Iterator[None]:
    """Turn failures to write into the cache (full disk, no permission) into DataErrors."""
    try:
        yield
    except DataError:
        raise
    except OSError as exc:
        where = exc.filename or folder
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DataError(
                f"the disk is full: could not write {where} ({exc.strerror or exc}); free "
                f"some space, or set NETCFG_DATA to a folder on another disk"
            ) from None
        raise DataError(
            f"{where}: {exc.strerror or exc}; check that the cache folder {folder} can be "
            "written, or set NETCFG_DATA to another folder"
        ) from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}".strip()
    if isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        return getattr(reason, "strerror", None) or str(reason)
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__


def _network_error(url: str, archive: Path, reason: str) -> DataError:
    return DataError(
        f"could not download {url} ({reason}); download it by hand and save it as "
        f"{archive}, then run the command again"
    )


def _open_url(url: str, archive: Path):
    try:
        return urllib.request.urlopen(url, timeout=_TIMEOUT)
    except ValueError as exc:  # not a URL
        raise _network_error(url, archive, str(exc)) from None
    except (OSError, http.client.HTTPException) as exc:
        raise _network_error(url, archive, _reason(exc)) from None


def _published_md5(url: str) -> str | None:
    """The MD5 published at ``<url>.md5``, or None when it cannot be fetched or read."""
    try:
        with urllib.request.urlopen(url + ".md5", timeout=_TIMEOUT) as response:
            text = response.read(4096).decode("ascii", "replace")
    except (OSError, ValueError, http.client.HTTPException):
        return None
    found = re.search(r"\b[0-9a-fA-F]{32}\b", text)
    return found.group(0).lower() if found else None


def _download(url: str, archive: Path, expected: str | None, progress: bool) -> str:
    """Download ``url`` to ``archive`` (via a temporary file); returns its MD5."""
    fd, part_name = tempfile.mkstemp(prefix=f".{archive.name}.", suffix=".part", dir=archive.parent)
    part = Path(part_name)
    try:
        with open(fd, "wb") as out:
            with _open_url(url, archive) as response:
                digest = _copy(response, out, url, archive, progress)
            out.flush()
            os.fsync(out.fileno())
        if expected and digest != expected:
            raise DataError(
                f"checksum mismatch for {url}: expected MD5 {expected}, got {digest}; the "
                f"download was deleted. Run the command again, or download it by hand and "
                f"save it as {archive}"
            )
        os.replace(part, archive)
    finally:
        part.unlink(missing_ok=True)
    return digest


def _copy(response, out: BinaryIO, url: str, archive: Path, progress: bool) -> str:
    md5 = hashlib.md5()
    length = response.headers.get("Content-Length") if response.headers else None
    total = int(length) if length and length.isdigit() else None
    done = 0
    shown = 0.0
    while True:
        try:
            chunk = response.read(_CHUNK)
        except (OSError, http.client.HTTPException) as exc:
            raise _network_error(url, archive, _reason(exc)) from None
        if not chunk:
            break
        out.write(chunk)
        md5.update(chunk)
        done += len(chunk)
        if progress and time.monotonic() - shown > 0.2:
            shown = time.monotonic()
            _show_progress(archive.name, done, total)
    if progress:
        _show_progress(archive.name, done, total)
        print(file=sys.stderr, flush=True)
    if total is not None and done < total:
        raise _network_error(url, archive, f"connection closed after {done} of {total} bytes")
    return md5.hexdigest()


def _show_progress(name: str, done: int, total: int | None) -> None:
    mb = 1024 * 1024
    text = f"downloading {name}: {done / mb:.1f}"
    text += f" / {total / mb:.1f} MiB ({100 * done // total}%)" if total else " MiB"
    print(f"\r{text}", end="", file=sys.stderr, flush=True)


def _file_md5(path: Path) -> str:
    md5 = hashlib.md5()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            md5.update(chunk)
    return md5.hexdigest()


def _bad_archive(archive: Path, why: str) -> DataError:
    return DataError(f"{archive}: {why}; delete it and run the command again to download it afresh")


def _open_zip(archive: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise _bad_archive(archive, f"not a valid zip archive ({exc})") from None


def _extract_to(zf: zipfile.ZipFile, archive: Path, member: str, target: Path) -> None:
    """Stream one member to ``target`` (written to a temporary file, then renamed)."""
    fd, part_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    part = Path(part_name)
    try:
        with open(fd, "wb") as out:
            try:
                with zf.open(member) as source:
                    while True:
                        try:
                            chunk = source.read(_CHUNK)
                        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
                            raise _bad_archive(archive, f"{member} is corrupt ({exc})") from None
                        if not chunk:
                            break
                        out.write(chunk)
            except NotImplementedError as exc:
                raise _bad_archive(archive, f"cannot read {member} ({exc})") from None
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


@contextmanager
def _extracted(archive: Path, member: str, folder: Path) -> Iterator[Path]:
    """The ratings member extracted to a temporary file in ``folder`` (removed after)."""
    with _open_zip(archive) as zf:
        names = zf.namelist()
        if member not in names:
            listing = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
            raise _bad_archive(archive, f"has no member {member} (it has: {listing or 'none'})")
        suffix = PurePosixPath(member).suffix
        fd, name = tempfile.mkstemp(prefix=".ratings.", suffix=suffix, dir=folder)
        os.close(fd)
        target = Path(name)
        try:
            _extract_to(zf, archive, member, target)
            yield target
        finally:
            target.unlink(missing_ok=True)


def _extract_extras(
    archive: Path, remote: RemoteDataset, folder: Path, *, only_missing: bool
) -> None:
    """Extract ``remote.extras`` that the archive has to ``folder/<member path>``."""
    if not remote.extras:
        return
    targets = {m: folder.joinpath(*PurePosixPath(m).parts) for m in remote.extras}
    if only_missing:
        targets = {m: t for m, t in targets.items() if not t.is_file()}
        if not targets:
            return
    with _open_zip(archive) as zf:
        present = set(zf.namelist())
        for member, target in targets.items():
            if member in present:
                target.parent.mkdir(parents=True, exist_ok=True)
                _extract_to(zf, archive, member, target)
