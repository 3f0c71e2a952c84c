"""The README's data block runs as written in a fresh folder, in order, on MovieLens 100K
(skipping only the download of MovieLens 1M, which needs the network)."""

from __future__ import annotations

import json

import pytest
from helpers import ML100K, readme_block, run_netcfg_commands

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (ML100K / "u.data").is_file(), reason="MovieLens 100K not found"),
]


def test_the_readme_data_block_runs_as_written(tmp_path):
    root = tmp_path / "netcfg"
    root.mkdir()
    (tmp_path / "shared").symlink_to(ML100K.parents[1])
    commands = readme_block("readme-data")
    assert commands[-1] == "netcfg data fetch movielens-1m"  # the one that downloads
    run_netcfg_commands(commands[:-1], root, NETCFG_THREADS="1")
    imported = json.loads((root / "data/ml-100k/meta.json").read_text())
    assert imported["shape"] == [943, 1682] and imported["nnz"] == 100_000
    assert (root / "data/u1").is_dir() and (root / "data/implicit").is_dir()
    assert (root / "data/synth/meta.json").is_file()
