"""Importing files: MovieLens counts, formats, bad lines, duplicates, atomic datasets."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netcfg.data.formats import TextFormat
from netcfg.data.importer import import_file
from netcfg.data.info import dataset_info
from netcfg.data.readers import read_interactions
from netcfg.data.spec import DataFormat
from netcfg.data.store import load_dataset, save_dataset
from netcfg.errors import DataError

HISTOGRAM = {"1": 6110, "2": 11370, "3": 27145, "4": 34174, "5": 21201}  # data README


def test_movielens_100k(ml100k, tmp_path):
    import_file(ml100k / "u.data", tmp_path / "ml", DataFormat.movielens_100k)
    matrix = load_dataset(tmp_path / "ml")
    info = dataset_info(matrix)
    assert (info["users"], info["items"], info["interactions"]) == (943, 1682, 100000)
    assert info["histogram"] == HISTOGRAM
    assert info["per_user"]["p0"] == 20  # every user has at least 20 ratings
    # row 0 is user 1: its ratings, read independently from the file
    first = sorted(
        (int(i), float(r))
        for u, i, r, _ in (
            line.split("\t") for line in (ml100k / "u.data").read_text().splitlines()
        )
        if u == "1"
    )
    assert matrix.rows.ids[0] == 1
    got = list(
        zip(
            matrix.columns.ids[matrix.indices[: matrix.indptr[1]]].tolist(),
            matrix.values[: matrix.indptr[1]].tolist(),
            strict=True,
        )
    )
    assert got == first


FILES = {
    "ratings.dat": ("1::10::5::100\n1::20::3::101\n2::10::4::102\n", DataFormat.movielens_dat),
    "ratings.csv": (
        "userId,movieId,rating,timestamp\n1,10,4.5,100\n2,10,3.0,101\n1,20,1,7\n",
        DataFormat.movielens_csv,
    ),
    "r.tsv": ("1\t10\t5\n1\t20\t3\n2\t10\t4\n", DataFormat.tsv),
    "events.csv": ("u1,i1\nu1,i2\nu2,i1\n", DataFormat.csv),
    "plays.txt": ("1 10 5\n1  20 3\n2 10 4\n", DataFormat.auto),
    "input.txt": ("u1\ti1,5:i2,3:\nu2\ti1\n", DataFormat.dsstne),
}


@pytest.mark.parametrize("name", FILES)
def test_formats_and_guessing(tmp_path, name):
    text, fmt = FILES[name]
    path = write(tmp_path, name, text)
    for candidate in (fmt, DataFormat.auto):
        matrix = import_file(path, None, candidate)
        assert matrix.shape == (2, 2) and matrix.nnz == 3


def test_generic_csv_with_header_and_mapping(tmp_path):
    path = write(tmp_path, "plays.csv", "item,when,user,count\na,5,x,3\nb,6,x,1\na,7,y,9\n")
    fmt = TextFormat(
        "csv", ",", True, {"user": "user", "item": "item", "value": "count", "time": "when"}
    )
    matrix = import_file(path, None, fmt)
    assert matrix.rows.ids.tolist() == ["x", "y"] and matrix.columns.ids.tolist() == ["a", "b"]
    assert matrix.values.tolist() == [3, 1, 9] and matrix.times.tolist() == [5, 6, 7]


@pytest.mark.parametrize(
    "text, message",
    [
        ("1\t2\t5\n1\t3\n", r"r.tsv:2: expected at least 3 fields, found 2: '1\\t3'"),
        ("1\t2\t5\n1\t3\tfive\n", r"r.tsv:2: value 'five' is not a number"),
        ("1\t2\t5\n1\t3\tnan\n", r"r.tsv:2: value 'nan' is not a finite number"),
        ("1\t2\t5\n\t3\t4\n", r"r.tsv:2: empty user id"),
        (
            "1,2,5\n1,3,4\n",
            r"r.tsv:1: expected at least 2 fields, found 1: '1,2,5' \(the line has no "
            r"'\\t'; is the delimiter ','\?\)",
        ),
        ("1\t2\t5\n1\t3\t1e39\n", r"r.tsv:2: value 1e39 is too large for a 32-bit float"),
    ],
)
def test_bad_lines_name_file_line_and_text(tmp_path, text, message):
    path = write(tmp_path, "r.tsv", text)
    with pytest.raises(DataError, match=message):
        import_file(path, None, DataFormat.tsv)


def test_non_utf8_and_empty_files(tmp_path):
    path = tmp_path / "r.tsv"
    path.write_bytes(b"1\t2\t5\n1\t\xff\t4\n")
    with pytest.raises(DataError, match=r"r.tsv:2: not UTF-8 text \(byte 8 of the file\)"):
        import_file(path, None, DataFormat.tsv)
    with pytest.raises(DataError, match="empty file"):
        import_file(write(tmp_path, "e.tsv", "\n\n"), None)


def test_skip_bad_lines_and_value_range(tmp_path):
    path = write(tmp_path, "r.tsv", "1\t2\t5\n1\t3\n2\t2\tx\n2\t3\t9\n3\t1\t1\n")
    with pytest.raises(DataError, match=r"r.tsv:2: expected at least 3 fields, found 2"):
        import_file(path, None, DataFormat.tsv, value_range=(1, 5))
    clean = write(tmp_path, "c.tsv", "1\t2\t5\n2\t3\t9\n")
    with pytest.raises(DataError, match=r"c.tsv:2: value 9 is outside the declared range \[1, 5\]"):
        import_file(clean, None, DataFormat.tsv, value_range=(1, 5))
    matrix = import_file(
        path, tmp_path / "d", DataFormat.tsv, skip_bad_lines=True, value_range=(1, 5)
    )
    assert matrix.nnz == 2 and matrix.meta["lines_skipped"] == 3
    assert load_dataset(tmp_path / "d").meta["lines_skipped"] == 3


def test_duplicates_are_counted(tmp_path):
    path = write(tmp_path, "r.tsv", "1\t2\t5\t10\n1\t2\t3\t30\n1\t2\t1\t20\n")
    matrix = import_file(path, None, DataFormat.tsv)
    assert matrix.values.tolist() == [3.0] and matrix.meta["duplicates"]["dropped"] == 2


def test_datasets_round_trip_and_detect_damage(ml100k, tmp_path):
    matrix = import_file(ml100k / "u1.base", tmp_path / "d")
    assert load_dataset(tmp_path / "d") == matrix
    assert load_dataset(tmp_path / "d", mmap=False) == matrix
    (tmp_path / "d" / "values.bin").write_bytes(b"\0" * 10)
    with pytest.raises(DataError, match="values.bin is missing or truncated"):
        load_dataset(tmp_path / "d")
    with pytest.raises(DataError, match="not a netcfg dataset directory"):
        load_dataset(tmp_path)


def test_a_failed_save_leaves_the_old_dataset(tmp_path, monkeypatch):
    matrix = import_file(write(tmp_path, "r.tsv", "1\t2\t5\n"), tmp_path / "d")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("netcfg.data.ids.IdIndex.save", broken)
    with pytest.raises(OSError):
        save_dataset(matrix, tmp_path / "d")
    assert load_dataset(tmp_path / "d") == matrix
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "r.tsv"]  # no staging left


LINE = st.one_of(
    st.text(alphabet="0123456789\t,:. -xe\n", max_size=30),
    st.builds(
        lambda u, i, r, t: f"{u}\t{i}\t{r}\t{t}",
        st.integers(-3, 99),
        st.integers(0, 99),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(0, 10**12),
    ),
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(LINE, min_size=1, max_size=12))
def test_random_and_mutated_lines_never_crash(tmp_path, lines):
    path = tmp_path / "fuzz.tsv"
    path.write_text("\n".join(lines) + "\n")
    try:
        raw = read_interactions(path, DataFormat.tsv)
    except DataError as err:
        assert str(path) in str(err)
        return
    # whatever was accepted agrees with a plain reading of the file
    good = [line.split("\t") for text in lines for line in text.split("\n") if line.strip()]
    assert len(raw) == len(good)
    if raw.values is not None:
        assert np.isfinite(raw.values).all()


SAMPLES = {
    DataFormat.movielens_100k: "196\t242\t3\t881250949\n186\t302\t3\t891717742\n",
    DataFormat.movielens_dat: "1::1193::5::978300760\n1::661::3::978302109\n",
    DataFormat.movielens_csv: "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.0,9649\n",
    DataFormat.dsstne: "u1\t10,5:20,3:\nu2\t10:30\n",
}


@st.composite
def _mutated(draw):
    fmt = draw(st.sampled_from(list(SAMPLES)))
    text = list(SAMPLES[fmt])
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text) - 1))
        action = draw(st.sampled_from(["delete", "insert", "replace"]))
        char = draw(st.sampled_from(list("0123456789:,\t\n.-ae \x00é")))
        if action == "delete" and len(text) > 1:
            del text[position]
        elif action == "insert":
            text.insert(position, char)
        else:
            text[position] = char
    return fmt, "".join(text)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=_mutated())
def test_mutated_real_lines_give_data_or_a_located_error(tmp_path, case):
    fmt, text = case
    path = tmp_path / "mutated.txt"
    path.write_text(text, encoding="utf-8")
    try:
        matrix = import_file(path, None, fmt)
    except DataError as err:
        assert str(path) in str(err)
        return
    assert matrix.nnz >= 1
    assert matrix.values is None or np.isfinite(matrix.values).all()
    assert (np.diff(matrix.indptr) >= 0).all() and matrix.indptr[-1] == matrix.nnz
