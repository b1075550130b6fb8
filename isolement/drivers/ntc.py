"""Parsing show output with ntc-templates (TextFSM), shared by the drivers that use it.

The community templates follow each platform's column layout across releases better than a
hand-written regex would. A template is read once per process and compiled per call:
ntc-templates' own `parse_output` rebuilds its whole template index on every call (2 ms idle,
8 ms on a busy 2-core machine, against 0.3 ms here), which showed in the profile of a
200-device cut.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

import textfsm  # type: ignore[import-untyped]
from ntc_templates.parse import _get_template_dir

from isolement.model.errors import UnexpectedOutput

# What a template raises on output it cannot follow (a line no state accepts).
TemplateError = textfsm.TextFSMError


@functools.cache
def _template_text(name: str) -> str:
    """A template's text, read once per process from ntc-templates' template directory (the
    one `parse_output` would use, `NTC_TEMPLATES_DIR` included)."""
    return (Path(_get_template_dir()) / name).read_text(encoding="utf-8")


def parse(template: str, output: str) -> list[dict[str, str]]:
    """Rows as ntc-templates' `parse_output` returns them: one dict per record, keyed by the
    template's value names in lower case. A new TextFSM per call: its parser is stateful."""
    fsm = textfsm.TextFSM(io.StringIO(_template_text(template)))
    header = [str(name).lower() for name in fsm.header]
    return [dict(zip(header, row, strict=True)) for row in fsm.ParseText(output)]


def table(template: str, output: str, command: str) -> list[dict[str, str]]:
    """The rows of a table that must have some: output the template cannot follow (its own
    `-> Error` rules) or that holds no row is refused, naming the command, never read as an
    empty device."""
    try:
        rows = parse(template, output)
    except TemplateError:
        rows = []
    if not rows:
        raise UnexpectedOutput(f"unrecognised {command!r} output: {output.strip()[:80]!r}")
    return rows
