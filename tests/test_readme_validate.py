"""The README's `netcfg validate bad.json` example prints exactly what README shows."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

from helpers import REPO


def _block(marker: str, fence: str) -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(rf"<!-- {marker} -->\n```{fence}\n(.*?)```", text, re.S)
    assert found, f"README.md has no {marker} block"
    return found.group(1)


def test_the_readme_validate_example_prints_what_readme_shows(tmp_path):
    (tmp_path / "bad.json").write_text(_block("readme-bad-json", "json"), encoding="utf-8")
    command, *shown = _block("readme-bad-json-output", "").splitlines()
    words = shlex.split(command.removeprefix("$ "))
    assert words[:2] == ["netcfg", "validate"]
    done = subprocess.run(
        [sys.executable, "-m", "netcfg", *words[1:]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stdout.splitlines() + done.stderr.splitlines() == shown
