"""The hostile-input corpus: every case exits as stated, says what is wrong, and never
prints an internal error, a traceback or torch's advice to load untrusted pickles."""

from __future__ import annotations

import shutil
from pathlib import Path

import hostile_cases_cli
import hostile_cases_commands
import hostile_cases_compose
import hostile_cases_config
import hostile_cases_data
import hostile_cases_data_section
import hostile_cases_datasets
import hostile_cases_import
import hostile_cases_inference
import hostile_cases_layers
import hostile_cases_rundirs
import hostile_cases_tools
import hostile_cases_training
import hostile_cases_tune
import hostile_cases_yaml
import pytest
from hostile_corpus import Case, bounded

from netcfg.cli import main

CASES: list[Case] = [
    *hostile_cases_inference.CASES,
    *hostile_cases_rundirs.CASES,
    *hostile_cases_datasets.CASES,
    *hostile_cases_import.CASES,
    *hostile_cases_data.CASES,
    *hostile_cases_config.CASES,
    *hostile_cases_yaml.CASES,
    *hostile_cases_training.CASES,
    *hostile_cases_layers.CASES,
    *hostile_cases_data_section.CASES,
    *hostile_cases_compose.CASES,
    *hostile_cases_cli.CASES,
    *hostile_cases_tune.CASES,
    *hostile_cases_commands.CASES,
    *hostile_cases_tools.CASES,
]
NEVER = ("internal error", "Traceback", "weights_only")


def test_case_ids_are_unique():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 300


def _prepare(case: Case, world: dict[str, str], root: Path) -> list[str]:
    for name, key in case.copy.items():
        shutil.copytree(world[key], root / name)
    for name, content in case.files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    for edit in case.edits:
        edit(root)
    return [word.format(**world) for word in case.argv]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_input(case: Case, world, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NETCFG_ZOO", str(tmp_path / "zoo"))
    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "cache"))
    if "/dev/full" in case.argv and not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    argv = _prepare(case, world, tmp_path)
    if case.patch is not None:
        case.patch(monkeypatch)
    try:
        with bounded():
            code = main(argv)
    except SystemExit as exit:  # argparse's usage errors
        code = exit.code
    out, err = capsys.readouterr()
    printed = err + out
    assert code == case.code, printed
    assert case.message in printed
    for fragment in (*NEVER, *case.absent):
        assert fragment not in printed


def test_a_case_that_hangs_fails_instead_of_blocking():
    with pytest.raises(pytest.fail.Exception, match="hang"), bounded(0.2):
        while True:  # what a hang in netcfg would look like
            pass
