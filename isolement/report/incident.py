"""Reports for the crisis cell and for investigators, read from the journal.

Pure functions: a list of journal records (as `journal.read_records` returns them) becomes an
`IncidentReport` — timeline, decisions, what was cut when, time-to-contain, what is still cut,
the reconnections, the errors and the state of the hash chain — which renders as Markdown, one
self-contained HTML page (prints on A4), structured JSON, or a CSV timeline.

Everything that comes from the journal is untrusted text: a reason typed at 3 a.m., a device's
answer, a name in a record that may have been edited. Every renderer escapes it for its format
(HTML entities, Markdown punctuation, CSV formula prefixes), and the HTML page loads nothing:
no script, no font, no image, no link, and a Content-Security-Policy that forbids them anyway.

The journal stays the evidence; a report is one reading of it, and says which journal it read,
which records (filters), and whether the chain was intact.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from isolement import __version__
from isolement.journal.anchor import Anchoring
from isolement.journal.store import TornRecord, read_records
from isolement.journal.verification import Verification, verify_journal

Record = Mapping[str, Any]

# Events whose records are about the run as a whole rather than one device.
_RUN_EVENTS = ("run.started", "run.finished")
_OK_OUTCOMES = ("done", "nothing-to-do")


# --- the model -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """Which records a report (or `journal show`) covers. Every filter given must match.

    `device` keeps that device's records and, for context, the run.started/run.finished of the
    runs that concern it (who decided, and how the run ended). `since`/`until` are inclusive;
    a naive datetime is taken as UTC.
    """

    device: str | None = None
    playbook: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def is_empty(self) -> bool:
        return not (self.device or self.playbook or self.since or self.until)

    def describe(self) -> str:
        parts = []
        if self.device:
            parts.append(f"device {self.device}")
        if self.playbook:
            parts.append(f"playbook {self.playbook}")
        if self.since:
            parts.append(f"since {_utc(self.since).isoformat()}")
        if self.until:
            parts.append(f"until {_utc(self.until).isoformat()}")
        return ", ".join(parts) or "none (every record)"


@dataclass(frozen=True)
class TimelineEntry:
    """One journal record as a human line: when, what, who or which device, and the gist."""

    ts: str
    seq: int | None
    event: str
    run: str
    playbook: str
    device: str
    operator: str
    detail: str

    @property
    def who(self) -> str:
        """The device for a device record, the operator for a run record."""
        return self.device or self.operator

    def line(self) -> str:
        return f"{human_time(self.ts)}  {self.event:<15} {self.who or '-'}: {self.detail}"


@dataclass(frozen=True)
class Decision:
    """A run.started: who decided what, on which grounds, with which plan, and how it ended."""

    ts: str
    run: str
    direction: str
    playbook: str
    parameters: dict[str, str]
    operator: str
    approved_by: str | None
    reason: str
    plan: str
    inventory: str
    controller: str
    stage: str | None
    waves: list[list[str]]
    preflight_failed: dict[str, str]
    inferred: dict[str, str]
    # From the run's run.finished; None when the journal has none (killed, or still running).
    outcome: str | None
    finished_at: str | None
    duration_s: float | None


@dataclass(frozen=True)
class CutEpisode:
    """One interface of one device cut by isolement, and when (if ever) it was reopened.

    `cut_at` is None when the journal shows the reopening but not the cut (the cut happened
    before the records read)."""

    device: str
    interface: str
    link: str
    method: str
    cut_at: str | None
    cut_run: str | None
    cut_playbook: str
    restored_at: str | None
    restored_run: str | None

    @property
    def still_cut(self) -> bool:
        return self.cut_at is not None and self.restored_at is None

    def label(self) -> str:
        return f"{self.device} {self.interface} (link {self.link}, {self.method})"


@dataclass(frozen=True)
class Unconfirmed:
    """A change whose intent is journaled but whose outcome is not: it may have happened."""

    ts: str
    run: str
    device: str
    direction: str
    changes: list[str]


@dataclass(frozen=True)
class Containment:
    """Time-to-contain of one cut run: from the decision (run.started) to its last confirmed
    change. `run_duration_s` is the run's own measure, which also counts the logins and state
    reads before the decision was journaled."""

    run: str
    playbook: str
    parameters: dict[str, str]
    started_at: str
    last_change_at: str | None
    time_to_contain_s: float | None
    run_duration_s: float | None
    changes_confirmed: int
    outcome: str | None
    still_open: dict[str, str]


@dataclass(frozen=True)
class Reconnection:
    """A restore run: one reconnection stage, opened by a named approver with a reason."""

    ts: str
    run: str
    playbook: str
    parameters: dict[str, str]
    stage: str | None
    approved_by: str | None
    operator: str
    reason: str
    reopened: list[str]
    outcome: str | None
    finished_at: str | None
    duration_s: float | None
    still_open: dict[str, str]


@dataclass(frozen=True)
class ErrorEntry:
    """A change that failed or was skipped, or a device a run reports as failed."""

    ts: str
    seq: int | None
    event: str
    run: str
    playbook: str
    device: str
    attempt: int | None
    error: str


@dataclass(frozen=True)
class ChainStatus:
    """The journal's verification on the whole file: records that chain, the first problem, and
    the verdict against its anchors ("intact" only when an anchor covers every record)."""

    checked: bool
    good: int
    problem: str | None
    verdict: str = "not-anchored"
    summary: str = ""

    @property
    def intact(self) -> bool:
        return self.checked and self.problem is None and self.verdict == "intact"

    @property
    def altered(self) -> bool:
        return self.checked and self.problem is not None

    def describe(self) -> str:
        if not self.checked:
            return "not checked"
        if self.summary:
            return self.summary
        if self.problem is not None:
            return f"NOT INTACT after {self.good} good records: {self.problem}"
        return (
            f"consistent, not anchored: {self.good} records chain correctly; removal of the "
            "last records cannot be detected without a head kept elsewhere"
        )

    @classmethod
    def of(cls, chain: Verification | tuple[int, str | None] | None) -> ChainStatus:
        if chain is None:
            return cls(False, 0, None)
        if isinstance(chain, Verification):
            return cls(True, chain.records, chain.problem, chain.verdict, chain.describe())
        return cls(True, chain[0], chain[1], "altered" if chain[1] else "not-anchored")


@dataclass(frozen=True)
class Summary:
    headline: str
    # "cut": something is still cut; "reconnected": everything cut was reopened; "none": no
    # cut recorded; "attention": the last run did not end well or the chain is broken.
    status: str
    last_run: str
    first_cut_at: str | None
    time_to_contain: str
    cut_runs: int
    restore_runs: int
    changes_applied: int
    errors: int


@dataclass(frozen=True)
class IncidentReport:
    source: str
    generated_at: str
    generator: str
    filters: str
    inventories: list[str]
    records: int
    torn_lines: int
    first_ts: str | None
    last_ts: str | None
    last_hash: str | None
    chain: ChainStatus
    summary: Summary
    decisions: list[Decision]
    containment: list[Containment]
    cuts: list[CutEpisode]
    still_cut: list[CutEpisode]
    unconfirmed: list[Unconfirmed]
    reconnections: list[Reconnection]
    errors: list[ErrorEntry]
    timeline: list[TimelineEntry] = field(default_factory=list)


# --- reading untrusted records ---------------------------------------------------------------


def _s(record: Record, key: str, default: str = "") -> str:
    value = record.get(key)
    if value is None:
        return default
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _opt(record: Record, key: str) -> str | None:
    value = record.get(key)
    return None if value is None or value == "" else _s(record, key)


def _int(record: Record, key: str) -> int | None:
    value = record.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(record: Record, key: str) -> float | None:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _str_map(record: Record, key: str) -> dict[str, str]:
    value = record.get(key)
    if not isinstance(value, Mapping):
        return {}
    return {
        str(k): v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
        for k, v in value.items()
    }


def _changes(record: Record, key: str) -> list[dict[str, str]]:
    value = record.get(key)
    if not isinstance(value, list):
        return []
    return [
        {k: str(change.get(k, "?")) for k in ("interface", "link", "method")}
        for change in value
        if isinstance(change, Mapping)
    ]


def _waves(record: Record) -> list[list[str]]:
    value = record.get("waves")
    if not isinstance(value, list):
        return []
    return [[str(d) for d in wave] for wave in value if isinstance(wave, list)]


def parse_ts(ts: str) -> datetime | None:
    """A journal timestamp as an aware UTC datetime, or None if it is not one."""
    try:
        parsed = datetime.fromisoformat(ts)
    except (TypeError, ValueError):
        return None
    return _utc(parsed)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_moment(text: str) -> datetime:
    """A --since/--until value: ISO 8601 (`2026-11-23T14:19:49Z`, `2026-11-23 14:19`,
    `2026-11-23`); without an offset it is UTC, like every time in the journal."""
    try:
        return _utc(datetime.fromisoformat(text.strip()))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date and time: use ISO 8601, e.g. 2026-11-23T14:19:49Z "
            "or '2026-11-23 14:19' (UTC unless an offset is given)"
        ) from None


def human_time(ts: str | None) -> str:
    """`2026-11-23 14:19:03.529` (UTC, to the millisecond), or the text as found."""
    if ts is None:
        return "-"
    parsed = parse_ts(ts)
    if parsed is None:
        return ts
    return parsed.strftime("%Y-%m-%d %H:%M:%S.") + f"{parsed.microsecond // 1000:03d}"


def _seconds_between(start: str, end: str) -> float | None:
    a, b = parse_ts(start), parse_ts(end)
    if a is None or b is None:
        return None
    return round((b - a).total_seconds(), 3)


def dict_records(records: Iterable[Record | TornRecord]) -> list[Record]:
    """The whole records, in order; torn lines are left out (the chain status reports them)."""
    return [r for r in records if not isinstance(r, TornRecord)]


# --- filters ---------------------------------------------------------------------------------


def _devices_of_run(records: Sequence[Record]) -> dict[str, set[str]]:
    """run id -> every device its records name (device records, waves, pre-flight, failures)."""
    named: dict[str, set[str]] = {}
    for r in records:
        devices = named.setdefault(_s(r, "run"), set())
        if r.get("device") is not None:
            devices.add(_s(r, "device"))
        for wave in _waves(r):
            devices.update(wave)
        for key in ("preflight_failed", "inferred", "failed"):
            devices.update(_str_map(r, key))
    return named


def _in_time(record: Record, filters: Filters) -> bool:
    if filters.since is None and filters.until is None:
        return True
    moment = parse_ts(_s(record, "ts"))
    if moment is None:
        return False  # not provably inside the window
    if filters.since is not None and moment < _utc(filters.since):
        return False
    return filters.until is None or moment <= _utc(filters.until)


def _matches_scope(record: Record, filters: Filters, run_devices: Mapping[str, set[str]]) -> bool:
    if filters.playbook and record.get("playbook") != filters.playbook:
        return False
    if filters.device:
        if record.get("event") in _RUN_EVENTS and record.get("device") is None:
            return filters.device in run_devices.get(_s(record, "run"), set())
        return record.get("device") == filters.device
    return True


def filter_records(records: Sequence[Record], filters: Filters) -> list[Record]:
    """The records a report or `journal show` covers, in journal order."""
    if filters.is_empty():
        return list(records)
    run_devices = _devices_of_run(records) if filters.device else {}
    return [r for r in records if _matches_scope(r, filters, run_devices) and _in_time(r, filters)]


# --- the timeline ----------------------------------------------------------------------------


def _describe_change(change: Mapping[str, str]) -> str:
    return f"{change['interface']} (link {change['link']}, {change['method']})"


def _describe_states(value: Any) -> str:
    if not isinstance(value, Mapping) or not value:
        return "no interface state"
    parts = []
    for interface, state in value.items():
        if not isinstance(state, Mapping):
            parts.append(f"{interface} ?")
            continue
        up = state.get("admin_up")
        text = f"{interface} {'up' if up is True else 'shut' if up is False else '?'}"
        rules = state.get("deny_rules")
        if isinstance(rules, list) and rules:
            text += f", {len(rules)} deny rule{'s' if len(rules) > 1 else ''}"
        parts.append(text)
    return "; ".join(parts)


def _params(parameters: Mapping[str, str]) -> str:
    return "".join(f" --{k} {v}" for k, v in parameters.items())


def _describe_run(record: Record) -> str:
    event = _s(record, "event", "?")
    direction = _s(record, "direction", "?")
    playbook = _s(record, "playbook", "?") + _params(_str_map(record, "parameters"))
    if event == "run.started":
        text = f"decision: {direction} {playbook}"
        if record.get("approved_by"):
            text += f", approved by {_s(record, 'approved_by')}"
        if record.get("stage"):
            text += f", stage {_s(record, 'stage')}"
        text += f"; reason: {_s(record, 'reason', '?')}; plan {_s(record, 'plan', '?')[:12]}"
        unreachable = _str_map(record, "preflight_failed")
        if unreachable:
            text += f"; pre-flight failed on {', '.join(sorted(unreachable))}"
        return text
    if event == "run.finished":
        text = f"end: {direction} {playbook}: {_s(record, 'outcome', '?')}"
        duration = _float(record, "duration_s")
        if duration is not None:
            text += f" in {duration:g} s"
        still_open = _str_map(record, "still_open")
        if still_open:
            text += f"; still open: {', '.join(sorted(still_open))}"
        failed = _str_map(record, "failed")
        if failed:
            text += f"; failed: {', '.join(sorted(failed))}"
        if record.get("interrupted") is True:
            text += "; interrupted"
        return text
    return event


def _describe(record: Record) -> str:
    event = _s(record, "event", "?")
    direction = _s(record, "direction", "?")
    attempt = _int(record, "attempt")
    nth = f" (attempt {attempt})" if attempt and attempt > 1 else ""
    if event in _RUN_EVENTS:
        return _describe_run(record)
    if event == "device.observed":
        return f"state read: {_describe_states(record.get('state'))}"
    changes = ", ".join(_describe_change(c) for c in _changes(record, "changes"))
    if event == "change.intent":
        return f"about to {direction}: {changes or 'nothing'}{nth}"
    if event == "change.applied":
        confirmed = _changes(record, "confirmed")
        total = len(_changes(record, "changes"))
        text = f"{direction} applied: {changes or 'nothing'}{nth}; confirmed on the device "
        text += f"{len(confirmed)}/{total}"
        duration = _float(record, "duration_s")
        if duration is not None:
            text += f" in {duration:g} s"
        return text
    if event in ("change.failed", "change.skipped"):
        verb = "failed" if event == "change.failed" else "skipped"
        why = _s(record, "error") or _s(record, "reason", "no reason given")
        return f"{direction} {verb}: {changes or 'nothing'}{nth}: {why}"
    known = {"event", "ts", "seq", "prev", "hash", "run", "playbook", "parameters", "device"}
    rest = {k: v for k, v in record.items() if k not in known}
    return json.dumps(rest, ensure_ascii=False, sort_keys=True, default=str)[:300]


def timeline(records: Sequence[Record]) -> list[TimelineEntry]:
    """Every record in order, as a human line; each record of a run names the run's operator."""
    operators = {
        _s(r, "run"): _s(r, "operator") for r in records if r.get("event") == "run.started"
    }
    entries = []
    for r in records:
        run = _s(r, "run")
        entries.append(
            TimelineEntry(
                ts=_s(r, "ts", "?"),
                seq=_int(r, "seq"),
                event=_s(r, "event", "?"),
                run=run,
                playbook=_s(r, "playbook"),
                device=_s(r, "device"),
                operator=_s(r, "operator") or operators.get(run, ""),
                detail=_describe(r),
            )
        )
    return entries


