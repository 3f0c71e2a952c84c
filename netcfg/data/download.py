"""Downloads and zip members for `fetch`, through pooch, with netcfg's error messages.

pooch downloads (over HTTP or HTTPS) to a temporary file that is moved into place only once
its checksum is verified, shows a progress bar (tqdm), and extracts zip members. This
module turns its failures into `FetchError`s that say what to do: which URL to download
by hand and where to save it, which file to delete, or how to free the cache.
"""

from __future__ import annotations

import errno
import io
import logging
import re
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pooch
import requests

from netcfg.errors import DataError

__all__ = ["FetchError", "check_archive", "disk_errors", "download", "published_md5", "unzipped"]


class FetchError(DataError):
    """A dataset could not be fetched for a reason outside the user's input: the network,
    a corrupt or unexpected file, the disk (exit status 1, as other faults of the machine)."""

    exit_code = 1


@contextmanager
def disk_errors(folder: Path) -> Iterator[None]:
    """Turn failures to write into the cache (full disk, no permission) into FetchErrors.

    Args:
        folder: the cache folder being written, named in the message when the failure
            names no file.

    Raises:
        FetchError: an OSError was raised in the block (DataErrors pass through as they are).
    """
    try:
        yield
    except DataError:
        raise
    except OSError as exc:
        where = exc.filename or folder
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise FetchError(
                f"the disk is full: could not write {where} ({exc.strerror or exc}); free "
                f"some space, or set NETCFG_DATA to a folder on another disk"
            ) from None
        raise FetchError(
            f"{where}: {exc.strerror or exc}; check that the cache folder {folder} can be "
            "written, or set NETCFG_DATA to another folder"
        ) from None


@contextmanager
def _quiet_pooch() -> Iterator[None]:
    """Silence pooch's log lines (netcfg prints its own) for the duration of the block."""
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _reason(exc: requests.RequestException) -> str:
    """What went wrong, in a few words (without urllib3's connection-pool preamble)."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code} {exc.response.reason or ''}".strip()
    if isinstance(exc, requests.Timeout):
        return "timed out"
    cause = getattr(exc.args[0], "reason", None) if exc.args else None
    text = str(cause or exc) or type(exc).__name__
    return text.split("): ", 1)[-1]


def _downloader(url: str, archive: Path, progressbar: bool) -> pooch.HTTPDownloader:
    if not url.lower().startswith(("http://", "https://")):
        raise DataError(
            f"cannot download {url}: only http and https URLs are supported; download it "
            f"some other way and save it as {archive}, then run the command again"
        )
    return pooch.HTTPDownloader(progressbar=progressbar)


def download(url: str, archive: Path, md5: str | None, progress: bool, name: str) -> None:
    """Download ``url`` to ``archive`` unless it is there with checksum ``md5`` already.

    The file is written under a temporary name beside ``archive`` and moved into place only
    once complete and verified.

    Args:
        url: where to download from (http or https).
        archive: the final path.
        md5: the MD5 the file must have, or None to accept any.
        progress: report the download on stderr: a progress bar on a terminal, else one
            line.
        name: the dataset, for the message that says how to import an extracted copy.

    Raises:
        FetchError: the download failed (the message names the URL and ``archive``, where
            the file can be saved by hand) or its checksum is not ``md5`` (the download is
            deleted).
        DataError: not an http or https URL.
    """
    terminal = sys.stderr.isatty()
    downloader = _downloader(url, archive, progressbar=progress and terminal)
    if progress and not terminal:
        print(f"downloading {url} to {archive}", file=sys.stderr, flush=True)
    try:
        with _quiet_pooch():
            pooch.retrieve(
                url,
                known_hash=f"md5:{md5}" if md5 else None,
                fname=archive.name,
                path=archive.parent,
                downloader=downloader,
            )
    except requests.RequestException as exc:
        raise FetchError(
            f"could not download {url} ({_reason(exc)}); download it by hand and save it as "
            f"{archive}, then run the command again (or, with the archive's files already "
            f"extracted in a folder DIR: netcfg data fetch {name} --from DIR)"
        ) from None
    except ValueError as exc:  # pooch's checksum mismatch; it deleted the download
        raise FetchError(
            f"checksum mismatch for {url}: {exc} Run the command again, or download it by "
            f"hand and save it as {archive}"
        ) from None


def published_md5(url: str) -> str | None:
    """The MD5 published at ``<url>.md5``, or None when it cannot be fetched or read.

    Args:
        url: the URL of the archive.

    Returns:
        The checksum in lower case, or None.
    """
    text = io.BytesIO()
    try:
        with _quiet_pooch():
            pooch.HTTPDownloader()(url + ".md5", text, None)
    except requests.RequestException:
        return None
    found = re.search(r"\b[0-9a-fA-F]{32}\b", text.getvalue()[:4096].decode("ascii", "replace"))
    return found.group(0).lower() if found else None


def check_archive(archive: Path, md5: str | None, url: str) -> str:
    """Verify an archive already in the cache (perhaps saved there by hand).

    Args:
        archive: the file.
        md5: the MD5 it must have, or None to accept any.
        url: where it is downloaded from, for the message.

    Returns:
        Its MD5.

    Raises:
        FetchError: the checksum is not ``md5`` (the message names the file).
    """
    digest = pooch.file_hash(str(archive), alg="md5")
    if md5 and digest != md5:
        raise FetchError(
            f"{archive}: MD5 is {digest}, expected {md5}; the file is corrupt or another "
            f"version: delete it (it is downloaded again from {url}) or replace it with a "
            "good copy, then run the command again"
        )
    return digest


def _bad_archive(archive: Path, why: str) -> FetchError:
    return FetchError(f"{archive}: {why}; delete it and run the command again to download it")


@contextmanager
def unzipped(archive: Path, members: Sequence[str], folder: Path) -> Iterator[dict[str, Path]]:
    """Members of a zip archive, extracted by pooch to a temporary folder in ``folder``.

    Args:
        archive: the zip file.
        members: the members wanted (paths inside the archive).
        folder: where to make the temporary folder (removed after the block, with what
            is left in it: move the files that are to stay).

    Yields:
        The extracted files by member; members the archive lacks are left out.

    Raises:
        FetchError: not a valid zip archive, or a corrupt member.
    """
    with tempfile.TemporaryDirectory(prefix=".unzip.", dir=folder) as temp:
        try:
            with _quiet_pooch():
                pooch.Unzip(members=list(members), extract_dir=temp)(str(archive), "fetch", None)
        except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError) as exc:
            raise _bad_archive(archive, f"not a valid zip archive ({exc})") from None
        found = {m: Path(temp, *m.split("/")) for m in members}
        yield {m: path for m, path in found.items() if path.is_file()}
