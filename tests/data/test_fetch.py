"""Dataset downloads, against local file:// URLs only: never the network."""

from __future__ import annotations

import errno
import hashlib
import io
import shutil
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from netcfg.cli import main
from netcfg.data import download as download_module
from netcfg.data import fetch as fetch_module
from netcfg.data.fetch import DATASETS, cache_dir, fetch, fold_files, seed_cache
from netcfg.data.source import open_source
from netcfg.data.spec import DataSourceSpec, FetchName
from netcfg.data.store import is_dataset, load_dataset
from netcfg.errors import DataError

ML100K = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ml-100k"
GROUPLENS_100K = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def make_zip(path: Path, members: dict[str, bytes | Path]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            if isinstance(data, Path):
                zf.write(data, name)
            else:
                zf.writestr(name, data)
    return path


@pytest.fixture(scope="module")
def ml100k_zip(tmp_path_factory) -> Path:
    """A zip laid out as GroupLens' ml-100k.zip, built from the shared MovieLens 100K."""
    if not (ML100K / "u.data").is_file():
        pytest.skip(f"MovieLens 100K not found at {ML100K}")
    members = {f"ml-100k/{f.name}": f for f in sorted(ML100K.iterdir()) if f.is_file()}
    return make_zip(tmp_path_factory.mktemp("remote") / "ml-100k.zip", members)


def offline(url, *args, **kwargs):
    """urlopen on a machine without internet."""
    raise urllib.error.URLError("Temporary failure in name resolution")


def files_named(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.rglob(pattern))


def test_fetch_movielens_100k(tmp_path, ml100k_zip):
    folder = fetch(
        "movielens-100k", cache=tmp_path, url=ml100k_zip.as_uri(), md5=md5_of(ml100k_zip)
    )
    assert folder == tmp_path / "movielens-100k" / "dataset"
    matrix = load_dataset(folder)
    assert matrix.shape == (943, 1682)
    assert matrix.nnz == 100_000
    source = matrix.meta["source"]
    assert source["url"] == ml100k_zip.as_uri()
    assert source["md5"] == md5_of(ml100k_zip)
    assert source["member"] == "ml-100k/u.data"
    splits = tmp_path / "movielens-100k" / "ml-100k"
    assert (splits / "u1.base").read_bytes() == (ML100K / "u1.base").read_bytes()
    assert (splits / "u5.test").is_file()
    assert (tmp_path / "movielens-100k" / "ml-100k.zip").is_file()
    # no temporary files or extracted ratings left behind
    assert files_named(tmp_path, ".*") == []
    assert not (splits / "u.data").exists()


def test_second_fetch_uses_the_cache(tmp_path, ml100k_zip, monkeypatch):
    source = tmp_path / "remote" / "ml-100k.zip"
    source.parent.mkdir()
    shutil.copy(ml100k_zip, source)
    cache = tmp_path / "cache"
    first = fetch(FetchName.movielens_100k, cache=cache, url=source.as_uri(), md5=md5_of(source))
    source.unlink()
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    (cache / "movielens-100k" / "ml-100k" / "u1.base").unlink()
    again = fetch("movielens-100k", cache=cache, url=source.as_uri())
    assert again == first
    assert is_dataset(again)
    assert (cache / "movielens-100k" / "ml-100k" / "u1.base").is_file()  # restored


def test_wrong_md5_deletes_the_download(tmp_path, ml100k_zip):
    bad = "0" * 32
    with pytest.raises(DataError) as info:
        fetch("movielens-100k", cache=tmp_path, url=ml100k_zip.as_uri(), md5=bad)
    message = str(info.value)
    assert bad in message and md5_of(ml100k_zip) in message
    folder = tmp_path / "movielens-100k"
    assert not (folder / "ml-100k.zip").exists()
    assert files_named(folder, "*.part") == []
    assert not (folder / "dataset").exists()


def test_unreachable_url_names_the_path_to_save_by_hand(tmp_path, ml100k_zip):
    url = "file:///nonexistent/netcfg-test/ml-100k.zip"
    target = tmp_path / "movielens-100k" / "ml-100k.zip"
    with pytest.raises(DataError) as info:
        fetch("movielens-100k", cache=tmp_path, url=url, md5=md5_of(ml100k_zip))
    message = str(info.value)
    assert url in message
    assert f"save it as {target}," in message
    assert files_named(tmp_path, "*.part") == []
    shutil.copy(ml100k_zip, target)  # the user downloads it by hand
    folder = fetch("movielens-100k", cache=tmp_path, url=url, md5=md5_of(ml100k_zip))
    assert load_dataset(folder).nnz == 100_000


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (urllib.error.URLError("Temporary failure in name resolution"), "name resolution"),
        (urllib.error.HTTPError(GROUPLENS_100K, 404, "Not Found", {}, None), "HTTP 404"),
        (TimeoutError("timed out"), "timed out"),
        (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), "reset"),
    ],
)
def test_network_failures_are_data_errors(tmp_path, monkeypatch, error, reason):
    def failing(url, *args, **kwargs):
        raise error

    monkeypatch.setattr(urllib.request, "urlopen", failing)
    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "cache"))
    with pytest.raises(DataError) as info:
        fetch("movielens-100k")
    message = str(info.value)
    target = tmp_path / "cache" / "movielens-100k" / "ml-100k.zip"
    assert message.startswith(f"could not download {GROUPLENS_100K} (")
    assert reason in message
    assert f"download it by hand and save it as {target}, then run the command again" in message
    assert not target.exists()