def timeline_text(records: Sequence[Record]) -> str:
    """The lines `journal show` prints."""
    return "\n".join(entry.line() for entry in timeline(records))


# --- runs, cuts, errors ----------------------------------------------------------------------


def _finished_by_run(records: Sequence[Record]) -> dict[str, Record]:
    return {_s(r, "run"): r for r in records if r.get("event") == "run.finished"}


def decisions(records: Sequence[Record]) -> list[Decision]:
    finished = _finished_by_run(records)
    result = []
    for r in records:
        if r.get("event") != "run.started":
            continue
        end = finished.get(_s(r, "run"), {})
        result.append(
            Decision(
                ts=_s(r, "ts", "?"),
                run=_s(r, "run"),
                direction=_s(r, "direction", "?"),
                playbook=_s(r, "playbook", "?"),
                parameters=_str_map(r, "parameters"),
                operator=_s(r, "operator", "?"),
                approved_by=_opt(r, "approved_by"),
                reason=_s(r, "reason"),
                plan=_s(r, "plan"),
                inventory=_s(r, "inventory"),
                controller=_s(r, "controller"),
                stage=_opt(r, "stage"),
                waves=_waves(r),
                preflight_failed=_str_map(r, "preflight_failed"),
                inferred=_str_map(r, "inferred"),
                outcome=_opt(end, "outcome"),
                finished_at=_opt(end, "ts"),
                duration_s=_float(end, "duration_s"),
            )
        )
    return result


