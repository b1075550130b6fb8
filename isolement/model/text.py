"""Text from outside isolement, made safe to show: device answers, names and reasons read back
from the journal, the operator's name from the environment.

A terminal runs the escape sequences it is given (ESC, the C1 CSI U+009B, OSC ... BEL: clear
the screen, retitle the window, redraw a line); U+0085, U+2028 and U+2029 break a line where no
one expects it; bidi overrides, embeddings, isolates and marks reorder what an investigator
reads. `shown` replaces each such character by its visible escape (`\\x1b`, `\\u202e`, the way
Python's repr writes it), so nothing acts and nothing is hidden. Every sink uses it: the terminal,
Markdown, HTML and CSV; `escape_json` does the same, losslessly, for JSON. The journal keeps the
exact characters: it is the evidence.

What is escaped: the Unicode categories Cc (C0, DEL, C1), Cf (format: bidi controls, zero-width
characters, tags, soft hyphen), Zl and Zp (line and paragraph separators), Cs (lone surrogates)
and Cn (unassigned). Letters, marks, symbols, spaces and private-use characters are shown as
they are.
"""

from __future__ import annotations

import re
import unicodedata

_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Cn"})
# Where a format shows device output over several lines, these two keep their meaning.
_LINE_CHARACTERS = "\n\t"
_SHORT = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def is_unsafe(char: str) -> bool:
    """Whether this character acts on a terminal or changes how the text around it reads."""
    return unicodedata.category(char) in _UNSAFE_CATEGORIES


def escape(char: str) -> str:
    """`\\x1b`, `\\u202e`, `\\U000e0041`: the character written so that it can be read."""
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def shown(value: object, *, lines: bool = False) -> str:
    """`value` as text that can be shown anywhere: every unsafe character replaced by its
    escape. With `lines`, line feeds and tabs are kept (multi-line device output on a terminal)
    and a CRLF counts as one line feed; a lone CR is escaped (it would overwrite the line)."""
    text = "" if value is None else str(value)
    if lines:
        text = text.replace("\r\n", "\n")
    if text.isprintable():  # the common case, in C: nothing to escape
        return text
    keep = _LINE_CHARACTERS if lines else ""
    return "".join(
        char if char in keep or char.isprintable() or not is_unsafe(char) else escape(char)
        for char in text
    )


def first_unsafe(text: str) -> tuple[int, str] | None:
    """(position, character) of the first unsafe character in `text`, or None."""
    if text.isprintable():
        return None
    for position, char in enumerate(text):
        if is_unsafe(char):
            return position, char
    return None


def describe(char: str) -> str:
    """`U+202E RIGHT-TO-LEFT OVERRIDE`: how an error message names a character."""
    name = unicodedata.name(char, "")
    if not name:
        name = "a control character" if unicodedata.category(char) == "Cc" else "unnamed"
    return f"U+{ord(char):04X} {name}"


def _json_escape(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, as JSON writes a character beyond the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


# The unsafe characters an ASCII text can hold (category Cc), the indentation's line feed apart.
_ASCII_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f]")


def escape_json(document: str) -> str:
    """A JSON document with every unsafe character written as its \\u escape: safe to print,
    and it loads back to exactly the same values. (Outside its strings a JSON document holds
    only ASCII punctuation and the line feeds of its indentation, which are kept.)"""
    if document.isprintable():
        return document
    if document.isascii() and not _ASCII_CONTROLS.search(document):
        return document  # the usual case, in one pass of the regex engine: no control but \n
    # Line by line: an indented document is never printable as a whole (its line feeds), and
    # looking at each of its characters in Python took 5 s for a 5000-step plan.
    return "\n".join(
        line
        if line.isprintable()
        else "".join(
            _json_escape(char) if not char.isprintable() and is_unsafe(char) else char
            for char in line
        )
        for line in document.split("\n")
    )
