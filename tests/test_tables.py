"""Console tables: plain, aligned text when piped; rich's styling only on a terminal."""

from __future__ import annotations

import io

from netcfg.tables import print_table, table_text

HEADER = ["NAME", "DATASET", "RMSE"]
ROWS = [["autorec", "MovieLens 100K, u1.base/u1.test", "0.9"], ["q", "[bold]synthetic[/]", "12.25"]]


def test_columns_two_spaces_apart_numbers_right():
    assert table_text(HEADER, ROWS, right={2}).splitlines() == [
        "NAME     DATASET                           RMSE",
        "autorec  MovieLens 100K, u1.base/u1.test    0.9",
        "q        [bold]synthetic[/]               12.25",
    ]


def test_plain_text_only():
    wide = [["x" * 300, "y" * 200, "1"]]
    text = table_text(HEADER, wide)
    assert text.isascii() and "\x1b" not in text  # no box drawing, no escape codes
    assert text.splitlines()[1] == "x" * 300 + "  " + "y" * 200 + "  1"  # never wrapped
    assert all(line == line.rstrip() for line in text.splitlines())


def test_without_header():
    rows = [["users", "943"], ["interactions", "100,000"]]
    assert table_text(None, rows) == "users         943\ninteractions  100,000"


def test_print_table_piped_is_the_plain_text():
    out = io.StringIO()
    print_table(HEADER, ROWS, right={2}, file=out)
    assert out.getvalue() == table_text(HEADER, ROWS, right={2}) + "\n"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_print_table_on_a_terminal_is_styled(monkeypatch):
    monkeypatch.setenv("COLUMNS", "30")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    out = Terminal()
    print_table(HEADER, ROWS, file=out)
    text = out.getvalue()
    assert "\x1b[1m" in text  # a bold header
    assert "[bold]" in text  # cells are text, not markup
    lines = text.splitlines()
    assert len(lines) > 3 and all(len(line) <= 30 for line in lines if "\x1b" not in line)
    assert "…" not in text  # wrapped to 30 columns, nothing cut short
    assert "".join(line.strip() for line in lines).count("u1.base/u1.test") == 1
