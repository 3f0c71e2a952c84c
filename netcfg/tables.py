"""Tables for the console, drawn by rich.

One look everywhere: columns two spaces apart, no borders, cells never wrapped, so that
the text stays readable and greppable in a terminal, a pipe, a log file or a run
directory. `print_table` shows the header in bold and fits the table to the terminal's
width when standard output is a terminal; otherwise it prints `table_text`, which is plain
text without colours or escape codes.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Collection, Iterable, Sequence
from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["print_table", "table_text"]

_UNBOUNDED = 100_000
"""Console width for plain text: wide enough that no table is ever wrapped."""


def _table(
    header: Sequence[str] | None,
    rows: Iterable[Sequence[str]],
    right: Collection[int],
    columns: int,
    wrap: bool,
) -> Table:
    table = Table(
        box=None,
        show_header=header is not None,
        header_style="bold",
        pad_edge=False,
        padding=(0, 1),
    )
    for index in range(columns):
        table.add_column(
            "" if header is None else header[index],
            justify="right" if index in right else "left",
            no_wrap=not wrap,
            overflow="fold",  # a long word is broken, never cut short with an ellipsis
        )
    for row in rows:
        table.add_row(*(Text(str(cell)) for cell in row))  # Text: no markup in cells
    return table


def _columns(header: Sequence[str] | None, rows: list[Sequence[str]]) -> int:
    return len(header) if header is not None else max((len(row) for row in rows), default=0)


def table_text(
    header: Sequence[str] | None,
    rows: Iterable[Sequence[str]],
    *,
    right: Collection[int] = (),
) -> str:
    """A table as plain text: left-aligned columns two spaces apart, header first.

    Args:
        header: the column titles, or None for a table without a header row.
        rows: the cells, as strings, one sequence per row.
        right: indexes of the columns to align right (numbers).

    Returns:
        The lines joined by newlines, without trailing spaces or a final newline.

    Example:
        >>> print(table_text(["NAME", "RMSE"], [["u1", "0.9077"]], right={1}))
        NAME    RMSE
        u1    0.9077
    """
    rows = list(rows)
    console = Console(
        file=io.StringIO(),
        width=_UNBOUNDED,
        force_terminal=False,
        no_color=True,
        highlight=False,
        markup=False,
        emoji=False,
    )
    with console.capture() as capture:
        console.print(_table(header, rows, right, _columns(header, rows), wrap=False))
    return "\n".join(line.rstrip() for line in capture.get().splitlines())


def print_table(
    header: Sequence[str] | None,
    rows: Iterable[Sequence[str]],
    *,
    right: Collection[int] = (),
    file: TextIO | None = None,
) -> None:
    """Print a table: styled by rich on a terminal, else as `table_text`.

    Args:
        header: the column titles, or None for a table without a header row.
        rows: the cells, as strings, one sequence per row.
        right: indexes of the columns to align right (numbers).
        file: where to print (default standard output).
    """
    out = file if file is not None else sys.stdout
    rows = list(rows)
    if not out.isatty():
        print(table_text(header, rows, right=right), file=out)
        return
    console = Console(file=out, highlight=False, markup=False, emoji=False)
    console.print(_table(header, rows, right, _columns(header, rows), wrap=True))
