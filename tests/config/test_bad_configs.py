"""Bad configs: each fixture in tests/fixtures/bad has one deliberate problem (a few have
several), and ``netcfg validate`` must report exactly the lines of its ``.expected`` file.

A fixture is ``NAME.json``, ``NAME.yaml`` or ``NAME.yml``; ``NAME.expected`` holds the exact
stderr, and the optional ``NAME.args`` extra command-line arguments, one per line. Files under
``bases/`` are helpers for ``Extends`` fixtures, not cases. Commands run inside the fixture
folder with relative file names, so messages read ``bad_key.json:3: ...``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from netcfg.cli import main

BAD = Path(__file__).resolve().parents[1] / "fixtures" / "bad"
CONFIG_SUFFIXES = (".json", ".yaml", ".yml")
MIN_FIXTURES = 25


def fixture_files() -> list[Path]:
    """Every config fixture directly in the bad folder (not bases/, not .expected/.args)."""
    return sorted(p for p in BAD.iterdir() if p.is_file() and p.suffix in CONFIG_SUFFIXES)


def extra_args(fixture: Path) -> list[str]:
    """The arguments of ``NAME.args`` (one per line), or none."""
    args_file = fixture.with_suffix(".args")
    if not args_file.exists():
        return []
    return [line for line in args_file.read_text(encoding="utf-8").splitlines() if line]


def expected_stderr(fixture: Path) -> str:
    return fixture.with_suffix(".expected").read_text(encoding="utf-8")


FIXTURES = fixture_files()


def test_enough_fixtures():
    assert len(FIXTURES) >= MIN_FIXTURES, f"only {len(FIXTURES)} bad-config fixtures"


def test_every_fixture_has_expected_output():
    missing = [p.name for p in FIXTURES if not p.with_suffix(".expected").is_file()]
    assert not missing, f"fixtures without an .expected file: {missing}"


def test_no_stray_expected_or_args_files():
    stems = {p.stem for p in FIXTURES}
    stray = [
        p.name for p in BAD.iterdir() if p.suffix in (".expected", ".args") and p.stem not in stems
    ]
    assert not stray, f".expected/.args files without a fixture: {stray}"


@pytest.mark.parametrize("fixture", FIXTURES, ids=[p.name for p in FIXTURES])
def test_bad_config_is_reported(fixture: Path, monkeypatch, capsys):
    monkeypatch.chdir(BAD)
    status = main(["validate", fixture.name, *extra_args(fixture)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert out == ""
    assert err == expected_stderr(fixture)
    assert status == 2


SUBPROCESS_CASES = ["misspelled_layer_key.json", "invalid_yaml.yaml", "set_unknown_layer.json"]


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_console_script_reports_bad_config(name: str):
    fixture = BAD / name
    result = subprocess.run(
        [sys.executable, "-m", "netcfg", "validate", name, *extra_args(fixture)],
        cwd=BAD,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert result.stderr == expected_stderr(fixture)
    assert result.returncode == 2