class FakeResponse(io.BytesIO):
    def __init__(self, data: bytes, length: int):
        super().__init__(data)
        self.headers = {"Content-Length": str(length)}


def test_truncated_download(tmp_path, monkeypatch, ml100k_zip):
    data = ml100k_zip.read_bytes()
    monkeypatch.setattr(
        urllib.request, "urlopen", lambda url, *a, **k: FakeResponse(data[:1000], len(data))
    )
    with pytest.raises(DataError, match="connection closed after 1000 of"):
        fetch("movielens-100k", cache=tmp_path)
    assert not (tmp_path / "movielens-100k" / "ml-100k.zip").exists()


def test_progress_on_stderr(tmp_path, monkeypatch, ml100k_zip, capsys):
    data = ml100k_zip.read_bytes()
    monkeypatch.setattr(
        urllib.request, "urlopen", lambda url, *a, **k: FakeResponse(data, len(data))
    )
    fetch("movielens-100k", cache=tmp_path, md5=md5_of(ml100k_zip), progress=True)
    err = capsys.readouterr().err
    assert "downloading ml-100k.zip" in err and "(100%)" in err


def test_missing_member(tmp_path):
    remote = make_zip(tmp_path / "remote" / "ml-100k.zip", {"ml-100k/README": b"hello"})
    with pytest.raises(DataError, match="has no member ml-100k/u.data"):
        fetch("movielens-100k", cache=tmp_path / "cache", url=remote.as_uri(), md5=md5_of(remote))


def test_corrupt_archive_placed_by_hand(tmp_path):
    target = tmp_path / "movielens-100k" / "ml-100k.zip"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"this is an HTML error page, not a zip")
    with pytest.raises(DataError, match="not a valid zip archive"):
        fetch("movielens-100k", cache=tmp_path, md5=md5_of(target))
    # with the known checksum it is caught earlier, naming both checksums
    with pytest.raises(DataError) as info:
        fetch("movielens-100k", cache=tmp_path)
    assert DATASETS[FetchName.movielens_100k].md5 in str(info.value)
    assert md5_of(target) in str(info.value)


def test_unknown_name():
    with pytest.raises(DataError, match="did you mean 'movielens-100k'"):
        fetch("movielens-100")


def test_cache_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("NETCFG_DATA", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert cache_dir() == Path.home() / ".cache" / "netcfg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "netcfg"
    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "data"))
    assert cache_dir() == tmp_path / "data"


class FullDisk:
    """A file whose writes fail as on a full disk."""

    def __init__(self, handle):
        self.handle = handle

    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()

    def __getattr__(self, name):
        return getattr(self.handle, name)


def test_full_disk_while_downloading(tmp_path, monkeypatch, ml100k_zip):
    monkeypatch.setattr(
        download_module, "open", lambda *a, **k: FullDisk(open(*a, **k)), raising=False
    )
    with pytest.raises(DataError, match="the disk is full") as info:
        fetch("movielens-100k", cache=tmp_path, url=ml100k_zip.as_uri(), md5=md5_of(ml100k_zip))
    assert str(tmp_path / "movielens-100k") in str(info.value)
    assert files_named(tmp_path, "*.part") == []
    assert not (tmp_path / "movielens-100k" / "ml-100k.zip").exists()


def test_full_disk_while_importing(tmp_path, monkeypatch, ml100k_zip):
    def full(matrix, folder):
        raise OSError(errno.ENOSPC, "No space left on device", str(folder))

    monkeypatch.setattr(fetch_module, "save_dataset", full)
    with pytest.raises(DataError, match="the disk is full"):
        fetch("movielens-100k", cache=tmp_path, url=ml100k_zip.as_uri(), md5=md5_of(ml100k_zip))
    assert files_named(tmp_path, ".ratings*") == []


RATINGS_CSV = (
    b"userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.0,964981247\n2,1,3.5,1445714835\n"
)


