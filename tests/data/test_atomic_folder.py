"""A folder written through a staging folder: put in place whole, and, for a cache entry
that another process made meanwhile, that process's folder kept under its readers."""

from __future__ import annotations

import pytest

from netcfg.data.store import atomic_folder


def _other_process_finishes_first(folder):
    folder.mkdir()
    (folder / "theirs.txt").write_text("theirs")


@pytest.mark.parametrize("keep_existing", [False, True])
def test_a_folder_made_meanwhile_is_replaced_or_kept(tmp_path, keep_existing):
    folder = tmp_path / "entry"
    with atomic_folder(folder, keep_existing=keep_existing) as staging:
        (staging / "mine.txt").write_text("mine")
        _other_process_finishes_first(folder)
    kept = sorted(p.name for p in folder.iterdir())
    assert kept == (["theirs.txt"] if keep_existing else ["mine.txt"])
    assert [p.name for p in tmp_path.iterdir()] == ["entry"]  # no staging folder is left


def test_a_new_folder_is_put_in_place(tmp_path):
    with atomic_folder(tmp_path / "entry", keep_existing=True) as staging:
        (staging / "mine.txt").write_text("mine")
    assert (tmp_path / "entry" / "mine.txt").read_text() == "mine"
