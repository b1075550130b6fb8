"""Constrained string types for everything that ends up inside a device command line.

A value from YAML or the command line that carried a newline, a quote or a semicolon could add
CLI lines of its own on a device; these types refuse it at load time, before any session opens.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from isolement.model.text import describe, first_unsafe

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/@+-]{0,63}")


def check_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a safe name: use letters, digits and _ . : / @ + - "
            "(no spaces, quotes, semicolons or line breaks; at most 64 characters)"
        )
    return value


def check_text(value: str) -> str:
    """One line of text that is shown and journaled as typed: no line break, no control
    character (C0, DEL, C1: a terminal would run them), no invisible formatting character
    (bidi overrides and isolates, zero-width characters: they change what a reader sees)."""
    found = first_unsafe(value)
    if found is not None:
        position, char = found
        # The value itself is not repeated: printing it would run what it carries.
        raise ValueError(
            "line breaks, control characters and invisible formatting characters (bidi "
            f"overrides, zero-width characters) are not allowed here: {describe(char)} at "
            f"character {position + 1}"
        )
    return value


def check_statement(value: str) -> str:
    """A reason or a person's name for the journal: one line, and not blank."""
    if not value.strip():
        raise ValueError("must not be empty: the journal needs it")
    return check_text(value)


# A name used in commands or as an identifier: device, site, link and interface names.
Name = Annotated[str, AfterValidator(check_name)]
# Free text that may be journaled or shown but must stay on one line.
Text = Annotated[str, Field(max_length=500), AfterValidator(check_text)]
