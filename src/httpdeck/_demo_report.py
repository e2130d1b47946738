"""Plain-text rendering for `httpdeck demo`: tables, a progress bar, section titles.

No dependency beyond the standard library; colour only on a terminal.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TextIO


def _tty(out: TextIO) -> bool:
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("NO_COLOR") is None


class Style:
    """ANSI styles, switched off when `out` is not a terminal (or NO_COLOR is set)."""

    def __init__(self, out: TextIO) -> None:
        self.enabled = _tty(out)

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def green(self, text: str) -> str:
        return self._wrap("32", text)

    def red(self, text: str) -> str:
        return self._wrap("31", text)


def section(out: TextIO, number: int, title: str) -> None:
    """`2. Record a cassette` as a heading with a rule under it."""
    heading = f"{number}. {title}"
    out.write(f"\n{Style(out).bold(heading)}\n{'-' * len(heading)}\n")


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, align: str | None = None
) -> str:
    """An ASCII table. `align` has one letter per column: `l` or `r` (default: left)."""
    align = align or "l" * len(headers)
    cells = [list(headers), *([str(cell) for cell in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [
            cell.rjust(width) if side == "r" else cell.ljust(width)
            for cell, width, side in zip(row, widths, align, strict=True)
        ]
        return "| " + " | ".join(parts) + " |"

    rule = "+" + "+".join("-" * (width + 2) for width in widths) + "+"
    body = [line(row) for row in cells[1:]]
    return "\n".join([rule, line(cells[0]), rule, *body, rule])


def indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


class ProgressBar:
    """`[#########...............]  90/200  note`, redrawn in place on a terminal.

    Elsewhere (a pipe, a captured test) only the finished bar is written, so
    logs stay one line per run.
    """

    def __init__(self, out: TextIO, total: int, *, width: int = 32) -> None:
        self.out = out
        self.total = total
        self.width = width
        self.live = _tty(out)
        self._last = ""

    def render(self, done: int, note: str = "") -> str:
        filled = self.width * done // self.total if self.total else self.width
        bar = "#" * filled + "." * (self.width - filled)
        digits = len(str(self.total))
        return f"  [{bar}] {done:>{digits}}/{self.total}  {note}".rstrip()

    def update(self, done: int, note: str = "") -> None:
        self._last = self.render(done, note)
        if self.live:
            self.out.write("\r\x1b[2K" + self._last)
            self.out.flush()

    def finish(self) -> None:
        self.out.write(("\r\x1b[2K" if self.live else "") + self._last + "\n")