def _applied(records: Sequence[Record]) -> list[Record]:
    return [r for r in records if r.get("event") == "change.applied"]


def containment(records: Sequence[Record]) -> list[Containment]:
    """Time-to-contain of every cut run: decision to last confirmed change."""
    finished = _finished_by_run(records)
    result = []
    for started in records:
        if started.get("event") != "run.started" or started.get("direction") != "cut":
            continue
        run = _s(started, "run")
        applied = [r for r in _applied(records) if _s(r, "run") == run and _changes(r, "confirmed")]
        last = _s(applied[-1], "ts") if applied else None
        end = finished.get(run, {})
        result.append(
            Containment(
                run=run,
                playbook=_s(started, "playbook", "?"),
                parameters=_str_map(started, "parameters"),
                started_at=_s(started, "ts", "?"),
                last_change_at=last,
                time_to_contain_s=_seconds_between(_s(started, "ts"), last) if last else None,
                run_duration_s=_float(end, "duration_s"),
                changes_confirmed=sum(len(_changes(r, "confirmed")) for r in applied),
                outcome=_opt(end, "outcome"),
                still_open=_str_map(end, "still_open"),
            )
        )
    return result


def replay_cuts(records: Sequence[Record]) -> list[CutEpisode]:
    """Replay the confirmed changes: a confirmed cut opens an episode for (device, interface,
    method), a confirmed restore closes it. Unconfirmed changes do not count."""
    open_: dict[tuple[str, str, str], int] = {}  # -> index in episodes
    episodes: list[CutEpisode] = []
    for r in _applied(records):
        device, direction, ts, run = _s(r, "device"), _s(r, "direction"), _s(r, "ts"), _s(r, "run")
        for change in _changes(r, "confirmed"):
            key = (device, change["interface"], change["method"])
            if direction == "cut":
                if key in open_:
                    continue  # already cut: the first cut is the one that counts
                episode = CutEpisode(
                    device=device,
                    interface=change["interface"],
                    link=change["link"],
                    method=change["method"],
                    cut_at=ts,
                    cut_run=run,
                    cut_playbook=_s(r, "playbook"),
                    restored_at=None,
                    restored_run=None,
                )
                open_[key] = len(episodes)
                episodes.append(episode)
            elif direction == "restore":
                earlier = open_.pop(key, None)
                if earlier is None:  # cut before the records read
                    episodes.append(
                        CutEpisode(
                            device=device,
                            interface=change["interface"],
                            link=change["link"],
                            method=change["method"],
                            cut_at=None,
                            cut_run=None,
                            cut_playbook=_s(r, "playbook"),
                            restored_at=ts,
                            restored_run=run,
                        )
                    )
                else:
                    episodes[earlier] = dataclasses.replace(
                        episodes[earlier], restored_at=ts, restored_run=run
                    )
    return episodes


