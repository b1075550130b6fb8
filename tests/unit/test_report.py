"""Reports read from the journal: what the crisis cell and investigators are handed.

The sample journal (tests/data/journal/lab-cut-restore.jsonl) is a real lab run: 13 runs of
cut-all / cut-internet and their restores, 136 records. The expected values are recomputed here
from the raw records, independently of isolement.report.incident, wherever they can be.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
import stat
import struct
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from isolement.journal.store import Journal, read_records, verify_chain
from isolement.report import incident as R

SAMPLE = Path(__file__).parent.parent / "data" / "journal" / "lab-cut-restore.jsonl"
MALICIOUS = "<img src=x onerror=alert(1)>"
GENERATED = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def raw_records(path: Path = SAMPLE) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def ts(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def sample() -> R.IncidentReport:
    return R.report_from_journal(SAMPLE, generated_at=GENERATED)


# --- crafted journals, written by the real journal writer ------------------------------------

WAN = {"interface": "wan-h1", "link": "wan-dc-h1", "method": "shutdown"}
WAN_H1 = {"interface": "wan-dc", "link": "wan-dc-h1", "method": "shutdown"}
INET = {"interface": "out0", "link": "inet-dc", "method": "deny"}


def write_run(
    journal: Journal,
    run: str,
    direction: str,
    changes: dict[str, list[dict[str, str]]],
    *,
    playbook: str = "cut-intersite",
    operator: str = "alice",
    reason: str = "ransomware at h1",
    approved_by: str | None = None,
    failed: dict[str, str] | None = None,
    finish: bool = True,
) -> None:
    """One run as containment writes it: decision, per device intent then outcome, end."""
    common: dict[str, Any] = {"run": run, "playbook": playbook, "parameters": {}}
    decision: dict[str, Any] = {"operator": operator, "reason": reason}
    if approved_by is not None:
        decision["approved_by"] = approved_by
    journal.record(
        "run.started",
        **common,
        **decision,
        direction=direction,
        plan="ab" * 32,
        inventory="crafted",
        controller="cell",
        waves=[sorted(changes)],
        preflight_failed={},
        inferred={},
    )
    failed = failed or {}
    for device, device_changes in changes.items():
        journal.record(
            "change.intent",
            **common,
            device=device,
            direction=direction,
            attempt=1,
            changes=device_changes,
            commands=["..."],
        )
        if device in failed:
            journal.record(
                "change.failed",
                **common,
                device=device,
                direction=direction,
                attempt=1,
                changes=device_changes,
                error=failed[device],
            )
            continue
        if not finish:
            return  # killed with this change in flight
        journal.record(
            "change.applied",
            **common,
            device=device,
            direction=direction,
            attempt=1,
            changes=device_changes,
            commands=["..."],
            output="ok",
            before={},
            after={},
            confirmed=device_changes,
            duration_s=0.2,
        )
    journal.record(
        "run.finished",
        **common,
        direction=direction,
        outcome="partial" if failed else "done",
        still_open={"wan-dc-h1": "dc-rtr: timeout"} if failed else {},
        failed=failed,
        interrupted=False,
        duration_s=1.5,
    )


@pytest.fixture
def ends_cut(tmp_path: Path) -> Path:
    """A cut, a restore, then a second cut that is never restored."""
    path = tmp_path / "ends-cut.jsonl"
    with Journal(path) as journal:
        write_run(journal, "run1", "cut", {"dc-rtr": [WAN], "dc-fw": [INET]})
        write_run(
            journal,
            "run2",
            "restore",
            {"dc-rtr": [WAN], "dc-fw": [INET]},
            approved_by="Dr Martin",
            reason="doubt lifted",
        )
        write_run(journal, "run3", "cut", {"dc-rtr": [WAN]})
    return path


# --- the sample: timeline, decisions, time to contain, what is still cut ---------------------


def test_timeline_has_one_entry_per_record_in_journal_order(sample: R.IncidentReport) -> None:
    raw = raw_records()
    assert len(raw) == 136
    assert len(sample.timeline) == len(raw)
    assert [e.seq for e in sample.timeline] == [r["seq"] for r in raw]
    assert [(e.event, e.ts, e.device) for e in sample.timeline] == [
        (r["event"], r["ts"], r.get("device", "")) for r in raw
    ]
    assert sample.records == 136


def test_decisions_are_the_run_started_records_with_who_why_and_plan(
    sample: R.IncidentReport,
) -> None:
    started = [r for r in raw_records() if r["event"] == "run.started"]
    assert [
        (d.run, d.operator, d.reason, d.approved_by, d.playbook, d.direction, d.plan)
        for d in sample.decisions
    ] == [
        (
            r["run"],
            r["operator"],
            r["reason"],
            r.get("approved_by"),
            r["playbook"],
            r["direction"],
            r["plan"],
        )
        for r in started
    ]
    # What the lab run actually says: root cut with reason "t", restored on "a"'s approval, "b".
    assert {d.operator for d in sample.decisions} == {"root"}
    assert {(d.direction, d.reason, d.approved_by) for d in sample.decisions} == {
        ("cut", "t", None),
        ("restore", "b", "a"),
    }
    first_restore = next(d for d in sample.decisions if d.direction == "restore")
    assert first_restore.preflight_failed.keys() == {"h2-fw"}


def test_time_to_contain_is_decision_to_last_confirmed_change(sample: R.IncidentReport) -> None:
    raw = raw_records()
    expected = {}
    for started in (r for r in raw if r["event"] == "run.started" and r["direction"] == "cut"):
        applied = [r for r in raw if r["event"] == "change.applied" and r["run"] == started["run"]]
        finished = next(
            r for r in raw if r["event"] == "run.finished" and r["run"] == started["run"]
        )
        span = (
            round((ts(applied[-1]["ts"]) - ts(started["ts"])).total_seconds(), 3)
            if applied
            else None
        )
        expected[started["run"]] = (span, finished["duration_s"], finished["outcome"])

    assert {
        c.run: (c.time_to_contain_s, c.run_duration_s, c.outcome) for c in sample.containment
    } == (expected)
    # The first containment of the sample: decided 14:19:03.529248, last change 14:19:04.248567.
    first = sample.containment[0]
    assert (first.run, first.time_to_contain_s, first.changes_confirmed) == (
        "191fb81e6603",
        0.719,
        7,
    )
    assert "0.719 s" in sample.summary.time_to_contain


def test_sample_ends_with_every_cut_restored(sample: R.IncidentReport) -> None:
    # Independently: the last confirmed change of every interface the sample touched.
    last: dict[tuple[str, str], str] = {}
    for r in raw_records():
        if r["event"] == "change.applied":
            for change in r["confirmed"]:
                last[(r["device"], change["interface"])] = r["direction"]
    assert len(last) == 7
    assert set(last.values()) == {"restore"}

    assert sample.still_cut == []
    assert sample.summary.status == "reconnected"
    assert len(sample.cuts) == 21  # three cut runs of 7 interfaces, each reopened
    assert all(e.restored_at is not None for e in sample.cuts)
    assert [r.approved_by for r in sample.reconnections] == ["a"] * 4
    assert sample.errors == []
    # An old journal with no anchor: consistent, never called intact.
    assert (sample.chain.checked, sample.chain.good, sample.chain.problem) == (True, 136, None)
    assert sample.chain.verdict == "not-anchored" and not sample.chain.intact


def test_journal_ending_after_a_cut_reports_what_is_still_cut(ends_cut: Path) -> None:
    report = R.report_from_journal(ends_cut)

    assert [e.label() for e in report.still_cut] == ["dc-rtr wan-h1 (link wan-dc-h1, shutdown)"]
    assert report.still_cut[0].cut_run == "run3"
    assert report.summary.status == "cut"
    assert report.summary.headline.startswith("CUT: 1 interface still cut")
    restored = [e for e in report.cuts if not e.still_cut]
    assert {(e.device, e.restored_run) for e in restored} == {("dc-rtr", "run2"), ("dc-fw", "run2")}
    assert report.reconnections[0].approved_by == "Dr Martin"
    assert report.reconnections[0].reason == "doubt lifted"


def test_failed_change_is_an_error_and_not_a_cut(tmp_path: Path) -> None:
    path = tmp_path / "failed.jsonl"
    with Journal(path) as journal:
        write_run(
            journal,
            "run1",
            "cut",
            {"dc-rtr": [WAN], "h1-rtr": [WAN_H1]},
            failed={"dc-rtr": "no answer from 198.18.0.1:22"},
        )
    report = R.report_from_journal(path)

    assert [(e.event, e.device, e.error) for e in report.errors] == [
        ("change.failed", "dc-rtr", "no answer from 198.18.0.1:22")
    ]
    assert [e.device for e in report.still_cut] == ["h1-rtr"]
    assert report.containment[0].outcome == "partial"
    assert report.summary.status == "attention"


def test_change_intended_but_never_concluded_is_reported_as_unconfirmed(tmp_path: Path) -> None:
    path = tmp_path / "killed.jsonl"
    with Journal(path) as journal:
        write_run(journal, "run1", "cut", {"dc-rtr": [WAN]}, finish=False)
    report = R.report_from_journal(path)

    assert [(u.device, u.changes) for u in report.unconfirmed] == [
        ("dc-rtr", ["wan-h1 (link wan-dc-h1, shutdown)"])
    ]
    assert report.still_cut == []  # not confirmed, so not counted as cut...
    assert report.decisions[0].outcome is None  # ...and the run has no end
    assert "no end recorded" in report.summary.headline


def test_altered_journal_is_reported_not_intact(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    text = SAMPLE.read_text(encoding="utf-8")
    assert text.count('"reason": "t"') == 9
    path.write_text(text.replace('"reason": "t"', '"reason": "x"', 1), encoding="utf-8")
    report = R.report_from_journal(path)

    assert report.chain.intact is False
    assert report.chain.problem is not None
    assert report.chain.problem.startswith("line 1 (seq 1)")
    assert "JOURNAL NOT INTACT" in report.summary.headline
    assert "NOT INTACT" in R.to_html(report)


def test_torn_last_line_is_counted_and_left_out(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text(SAMPLE.read_text(encoding="utf-8") + '{"event": "run.sta', encoding="utf-8")
    report = R.report_from_journal(path)

    assert (report.records, report.torn_lines) == (136, 1)
    assert report.chain.good == 136
    assert report.chain.problem is not None and "torn" in report.chain.problem


# --- filters ---------------------------------------------------------------------------------


def test_filter_by_device_keeps_its_records_and_the_decisions_of_its_runs() -> None:
    records = R.dict_records(read_records(SAMPLE))
    shown = R.filter_records(records, R.Filters(device="h2-fw"))

    raw = raw_records()
    own = [r for r in raw if r.get("device") == "h2-fw"]
    runs = {r["run"] for r in own} | {
        r["run"]
        for r in raw
        if r["event"] == "run.started"
        and (
            any("h2-fw" in wave for wave in r["waves"])
            or "h2-fw" in r["preflight_failed"]
            or "h2-fw" in r["inferred"]  # its state was inferred: the run concerns it
        )
    }
    assert [r["seq"] for r in shown if "device" in r] == [r["seq"] for r in own]
    assert {r["run"] for r in shown if r["event"] == "run.started"} == runs
    assert all(r.get("device", "h2-fw") == "h2-fw" for r in shown)

    report = R.build_report(records, filters=R.Filters(device="h2-fw"))
    assert {e.device for e in report.cuts} == {"h2-fw"}
    assert len(report.cuts) == 3
    assert report.filters == "device h2-fw"


def test_filter_by_playbook() -> None:
    records = R.dict_records(read_records(SAMPLE))
    report = R.build_report(records, filters=R.Filters(playbook="cut-internet"))

    expected = [r for r in raw_records() if r["playbook"] == "cut-internet"]
    assert len(report.timeline) == len(expected) == 8  # two runs: start, 2 reads, end
    assert [d.run for d in report.decisions] == ["b5df1b814fba", "215eb4c79d11"]
    assert {e.playbook for e in report.timeline} == {"cut-internet"}
    assert report.cuts == []  # cut-all had already cut the internet exits


def test_filter_by_time_window() -> None:
    since = datetime(2026, 11, 23, 14, 19, 49, tzinfo=UTC)
    until = datetime(2026, 11, 23, 14, 19, 53, tzinfo=UTC)
    records = R.dict_records(read_records(SAMPLE))
    shown = R.filter_records(records, R.Filters(since=since, until=until))

    expected = [r["seq"] for r in raw_records() if since <= ts(r["ts"]) <= until]
    assert [r["seq"] for r in shown] == expected
    assert {r["run"] for r in shown} == {"853583b7945e", "881e8f052b19"}  # the first restore


def test_naive_datetimes_are_taken_as_utc() -> None:
    records = R.dict_records(read_records(SAMPLE))
    aware = R.Filters(since=datetime(2026, 11, 23, 14, 19, 49, tzinfo=UTC))
    naive = R.Filters(since=datetime(2026, 11, 23, 14, 19, 49))
    assert R.filter_records(records, naive) == R.filter_records(records, aware)


def test_still_cut_is_the_truth_at_the_end_of_the_window() -> None:
    first_end = next(r for r in raw_records() if r["event"] == "run.finished")
    until = ts(first_end["ts"])
    confirmed = {
        (r["device"], c["interface"])
        for r in raw_records()
        if r["event"] == "change.applied" and r["run"] == first_end["run"]
        for c in r["confirmed"]
    }
    records = R.dict_records(read_records(SAMPLE))

    report = R.build_report(records, filters=R.Filters(until=until))
    assert {(e.device, e.interface) for e in report.still_cut} == confirmed
    assert len(confirmed) == 7

    # A window that starts after the cut still knows it is cut at its end.
    later = R.build_report(records, filters=R.Filters(since=until, until=until))
    assert {(e.device, e.interface) for e in later.still_cut} == confirmed


def test_show_lines_are_the_filtered_timeline() -> None:
    records = R.dict_records(read_records(SAMPLE))
    lines = R.timeline_text(R.filter_records(records, R.Filters(device="dc-rtr"))).splitlines()
    own = [r for r in raw_records() if r.get("device") == "dc-rtr"]
    assert sum(" dc-rtr: " in line for line in lines) == len(own)
    assert lines[0].startswith("2026-11-23 14:19:03.529  run.started     root: decision: cut")


# --- renderers -------------------------------------------------------------------------------


@pytest.fixture
def malicious(tmp_path: Path) -> R.IncidentReport:
    path = tmp_path / "malicious.jsonl"
    with Journal(path) as journal:
        write_run(
            journal,
            "run1",
            "cut",
            {"dc-rtr": [WAN]},
            operator='mallory"><script>alert(2)</script>',
            reason=MALICIOUS,
        )
        write_run(
            journal,
            "run2",
            "restore",
            {"dc-rtr": [WAN]},
            operator="=2+5",  # a formula to a spreadsheet
            approved_by='=HYPERLINK("x")|[a](javascript:alert(3))',
            reason="`code` *bold* | pipe",
        )
    return R.report_from_journal(path)


def test_html_is_self_contained(sample: R.IncidentReport) -> None:
    page = R.to_html(sample)
    lowered = page.lower()
    assert lowered.startswith("<!doctype html>")
    assert "<script" not in lowered
    assert "http://" not in lowered
    assert "https://" not in lowered
    assert not re.search(r"\b(src|href|srcset|action)\s*=", lowered)
    assert "@import" not in lowered and "url(" not in lowered
    assert "@media print" in page and "page-break-inside: avoid" in page and "size: A4" in page
    assert "default-src 'none'" in page


def test_html_escapes_text_from_the_journal(malicious: R.IncidentReport) -> None:
    page = R.to_html(malicious)
    assert MALICIOUS not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script" not in page.lower()
    # The quote is escaped too (which entity is the escaper's choice): it cannot end an
    # attribute, and the text reads back as typed.
    assert 'mallory"' not in page
    assert 'mallory"><script>alert(2)</script>' in html.unescape(page)


def test_html_has_the_summary_and_every_section(sample: R.IncidentReport) -> None:
    page = R.to_html(sample)
    for anchor in ("summary", "decisions", "containment", "cuts", "reconnections", "errors"):
        assert f'id="{anchor}"' in page
    timeline = page[page.index('id="timeline"') :]
    assert timeline.count("<tr>") == 1 + 136  # header row + one per record
    assert "RECONNECTED: nothing isolement cut is still cut" in page
    assert "not anchored" in page and "136 records chain correctly" in page


def test_markdown_has_the_timeline_and_escapes(
    sample: R.IncidentReport, malicious: R.IncidentReport
) -> None:
    text = R.to_markdown(sample)
    timeline = text[text.index("## Timeline") :].splitlines()
    rows = [line for line in timeline if line.startswith("| 2026-")]
    assert len(rows) == 136
    for entry, row in zip(sample.timeline, rows, strict=True):
        assert f"| {entry.seq} | {entry.event} |" in row

    evil = R.to_markdown(malicious)
    assert not re.search(r"(?<!\\)<", evil)  # every < is backslash-escaped
    assert r"\<img src=x onerror=alert(1)\>" in evil
    assert r"\[a\](javascript:alert(3))" in evil  # not a link any more
    assert r"\`code\` \*bold\* \| pipe" in evil


def test_csv_is_the_timeline_and_parses_back(
    sample: R.IncidentReport, malicious: R.IncidentReport
) -> None:
    rows = list(csv.reader(io.StringIO(R.to_csv(sample))))
    assert rows[0] == ["ts", "seq", "event", "run", "playbook", "device", "operator", "detail"]
    assert len(rows) == 1 + 136
    assert [row[1] for row in rows[1:]] == [str(r["seq"]) for r in raw_records()]
    assert [row[0] for row in rows[1:]] == [r["ts"] for r in raw_records()]
    assert {row[6] for row in rows[1:]} == {"root"}  # each record names its run's operator

    evil = list(csv.DictReader(io.StringIO(R.to_csv(malicious))))
    restore = next(row for row in evil if row["event"] == "run.started" and row["run"] == "run2")
    assert "approved by =HYPERLINK" in restore["detail"]  # inside the text: harmless
    assert {row["operator"] for row in evil if row["run"] == "run2"} == {"'=2+5"}
    cells = [cell for row in evil for cell in row.values()]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)


def test_json_is_the_structured_report(sample: R.IncidentReport) -> None:
    data = json.loads(R.to_json(sample))
    assert data["format"] == "isolement-incident-report/1"
    assert len(data["timeline"]) == 136
    chain = {k: data["chain"][k] for k in ("checked", "good", "problem", "verdict", "intact")}
    assert chain == {
        "checked": True,
        "good": 136,
        "problem": None,
        "verdict": "not-anchored",
        "intact": False,
    }
    assert data["containment"][0]["time_to_contain_s"] == 0.719
    assert data["still_cut"] == []
    assert data["last_hash"] == raw_records()[-1]["hash"]
    assert data["generated_at"] == "2026-11-24T09:00:00+00:00"


def test_report_of_an_empty_journal(tmp_path: Path) -> None:
    report = R.report_from_journal(tmp_path / "none.jsonl")
    assert report.summary.headline == "NO CUT RECORDED"
    assert verify_chain(tmp_path / "none.jsonl") == (0, None)
    for render in (R.to_html, R.to_markdown, R.to_csv, R.to_json):
        assert render(report)


def test_time_arguments_are_utc_unless_told_otherwise() -> None:
    utc = datetime(2026, 11, 23, 14, 19, tzinfo=UTC)
    assert R.parse_moment("2026-11-23T14:19:00Z") == utc
    assert R.parse_moment("2026-11-23 14:19") == utc
    assert R.parse_moment("2026-11-23T15:19+01:00") == utc
    assert R.parse_moment("2026-11-23") == datetime(2026, 11, 23, tzinfo=UTC)
    with pytest.raises(ValueError, match="ISO 8601"):
        R.parse_moment("yesterday")


def test_export_is_written_owner_only(tmp_path: Path, sample: R.IncidentReport) -> None:
    path = tmp_path / "report.csv"
    R.write_export(path, R.FORMATS["csv"](sample))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().decode("utf-8") == R.to_csv(sample)


# --- rendered by a real browser --------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (Debian package: chromium; apt-get install -y chromium)",
)


def chromium(tmp_path: Path, page: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    profile = tmp_path / "profile"
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *extra,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=tmp_path,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )


def write_page(tmp_path: Path, report: R.IncidentReport) -> Path:
    page = tmp_path / "report.html"
    page.write_text(R.to_html(report), encoding="utf-8")
    return page


def text_of(dom: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))


@needs_chromium
def test_browser_shows_the_summary_and_every_timeline_row(
    tmp_path: Path, sample: R.IncidentReport
) -> None:
    dom = chromium(tmp_path, write_page(tmp_path, sample), "--dump-dom").stdout
    summary = text_of(dom[dom.index('id="summary"') : dom.index('id="decisions"')])
    assert "RECONNECTED: nothing isolement cut is still cut" in summary
    assert "0.719 s from decision to last confirmed change" in summary
    assert "not anchored" in summary and "136 records chain correctly" in summary
    timeline = dom[dom.index('id="timeline"') :]
    assert len(re.findall(r"<tr[ >]", timeline)) == 1 + 136
    assert "2026-11-23 14:20:34.889" in timeline  # the last record


@needs_chromium
def test_browser_renders_malicious_text_as_text(
    tmp_path: Path, malicious: R.IncidentReport
) -> None:
    dom = chromium(tmp_path, write_page(tmp_path, malicious), "--dump-dom").stdout
    assert "<img" not in dom and "<script" not in dom
    assert "&lt;img src=x onerror=alert(1)&gt;" in dom


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@needs_chromium
def test_browser_screenshot(tmp_path: Path, sample: R.IncidentReport) -> None:
    shot = tmp_path / "report.png"
    chromium(
        tmp_path,
        write_page(tmp_path, sample),
        f"--screenshot={shot}",
        "--window-size=1280,1800",
        "--hide-scrollbars",
    )
    assert png_size(shot) == (1280, 1800)
    assert shot.stat().st_size > 50_000  # text, tables and colour, not a blank page


@needs_chromium
def test_browser_prints_to_pdf(tmp_path: Path, sample: R.IncidentReport) -> None:
    pdf = tmp_path / "report.pdf"
    chromium(
        tmp_path, write_page(tmp_path, sample), f"--print-to-pdf={pdf}", "--no-pdf-header-footer"
    )
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert len(data) > 50_000
    pages = re.findall(rb"/Type\s*/Page\b(?!s)", data)
    assert len(pages) >= 3  # 136 timeline rows do not fit one A4 page
