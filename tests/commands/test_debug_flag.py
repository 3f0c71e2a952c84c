"""``--debug`` works before the subcommand and after it (issue 12)."""

from __future__ import annotations

import pytest

from netcfg.cli import build_parser, main


@pytest.mark.parametrize(
    "argv",
    [
        ["--debug", "data", "import", "{bad}", "-o", "{out}"],
        ["data", "import", "--debug", "{bad}", "-o", "{out}"],
        ["data", "--debug", "import", "{bad}", "-o", "{out}"],
    ],
    ids=["global", "subcommand", "command-group"],
)
def test_debug_shows_the_traceback_in_any_position(argv, tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("1\t2\t5\t10\nnot a line\n")
    argv = [a.format(bad=bad, out=tmp_path / "out") for a in argv]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback (most recent call last)" in err
    assert err.rstrip().splitlines()[-1].startswith(str(bad))


def test_without_debug_there_is_no_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("1\t2\t5\t10\nnot a line\n")
    assert main(["data", "import", str(bad), "-o", str(tmp_path / "out")]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_debug_defaults_to_false_and_is_set_by_either_position():
    parser = build_parser()
    assert parser.parse_args(["zoo", "list"]).debug is False
    assert parser.parse_args(["--debug", "zoo", "list"]).debug is True
    assert parser.parse_args(["zoo", "list", "--debug"]).debug is True