def unconfirmed(records: Sequence[Record]) -> list[Unconfirmed]:
    """Intents with no applied/failed/skipped record after them for the same run, device and
    attempt: the run died (or is still running) with the change in flight."""
    outcomes = {
        (_s(r, "run"), _s(r, "device"), _int(r, "attempt"))
        for r in records
        if r.get("event") in ("change.applied", "change.failed", "change.skipped")
    }
    return [
        Unconfirmed(
            ts=_s(r, "ts", "?"),
            run=_s(r, "run"),
            device=_s(r, "device"),
            direction=_s(r, "direction", "?"),
            changes=[_describe_change(c) for c in _changes(r, "changes")],
        )
        for r in records
        if r.get("event") == "change.intent"
        and (_s(r, "run"), _s(r, "device"), _int(r, "attempt")) not in outcomes
    ]


def reconnections(records: Sequence[Record]) -> list[Reconnection]:
    finished = _finished_by_run(records)
    result = []
    for r in records:
        if r.get("event") != "run.started" or r.get("direction") != "restore":
            continue
        run = _s(r, "run")
        reopened = [
            f"{_s(a, 'device')} {c['interface']} (link {c['link']})"
            for a in _applied(records)
            if _s(a, "run") == run
            for c in _changes(a, "confirmed")
        ]
        end = finished.get(run, {})
        result.append(
            Reconnection(
                ts=_s(r, "ts", "?"),
                run=run,
                playbook=_s(r, "playbook", "?"),
                parameters=_str_map(r, "parameters"),
                stage=_opt(r, "stage"),
                approved_by=_opt(r, "approved_by"),
                operator=_s(r, "operator", "?"),
                reason=_s(r, "reason"),
                reopened=reopened,
                outcome=_opt(end, "outcome"),
                finished_at=_opt(end, "ts"),
                duration_s=_float(end, "duration_s"),
                still_open=_str_map(end, "still_open"),
            )
        )
    return result


def errors(records: Sequence[Record]) -> list[ErrorEntry]:
    """Failed and skipped changes with their error, then the devices each run.finished reports
    as failed without a change.failed of their own (held back, pre-flight, interrupted)."""
    result = []
    failed_devices: set[tuple[str, str]] = set()
    for r in records:
        event = r.get("event")
        if event in ("change.failed", "change.skipped"):
            failed_devices.add((_s(r, "run"), _s(r, "device")))
            result.append(
                ErrorEntry(
                    ts=_s(r, "ts", "?"),
                    seq=_int(r, "seq"),
                    event=str(event),
                    run=_s(r, "run"),
                    playbook=_s(r, "playbook"),
                    device=_s(r, "device"),
                    attempt=_int(r, "attempt"),
                    error=_s(r, "error") or _s(r, "reason", "no reason given"),
                )
            )
        elif event == "run.finished":
            for device, why in sorted(_str_map(r, "failed").items()):
                if (_s(r, "run"), device) in failed_devices:
                    continue
                result.append(
                    ErrorEntry(
                        ts=_s(r, "ts", "?"),
                        seq=_int(r, "seq"),
                        event="run.finished",
                        run=_s(r, "run"),
                        playbook=_s(r, "playbook"),
                        device=device,
                        attempt=None,
                        error=why,
                    )
                )
    return result


# --- the report ------------------------------------------------------------------------------


def _overlaps(episode: CutEpisode, filters: Filters) -> bool:
    """Whether a cut episode overlaps the filters' time window."""
    if filters.since is not None and episode.restored_at is not None:
        restored = parse_ts(episode.restored_at)
        if restored is not None and restored < _utc(filters.since):
            return False
    return True


def _summary(
    chain: ChainStatus,
    runs: Sequence[Decision],
    contained: Sequence[Containment],
    cuts: Sequence[CutEpisode],
    still_cut: Sequence[CutEpisode],
    applied: int,
    error_count: int,
) -> Summary:
    if runs:
        last = runs[-1]
        last_run = (
            f"{last.direction} {last.playbook}{_params(last.parameters)}: "
            f"{last.outcome or 'no end recorded (killed, or still running)'}, "
            f"decided {human_time(last.ts)} UTC"
        )
    else:
        last_run = "no run in these records"
    first_cut = min(
        (c.cut_at for c in cuts if c.cut_at is not None),
        key=lambda ts: parse_ts(ts) or datetime.max.replace(tzinfo=UTC),
        default=None,
    )
    effective = [c for c in contained if c.time_to_contain_s is not None]
    if effective:
        first = effective[0]
        ttc = (
            f"{first.time_to_contain_s:.3f} s from decision to last confirmed change "
            f"(run {first.run}, {first.playbook}{_params(first.parameters)}"
            + (
                f"; run took {first.run_duration_s:g} s with logins and state reads"
                if first.run_duration_s is not None
                else ""
            )
            + ")"
        )
    else:
        ttc = "no cut run changed anything in these records"
    if still_cut:
        n = len(still_cut)
        status, headline = "cut", f"CUT: {n} interface{'s' if n > 1 else ''} still cut"
    elif cuts:
        status, headline = "reconnected", "RECONNECTED: nothing isolement cut is still cut"
    else:
        status, headline = "none", "NO CUT RECORDED"
    if (runs and runs[-1].outcome not in _OK_OUTCOMES) or chain.altered:
        status = "attention"
        if chain.altered:
            headline += " — JOURNAL NOT INTACT"
        else:
            headline += f" — last run: {runs[-1].outcome or 'no end recorded'}"
    return Summary(
        headline=headline,
        status=status,
        last_run=last_run,
        first_cut_at=first_cut,
        time_to_contain=ttc,
        cut_runs=sum(1 for r in runs if r.direction == "cut"),
        restore_runs=sum(1 for r in runs if r.direction == "restore"),
        changes_applied=applied,
        errors=error_count,
    )


