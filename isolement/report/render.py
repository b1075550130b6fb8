"""A report written out: Markdown and one self-contained HTML page from the templates in
report/templates/ (both fed the same section list, report/sections.py), structured JSON and a
CSV timeline from code, and the lines `journal show` prints.

Everything that comes from the journal is untrusted text. Both templates are autoescaped: each
value goes through `shown` (control and bidi characters as visible escapes), then through its
format's escaping (HTML entities; Markdown punctuation), unless it is markup the template made
itself. JSON keeps the exact text with such characters as \\u escapes; CSV cells are shown text
with a spreadsheet's formula prefixes defused. The HTML page loads nothing: no script, no font,
no image, no link, and a Content-Security-Policy that forbids them anyway.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from markupsafe import Markup

from isolement.model.text import escape_json, shown
from isolement.report.extract import timeline
from isolement.report.model import IncidentReport, human_time
from isolement.report.records import parse
from isolement.report.sections import page

if TYPE_CHECKING:
    import jinja2

# --- the page formats ------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|!#~&{}])")


def md(value: object) -> str:
    """Untrusted text as inert Markdown on one line: control characters and line breaks shown as
    escapes, punctuation that could make a link, an image, raw HTML, emphasis or a table cell
    backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\1", shown(value))


class _Markdown:
    """A value as markupsafe's escape() sees it: its `__html__` is its Markdown-safe text, so
    the Markdown template is autoescaped for Markdown with Jinja's own machinery."""

    def __init__(self, value: object):
        self.value = value

    def __html__(self) -> str:
        return md(self.value)


def _html_value(value: object) -> object:
    return value if isinstance(value, Markup) else shown(value)


def _markdown_value(value: object) -> object:
    return value if isinstance(value, Markup) else _Markdown(value)


@cache
def _environment(finalize: Callable[[object], object]) -> jinja2.Environment:
    import jinja2  # for the HTML report only, not at every command's start

    return jinja2.Environment(
        loader=jinja2.PackageLoader("isolement.report", "templates"),
        autoescape=True,
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _css() -> Markup:
    css = resources.files("isolement.report").joinpath("templates/report.css").read_text()
    return Markup(css)  # noqa: S704 (our own stylesheet, shipped with the package: not input)


def to_html(report: IncidentReport, site_map: str = "") -> str:
    """One self-contained page: inline CSS, nothing loaded from anywhere, prints on A4;
    `site_map` the links as recorded, drawn by report/map.py (inline SVG, every text in it
    escaped there)."""
    template = _environment(_html_value).get_template("report.html.j2")
    drawn = Markup(site_map)  # noqa: S704 (report/map.py's own SVG: its texts are escaped)
    return template.render(page=page(report), css=_css(), site_map=drawn)


def to_markdown(report: IncidentReport) -> str:
    template = _environment(_markdown_value).get_template("report.md.j2")
    return template.render(page=page(report))


# --- JSON and CSV ----------------------------------------------------------------------------


def to_json(report: IncidentReport) -> str:
    """The report as one structured JSON document (all fields, full hashes, the exact text)."""
    data = dataclasses.asdict(report)
    data["chain"]["intact"] = report.chain.intact
    data["format"] = "isolement-incident-report/1"
    return escape_json(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


CSV_COLUMNS = ("ts", "seq", "event", "run", "playbook", "device", "operator", "detail")
# A cell starting with one of these is a formula to a spreadsheet; journal text is untrusted.
_FORMULA_START = ("=", "+", "-", "@")


def _csv_cell(value: object) -> str:
    text = shown(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(report: IncidentReport) -> str:
    """The timeline, one row per record, each cell shown text on one line. Cells that a
    spreadsheet would run as a formula get a leading apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for e in report.timeline:
        writer.writerow(
            [
                _csv_cell(v)
                for v in (e.ts, e.seq, e.event, e.run, e.playbook, e.device, e.operator, e.detail)
            ]
        )
    return out.getvalue()


FORMATS: dict[str, Callable[[IncidentReport], str]] = {
    "md": to_markdown,
    "html": to_html,
    "json": to_json,
    "csv": to_csv,
}


# --- the terminal ----------------------------------------------------------------------------


def timeline_text(records: Sequence[Mapping[str, object]]) -> str:
    """The lines `journal show` prints, one per record."""
    return "\n".join(
        f"{human_time(e.ts)}  {shown(e.event):<15} {shown(e.who) or '-'}: {shown(e.detail)}"
        for e in timeline([parse(r) for r in records])
    )
