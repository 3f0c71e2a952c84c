"""Download machinery for `fetch`: URLs, checksums, progress, errors and zip members.

Downloads and extracted members are written to temporary files that are renamed into place
only once complete, and network and disk failures become DataErrors whose messages say what
to do (which URL to download by hand and where to save it, or how to free the cache).
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
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from netcfg.errors import DataError

__all__ = [
    "disk_errors",
    "download",
    "extract_to",
    "extracted",
    "file_md5",
    "open_zip",
    "published_md5",
]

_CHUNK = 1 << 20
_TIMEOUT = 60.0


@contextmanager
def disk_errors(folder: Path) -> Iterator[None]:
    """Turn failures to write into the cache (full disk, no permission) into DataErrors.

    Args:
        folder: the cache folder being written, named in the message when the failure
            names no file.

    Raises:
        DataError: an OSError was raised in the block (DataErrors pass through as they are).
    """
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


def published_md5(url: str) -> str | None:
    """The MD5 published at ``<url>.md5``, or None when it cannot be fetched or read.

    Args:
        url: the URL of the archive.

    Returns:
        The checksum in lower case, or None.
    """
    try:
        with urllib.request.urlopen(url + ".md5", timeout=_TIMEOUT) as response:
            text = response.read(4096).decode("ascii", "replace")
    except (OSError, ValueError, http.client.HTTPException):
        return None
    found = re.search(r"\b[0-9a-fA-F]{32}\b", text)
    return found.group(0).lower() if found else None


def download(url: str, archive: Path, expected: str | None, progress: bool) -> str:
    """Download ``url`` to ``archive`` (via a temporary file beside it).

    Args:
        url: where to download from (any URL that urllib opens, ``file://`` included).
        archive: the final path; it is written only once the download is complete and
            verified.
        expected: the MD5 the download must have, or None to accept any.
        progress: print download progress on stderr.

    Returns:
        The MD5 of the download.

    Raises:
        DataError: the download failed (the message names the URL and ``archive``, where the
            file can be saved by hand) or its checksum is not ``expected``.
    """
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


def file_md5(path: Path) -> str:
    """The MD5 of a file, read in chunks.

    Args:
        path: the file.

    Returns:
        The checksum as lower-case hex.
    """
    md5 = hashlib.md5()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            md5.update(chunk)
    return md5.hexdigest()


def _bad_archive(archive: Path, why: str) -> DataError:
    return DataError(f"{archive}: {why}; delete it and run the command again to download it afresh")


def open_zip(archive: Path) -> zipfile.ZipFile:
    """Open a zip archive for reading.

    Args:
        archive: the zip file.

    Returns:
        The open archive (to close, or use in a with statement).

    Raises:
        DataError: not a valid zip archive (the message says to delete it).
    """
    try:
        return zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise _bad_archive(archive, f"not a valid zip archive ({exc})") from None


def extract_to(zf: zipfile.ZipFile, archive: Path, member: str, target: Path) -> None:
    """Stream one member to ``target`` (written to a temporary file, then renamed).

    Args:
        zf: the open archive (`open_zip`).
        archive: its path, for messages.
        member: the member to extract.
        target: where to write it; its folder must exist.

    Raises:
        DataError: the member is corrupt or cannot be read.
    """
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
def extracted(archive: Path, member: str, folder: Path) -> Iterator[Path]:
    """The ratings member extracted to a temporary file in ``folder`` (removed after).

    Args:
        archive: the zip file.
        member: the member to extract.
        folder: where to put the temporary file.

    Yields:
        The path of the extracted file (with the member's suffix).

    Raises:
        DataError: not a valid zip archive, no such member, or a corrupt member.
    """
    with open_zip(archive) as zf:
        names = zf.namelist()
        if member not in names:
            listing = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
            raise _bad_archive(archive, f"has no member {member} (it has: {listing or 'none'})")
        suffix = PurePosixPath(member).suffix
        fd, name = tempfile.mkstemp(prefix=".ratings.", suffix=suffix, dir=folder)
        os.close(fd)
        target = Path(name)
        try:
            extract_to(zf, archive, member, target)
            yield target
        finally:
            target.unlink(missing_ok=True)
