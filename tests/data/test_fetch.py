"""Dataset downloads, from a local HTTP server (tests/data/conftest.py): never the network."""

from __future__ import annotations

import errno
import hashlib
import io
import logging
import shutil
import socket
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pooch
import pytest
import requests
from tqdm import tqdm

from netcfg.cli import main
from netcfg.data import fetch as fetch_module
from netcfg.data.fetch import DATASETS, fetch, fold_files, seed_cache
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


@pytest.fixture
def served(server, ml100k_zip) -> str:
    """The URL of the ml-100k.zip that `server` serves."""
    shutil.copy(ml100k_zip, server.folder / "ml-100k.zip")
    return f"{server.url}/ml-100k.zip"


def offline(monkeypatch) -> None:
    """No internet from here on: every HTTP request fails as without a name server."""

    def failing(url, *args, **kwargs):
        raise requests.ConnectionError("Temporary failure in name resolution")

    monkeypatch.setattr(requests, "get", failing)


def files_named(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.rglob(pattern))


def test_fetch_movielens_100k(tmp_path, served, ml100k_zip):
    cache = tmp_path / "cache"
    folder = fetch("movielens-100k", cache=cache, url=served, md5=md5_of(ml100k_zip))
    assert folder == cache / "movielens-100k" / "dataset"
    matrix = load_dataset(folder)
    assert matrix.shape == (943, 1682)
    assert matrix.nnz == 100_000
    source = matrix.meta["source"]
    assert source["url"] == served
    assert source["md5"] == md5_of(ml100k_zip)
    assert source["member"] == "ml-100k/u.data"
    splits = cache / "movielens-100k" / "ml-100k"
    assert (splits / "u1.base").read_bytes() == (ML100K / "u1.base").read_bytes()
    assert (splits / "u5.test").is_file()
    assert (cache / "movielens-100k" / "ml-100k.zip").read_bytes() == ml100k_zip.read_bytes()
    # no temporary files or folders, nor the extracted ratings, left behind
    assert files_named(cache, ".*") == []
    assert not (splits / "u.data").exists()


def test_second_fetch_uses_the_cache(tmp_path, server, served, ml100k_zip, monkeypatch):
    cache = tmp_path / "cache"
    first = fetch(FetchName.movielens_100k, cache=cache, url=served, md5=md5_of(ml100k_zip))
    assert server.requests == ["/ml-100k.zip"]
    (cache / "movielens-100k" / "ml-100k" / "u1.base").unlink()
    again = fetch("movielens-100k", cache=cache, url=served)
    assert again == first and is_dataset(again)
    assert (cache / "movielens-100k" / "ml-100k" / "u1.base").is_file()  # restored
    # the dataset gone but the archive there: imported again, without a download
    shutil.rmtree(first)
    assert fetch("movielens-100k", cache=cache, url=served, md5=md5_of(ml100k_zip)) == first
    assert server.requests == ["/ml-100k.zip"]
    assert files_named(cache, ".*") == []


def test_wrong_md5_deletes_the_download(tmp_path, served, ml100k_zip):
    bad = "0" * 32
    with pytest.raises(DataError) as info:
        fetch("movielens-100k", cache=tmp_path / "cache", url=served, md5=bad)
    message = str(info.value)
    folder = tmp_path / "cache" / "movielens-100k"
    assert message.startswith(f"checksum mismatch for {served}: ")
    assert message.endswith(f"save it as {folder / 'ml-100k.zip'}")
    assert bad in message and md5_of(ml100k_zip) in message
    assert info.value.exit_code == 1
    assert list(folder.iterdir()) == []  # neither the download nor a temporary file


def test_unreachable_url_names_the_path_to_save_by_hand(tmp_path, server, ml100k_zip):
    url = f"{server.url}/nowhere/ml-100k.zip"
    shutil.copy(ml100k_zip, server.folder / "elsewhere.zip")
    target = tmp_path / "cache" / "movielens-100k" / "ml-100k.zip"
    with pytest.raises(DataError) as info:
        fetch("movielens-100k", cache=tmp_path / "cache", url=url, md5=md5_of(ml100k_zip))
    message = str(info.value)
    assert message.startswith(f"could not download {url} (HTTP 404 ")
    assert f"save it as {target}, then run the command again" in message
    assert "netcfg data fetch movielens-100k --from DIR" in message
    assert files_named(tmp_path / "cache", "*") == [target.parent]
    shutil.copy(ml100k_zip, target)  # the user downloads it by hand
    folder = fetch("movielens-100k", cache=tmp_path / "cache", url=url, md5=md5_of(ml100k_zip))
    assert load_dataset(folder).nnz == 100_000


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (requests.ConnectionError("Temporary failure in name resolution"), "name resolution"),
        (requests.Timeout("read timed out"), "(timed out)"),
        (
            requests.ConnectionError(ConnectionResetError(errno.ECONNRESET, "reset by peer")),
            "reset by peer",
        ),
    ],
)
def test_network_failures(tmp_path, monkeypatch, error, reason):
    def failing(url, *args, **kwargs):
        raise error

    monkeypatch.setattr(requests, "get", failing)
    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "cache"))
    with pytest.raises(DataError) as info:
        fetch("movielens-100k")
    message = str(info.value)
    target = tmp_path / "cache" / "movielens-100k" / "ml-100k.zip"
    assert message.startswith(f"could not download {GROUPLENS_100K} (")
    assert reason in message
    assert f"download it by hand and save it as {target}, then run the command again" in message
    assert info.value.exit_code == 1
    assert not target.exists()