def test_latest_small_uses_published_md5(tmp_path):
    remote = make_zip(
        tmp_path / "remote" / "ml-latest-small.zip", {"ml-latest-small/ratings.csv": RATINGS_CSV}
    )
    side = remote.with_name("ml-latest-small.zip.md5")
    side.write_text(f"MD5 (ml-latest-small.zip) = {'f' * 32}\n")
    with pytest.raises(DataError, match="f" * 32):
        fetch("movielens-latest-small", cache=tmp_path / "cache", url=remote.as_uri())
    side.write_text(f"{md5_of(remote)}  ml-latest-small.zip\n")
    folder = fetch("movielens-latest-small", cache=tmp_path / "cache", url=remote.as_uri())
    assert load_dataset(folder).shape == (2, 2)
    assert load_dataset(folder).meta["source"]["md5"] == md5_of(remote)


def test_latest_small_without_published_md5(tmp_path):
    remote = make_zip(
        tmp_path / "remote" / "ml-latest-small.zip", {"ml-latest-small/ratings.csv": RATINGS_CSV}
    )
    folder = fetch(FetchName.movielens_latest_small, cache=tmp_path, url=remote.as_uri())
    assert load_dataset(folder).nnz == 3


def test_force_downloads_again(tmp_path, ml100k_zip):
    folder = fetch(
        "movielens-100k", cache=tmp_path, url=ml100k_zip.as_uri(), md5=md5_of(ml100k_zip)
    )
    with pytest.raises(DataError, match="could not download"):
        fetch("movielens-100k", cache=tmp_path, url="file:///nonexistent/ml-100k.zip", force=True)
    assert is_dataset(folder)  # the old dataset and archive are kept
    assert (tmp_path / "movielens-100k" / "ml-100k.zip").is_file()


def test_registry_is_complete():
    assert set(DATASETS) == set(FetchName)
    for remote in DATASETS.values():
        assert remote.url.startswith("https://files.grouplens.org/datasets/movielens/")
        assert remote.member.startswith(remote.archive.removesuffix(".zip") + "/")


def test_seeded_cache_serves_the_canonical_folds_offline(tmp_path, monkeypatch):
    if not (ML100K / "u.data").is_file():
        pytest.skip(f"MovieLens 100K not found at {ML100K}")
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setenv("NETCFG_DATA", str(tmp_path))
    dataset = seed_cache("movielens-100k", ML100K)
    assert dataset == tmp_path / "movielens-100k" / "dataset"
    assert load_dataset(dataset).nnz == 100_000
    assert fetch("movielens-100k") == dataset
    for name in ("u1", "u5"):
        for part in ("base", "test"):
            copied = tmp_path / "movielens-100k" / "ml-100k" / f"{name}.{part}"
            assert copied.read_bytes() == (ML100K / f"{name}.{part}").read_bytes()
    split = open_source(DataSourceSpec(Fetch="movielens-100k", Fold="u1"))
    assert split.train.nnz == 80_000 and split.train.shape[0] == 943
    # u1.test has 20,000 ratings; 32 are of items u1.base never rated, dropped as with Test
    dropped = split.meta["dropped"]["test"]
    assert split.parts["test"].nnz == 19_968 and dropped == {"unseen_users": 0, "unseen_items": 32}
    assert split.parts["test"].nnz + dropped["unseen_items"] == 20_000
    assert files_named(tmp_path, ".*") == []


def test_seed_cache_needs_the_ratings_file(tmp_path):
    (tmp_path / "ml-100k").mkdir()
    with pytest.raises(DataError, match=r"ml-100k/u.data: no such file; give the folder extracted"):
        seed_cache("movielens-100k", tmp_path / "ml-100k", cache=tmp_path / "cache")
    with pytest.raises(DataError, match="did you mean 'movielens-1m'"):
        seed_cache("movielens-1n", tmp_path, cache=tmp_path / "cache")


def test_fold_files_missing_from_the_cache(tmp_path):
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    (folder / "u.data").write_text("1\t10\t5\t1\n2\t10\t3\t2\n")
    seed_cache("movielens-100k", folder, cache=tmp_path / "cache")
    missing = tmp_path / "cache" / "movielens-100k" / "ml-100k" / "u2.base"
    with pytest.raises(DataError, match=f"{missing}: no such file in the cache"):
        fold_files("u2", cache=tmp_path / "cache")


def test_data_fetch_from_a_folder(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    (folder / "u.data").write_text("1\t10\t5\t1\n2\t10\t3\t2\n2\t20\t4\t3\n")
    (folder / "u1.base").write_text("1\t10\t5\t1\n2\t10\t3\t2\n")
    (folder / "u1.test").write_text("2\t20\t4\t3\n")
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    cache = tmp_path / "cache"
    assert (
        main(["data", "fetch", "movielens-100k", "--from", str(folder), "--cache", str(cache)]) == 0
    )
    assert capsys.readouterr().out.endswith(f"dataset at {cache / 'movielens-100k' / 'dataset'}\n")
    assert load_dataset(cache / "movielens-100k" / "dataset").nnz == 3
    assert fold_files("u1", cache=cache) == (
        cache / "movielens-100k" / "ml-100k" / "u1.base",
        cache / "movielens-100k" / "ml-100k" / "u1.test",
    )
