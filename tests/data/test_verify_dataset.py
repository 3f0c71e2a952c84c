"""Dataset directories are verified on open: metadata, sizes before mapping, CSR structure,
checksum; in time linear in their size and without memory beyond the arrays."""

from __future__ import annotations

import hashlib
import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from netcfg.data.ids import IdIndex
from netcfg.data.interactions import Interactions
from netcfg.data.split_store import load_split
from netcfg.data.store import load_dataset, save_dataset
from netcfg.data.synth import synthesize
from netcfg.errors import DataError


@pytest.fixture
def folder(tmp_path) -> Path:
    """A small saved dataset (explicit values, timestamps)."""
    save_dataset(synthesize(50, 30, 0.2, seed=1), tmp_path / "d")
    return tmp_path / "d"


def _meta(folder: Path) -> dict:
    return json.loads((folder / "meta.json").read_text())


def _write_meta(folder: Path, meta: dict) -> None:
    (folder / "meta.json").write_text(json.dumps(meta))


def _rechecksum(folder: Path) -> None:
    """Recompute the checksum as saving does, so that only the structure is wrong."""
    digest = hashlib.sha256()
    for name in ("indptr.bin", "indices.bin", "values.bin", "times.bin", "rows.txt"):
        if (folder / name).is_file():
            digest.update((folder / name).read_bytes())
    digest.update((folder / "columns.txt").read_bytes())
    meta = _meta(folder)
    meta["checksum"] = "sha256:" + digest.hexdigest()
    _write_meta(folder, meta)


def _change(folder: Path, name: str, dtype: str, change) -> None:
    values = np.fromfile(folder / f"{name}.bin", dtype=dtype)
    change(values)
    values.tofile(folder / f"{name}.bin")
    _rechecksum(folder)


def test_a_saved_dataset_loads_both_ways(folder):
    mapped, read = load_dataset(folder), load_dataset(folder, mmap=False)
    assert mapped == read and mapped.nnz == _meta(folder)["nnz"]


@pytest.mark.parametrize(
    ("name", "dtype", "change", "message"),
    [
        (
            "indptr",
            "<i8",
            lambda a: a.__setitem__(2, a[4]),
            r"indptr.bin: entry 3 \(\d+\) is below entry 2",
        ),
        ("indptr", "<i8", lambda a: a.__setitem__(0, 1), r"must run from 0 to nnz"),
        ("indices", "<i4", lambda a: a.__setitem__(5, 30), r"entry 5 is column 30, outside"),
        ("indices", "<i4", lambda a: a.__setitem__(0, -1), r"entry 0 is column -1"),
        ("values", "<f4", lambda a: a.__setitem__(-1, np.inf), r"values.bin: entry \d+ is not"),
    ],
)
def test_a_crafted_structure_is_refused_even_with_a_good_checksum(
    folder, name, dtype, change, message
):
    _change(folder, name, dtype, change)
    for mmap in (True, False):
        with pytest.raises(DataError, match=message):
            load_dataset(folder, mmap=mmap)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("version", 2, "unknown dataset version 2"),
        ("orientation", "both", "orientation must be 'user' or 'item'"),
        ("values", "implicit", "values: implicit, but a values array is listed"),
        ("timestamps", False, "timestamps: false, but a times array is listed"),
        ("nnz", 3, r"arrays.indices must have dtype <i4 and length 3"),
        ("shape", [50, 30, 1], r"shape must be \[rows, columns\]"),
        ("checksum", "sha256:feed", "do not match the checksum"),
        ("numeric_ids", {"rows": "yes"}, "numeric_ids must be"),
    ],
)
def test_metadata_is_checked(folder, key, value, message):
    meta = _meta(folder)
    meta[key] = value
    _write_meta(folder, meta)
    with pytest.raises(DataError, match=message) as info:
        load_dataset(folder)
    assert str(folder) in str(info.value)


@pytest.mark.parametrize("file", ["../d/indices.bin", "/etc/passwd", "..", "", "a/b.bin", 3])
def test_array_files_stay_inside_the_folder(folder, file):
    meta = _meta(folder)
    meta["arrays"]["indices"]["file"] = file
    _write_meta(folder, meta)
    with pytest.raises(DataError, match="must be a file name inside the dataset directory"):
        load_dataset(folder)


def test_a_link_out_of_the_folder_is_refused(folder, tmp_path):
    outside = tmp_path / "outside.bin"
    outside.write_bytes((folder / "indices.bin").read_bytes())
    (folder / "indices.bin").unlink()
    (folder / "indices.bin").symlink_to(outside)
    with pytest.raises(DataError, match="links outside the dataset directory"):
        load_dataset(folder)


def test_sizes_are_checked_before_anything_is_mapped(folder, monkeypatch):
    meta = _meta(folder)
    huge = 2_000_000_000
    meta["nnz"] = huge
    for name in ("indices", "values", "times"):
        meta["arrays"][name]["length"] = huge
    _write_meta(folder, meta)

    def never(*args, **kwargs):
        raise AssertionError("mapped or read before the sizes were checked")

    monkeypatch.setattr(np, "memmap", never)
    monkeypatch.setattr(np, "fromfile", never)
    with pytest.raises(DataError, match="expected 8,000,000,000 bytes"):
        load_dataset(folder)


def test_verification_allocates_far_less_than_the_arrays(tmp_path):
    users, items = 20_000, 1_000
    rng = np.random.default_rng(0)
    counts = rng.integers(50, 150, users)
    indptr = np.zeros(users + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    nnz = int(indptr[-1])
    matrix = Interactions(
        indptr,
        rng.integers(0, items, nnz).astype(np.int32),
        rng.random(nnz, dtype=np.float32),
        np.arange(nnz, dtype=np.int64),
        IdIndex(np.arange(users, dtype=np.int64)),
        IdIndex(np.arange(items, dtype=np.int64)),
    )
    save_dataset(matrix, tmp_path / "big")
    array_bytes = nnz * (4 + 4 + 8) + indptr.nbytes
    tracemalloc.start()
    try:
        loaded = load_dataset(tmp_path / "big")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert loaded.nnz == nnz
    assert peak < array_bytes / 4, (peak, array_bytes)


def test_id_files_are_checked(folder):
    (folder / "rows.txt").write_text("1\n2\n2\n")
    with pytest.raises(DataError, match=r"rows.txt:3: id '2' is given twice \(first on line 2\)"):
        load_dataset(folder)
    (folder / "rows.txt").write_text("1\nx\n")
    with pytest.raises(DataError, match="rows.txt:2: id 'x' is not a 64-bit integer"):
        load_dataset(folder)


def test_saving_never_replaces_a_folder_that_is_not_a_dataset(folder, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(DataError, match="writing would replace everything in it"):
        save_dataset(load_dataset(folder), mine)
    assert (mine / "notes.txt").read_text() == "keep me"
    save_dataset(load_dataset(folder), folder)  # a dataset is replaced


def test_split_parts_are_names_not_paths(tmp_path):
    split = tmp_path / "s"
    split.mkdir()
    (split / "meta.json").write_text(
        json.dumps({"format": "netcfg-split", "orientation": "user", "parts": ["../d"]})
    )
    with pytest.raises(DataError, match="parts must be a list of part names"):
        load_split(split)
