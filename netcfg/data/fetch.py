"""Download public datasets (MovieLens) into a cache and import them as dataset directories.

Layout of the cache (see `cache_dir`)::

    <cache>/movielens-100k/ml-100k.zip        the archive, as published
    <cache>/movielens-100k/dataset/           the imported ratings (a dataset directory)
    <cache>/movielens-100k/ml-100k/u1.base    MovieLens 100K only: its canonical splits

Nothing is downloaded when the dataset directory is already there, nor when the archive
is: an archive saved by hand under the path that the error message names is used as is
(after its checksum is verified), which is how to fetch on a machine without internet.
pooch downloads to a temporary file that is moved into place only once complete and
verified, so a half-written archive never sits under its final name (see `download`).
`seed_cache` fills the cache from a copy of the archive's files already extracted on
disk, with no archive at all.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from netcfg.data.download import (
    FetchError,
    check_archive,
    disk_errors,
    download,
    published_md5,
    unzipped,
)
from netcfg.data.importer import import_file
from netcfg.data.spec import DataFormat, FetchName, FoldName
from netcfg.data.store import is_dataset, save_dataset
from netcfg.errors import DataError
from netcfg.folders import cache_dir
from netcfg.spec_base import did_you_mean

__all__ = ["DATASETS", "RemoteDataset", "cache_dir", "fetch", "fold_files", "seed_cache"]

_GROUPLENS = "https://files.grouplens.org/datasets/movielens"
_LICENSE = (
    "GroupLens MovieLens terms: research use; do not redistribute without permission; "
    "cite F. M. Harper and J. A. Konstan, The MovieLens Datasets: History and Context, "
    "ACM TiiS 5(4), 2015 (see the README in the archive)"
)


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
        url: download from here instead (a mirror: http or https).
        md5: expected MD5 of the archive instead of the known one.
        force: import again even when the cache has the dataset, and download again
            unless the archive in the cache has the expected checksum.
        progress: report the download on stderr (a progress bar on a terminal).

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
    folder = _dataset_folder(key, cache)
    dataset = folder / "dataset"
    archive = folder / remote.archive
    if is_dataset(dataset) and not force:
        if archive.is_file():
            try:  # splits deleted since: restore them (best effort, no network)
                with disk_errors(folder):
                    _extract_extras(archive, remote, folder, only_missing=True)
            except DataError:
                pass
        return dataset

    source = url or remote.url
    expected = md5.lower() if md5 else remote.md5
    with disk_errors(folder):
        _make_folder(folder)
        if archive.is_file() and not force:
            digest = check_archive(archive, expected, source)
        else:
            if expected is None:
                expected = published_md5(source)
            download(source, archive, expected, progress, key.value)
            digest = expected or check_archive(archive, None, source)
        with unzipped(archive, [remote.member], folder) as files:
            if remote.member not in files:
                raise FetchError(
                    f"{archive}: has no member {remote.member}; it is not the archive of "
                    f"{key.value}: delete it and run the command again"
                )
            matrix = import_file(files[remote.member], fmt=remote.format)
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


def seed_cache(
    name: FetchName | str, folder: Path | str, *, cache: Path | str | None = None
) -> Path:
    """Fill the cache for a public dataset from its files already extracted on disk.

    ``folder`` holds what the archive's top folder holds (for MovieLens 100K, the
    ``ml-100k/`` folder with ``u.data`` and the ``u1.base`` ... ``ub.test`` splits). The
    ratings file is imported into ``<cache>/<name>/dataset`` and the extra members that
    are present are copied beside it, replacing what the cache held, so `fetch` then
    needs no internet.

    Args:
        name: which dataset (`FetchName` or its value).
        folder: the extracted folder.
        cache: the cache folder (default `cache_dir`).

    Returns:
        The dataset directory, as `fetch` returns it.

    Raises:
        DataError: unknown name; the folder lacks the ratings file; bad ratings; the cache
            cannot be written.

    Example:
        >>> seed_cache("movielens-100k", "../shared/data/ml-100k")
    """
    key = _resolve(name)
    remote = DATASETS[key]
    source = Path(folder).expanduser()
    ratings = source / _inside_top_folder(remote.member)
    if not ratings.is_file():
        raise DataError(
            f"{ratings}: no such file; give the folder extracted from {remote.archive} "
            f"(it holds {_inside_top_folder(remote.member)})"
        )
    target = _dataset_folder(key, cache)
    with disk_errors(target):
        _make_folder(target)
        matrix = import_file(ratings, fmt=remote.format)
        matrix.meta["source"] = {**matrix.meta.get("source", {}), "fetch": key.value}
        save_dataset(matrix, target / "dataset")
        for member in remote.extras:
            original = source / _inside_top_folder(member)
            if original.is_file():
                _copy_file(original, target.joinpath(*PurePosixPath(member).parts))
    return target / "dataset"


def fold_files(fold: FoldName | str, *, cache: Path | str | None = None) -> tuple[Path, Path]:
    """The training and test files of a canonical MovieLens 100K split (fetched if needed).

    Args:
        fold: ``u1`` ... ``u5``, ``ua`` or ``ub``.
        cache: the cache folder (default `cache_dir`).

    Returns:
        ``(<cache>/movielens-100k/ml-100k/<fold>.base, .../<fold>.test)``.

    Raises:
        DataError: the dataset cannot be fetched, or the cache lacks the fold's files.
    """
    name = FoldName(fold).value
    folder = fetch(FetchName.movielens_100k, cache=cache).parent / "ml-100k"
    files = (folder / f"{name}.base", folder / f"{name}.test")
    for path in files:
        if not path.is_file():
            raise DataError(
                f"{path}: no such file in the cache; run 'netcfg data fetch movielens-100k "
                "--force', or 'netcfg data fetch movielens-100k --from DIR' with DIR an "
                "extracted ml-100k folder"
            )
    return files


def _dataset_folder(key: FetchName, cache: Path | str | None) -> Path:
    return Path(cache if cache is not None else cache_dir()).expanduser() / key.value


def _inside_top_folder(member: str) -> str:
    """A member's path below the archive's top folder (``ml-100k/u.data`` -> ``u.data``)."""
    return str(PurePosixPath(*PurePosixPath(member).parts[1:]))


def _copy_file(original: Path, target: Path) -> None:
    """Copy a file via a temporary file beside ``target``, renamed once complete."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, part_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    part = Path(part_name)
    try:
        shutil.copyfile(original, part)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


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
    with unzipped(archive, list(targets), folder) as files:
        for member, extracted in files.items():
            targets[member].parent.mkdir(parents=True, exist_ok=True)
            os.replace(extracted, targets[member])