def test_refused_connection(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/ml-100k.zip"
    with pytest.raises(DataError, match=f"could not download {url} \\(.*refused") as info:
        fetch("movielens-100k", cache=tmp_path / "cache", url=url)
    assert "HTTPConnectionPool" not in str(info.value)  # urllib3's preamble is left out


def test_data_fetch_offline_exits_1_naming_url_and_cache(tmp_path, monkeypatch, capsys):
    offline(monkeypatch)
    cache = tmp_path / "cache"
    assert main(["data", "fetch", "movielens-100k", "--cache", str(cache)]) == 1
    err = capsys.readouterr().err
    assert GROUPLENS_100K in err and str(cache / "movielens-100k" / "ml-100k.zip") in err
    assert "--from DIR" in err


def test_truncated_download(tmp_path, server, served):
    server.truncated["ml-100k.zip"] = 1000
    with pytest.raises(DataError, match=f"could not download {served}"):
        fetch("movielens-100k", cache=tmp_path / "cache", url=served)
    assert list((tmp_path / "cache" / "movielens-100k").iterdir()) == []


@pytest.fixture
def pooch_log() -> Iterator[list[logging.LogRecord]]:
    """What pooch logs meanwhile."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    pooch.get_logger().addHandler(handler)
    yield records
    pooch.get_logger().removeHandler(handler)


def test_progress_line_when_not_a_terminal(tmp_path, served, ml100k_zip, capsys, pooch_log):
    archive = tmp_path / "cache" / "movielens-100k" / "ml-100k.zip"
    fetch(
        "movielens-100k",
        cache=tmp_path / "cache",
        url=served,
        md5=md5_of(ml100k_zip),
        progress=True,
    )
    assert capsys.readouterr().err == f"downloading {served} to {archive}\n"
    assert pooch_log == []  # netcfg's line instead of pooch's


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal(tmp_path, served, ml100k_zip, monkeypatch):
    stderr = Terminal()
    monkeypatch.setattr("sys.stderr", stderr)
    fetch(
        "movielens-100k",
        cache=tmp_path / "cache",
        url=served,
        md5=md5_of(ml100k_zip),
        progress=True,
    )
    text = stderr.getvalue()
    size = tqdm.format_sizeof(ml100k_zip.stat().st_size)
    assert "100%|" in text and f"{size}/{size}" in text  # tqdm's bar, full, with the size
    assert "downloading" not in text and "pooch" not in text.lower()


def test_only_http_and_https(tmp_path, ml100k_zip):
    with pytest.raises(DataError, match="only http and https URLs") as info:
        fetch("movielens-100k", cache=tmp_path, url=ml100k_zip.as_uri())
    assert info.value.exit_code == 2


def test_missing_member(tmp_path, server):
    remote = make_zip(server.folder / "ml-100k.zip", {"ml-100k/README": b"hello"})
    url = f"{server.url}/ml-100k.zip"
    with pytest.raises(DataError, match="has no member ml-100k/u.data") as info:
        fetch("movielens-100k", cache=tmp_path / "cache", url=url, md5=md5_of(remote))
    assert info.value.exit_code == 1


def test_corrupt_archive_placed_by_hand(tmp_path, monkeypatch):
    offline(monkeypatch)
    target = tmp_path / "movielens-100k" / "ml-100k.zip"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"this is an HTML error page, not a zip")
    with pytest.raises(DataError, match="not a valid zip archive"):
        fetch("movielens-100k", cache=tmp_path, md5=md5_of(target))
    # with the known checksum it is caught earlier, naming the file and both checksums
    with pytest.raises(DataError) as info:
        fetch("movielens-100k", cache=tmp_path)
    message = str(info.value)
    assert message.startswith(f"{target}: MD5 is {md5_of(target)}, expected ")
    assert DATASETS[FetchName.movielens_100k].md5 in message
    assert info.value.exit_code == 1
    assert target.is_file()  # not replaced behind the user's back


def test_corrupt_member(tmp_path, server):
    remote = server.folder / "ml-100k.zip"
    with zipfile.ZipFile(remote, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("ml-100k/u.data", b"1\t10\t5\t1\n" * 50)
    data = bytearray(remote.read_bytes())
    data[data.index(b"1\t10\t5") + 20] ^= 1  # one bit of the member's data flipped
    remote.write_bytes(bytes(data))
    cache = tmp_path / "cache"
    url = f"{server.url}/ml-100k.zip"
    with pytest.raises(DataError, match="not a valid zip archive .*CRC") as info:
        fetch("movielens-100k", cache=cache, url=url, md5=md5_of(remote))
    assert str(info.value).startswith(f"{cache / 'movielens-100k' / 'ml-100k.zip'}: ")
    assert files_named(cache, ".*") == [] and not (cache / "movielens-100k" / "dataset").exists()


def test_unknown_name():
    with pytest.raises(DataError, match="did you mean 'movielens-100k'") as info:
        fetch("movielens-100")
    assert info.value.exit_code == 2


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


def test_full_disk_while_downloading(tmp_path, monkeypatch, served, ml100k_zip):
    monkeypatch.setattr(
        pooch.downloaders, "open", lambda *a, **k: FullDisk(open(*a, **k)), raising=False
    )
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match="the disk is full") as info:
        fetch("movielens-100k", cache=cache, url=served, md5=md5_of(ml100k_zip))
    assert str(cache / "movielens-100k") in str(info.value)
    assert info.value.exit_code == 1
    assert list((cache / "movielens-100k").iterdir()) == []


def test_full_disk_while_importing(tmp_path, monkeypatch, served, ml100k_zip):
    def full(matrix, folder):
        raise OSError(errno.ENOSPC, "No space left on device", str(folder))

    monkeypatch.setattr(fetch_module, "save_dataset", full)
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match="the disk is full"):
        fetch("movielens-100k", cache=cache, url=served, md5=md5_of(ml100k_zip))
    assert files_named(cache, ".*") == []  # the extracted ratings are gone


RATINGS_CSV = (
    b"userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.0,964981247\n2,1,3.5,1445714835\n"
)


def test_latest_small_uses_published_md5(tmp_path, server):
    remote = make_zip(
        server.folder / "ml-latest-small.zip", {"ml-latest-small/ratings.csv": RATINGS_CSV}
    )
    url = f"{server.url}/ml-latest-small.zip"
    side = remote.with_name("ml-latest-small.zip.md5")
    side.write_text(f"MD5 (ml-latest-small.zip) = {'f' * 32}\n")
    with pytest.raises(DataError, match="f" * 32):
        fetch("movielens-latest-small", cache=tmp_path / "cache", url=url)
    side.write_text(f"{md5_of(remote)}  ml-latest-small.zip\n")
    folder = fetch("movielens-latest-small", cache=tmp_path / "cache", url=url)
    assert load_dataset(folder).shape == (2, 2)
    assert load_dataset(folder).meta["source"]["md5"] == md5_of(remote)


def test_latest_small_without_published_md5(tmp_path, server, pooch_log):
    make_zip(server.folder / "ml-latest-small.zip", {"ml-latest-small/ratings.csv": RATINGS_CSV})
    url = f"{server.url}/ml-latest-small.zip"
    folder = fetch(FetchName.movielens_latest_small, cache=tmp_path, url=url)
    assert load_dataset(folder).nnz == 3
    assert server.requests == ["/ml-latest-small.zip.md5", "/ml-latest-small.zip"]
    assert pooch_log == []  # not its advice to pin a SHA256 hash


def test_force(tmp_path, server, served, ml100k_zip):
    cache = tmp_path / "cache"
    folder = fetch("movielens-100k", cache=cache, url=served, md5=md5_of(ml100k_zip))
    (folder / "marker").write_text("imported before")
    # the archive has the expected checksum: imported again, not downloaded again
    assert fetch("movielens-100k", cache=cache, url=served, md5=md5_of(ml100k_zip), force=True)
    assert not (folder / "marker").exists() and is_dataset(folder)
    assert server.requests == ["/ml-100k.zip"]
    # another checksum expected (GroupLens' own): downloaded again; a failure keeps the cache
    with pytest.raises(DataError, match="could not download"):
        fetch("movielens-100k", cache=cache, url=f"{server.url}/gone.zip", force=True)
    assert is_dataset(folder)
    assert (cache / "movielens-100k" / "ml-100k.zip").read_bytes() == ml100k_zip.read_bytes()


def test_registry_is_complete():
    assert set(DATASETS) == set(FetchName)
    for remote in DATASETS.values():
        assert remote.url.startswith("https://files.grouplens.org/datasets/movielens/")
        assert remote.member.startswith(remote.archive.removesuffix(".zip") + "/")


def test_seeded_cache_serves_the_canonical_folds_offline(tmp_path, monkeypatch):
    if not (ML100K / "u.data").is_file():
        pytest.skip(f"MovieLens 100K not found at {ML100K}")
    offline(monkeypatch)
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
    offline(monkeypatch)
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
