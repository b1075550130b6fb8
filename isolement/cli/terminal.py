"""What the terminal the result goes to can take: its width, and whether colour is wanted.

Colour marks the state words only (cut, open, failed, protected...), on a terminal, unless
NO_COLOR is set (https://no-color.org) or TERM is dumb: a log or a pipe gets the plain text.
Off a terminal there is no width to fit: lists are given whole.
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO

_RESET = "\x1b[0m"
# State words as the reports print them -> SGR codes. Readable on a projector: bold, few hues.
_STYLES = {
    "NOT CONTAINED": "1;97;41",
    "STILL OPEN": "1;97;41",
    "STILL CUT": "1;30;43",
    "CONTAINED": "1;97;42",
    "RESTORED": "1;97;42",
    "FAILED": "1;31",
    "WRONG": "1;31",
    "OPEN": "1;31",
    "REOPENED": "1;31",
    "UNCONFIRMED": "1;33",
    "UNKNOWN": "1;33",
    "UNREACHABLE": "1;33",
    "PARTIAL": "1;33",
    "NOT READY": "1;33",
    "CUT": "1;32",
    "PROTECTED": "1;36",
    "KEPT": "1;36",
}
_WORDS = re.compile(r"\b(" + "|".join(re.escape(w) for w in _STYLES) + r")\b")
# The status column of detail lines: "  ok     r1: ...", "    cut      r1 Gi0/0 ...".
_CELL_STYLES = {
    "ok": "32",
    "cut": "32",
    "open": "31",
    "reopened": "31",
    "unknown": "33",
    "kept": "36",
    "ready": "32",
}
_CELLS = re.compile(r"^(\s+)(" + "|".join(_CELL_STYLES) + r")(?=\s)", re.MULTILINE)


@dataclass(frozen=True)
class Terminal:
    width: int | None = None  # None: not a terminal, nothing to fit
    colour: bool = False

    @classmethod
    def of(cls, stream: IO[str], environ: Mapping[str, str] | None = None) -> Terminal:
        environ = os.environ if environ is None else environ
        try:
            tty = stream.isatty()
        except (AttributeError, ValueError):
            tty = False
        if not tty:
            return cls()
        colour = not environ.get("NO_COLOR") and environ.get("TERM") != "dumb"
        return cls(shutil.get_terminal_size().columns, colour)

    def paint(self, text: str) -> str:
        """The state words coloured, when colour is wanted (after `shown`: the escapes added
        here are the only ones)."""
        if not self.colour:
            return text
        text = _WORDS.sub(lambda m: f"\x1b[{_STYLES[m.group(1)]}m{m.group(1)}{_RESET}", text)
        return _CELLS.sub(
            lambda m: f"{m.group(1)}\x1b[{_CELL_STYLES[m.group(2)]}m{m.group(2)}{_RESET}", text
        )

    def listed(self, names: Sequence[str], used: int = 0, what: str = "--json lists them") -> str:
        """`names` comma-joined, cut to fit the line after `used` columns ("+N more")."""
        whole = ", ".join(names)
        if self.width is None or used + len(whole) <= self.width:
            return whole
        room = self.width - used
        for hint in (f" ({what})", ""):
            for count in range(len(names) - 1, 0, -1):
                line = ", ".join(names[:count]) + f", +{len(names) - count} more{hint}"
                if len(line) <= room:
                    return line
        return f"{len(names)} ({what})"

    def fit(self, text: str) -> str:
        """Each line longer than the terminal wrapped at its words, its indent kept (+4)."""
        if self.width is None:
            return text
        out = []
        for line in text.splitlines():
            if len(line) <= self.width:
                out.append(line)
                continue
            indent = " " * (len(line) - len(line.lstrip()))
            out += textwrap.wrap(
                line,
                self.width,
                subsequent_indent=indent + "    ",
                break_on_hyphens=False,
            ) or [line]
        return "\n".join(out)


# Off a terminal: whole lists, no colour (the default of every renderer).
PLAIN = Terminal()
