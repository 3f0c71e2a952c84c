"""scipy.sparse interop: matrices in and out, ``.npz`` import, ``netcfg.train(data=...)``."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import scipy.sparse as sp
from helpers import TINY

from netcfg.cli import main
from netcfg.data.ids import IdIndex
from netcfg.data.importer import import_file
from netcfg.data.interactions import Interactions
from netcfg.data.scipy_io import bind_matrices, interactions_from_scipy, read_npz, to_scipy
from netcfg.data.store import load_dataset
from netcfg.errors import DataError


def _dense(seed: int, shape=(7, 5), density=0.4) -> np.ndarray:
    """Ratings 1..5 with zeros where there is no entry."""
    rng = np.random.default_rng(seed)
    values = rng.integers(1, 6, shape).astype(np.float32)
    return np.where(rng.random(shape) < density, values, 0)


def _to_dense(matrix: Interactions) -> np.ndarray:
    out = np.zeros(matrix.shape, np.float32)
    out[matrix.row_of_entries(), matrix.indices] = matrix.values_or_ones()
    return out


def _same_entries(a: Interactions, b: Interactions) -> bool:
    """Same ids, CSR structure and values (times and provenance aside)."""
    return (
        a.rows == b.rows
        and a.columns == b.columns
        and np.array_equal(a.indptr, b.indptr)
        and np.array_equal(a.indices, b.indices)
        and np.array_equal(a.values, b.values)
    )


@pytest.mark.parametrize("kind", ["csr_array", "csr_matrix", "coo_array", "csc_matrix"])
def test_from_scipy_holds_the_same_entries_in_any_format(kind):
    dense = _dense(0)
    matrix = getattr(sp, kind)(dense)
    users, items = [f"u{i}" for i in range(7)], np.arange(5) * 10
    found = interactions_from_scipy(matrix, users, items)
    assert found.shape == (7, 5) and found.nnz == np.count_nonzero(dense)
    assert np.array_equal(_to_dense(found), dense)
    assert found.rows.ids.tolist() == users and found.columns.ids.tolist() == items.tolist()
    assert found.indptr.dtype == np.int64 and found.indices.dtype == np.int32
    assert found.values.dtype == np.float32


def test_default_ids_are_the_row_and_column_numbers_as_integers():
    found = interactions_from_scipy(sp.csr_array(_dense(1)))
    assert found.rows.numeric and found.rows.ids.tolist() == list(range(7))
    assert found.columns.ids.dtype == np.int64 and found.columns.ids.tolist() == list(range(5))


def test_a_canonical_csr_of_netcfg_dtypes_is_not_copied():
    csr = sp.csr_array(_dense(2).astype(np.float32))
    assert csr.indices.dtype == np.int32
    found = interactions_from_scipy(csr)
    assert np.shares_memory(found.indices, csr.indices)
    assert np.shares_memory(found.values, csr.data)
    back, rows, columns = to_scipy(found)
    assert np.shares_memory(back.indices, found.indices)
    assert np.shares_memory(back.data, found.values)
    assert rows is found.rows.ids and columns is found.columns.ids


def test_other_dtypes_are_converted_not_shared():
    csr = sp.csr_array(_dense(3).astype(np.float64))
    found = interactions_from_scipy(csr)
    assert not np.shares_memory(found.values, csr.data)
    assert found.values.dtype == np.float32
    assert np.array_equal(_to_dense(found), _dense(3))


def test_duplicates_and_unsorted_columns_read_as_scipy_reads_them():
    rows, cols = np.array([0, 0, 1, 0, 1]), np.array([3, 1, 0, 3, 2])
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0], np.float32)
    coo = sp.coo_array((values, (rows, cols)), shape=(2, 4))
    found = interactions_from_scipy(coo)
    assert np.array_equal(_to_dense(found), coo.toarray())  # (0, 3): 1 + 4
    unsorted = sp.csr_array((values[:3], np.array([3, 1, 0]), np.array([0, 2, 3])), shape=(2, 4))
    assert not unsorted.has_sorted_indices
    found = interactions_from_scipy(unsorted)
    assert found.indices.tolist() == [1, 3, 0]
    assert np.array_equal(_to_dense(found), unsorted.toarray())


def test_implicit_keeps_the_entries_without_values():
    found = interactions_from_scipy(sp.csr_array(_dense(4)), implicit=True)
    assert found.values is None and found.nnz == np.count_nonzero(_dense(4))
    back, _, _ = to_scipy(found, "coo")
    assert back.format == "coo" and np.array_equal(back.toarray(), _dense(4) != 0)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((np.eye(3),), "expected a 2-D scipy.sparse matrix"),
        ((sp.csr_array(np.eye(3)), [1, 2]), "2 row ids for a matrix with 3 rows"),
        ((sp.csr_array(np.eye(3)), None, ["a", "b", "a"]), "the column ids repeat an id"),
        ((sp.csr_array(np.diag([1.0, np.nan, 2.0])),), "not finite"),
    ],
)
def test_bad_matrices_and_ids_are_data_errors(arguments, message):
    with pytest.raises(DataError, match=message):
        interactions_from_scipy(*arguments)


def test_npz_import_with_and_without_id_files(tmp_path, capsys):
    dense = _dense(5)
    sp.save_npz(tmp_path / "m.npz", sp.csr_array(dense))
    (tmp_path / "rows.txt").write_text("".join(f"user-{i}\n" for i in range(7)))
    (tmp_path / "cols.txt").write_text("".join(f"{100 + i}\n" for i in range(5)))
    code = main(
        ["data", "import", str(tmp_path / "m.npz"), "-o", str(tmp_path / "d"),
         "--row-ids", str(tmp_path / "rows.txt"), "--column-ids", str(tmp_path / "cols.txt")]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    saved = load_dataset(tmp_path / "d")
    assert saved.rows.ids.tolist() == [f"user-{i}" for i in range(7)]
    assert saved.columns.numeric and saved.columns.ids.tolist() == list(range(100, 105))
    assert np.array_equal(_to_dense(saved), dense)
    plain = import_file(tmp_path / "m.npz")
    assert plain.rows.ids.tolist() == list(range(7)) and np.array_equal(_to_dense(plain), dense)
    assert plain.meta["source"] == {"path": str(tmp_path / "m.npz"), "format": "npz"}


def test_npz_errors_name_the_file(tmp_path, capsys):
    sp.save_npz(tmp_path / "m.npz", sp.csr_array(_dense(6)))
    (tmp_path / "rows.txt").write_text("1\n2\n")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    code = main(["data", "import", str(tmp_path / "bad.npz"), "-o", str(tmp_path / "d")])
    err = capsys.readouterr().err
    assert code == 2 and "bad.npz" in err and "scipy.sparse.save_npz" in err
    with pytest.raises(DataError, match=r"m\.npz: 2 row ids for a matrix with 7 rows"):
        read_npz(tmp_path / "m.npz", tmp_path / "rows.txt")
    (tmp_path / "u.tsv").write_text("1\t2\t3\n")
    with pytest.raises(DataError, match="id files go with an .npz matrix only"):
        import_file(tmp_path / "u.tsv", row_ids=tmp_path / "rows.txt")


def _ml100k_reference(ml100k):
    """u.data as a scipy CSR built here with numpy alone, with its sorted ids."""
    table = np.loadtxt(ml100k / "u.data", dtype=np.int64)
    users, user_rows = np.unique(table[:, 0], return_inverse=True)
    items, item_columns = np.unique(table[:, 1], return_inverse=True)
    csr = sp.csr_array(
        (table[:, 2].astype(np.float32), (user_rows, item_columns)),
        shape=(len(users), len(items)),
    )
    return csr, users, items


def test_ml100k_round_trips_through_scipy_as_the_file_import(ml100k, tmp_path, capsys):
    imported = import_file(ml100k / "u.data")
    csr, users, items = _ml100k_reference(ml100k)
    from_scipy = interactions_from_scipy(csr, users, items)
    assert from_scipy.nnz == imported.nnz == csr.nnz == 100_000
    assert _same_entries(from_scipy, imported)

    back, rows, columns = to_scipy(imported)
    assert (back != csr).nnz == 0 and back.shape == (943, 1682)
    assert np.array_equal(rows, users) and np.array_equal(columns, items)

    sp.save_npz(tmp_path / "ml.npz", back)
    (tmp_path / "users.txt").write_text("".join(f"{u}\n" for u in rows.tolist()))
    (tmp_path / "items.txt").write_text("".join(f"{i}\n" for i in columns.tolist()))
    argv = ["data", "import", str(tmp_path / "ml.npz"), "-o", str(tmp_path / "ml")]
    ids = ["--row-ids", str(tmp_path / "users.txt"), "--column-ids", str(tmp_path / "items.txt")]
    assert main([*argv, *ids]) == 0, capsys.readouterr().err
    assert _same_entries(load_dataset(tmp_path / "ml"), imported)
    assert "interactions" in capsys.readouterr().out.lower()


@pytest.mark.slow
def test_train_takes_a_scipy_matrix(tmp_path, monkeypatch):
    from netcfg.experiments.run import train

    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "cache"))
    config = copy.deepcopy(TINY)
    config["Training"]["Epochs"] = 1
    dense = _dense(7, shape=(60, 20), density=0.3)
    csr = sp.csr_array(dense)
    protocol = 'Data.ratings.Protocol={"Type": "random", "Fractions": [0.7, 0.1, 0.2], "Seed": 0}'
    result = train(config, [protocol], data={"ratings": csr}, out=tmp_path / "run")
    bound = json.loads((tmp_path / "run" / "config.json").read_text())["Data"]["ratings"]
    assert "Synthetic" not in bound
    stored = load_dataset(bound["Path"])
    assert _same_entries(stored, interactions_from_scipy(csr))
    assert np.isfinite(result.test["RMSE"])
    assert bind_matrices({"ratings": csr}) == (f"ratings={bound['Path']}",)  # saved once
    assert bind_matrices(["ratings=x"]) == ("ratings=x",) and bind_matrices("x") == ("x",)


def test_ids_given_as_an_index_are_kept():
    index = IdIndex(np.array([5, 3, 9], dtype=np.int64))
    found = interactions_from_scipy(sp.csr_array(np.eye(3, dtype=np.float32)), index)
    assert found.rows is index and found.rows.position(3) == 1