def build_report(
    records: Iterable[Record | TornRecord],
    *,
    chain: Verification | tuple[int, str | None] | None = None,
    filters: Filters | None = None,
    source: str = "",
    generated_at: datetime | None = None,
) -> IncidentReport:
    """The report over `records` (the whole journal, in order; torn lines are counted).

    `chain` is `verify_journal(path, anchors)` (or `verify_chain(path)`) for the file the
    records come from. With filters,
    the timeline, decisions, time-to-contain, reconnections and errors cover the selected
    records; what is cut is replayed from every record of the device/playbook up to `until`,
    so "still cut" is the truth at the end of the window whatever `since` says.
    """
    filters = filters or Filters()
    everything = list(records)
    whole = dict_records(everything)
    torn = len(everything) - len(whole)
    selected = filter_records(whole, filters)
    scope = filter_records(whole, Filters(filters.device, filters.playbook, None, filters.until))
    if filters.device:  # run records carry no change; the device's own records are the state
        scope = [r for r in scope if r.get("device") == filters.device]
    cuts = [e for e in replay_cuts(scope) if _overlaps(e, filters)]
    still_cut = [e for e in cuts if e.still_cut]
    chain_status = ChainStatus.of(chain)
    runs = decisions(selected)
    contained = containment(selected)
    error_list = errors(selected)
    inventories = sorted({d.inventory for d in runs if d.inventory})
    return IncidentReport(
        source=source,
        generated_at=_utc(generated_at or datetime.now(UTC)).isoformat(timespec="seconds"),
        generator=f"isolement {__version__}",
        filters=filters.describe(),
        inventories=inventories,
        records=len(selected),
        torn_lines=torn,
        first_ts=_opt(selected[0], "ts") if selected else None,
        last_ts=_opt(selected[-1], "ts") if selected else None,
        last_hash=_opt(whole[-1], "hash") if whole else None,
        chain=chain_status,
        summary=_summary(
            chain_status,
            runs,
            contained,
            cuts,
            still_cut,
            len(_applied(selected)),
            len(error_list),
        ),
        decisions=runs,
        containment=contained,
        cuts=cuts,
        still_cut=still_cut,
        unconfirmed=unconfirmed(selected),
        reconnections=reconnections(selected),
        errors=error_list,
        timeline=timeline(selected),
    )


def report_from_journal(
    path: Path,
    filters: Filters | None = None,
    generated_at: datetime | None = None,
    anchoring: Anchoring | None = None,
) -> IncidentReport:
    """Read the journal at `path`, verify it against its anchors, and build the report."""
    return build_report(
        read_records(path),
        chain=verify_journal(path, anchoring),
        filters=filters,
        source=str(path),
        generated_at=generated_at,
    )


# --- JSON and CSV ----------------------------------------------------------------------------


def to_json(report: IncidentReport) -> str:
    """The report as one structured JSON document (all fields, full hashes)."""
    data = dataclasses.asdict(report)
    data["chain"]["intact"] = report.chain.intact
    data["format"] = "isolement-incident-report/1"
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


CSV_COLUMNS = ("ts", "seq", "event", "run", "playbook", "device", "operator", "detail")
# A cell starting with one of these is a formula to a spreadsheet; journal text is untrusted.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(report: IncidentReport) -> str:
    """The timeline, one row per record. Cells that a spreadsheet would run as a formula get a
    leading apostrophe."""
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


# --- Markdown --------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|!#~&{}])")


