"""The wheel carries the shipped zoo, so ``zoo:NAME`` works outside a checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

from helpers import REPO

ZOO_FILES = ("*/model.*", "*/CARD.md", "*/smoke.json")


def test_the_wheel_holds_every_zoo_entry(tmp_path):
    # build from a copy: building in the checkout would write build/ and *.egg-info there
    source = tmp_path / "source"
    shutil.copytree(
        REPO / "netcfg",
        source / "netcfg",
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copytree(REPO / "zoo", source / "zoo", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(tmp_path / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("netcfg-*.whl")
    packaged = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"netcfg/_zoo/{path.relative_to(REPO / 'zoo').as_posix()}"
        for pattern in ZOO_FILES
        for path in (REPO / "zoo").glob(pattern)
    }
    assert any(name.endswith("/quickstart/CARD.md") for name in expected)
    assert expected - packaged == set()
