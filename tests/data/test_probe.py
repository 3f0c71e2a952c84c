"""dataset_width: distinct items (or users) of a raw file, against known and computed counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from netcfg.data.probe import dataset_width
from netcfg.data.spec import Orientation
from netcfg.errors import DataError, NetcfgError

ML100K = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ml-100k"
needs_ml100k = pytest.mark.skipif(
    not (ML100K / "u.data").is_file(),
    reason=f"MovieLens 100K not found at {ML100K} (shared data directory missing)",
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- MovieLens 100K


@needs_ml100k
def test_ml100k_items_and_users():
    # Known counts (data README): 943 users, 1,682 items.
    assert dataset_width(ML100K / "u.data") == 1682  # User orientation by default
    assert dataset_width(str(ML100K / "u.data"), Orientation.Item) == 943


@needs_ml100k
def test_u1_base_against_an_independent_count():
    path = ML100K / "u1.base"
    users, items = set(), set()
    for line in path.read_text(encoding="utf-8").splitlines():
        user, item, _rating, _time = line.split("\t")
        users.add(user)
        items.add(item)
    assert 0 < len(items) <= 1682 and 0 < len(users) <= 943
    assert dataset_width(path) == len(items)
    assert dataset_width(path, Orientation.Item) == len(users)


# ---------------------------------------------------------------- formats


def test_csv_with_header_skips_the_header(tmp_path):
    path = write(
        tmp_path,
        "ratings.csv",
        "userId,movieId,rating,timestamp\n"
        "1,10,4.0,964982703\n"
        "1,20,3.5,964981247\n"
        "2,10,5.0,964982224\n"
        "3,30,1.0,964983815\n",
    )
    # Items 10, 20, 30; the header's "movieId" is not an item.
    assert dataset_width(path) == 3
    # Users 1, 2, 3; the header's "userId" is not a user.
    assert dataset_width(path, Orientation.Item) == 3


def test_double_colon_separated(tmp_path):
    path = write(
        tmp_path,
        "ratings.dat",
        "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n"
        "3::914::3::978301968\n3::3408::4::978300275\n",
    )
    assert dataset_width(path) == 4  # 1193, 661, 914, 3408
    assert dataset_width(path, Orientation.Item) == 3


def test_tab_and_space_separated(tmp_path):
    tabs = write(tmp_path, "u.tsv", "1\t5\t3\n2\t5\t4\n2\t6\t1\n")
    spaces = write(tmp_path, "u.txt", "1 5 3\n2  5 4\n2 6 1\n")
    for path in (tabs, spaces):
        assert dataset_width(path) == 2
        assert dataset_width(path, Orientation.Item) == 2


def test_blank_lines_are_ignored(tmp_path):
    path = write(tmp_path, "r.tsv", "\n1\t7\t5\n   \n\n2\t8\t4\n")
    assert dataset_width(path) == 2
    assert dataset_width(path, Orientation.Item) == 2


def test_dsstne_text_format(tmp_path):
    path = write(
        tmp_path,
        "input.txt",
        "user1\titem1,5:item2,3\nuser2\titem2,4:item3\nuser3\titem4,1:item1,2:\n",
    )
    assert dataset_width(path) == 4  # item1..item4
    assert dataset_width(path, Orientation.Item) == 3  # user1..user3


def test_dsstne_indicator_lines(tmp_path):
    path = write(tmp_path, "input.txt", "A\tx:y:z\nB\tz:w\n")
    assert dataset_width(path) == 4
    assert dataset_width(path, Orientation.Item) == 2


# ---------------------------------------------------------------- errors


def test_missing_file(tmp_path):
    path = tmp_path / "nope.tsv"
    with pytest.raises(DataError) as info:
        dataset_width(path)
    assert str(path) in str(info.value)
    assert "no such file or directory" in str(info.value)
    assert isinstance(info.value, NetcfgError)


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(DataError, match="neither a netcfg dataset nor a split") as info:
        dataset_width(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_malformed_line_reports_file_and_line(tmp_path):
    path = write(tmp_path, "bad.tsv", "1\t10\t5\n2\t11\t4\n12345\n3\t12\t3\n")
    with pytest.raises(DataError) as info:
        dataset_width(path)
    message = str(info.value)
    assert f"{path}:3:" in message
    assert "12345" in message
    assert info.value.location.line == 3
    assert info.value.location.source == str(path)


def test_empty_dsstne_feature_reports_file_and_line(tmp_path):
    path = write(tmp_path, "input.txt", "u1\ti1,5:i2\nu2\ti1,5::i2,1\n")
    with pytest.raises(DataError, match="empty feature") as info:
        dataset_width(path)
    assert f"{path}:2:" in str(info.value)


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes("1\t10\t5\n2\tcaf\u00e9\t4\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8") as info:
        dataset_width(path)
    assert str(path) in str(info.value)


def test_non_utf8_error_names_the_line(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes(b"1\t10\t5\n2\t11\t4\n3\tcaf\xe9\t4\n")
    with pytest.raises(DataError) as info:
        dataset_width(path)
    assert f"{path}:3" in str(info.value)


def test_non_utf8_byte_position_is_counted_from_the_file_start(tmp_path):
    path = tmp_path / "big.tsv"
    good = b"1\t2\t3\n" * 5000  # 30,000 bytes
    path.write_bytes(good + b"4\t\xff\t5\n")
    with pytest.raises(DataError) as info:
        dataset_width(path)
    assert f"byte {len(good) + 2}" in str(info.value)


@pytest.mark.parametrize("text", ["", "\n\n", "userId,movieId,rating,timestamp\n"])
def test_no_data(tmp_path, text):
    path = write(tmp_path, "empty.csv", text)
    with pytest.raises(DataError, match="no interactions") as info:
        dataset_width(path)
    assert str(path) in str(info.value)


def test_first_line_with_string_ids_is_data_not_a_header(tmp_path):
    path = write(tmp_path, "ids.tsv", "u1\tiA\t3\nu2\tiB\t4\n")
    assert dataset_width(path) == 2


def test_a_header_without_the_named_column(tmp_path):
    path = write(tmp_path, "ratings.csv", "userId,movieId,rating\n1,2,3.5\n")
    with pytest.raises(DataError, match="the header has no column 'timestamp'") as info:
        dataset_width(path)
    assert f"{path}:1:" in str(info.value)
