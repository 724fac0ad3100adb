"""How the CLI writes: user data verbatim, one-line errors, tables that never cut a number.

* Text is never parsed as rich markup or emoji codes: ``file.tsv:100:`` stays ``file.tsv:100:``
  (rich would print an emoji) and ``[B-PER]`` in a value is not eaten as a style tag.
* An error is one line on stderr, ``error: <message>``, and a non-zero exit; no traceback for bad
  input, missing files or unknown names.
* A table on a terminal is a rich table whose number columns are never wrapped or cut; anywhere else
  (a pipe, a file, a log, a test runner) it is plain text: a title, then whitespace-aligned columns at
  full width, so ``grep`` and ``awk`` work and nothing depends on a terminal width.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text


SHORT_LABEL = 16


def console(stderr: bool = False) -> Console:
    """A console that prints text verbatim (no markup, no emoji codes, no highlighting)."""
    return Console(stderr=stderr, markup=False, emoji=False, highlight=False)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: <message>`` (one line, verbatim) on stderr and exit with ``code``."""
    typer.echo(f"error: {' '.join(str(message).split(chr(10)))}", err=True)
    raise typer.Exit(code)


def _plain(cell: Any) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def _is_number(text: str) -> bool:
    t = text.replace(",", "").replace("%", "").replace("±", "").replace(" ", "").lstrip("+-")
    return bool(t) and t.replace(".", "", 1).isdigit()


def plain_table(table: Table) -> str:
    """``table`` as aligned plain text: title, header, rows; numbers right-aligned, nothing cut."""
    headers = [_plain(c.header) for c in table.columns]
    columns = [[_plain(cell) for cell in c.cells] for c in table.columns]
    rows = list(zip(*columns)) if columns else []
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    numeric = [bool(col) and all(_is_number(v) or v in ("", "–", "-") for v in col) for col in columns]

    def line(values: list[str] | tuple[str, ...]) -> str:
        cells = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)]
        return "  ".join(cells).rstrip()

    out = [_plain(table.title)] if table.title else []
    out += [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    if table.caption:
        out.append(_plain(table.caption))
    return "\n".join(out)


def print_table(table: Table, out: Console | None = None) -> None:
    """Print ``table``: rich on a terminal (numbers never wrapped or cut), plain text elsewhere."""
    out = out or console()
    if not out.is_terminal or _needed_width(table) > out.width:
        # Off a terminal, or a terminal too narrow for whole cells: plain lines, never cropped
        # (a terminal wraps a long line; rich would cut the rightmost columns instead).
        out.file.write(plain_table(table) + "\n")
        out.file.flush()
        return
    for column in table.columns:
        cells = [_plain(c) for c in column.cells]
        numeric = bool(cells) and all(_is_number(v) or v in ("", "–", "-") for v in cells)
        widest = max((len(v) for v in cells), default=0)
        if numeric or widest <= SHORT_LABEL:  # numbers and short labels are never cut or wrapped
            column.no_wrap = True
            column.overflow = "ignore"
            column.min_width = max(widest, *(len(w) for w in _plain(column.header).split()), 1)
            if numeric:
                column.justify = "right"
    out.print(table)


def _needed_width(table: Table) -> int:
    """Columns at their widest cell (header words may wrap) plus borders and padding."""
    widths = [max([*(len(_plain(c)) for c in col.cells),
                   *(len(w) for w in _plain(col.header).split()), 1]) for col in table.columns]
    return sum(widths) + 3 * len(widths) + 1


def stdout_is_terminal() -> bool:
    """Whether stdout is an interactive terminal (progress bars) or not (progress in log lines)."""
    return sys.stdout.isatty()
