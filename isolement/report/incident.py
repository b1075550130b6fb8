"""Reports for the crisis cell and for investigators, read from the journal: the names the
command line and the tests use.

The parts: report/records.py parses each journal record once, typed; report/extract.py reads the
report's content (report/model.py) out of them; report/sections.py lays it out as the one list of
sections both page formats show; report/render.py writes Markdown and HTML through the templates
in report/templates/, and JSON and CSV from code. The journal stays the evidence; a report is
one reading of it, and says which journal it read, which records (filters), and whether the
chain was intact.
"""

from __future__ import annotations

from pathlib import Path

from isolement.journal.files import replace_file
from isolement.report.extract import build_report, dict_records, filter_records, report_from_journal
from isolement.report.model import (
    ChainStatus,
    Containment,
    CutEpisode,
    Decision,
    ErrorEntry,
    Filters,
    IncidentReport,
    Reconnection,
    Summary,
    TimelineEntry,
    Unconfirmed,
    human_time,
    parse_moment,
    parse_ts,
)
from isolement.report.render import FORMATS, timeline_text, to_csv, to_html, to_json, to_markdown

__all__ = [
    "FORMATS",
    "ChainStatus",
    "Containment",
    "CutEpisode",
    "Decision",
    "ErrorEntry",
    "Filters",
    "IncidentReport",
    "Reconnection",
    "Summary",
    "TimelineEntry",
    "Unconfirmed",
    "build_report",
    "dict_records",
    "filter_records",
    "human_time",
    "parse_moment",
    "parse_ts",
    "report_from_journal",
    "timeline_text",
    "to_csv",
    "to_html",
    "to_json",
    "to_markdown",
    "write_export",
]


def write_export(path: Path, text: str) -> None:
    """Write a report for handing over: owner-only (it names people, devices and addresses),
    flushed to disk before a signature is made over it, and never through a symbolic link
    (journal.files.replace_file: an atomic replace of a plain file only)."""
    replace_file(path, text.encode("utf-8"), mode=0o600)
