"""The report laid out once for every page format: the header facts, the summary and the one
list of sections (decisions, time to contain, what was cut, reconnections, errors, timeline),
each a table of cells made of styled pieces of plain text.

The HTML and Markdown templates (report/templates/) only format this: a section, a column or a
note is added here, once, and both formats show it. Text stays plain here; each template makes
it safe for its format (report/render.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from isolement.report.extract import OK_OUTCOMES, params
from isolement.report.model import CutEpisode, IncidentReport, human_time


@dataclass(frozen=True)
class Piece:
    """A run of text in a cell. `style`: "" (plain), "strong", "mono" (a hash, a run id), "nb"
    (a name kept on one line), "badge good|bad|warn|plain", "ev <class>" (an event name),
    "note" (small print on a line of its own), "line" (starts a new line)."""

    text: str
    style: str = ""


Cell = tuple[Piece, ...]


def cell(text: object, style: str = "") -> Cell:
    return (Piece("" if text is None else str(text), style),)


@dataclass(frozen=True)
class Column:
    label: str
    css: str = ""  # "time", "num", "nowrap": how the column is laid out in HTML


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]
    css: str = ""  # "still-cut": the row stands out
    notes: tuple[str, ...] = ()  # full-width lines under the row


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    long: bool = False  # may break across printed pages

    @property
    def has_notes(self) -> bool:
        return any(row.notes for row in self.rows)


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    table: Table | None  # None: nothing to show, `empty` says so
    empty: str
    remarks: tuple[str, ...] = ()  # paragraphs after the table
    list_title: str = ""  # a list after the table, under this lead-in
    items: tuple[Cell, ...] = ()


@dataclass(frozen=True)
class Page:
    """Everything a page format shows, in order."""

    title: str
    generated: str
    generator: str
    meta: tuple[tuple[str, Cell], ...]
    headline: str
    status: str
    summary: tuple[tuple[str, Cell], ...]
    sections: tuple[Section, ...]


def _time(ts: str | None) -> Cell:
    return cell(human_time(ts), "")


def _outcome(outcome: str | None, notes: Sequence[str] = ()) -> Cell:
    if outcome is None:
        badge = Piece("no end recorded", "badge warn")
    else:
        badge = Piece(outcome, f"badge {'good' if outcome in OK_OUTCOMES else 'bad'}")
    return (badge, *(Piece(n, "note") for n in notes))


def _table(columns: Sequence[Column], rows: Sequence[Row], long: bool = False) -> Table | None:
    return Table(tuple(columns), tuple(rows), long) if rows else None


def _decisions(report: IncidentReport) -> Section:
    rows = []
    for d in report.decisions:
        action: Cell = (
            Piece(d.direction, "strong"),
            Piece(f"{d.playbook}{params(d.parameters)}"),
        )
        if d.stage:
            action += (Piece(f"stage {d.stage}", "line"),)
        notes = tuple(f"pre-flight failed on {k}: {v}" for k, v in d.preflight_failed.items())
        notes += tuple(f"state of {k} inferred: {v}" for k, v in d.inferred.items())
        rows.append(
            Row(
                (
                    _time(d.ts),
                    cell(d.run, "mono"),
                    action,
                    cell(d.operator),
                    cell(d.approved_by or "-"),
                    cell(d.reason),
                    cell(d.plan[:12], "mono"),
                    _outcome(d.outcome),
                ),
                notes=notes,
            )
        )
    columns = (
        Column("Time (UTC)", "time"),
        Column("Run"),
        Column("Action", "nowrap"),
        Column("Decided by"),
        Column("Approved by"),
        Column("Reason", "wide"),
        Column("Plan"),
        Column("Outcome"),
    )
    return Section("decisions", "Decisions", _table(columns, rows), "No run in these records.")


def _dur(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.3f} s"


def _containment(report: IncidentReport) -> Section:
    rows = [
        Row(
            (
                cell(c.run, "mono"),
                cell(c.playbook + params(c.parameters)),
                _time(c.started_at),
                _time(c.last_change_at) if c.last_change_at else cell("nothing sent"),
                cell(_dur(c.time_to_contain_s)),
                cell(_dur(c.run_duration_s)),
                cell(c.changes_confirmed),
                _outcome(c.outcome, [f"still open: {k}: {v}" for k, v in c.still_open.items()]),
            )
        )
        for c in report.containment
    ]
    columns = (
        Column("Run"),
        Column("Playbook"),
        Column("Decided (UTC)", "time"),
        Column("Last confirmed change", "time"),
        Column("Time to contain", "num"),
        Column("Run duration", "num"),
        Column("Changes", "num"),
        Column("Outcome"),
    )
    return Section(
        "containment",
        "Time to contain",
        _table(columns, rows),
        "No cut run in these records.",
        remarks=(
            "Time to contain: from the decision journaled (run.started) to the last change "
            "confirmed on a device. Run duration also counts the logins and state reads before "
            "the decision was journaled.",
        )
        if rows
        else (),
    )


def _now(e: CutEpisode) -> Cell:
    if e.reopened:
        return cell("REOPENED", "badge bad")
    return cell("CUT", "badge bad") if e.still_cut else cell("open", "badge good")


def _cuts(report: IncidentReport) -> Section:
    rows = [
        Row(
            (
                cell(e.device, "nb"),
                cell(e.interface, "nb"),
                cell(e.link, "nb"),
                cell(e.method),
                _time(e.cut_at) if e.cut_at else cell("before these records"),
                cell(e.cut_run or "-", "mono"),
                _time(e.restored_at) if e.restored_at else cell("-"),
                cell(e.restored_run or "-", "mono"),
                _now(e),
            ),
            css="still-cut" if e.still_cut or e.reopened else "",
            notes=tuple(f"Cut gone: {gap.describe()}" for gap in e.gaps),
        )
        for e in report.cuts
    ]
    columns = (
        Column("Device"),
        Column("Interface"),
        Column("Link"),
        Column("Method"),
        Column("Cut (UTC)", "time"),
        Column("Cut by run"),
        Column("Restored (UTC)", "time"),
        Column("Restored by run"),
        Column("Now"),
    )
    items = tuple(
        cell(f"{human_time(u.ts)} {u.device}: {u.direction} {', '.join(u.changes)} (run {u.run})")
        for u in report.unconfirmed
    )
    return Section(
        "cuts",
        "What was cut, and when",
        _table(columns, rows),
        "No cut confirmed in these records.",
        list_title="Intended, outcome not journaled (the change may have happened; check the "
        "device):"
        if items
        else "",
        items=items,
    )


def _reconnections(report: IncidentReport) -> Section:
    rows = []
    for r in report.reconnections:
        playbook: Cell = (Piece(r.playbook + params(r.parameters)),)
        if r.stage:
            playbook += (Piece(f"stage {r.stage}", "line"),)
        reopened: Cell = tuple(
            Piece(x, "nb" if i == 0 else "line nb") for i, x in enumerate(r.reopened)
        ) or (Piece("nothing (already open)"),)
        rows.append(
            Row(
                (
                    _time(r.ts),
                    cell(r.run, "mono"),
                    playbook,
                    cell(r.approved_by or "-"),
                    cell(r.operator),
                    cell(r.reason),
                    reopened,
                    _outcome(r.outcome, [f"still cut: {k}: {v}" for k, v in r.still_open.items()]),
                )
            )
        )
    columns = (
        Column("Time (UTC)", "time"),
        Column("Run"),
        Column("Playbook / stage"),
        Column("Approved by"),
        Column("Operator"),
        Column("Reason"),
        Column("Reopened"),
        Column("Outcome"),
    )
    return Section(
        "reconnections", "Reconnections", _table(columns, rows), "No reconnection in these records."
    )


def _errors(report: IncidentReport) -> Section:
    rows = [
        Row(
            (
                _time(e.ts),
                cell(e.event),
                cell(e.run, "mono"),
                cell(e.device),
                cell(e.attempt if e.attempt is not None else "-"),
                cell(e.error),
            )
        )
        for e in report.errors
    ]
    columns = (
        Column("Time (UTC)", "time"),
        Column("Event"),
        Column("Run"),
        Column("Device"),
        Column("Attempt", "num"),
        Column("Error"),
    )
    return Section("errors", "Errors", _table(columns, rows), "No change failed.")


_EVENT_CLASS = {
    "run.started": "ev-run",
    "run.finished": "ev-run",
    "change.applied": "ev-applied",
    "change.failed": "ev-failed",
    "change.intent": "ev-intent",
    "device.observed": "ev-observed",
}


def _timeline(report: IncidentReport) -> Section:
    rows = [
        Row(
            (
                _time(e.ts),
                cell(e.seq if e.seq is not None else "-"),
                cell(
                    e.event,
                    "ev ev-run"
                    if e.event.startswith("run.")
                    else f"ev {_EVENT_CLASS.get(e.event, '')}",
                ),
                cell(e.run, "mono"),
                cell(e.who or "-"),
                cell(e.detail),
            )
        )
        for e in report.timeline
    ]
    columns = (
        Column("Time (UTC)", "time"),
        Column("Seq", "num"),
        Column("Event"),
        Column("Run"),
        Column("Who / device", "nowrap"),
        Column("What"),
    )
    return Section("timeline", "Timeline", _table(columns, rows, long=True), "No record.")


def _summary(report: IncidentReport) -> tuple[tuple[str, Cell], ...]:
    s = report.summary
    still: Cell = tuple(
        Piece(f"{e.label()}, cut {human_time(e.cut_at)} UTC", "line" if i else "")
        for i, e in enumerate(report.still_cut)
    ) or (Piece("nothing"),)
    reopened: Cell = tuple(
        Piece(f"{e.label()}: {e.gaps[-1].describe()}", "line" if i else "")
        for i, e in enumerate(report.reopened)
    ) or (Piece("nothing"),)
    if not report.chain.checked:
        chain: Cell = (Piece("not checked", "badge plain"),)
    elif report.chain.intact:
        chain = (Piece("intact", "badge good"), Piece(report.chain.describe()))
    elif not report.chain.altered:
        chain = (Piece("not anchored", "badge plain"), Piece(report.chain.describe()))
    else:
        chain = (Piece("NOT INTACT", "badge bad"), Piece(report.chain.describe()))
    return (
        ("Still cut", still),
        ("Seen reopened", reopened),
        ("Time to contain", cell(s.time_to_contain)),
        ("First cut", cell(f"{human_time(s.first_cut_at)} UTC" if s.first_cut_at else "-")),
        ("Last run", cell(s.last_run)),
        (
            "Activity",
            cell(
                f"{s.cut_runs} cut runs, {s.restore_runs} restore runs, "
                f"{s.changes_applied} changes applied, {s.errors} errors"
            ),
        ),
        ("Journal chain", chain),
    )


def page(report: IncidentReport) -> Page:
    """The report as the page formats show it."""
    records = f"{report.records}" + (
        f" ({report.torn_lines} torn lines left out)" if report.torn_lines else ""
    )
    return Page(
        title=", ".join(report.inventories) or "isolement",
        generated=human_time(report.generated_at)[:19],
        generator=report.generator,
        meta=(
            ("Journal", cell(report.source or "-")),
            ("Inventory", cell(", ".join(report.inventories) or "-")),
            (
                "Period (UTC)",
                cell(f"{human_time(report.first_ts)} to {human_time(report.last_ts)}"),
            ),
            ("Records", cell(records)),
            ("Filters", cell(report.filters)),
            ("Last record hash", cell(report.last_hash or "-", "mono")),
        ),
        headline=report.summary.headline,
        status=report.summary.status,
        summary=_summary(report),
        sections=(
            _decisions(report),
            _containment(report),
            _cuts(report),
            _reconnections(report),
            _errors(report),
            _timeline(report),
        ),
    )