def md(value: object) -> str:
    """Untrusted text as inert Markdown on one line: punctuation that could make a link, an
    image, raw HTML, emphasis or a table cell is backslash-escaped."""
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", "" if value is None else str(value))
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(md(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def _dur(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.3f} s"


def to_markdown(report: IncidentReport) -> str:
    s = report.summary
    lines = [
        "# Network containment — incident report",
        "",
        f"- Journal: {md(report.source or '-')}",
        f"- Inventory: {md(', '.join(report.inventories) or '-')}",
        f"- Records: {report.records}"
        + (f" ({report.torn_lines} torn lines left out)" if report.torn_lines else ""),
        f"- Period (UTC): {md(human_time(report.first_ts))} to {md(human_time(report.last_ts))}",
        f"- Filters: {md(report.filters)}",
        f"- Generated: {md(report.generated_at)} by {md(report.generator)}",
        "",
        "## Summary",
        "",
        f"**{md(s.headline)}**",
        "",
        f"- Last run: {md(s.last_run)}",
        f"- First cut (UTC): {md(human_time(s.first_cut_at))}",
        f"- Time to contain: {md(s.time_to_contain)}",
        "- Still cut: "
        + (md(", ".join(e.label() for e in report.still_cut)) if report.still_cut else "nothing"),
        f"- Runs: {s.cut_runs} cut, {s.restore_runs} restore; changes applied: "
        f"{s.changes_applied}; errors: {s.errors}",
        f"- Journal chain: {md(report.chain.describe())}",
        f"- Last record hash: `{md(report.last_hash or '-')}`",
        "",
        "## Decisions",
        "",
    ]
    lines += _md_table(
        ["Time (UTC)", "Run", "Action", "Decided by", "Approved by", "Reason", "Plan", "Outcome"],
        (
            [
                human_time(d.ts),
                d.run,
                f"{d.direction} {d.playbook}{_params(d.parameters)}"
                + (f" stage {d.stage}" if d.stage else ""),
                d.operator,
                d.approved_by or "-",
                d.reason,
                d.plan[:12],
                d.outcome or "no end recorded",
            ]
            for d in report.decisions
        ),
    )
    lines += ["## Time to contain", ""]
    lines += _md_table(
        [
            "Run",
            "Playbook",
            "Decided (UTC)",
            "Last confirmed change",
            "Time to contain",
            "Run duration",
            "Changes",
            "Outcome",
        ],
        (
            [
                c.run,
                c.playbook + _params(c.parameters),
                human_time(c.started_at),
                human_time(c.last_change_at),
                _dur(c.time_to_contain_s),
                _dur(c.run_duration_s),
                c.changes_confirmed,
                c.outcome or "no end recorded",
            ]
            for c in report.containment
        ),
    )
    lines += ["## What was cut, and when", ""]
    lines += _md_table(
        ["Device", "Interface", "Link", "Method", "Cut (UTC)", "Restored (UTC)", "Now"],
        (
            [
                e.device,
                e.interface,
                e.link,
                e.method,
                human_time(e.cut_at) if e.cut_at else "before these records",
                human_time(e.restored_at) if e.restored_at else "-",
                "CUT" if e.still_cut else "open",
            ]
            for e in report.cuts
        ),
    )
    if report.unconfirmed:
        lines += ["Changes journaled as intended with no outcome (they may have happened):", ""]
        lines += [
            f"- {md(human_time(u.ts))} {md(u.device)}: {md(u.direction)} "
            f"{md(', '.join(u.changes))} (run {md(u.run)})"
            for u in report.unconfirmed
        ] + [""]
    lines += ["## Reconnections", ""]
    lines += _md_table(
        [
            "Time (UTC)",
            "Run",
            "Playbook",
            "Stage",
            "Approved by",
            "Operator",
            "Reason",
            "Reopened",
            "Outcome",
        ],
        (
            [
                human_time(r.ts),
                r.run,
                r.playbook + _params(r.parameters),
                r.stage or "-",
                r.approved_by or "-",
                r.operator,
                r.reason,
                ", ".join(r.reopened) or "nothing",
                r.outcome or "no end recorded",
            ]
            for r in report.reconnections
        ),
    )
    lines += ["## Errors", ""]
    if report.errors:
        lines += _md_table(
            ["Time (UTC)", "Event", "Run", "Device", "Attempt", "Error"],
            (
                [human_time(e.ts), e.event, e.run, e.device, e.attempt or "-", e.error]
                for e in report.errors
            ),
        )
    else:
        lines += ["No change failed or was skipped.", ""]
    lines += ["## Timeline", ""]
    lines += _md_table(
        ["Time (UTC)", "Seq", "Event", "Run", "Who / device", "What"],
        (
            [
                human_time(e.ts),
                e.seq if e.seq is not None else "-",
                e.event,
                e.run,
                e.who or "-",
                e.detail,
            ]
            for e in report.timeline
        ),
    )
    return "\n".join(lines)


# --- HTML ------------------------------------------------------------------------------------


def h(value: object) -> str:
    """Untrusted text as inert HTML (quotes too, so it is safe inside an attribute)."""
    return html.escape("" if value is None else str(value), quote=True)


_CSS = """
:root { --ink:#1f2933; --muted:#5f6b7a; --line:#d9dee5; --head:#f2f4f7; --cut:#b42318;
  --cut-bg:#fef3f2; --ok:#067647; --ok-bg:#ecfdf3; --warn:#b54708; --warn-bg:#fffaeb;
  --none-bg:#f5f7fa; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; padding: 32px 40px 48px; color: var(--ink); background: #fff;
  font: 14px/1.45 "Segoe UI", "Helvetica Neue", Helvetica, Arial, "Liberation Sans",
  "DejaVu Sans", sans-serif; }
main { max-width: 1200px; margin: 0 auto; }
h1 { font-size: 24px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px;
  border-bottom: 2px solid var(--ink); }
.subtitle { color: var(--muted); margin: 0 0 18px; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0 0 20px;
  color: var(--muted); font-size: 13px; }
.meta dt { font-weight: 600; }
.meta dd { margin: 0; overflow-wrap: anywhere; }
.summary { border: 1px solid var(--line); border-left: 8px solid var(--muted);
  border-radius: 6px; padding: 16px 20px; background: var(--none-bg);
  page-break-inside: avoid; break-inside: avoid; }
.summary.cut { border-left-color: var(--cut); background: var(--cut-bg); }
.summary.reconnected { border-left-color: var(--ok); background: var(--ok-bg); }
.summary.attention { border-left-color: var(--warn); background: var(--warn-bg); }
.headline { font-size: 20px; font-weight: 700; margin: 0 0 12px; }
.summary.cut .headline { color: var(--cut); }
.summary.reconnected .headline { color: var(--ok); }
.summary.attention .headline { color: var(--warn); }
.summary dl { display: grid; grid-template-columns: max-content 1fr; gap: 6px 18px; margin: 0; }
.summary dt { font-weight: 600; }
.summary dd { margin: 0; overflow-wrap: anywhere; }
.summary ul { margin: 0; padding-left: 18px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.badge.good { color: var(--ok); background: var(--ok-bg); }
.badge.bad { color: var(--cut); background: var(--cut-bg); }
.badge.warn { color: var(--warn); background: var(--warn-bg); }
.badge.plain { color: var(--muted); background: #fff; }
table { width: 100%; border-collapse: collapse; font-size: 12.5px; margin: 0 0 8px;
  page-break-inside: avoid; break-inside: avoid; }
table.long { page-break-inside: auto; break-inside: auto; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; break-inside: avoid; }
th { background: var(--head); text-align: left; font-weight: 600; color: #344054;
  border-bottom: 1px solid var(--line); padding: 6px 8px; vertical-align: bottom; }
td { border-bottom: 1px solid var(--line); padding: 5px 8px; vertical-align: top;
  overflow-wrap: break-word; }
tbody tr:nth-child(even) td { background: #fafbfc; }
table.grouped tbody tr td { background: #fff; }
tr.has-note td { border-bottom: none; }
tr.note-row td { padding-top: 0; padding-left: 24px; }
td.time, th.time { white-space: nowrap; }
.badge { white-space: nowrap; }
tr.still-cut td { background: var(--cut-bg) !important; }
td.nowrap, th.nowrap { white-space: nowrap; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.mono, .nb { white-space: nowrap; }
code, .mono { font-family: "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace;
  font-size: 11.5px; }
.note { color: var(--muted); font-size: 12px; margin: 2px 0 0; }
.empty { color: var(--muted); font-style: italic; margin: 4px 0 8px; }
.ev { white-space: nowrap; font-weight: 600; }
.ev-run { color: #1d4ed8; }
.ev-applied { color: var(--ok); }
.ev-failed { color: var(--cut); }
.ev-intent, .ev-observed { color: var(--muted); font-weight: 500; }
footer { margin-top: 28px; padding-top: 8px; border-top: 1px solid var(--line);
  color: var(--muted); font-size: 11.5px; }
@page { size: A4; margin: 14mm 12mm 16mm; }
@media print {
  body { padding: 0; font-size: 10pt; }
  main { max-width: none; }
  h1 { font-size: 17pt; }
  h2 { font-size: 12.5pt; margin-top: 16pt; page-break-after: avoid; break-after: avoid; }
  table { font-size: 8.5pt; }
  code, .mono { font-size: 8pt; }
  .summary { font-size: 10pt; }
  .headline { font-size: 14pt; }
  tbody tr:nth-child(even) td { background: #f7f8fa; }
  table.grouped tbody tr td { background: #fff; }
  th, td { padding: 3px 5px; }
  td.time, th.time { white-space: normal; min-width: 6.2em; }
  .badge { padding: 0 5px; font-size: 7.5pt; }
  tr.note-row td { padding-left: 16px; }
}
"""


def _table(
    headers: Sequence[tuple[str, str]],
    rows: Iterable[tuple[str, Sequence[str]]],
    long: bool = False,
    notes: Sequence[str] = (),
) -> str:
    """Headers are (label, css class); each row is (row class, cells already as HTML). A
    non-empty `notes[i]` (HTML) goes on a full-width line under row i."""
    head = "".join(
        f'<th class="{cls}">{h(label)}</th>' if cls else f"<th>{h(label)}</th>"
        for label, cls in headers
    )
    body = []
    for index, (row_class, cells) in enumerate(rows):
        note = notes[index] if index < len(notes) else ""
        classes = " ".join(c for c in (row_class, "has-note" if note else "") if c)
        tds = "".join(
            f'<td class="{cls}">{cell}</td>' if cls else f"<td>{cell}</td>"
            for (_, cls), cell in zip(headers, cells, strict=True)
        )
        body.append(f'<tr class="{classes}">{tds}</tr>' if classes else f"<tr>{tds}</tr>")
        if note:
            body.append(f'<tr class="note-row"><td colspan="{len(headers)}">{note}</td></tr>')
    table_classes = " ".join(c for c in ("long" if long else "", "grouped" if notes else "") if c)
    table_class = f' class="{table_classes}"' if table_classes else ""
    return (
        f"<table{table_class}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _outcome_badge(outcome: str | None) -> str:
    if outcome is None:
        return '<span class="badge warn">no end recorded</span>'
    cls = "good" if outcome in _OK_OUTCOMES else "bad"
    return f'<span class="badge {cls}">{h(outcome)}</span>'


def _hms(ts: str | None) -> str:
    return h(human_time(ts))


def _nb(value: object) -> str:
    """A name kept on one line (a link name breaks badly at its hyphens)."""
    return f'<span class="nb">{h(value)}</span>'


def _mono(value: object) -> str:
    return f'<span class="mono">{h(value)}</span>'


def _event_class(event: str) -> str:
    if event.startswith("run."):
        return "ev-run"
    return {
        "change.applied": "ev-applied",
        "change.failed": "ev-failed",
        "change.skipped": "ev-failed",
        "change.intent": "ev-intent",
        "device.observed": "ev-observed",
    }.get(event, "")


def _decisions_html(report: IncidentReport) -> str:
    if not report.decisions:
        return '<p class="empty">No run in these records.</p>'
    rows = []
    notes = []
    for d in report.decisions:
        lines = [f"pre-flight failed on {k}: {v}" for k, v in d.preflight_failed.items()]
        lines += [f"state of {k} inferred: {v}" for k, v in d.inferred.items()]
        notes.append("".join(f'<div class="note">{h(n)}</div>' for n in lines))
        action = f"<strong>{h(d.direction)}</strong> {h(d.playbook)}{h(_params(d.parameters))}"
        if d.stage:
            action += f"<br>stage {h(d.stage)}"
        rows.append(
            (
                "",
                [
                    _hms(d.ts),
                    _mono(d.run),
                    action,
                    h(d.operator),
                    h(d.approved_by or "-"),
                    h(d.reason),
                    _mono(d.plan[:12]),
                    _outcome_badge(d.outcome),
                ],
            )
        )
    return _table(
        [
            ("Time (UTC)", "time"),
            ("Run", ""),
            ("Action", "nowrap"),
            ("Decided by", ""),
            ("Approved by", ""),
            ("Reason", "wide"),
            ("Plan", ""),
            ("Outcome", ""),
        ],
        rows,
        notes=notes,
    )


def _containment_html(report: IncidentReport) -> str:
    if not report.containment:
        return '<p class="empty">No cut run in these records.</p>'
    rows = [
        (
            "",
            [
                _mono(c.run),
                h(c.playbook + _params(c.parameters)),
                _hms(c.started_at),
                _hms(c.last_change_at) if c.last_change_at else "nothing sent",
                h(_dur(c.time_to_contain_s)),
                h(_dur(c.run_duration_s)),
                h(c.changes_confirmed),
                _outcome_badge(c.outcome)
                + "".join(
                    f'<div class="note">still open: {h(k)}: {h(v)}</div>'
                    for k, v in c.still_open.items()
                ),
            ],
        )
        for c in report.containment
    ]
    return _table(
        [
            ("Run", ""),
            ("Playbook", ""),
            ("Decided (UTC)", "time"),
            ("Last confirmed change", "time"),
            ("Time to contain", "num"),
            ("Run duration", "num"),
            ("Changes", "num"),
            ("Outcome", ""),
        ],
        rows,
    ) + (
        '<p class="note">Time to contain: from the decision journaled (run.started) to the '
        "last change confirmed on a device. Run duration also counts the logins and state "
        "reads before the decision was journaled.</p>"
    )


def _cuts_html(report: IncidentReport) -> str:
    if not report.cuts:
        return '<p class="empty">No cut confirmed in these records.</p>'
    rows = [
        (
            "still-cut" if e.still_cut else "",
            [
                _nb(e.device),
                _nb(e.interface),
                _nb(e.link),
                h(e.method),
                _hms(e.cut_at) if e.cut_at else "before these records",
                _mono(e.cut_run or "-"),
                _hms(e.restored_at) if e.restored_at else "-",
                _mono(e.restored_run or "-"),
                '<span class="badge bad">CUT</span>'
                if e.still_cut
                else '<span class="badge good">open</span>',
            ],
        )
        for e in report.cuts
    ]
    table = _table(
        [
            ("Device", ""),
            ("Interface", ""),
            ("Link", ""),
            ("Method", ""),
            ("Cut (UTC)", "time"),
            ("Cut by run", ""),
            ("Restored (UTC)", "time"),
            ("Restored by run", ""),
            ("Now", ""),
        ],
        rows,
    )
    if report.unconfirmed:
        items = "".join(
            f"<li>{_hms(u.ts)} {h(u.device)}: {h(u.direction)} {h(', '.join(u.changes))} "
            f"(run {_mono(u.run)})</li>"
            for u in report.unconfirmed
        )
        table += (
            '<p class="note"><strong>Intended, outcome not journaled</strong> (the change may '
            f"have happened; check the device):</p><ul class='note'>{items}</ul>"
        )
    return table


def _reconnections_html(report: IncidentReport) -> str:
    if not report.reconnections:
        return '<p class="empty">No reconnection in these records.</p>'
    rows = [
        (
            "",
            [
                _hms(r.ts),
                _mono(r.run),
                h(r.playbook + _params(r.parameters))
                + (f"<br>stage {h(r.stage)}" if r.stage else ""),
                h(r.approved_by or "-"),
                h(r.operator),
                h(r.reason),
                "<br>".join(_nb(x) for x in r.reopened) or "nothing (already open)",
                _outcome_badge(r.outcome)
                + "".join(
                    f'<div class="note">still cut: {h(k)}: {h(v)}</div>'
                    for k, v in r.still_open.items()
                ),
            ],
        )
        for r in report.reconnections
    ]
    return _table(
        [
            ("Time (UTC)", "time"),
            ("Run", ""),
            ("Playbook / stage", ""),
            ("Approved by", ""),
            ("Operator", ""),
            ("Reason", ""),
            ("Reopened", ""),
            ("Outcome", ""),
        ],
        rows,
    )


def _errors_html(report: IncidentReport) -> str:
    if not report.errors:
        return '<p class="empty">No change failed or was skipped.</p>'
    rows = [
        (
            "",
            [
                _hms(e.ts),
                h(e.event),
                _mono(e.run),
                h(e.device),
                h(e.attempt if e.attempt is not None else "-"),
                h(e.error),
            ],
        )
        for e in report.errors
    ]
    return _table(
        [
            ("Time (UTC)", "time"),
            ("Event", ""),
            ("Run", ""),
            ("Device", ""),
            ("Attempt", "num"),
            ("Error", ""),
        ],
        rows,
    )


def _timeline_html(report: IncidentReport) -> str:
    if not report.timeline:
        return '<p class="empty">No record.</p>'
    rows = [
        (
            "",
            [
                _hms(e.ts),
                h(e.seq if e.seq is not None else "-"),
                f'<span class="ev {_event_class(e.event)}">{h(e.event)}</span>',
                _mono(e.run),
                h(e.who or "-"),
                h(e.detail),
            ],
        )
        for e in report.timeline
    ]
    return _table(
        [
            ("Time (UTC)", "time"),
            ("Seq", "num"),
            ("Event", ""),
            ("Run", ""),
            ("Who / device", "nowrap"),
            ("What", ""),
        ],
        rows,
        long=True,
    )


def _summary_html(report: IncidentReport) -> str:
    s = report.summary
    if report.still_cut:
        still = (
            "<ul>"
            + "".join(
                f"<li>{h(e.label())}, cut {_hms(e.cut_at)} UTC</li>" for e in report.still_cut
            )
            + "</ul>"
        )
    else:
        still = "nothing"
    if not report.chain.checked:
        chain = '<span class="badge plain">not checked</span>'
    elif report.chain.intact:
        chain = f'<span class="badge good">intact</span> {h(report.chain.describe())}'
    elif not report.chain.altered:
        chain = f'<span class="badge plain">not anchored</span> {h(report.chain.describe())}'
    else:
        chain = f'<span class="badge bad">NOT INTACT</span> {h(report.chain.describe())}'
    items = [
        ("Still cut", still),
        ("Time to contain", h(s.time_to_contain)),
        ("First cut", f"{_hms(s.first_cut_at)} UTC" if s.first_cut_at else "-"),
        ("Last run", h(s.last_run)),
        (
            "Activity",
            f"{s.cut_runs} cut runs, {s.restore_runs} restore runs, "
            f"{s.changes_applied} changes applied, {s.errors} errors",
        ),
        ("Journal chain", chain),
    ]
    rows = "".join(f"<dt>{h(k)}</dt><dd>{v}</dd>" for k, v in items)
    return (
        f'<section class="summary {h(s.status)}" id="summary">'
        f'<p class="headline">{h(s.headline)}</p><dl>{rows}</dl></section>'
    )


def to_html(report: IncidentReport) -> str:
    """One self-contained page: inline CSS, nothing loaded from anywhere, prints on A4."""
    meta = [
        ("Journal", h(report.source or "-")),
        ("Inventory", h(", ".join(report.inventories) or "-")),
        (
            "Period (UTC)",
            f"{_hms(report.first_ts)} to {_hms(report.last_ts)}",
        ),
        (
            "Records",
            h(report.records)
            + (f" ({report.torn_lines} torn lines left out)" if report.torn_lines else ""),
        ),
        ("Filters", h(report.filters)),
        ("Last record hash", _mono(report.last_hash or "-")),
    ]
    meta_html = "".join(f"<dt>{h(k)}</dt><dd>{v}</dd>" for k, v in meta)
    sections = [
        ("decisions", "Decisions", _decisions_html(report)),
        ("containment", "Time to contain", _containment_html(report)),
        ("cuts", "What was cut, and when", _cuts_html(report)),
        ("reconnections", "Reconnections", _reconnections_html(report)),
        ("errors", "Errors", _errors_html(report)),
        ("timeline", "Timeline", _timeline_html(report)),
    ]
    body = "".join(
        f'<section id="{anchor}"><h2>{h(title)}</h2>{content}</section>'
        for anchor, title, content in sections
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Incident report — {h(', '.join(report.inventories) or 'isolement')}</title>"
        f"<style>{_CSS}</style></head><body><main>"
        "<h1>Network containment — incident report</h1>"
        '<p class="subtitle">Read from the isolement journal on '
        f"{h(human_time(report.generated_at)[:19])} UTC by {h(report.generator)}</p>"
        f'<dl class="meta">{meta_html}</dl>'
        f"{_summary_html(report)}{body}"
        "<footer>The journal (hash-chained JSON lines) is the evidence; this report is a "
        "reading of it. Times are UTC. Text from the journal is shown as recorded.</footer>"
        "</main></body></html>\n"
    )


# --- export ----------------------------------------------------------------------------------

FORMATS: dict[str, Callable[[IncidentReport], str]] = {
    "md": to_markdown,
    "html": to_html,
    "json": to_json,
    "csv": to_csv,
}


def write_export(path: Path, text: str) -> None:
    """Write a report for handing over: owner-only (it names people, devices and addresses),
    flushed to disk before a signature is made over it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(text.encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())
