"""A report's content read from the journal: pure functions from typed records (report/records.py)
to the report model (report/model.py).

Which records a report covers (filters), the timeline, the decisions and how each run ended,
time-to-contain, the replay of confirmed changes into what was cut and when, the changes whose
outcome is missing, the reconnections, the errors, and the summary over all of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from isolement import __version__
from isolement.journal.anchor import Anchoring
from isolement.journal.store import TornRecord, read_records
from isolement.journal.verification import Verification, verify_journal
from isolement.report.model import (
    ChainStatus,
    Containment,
    CutEpisode,
    Decision,
    ErrorEntry,
    Filters,
    Gap,
    IncidentReport,
    Reconnection,
    Summary,
    TimelineEntry,
    Unconfirmed,
    human_time,
    parse_ts,
    seconds_between,
    utc,
)
from isolement.report.records import (
    ChangeApplied,
    ChangeFailed,
    ChangeIntent,
    DeviceObserved,
    EndpointState,
    Raw,
    Record,
    RunFinished,
    RunStarted,
    Unreadable,
    VerifyResult,
    parse,
    parse_all,
)

OK_OUTCOMES = ("done", "nothing-to-do")


def dict_records(records: Iterable[Raw | TornRecord]) -> list[Raw]:
    """The whole records, in order; torn lines are left out (the chain status reports them)."""
    return [r for r in records if not isinstance(r, TornRecord)]


def params(parameters: Mapping[str, str]) -> str:
    """` --site h1`: a playbook's parameters as they were given."""
    return "".join(f" --{k} {v}" for k, v in parameters.items())


# --- filters ---------------------------------------------------------------------------------


def _devices_of_run(records: Sequence[Record]) -> dict[str, set[str]]:
    """run id -> every device its records name (device records, waves, pre-flight, failures)."""
    named: dict[str, set[str]] = {}
    for r in records:
        devices = named.setdefault(r.run, set())
        if r.device:
            devices.add(r.device)
        if isinstance(r, RunStarted):
            devices.update(d for wave in r.waves for d in wave)
            devices.update(r.preflight_failed, r.inferred)
        elif isinstance(r, RunFinished):
            devices.update(r.failed)
    return named


def _in_time(record: Record, filters: Filters) -> bool:
    if filters.since is None and filters.until is None:
        return True
    moment = parse_ts(record.ts)
    if moment is None:
        return False  # not provably inside the window
    if filters.since is not None and moment < utc(filters.since):
        return False
    return filters.until is None or moment <= utc(filters.until)


def _in_scope(record: Record, filters: Filters, run_devices: Mapping[str, set[str]]) -> bool:
    if filters.playbook and record.playbook != filters.playbook:
        return False
    if filters.device:
        if isinstance(record, RunStarted | RunFinished) and not record.device:
            return filters.device in run_devices.get(record.run, set())
        return record.device == filters.device
    return True


def select(records: Sequence[Record], filters: Filters) -> list[Record]:
    """The records a report or `journal show` covers, in journal order. `device` keeps that
    device's records and the run.started/run.finished of the runs that concern it."""
    if filters.is_empty():
        return list(records)
    run_devices = _devices_of_run(records) if filters.device else {}
    return [r for r in records if _in_scope(r, filters, run_devices) and _in_time(r, filters)]


def filter_records(records: Sequence[Raw], filters: Filters) -> list[Raw]:
    """`select` over raw records: the records themselves, as the journal holds them."""
    return [r.raw for r in select([parse(r) for r in records], filters)]


# --- the timeline ----------------------------------------------------------------------------


def _describe_states(states: Mapping[str, EndpointState]) -> str:
    if not states:
        return "no interface state"
    parts = []
    for interface, state in states.items():
        up = state.admin_up
        text = f"{interface} {'up' if up is True else 'shut' if up is False else '?'}"
        if state.deny_rules:
            n = len(state.deny_rules)
            text += f", {n} deny rule{'s' if n > 1 else ''}"
        parts.append(text)
    return "; ".join(parts)


def _describe_started(r: RunStarted) -> str:
    text = f"decision: {r.direction} {r.playbook or '?'}{params(r.parameters)}"
    if r.approved_by:
        text += f", approved by {r.approved_by}"
    if r.stage:
        text += f", stage {r.stage}"
    text += f"; reason: {r.reason or '?'}; plan {(r.plan or '?')[:12]}"
    if r.preflight_failed:
        text += f"; pre-flight failed on {', '.join(sorted(r.preflight_failed))}"
    return text


def _describe_finished(r: RunFinished) -> str:
    text = f"end: {r.direction} {r.playbook or '?'}{params(r.parameters)}: {r.outcome or '?'}"
    if r.duration_s is not None:
        text += f" in {r.duration_s:g} s"
    if r.still_open:
        text += f"; still open: {', '.join(sorted(r.still_open))}"
    if r.failed:
        text += f"; failed: {', '.join(sorted(r.failed))}"
    if r.interrupted:
        text += "; interrupted"
    return text


def _changes(r: ChangeIntent | ChangeApplied | ChangeFailed) -> str:
    nth = f" (attempt {r.attempt})" if r.attempt and r.attempt > 1 else ""
    return (", ".join(c.describe() for c in r.changes) or "nothing") + nth


def _describe_applied(r: ChangeApplied) -> str:
    text = f"{r.direction} applied: {_changes(r)}; confirmed on the device "
    text += f"{len(r.confirmed)}/{len(r.changes)}"
    if r.duration_s is not None:
        text += f" in {r.duration_s:g} s"
    return text


def _describe_verified(r: VerifyResult) -> str:
    verdict = {True: "contained", False: "not contained", None: "?"}[r.contained]
    text = f"verification: {verdict}"
    if r.reopened:
        ends = ", ".join(
            f"{e.device} {e.interface} (link {e.link}, last seen cut {human_time(e.last_seen_cut)})"
            for e in r.reopened
        )
        text += f"; seen open again: {ends}"
    return text


def describe(r: Record) -> str:  # noqa: PLR0911 (one case per kind of record)
    """The gist of one record, on one line."""
    match r:
        case RunStarted():
            return _describe_started(r)
        case RunFinished():
            return _describe_finished(r)
        case DeviceObserved():
            return f"state read: {_describe_states(r.state)}"
        case ChangeIntent():
            why = "".join(f"; {i}: {text}" for i, text in sorted(r.why.items()))
            return f"about to {r.direction}: {_changes(r)}{why}"
        case VerifyResult():
            return _describe_verified(r)
        case ChangeApplied():
            return _describe_applied(r)
        case ChangeFailed():
            return f"{r.direction} failed: {_changes(r)}: {r.error}"
        case Unreadable():
            return f"unreadable record: {r.problem}"
    return r.fields()


def timeline(records: Sequence[Record]) -> list[TimelineEntry]:
    """Every record in order, as a human line; each record of a run names the run's operator."""
    operators = {r.run: r.operator for r in records if isinstance(r, RunStarted)}
    return [
        TimelineEntry(
            ts=r.ts,
            seq=r.seq,
            event=r.event,
            run=r.run,
            playbook=r.playbook,
            device=r.device,
            operator=(r.operator if isinstance(r, RunStarted) else operators.get(r.run, "")),
            detail=describe(r),
        )
        for r in records
    ]


# --- runs, cuts, errors ----------------------------------------------------------------------


def _finished_by_run(records: Sequence[Record]) -> dict[str, RunFinished]:
    return {r.run: r for r in records if isinstance(r, RunFinished)}


def decisions(records: Sequence[Record]) -> list[Decision]:
    finished = _finished_by_run(records)
    result = []
    for r in records:
        if not isinstance(r, RunStarted):
            continue
        end = finished.get(r.run)
        result.append(
            Decision(
                ts=r.ts,
                run=r.run,
                direction=r.direction,
                playbook=r.playbook or "?",
                parameters=dict(r.parameters),
                operator=r.operator,
                approved_by=r.approved_by or None,
                reason=r.reason,
                plan=r.plan,
                inventory=r.inventory,
                controller=r.controller,
                stage=r.stage or None,
                waves=[list(wave) for wave in r.waves],
                preflight_failed=dict(r.preflight_failed),
                inferred=dict(r.inferred),
                outcome=end.outcome if end else None,
                finished_at=end.ts if end else None,
                duration_s=end.duration_s if end else None,
            )
        )
    return result


def _applied(records: Sequence[Record]) -> list[ChangeApplied]:
    return [r for r in records if isinstance(r, ChangeApplied)]


def containment(records: Sequence[Record]) -> list[Containment]:
    """Time-to-contain of every cut run: decision to last confirmed change."""
    finished = _finished_by_run(records)
    result = []
    for started in records:
        if not isinstance(started, RunStarted) or started.direction != "cut":
            continue
        applied = [r for r in _applied(records) if r.run == started.run and r.confirmed]
        last = applied[-1].ts if applied else None
        end = finished.get(started.run)
        result.append(
            Containment(
                run=started.run,
                playbook=started.playbook or "?",
                parameters=dict(started.parameters),
                started_at=started.ts,
                last_change_at=last,
                time_to_contain_s=seconds_between(started.ts, last) if last else None,
                run_duration_s=end.duration_s if end else None,
                changes_confirmed=sum(len(r.confirmed) for r in applied),
                outcome=end.outcome if end else None,
                still_open=dict(end.still_open) if end else {},
            )
        )
    return result


def _cut_in(state: EndpointState, method: str) -> bool:
    return state.admin_up is False if method == "shutdown" else bool(state.deny_rules)


class _Replay:
    """The confirmed changes replayed in order, with what each read of the devices saw: a cut
    seen open again, before any restore, opens a gap in its episode ("last seen cut at T, seen
    open at T2"), which a cut made again (or read again in effect) closes."""

    def __init__(self) -> None:
        self.open: dict[tuple[str, str, str], int] = {}  # -> index in episodes
        self.episodes: list[CutEpisode] = []
        self.last_cut: dict[tuple[str, str, str], str] = {}

    def _set(self, index: int, **changes: object) -> None:
        self.episodes[index] = dataclasses.replace(self.episodes[index], **changes)  # type: ignore[arg-type]

    def seen(self, key: tuple[str, str, str], cut: bool, ts: str) -> None:
        index = self.open.get(key)
        if index is None:
            return
        e = self.episodes[index]
        if cut:
            self.last_cut[key] = ts
            if e.reopened:
                self._set(index, gaps=(*e.gaps[:-1], dataclasses.replace(e.gaps[-1], closed_at=ts)))
        elif not e.reopened:
            gap = Gap(last_seen_cut=self.last_cut.get(key), seen_open_at=ts)
            self._set(index, gaps=(*e.gaps, gap))

    def applied(self, r: ChangeApplied) -> None:
        for change in r.confirmed:
            key = (r.device, change.interface, change.method)
            if r.direction == "cut":
                if key in self.open:
                    self.seen(key, True, r.ts)  # cut again: closes a gap, if any
                    continue  # already cut: the first cut is the one that counts
                self.open[key] = len(self.episodes)
                self.last_cut[key] = r.ts
                self.episodes.append(
                    CutEpisode(
                        device=r.device,
                        interface=change.interface,
                        link=change.link,
                        method=change.method,
                        cut_at=r.ts,
                        cut_run=r.run,
                        cut_playbook=r.playbook,
                        restored_at=None,
                        restored_run=None,
                    )
                )
            elif r.direction == "restore":
                earlier = self.open.pop(key, None)
                self.last_cut.pop(key, None)
                if earlier is None:  # cut before the records read
                    self.episodes.append(
                        CutEpisode(
                            device=r.device,
                            interface=change.interface,
                            link=change.link,
                            method=change.method,
                            cut_at=None,
                            cut_run=None,
                            cut_playbook=r.playbook,
                            restored_at=r.ts,
                            restored_run=r.run,
                        )
                    )
                else:
                    self._set(earlier, restored_at=r.ts, restored_run=r.run)

    def read(self, r: Record) -> None:
        states: Mapping[str, EndpointState] = {}
        if isinstance(r, DeviceObserved):
            states = r.state
        elif isinstance(r, ChangeApplied):
            states = r.after
        elif isinstance(r, ChangeFailed):
            states = r.after or {}
        elif isinstance(r, VerifyResult):
            for end in r.reopened:
                self.seen((end.device, end.interface, end.method), False, r.ts)
        for interface, state in states.items():
            for method in ("shutdown", "deny"):
                key = (r.device, interface, method)
                self.seen(key, _cut_in(state, method), r.ts)


def replay_cuts(records: Sequence[Record]) -> list[CutEpisode]:
    """Replay the confirmed changes: a confirmed cut opens an episode for (device, interface,
    method), a confirmed restore closes it. Unconfirmed changes do not count. Between the two,
    every read of the device that saw the end open again marks a gap (the cut vanished: a
    reboot, a port reopened by hand), closed by a cut made again or read again in effect."""
    replay = _Replay()
    for r in records:
        if isinstance(r, ChangeApplied):
            replay.applied(r)
        replay.read(r)
    return replay.episodes


def unconfirmed(records: Sequence[Record]) -> list[Unconfirmed]:
    """Intents with no applied/failed record for the same run, device and attempt: the run
    died (or is still running) with the change in flight."""
    concluded = {
        (r.run, r.device, r.attempt) for r in records if isinstance(r, ChangeApplied | ChangeFailed)
    }
    return [
        Unconfirmed(
            ts=r.ts,
            run=r.run,
            device=r.device,
            direction=r.direction,
            changes=[c.describe() for c in r.changes],
        )
        for r in records
        if isinstance(r, ChangeIntent) and (r.run, r.device, r.attempt) not in concluded
    ]


def reconnections(records: Sequence[Record]) -> list[Reconnection]:
    finished = _finished_by_run(records)
    result = []
    for r in records:
        if not isinstance(r, RunStarted) or r.direction != "restore":
            continue
        reopened = [
            f"{a.device} {c.interface} (link {c.link})"
            for a in _applied(records)
            if a.run == r.run
            for c in a.confirmed
        ]
        end = finished.get(r.run)
        result.append(
            Reconnection(
                ts=r.ts,
                run=r.run,
                playbook=r.playbook or "?",
                parameters=dict(r.parameters),
                stage=r.stage or None,
                approved_by=r.approved_by or None,
                operator=r.operator,
                reason=r.reason,
                reopened=reopened,
                outcome=end.outcome if end else None,
                finished_at=end.ts if end else None,
                duration_s=end.duration_s if end else None,
                still_open=dict(end.still_open) if end else {},
            )
        )
    return result


def errors(records: Sequence[Record]) -> list[ErrorEntry]:
    """Failed changes with their error, then the devices each run.finished reports as failed
    without a change.failed of their own (held back, pre-flight, interrupted)."""
    result = []
    failed_devices: set[tuple[str, str]] = set()
    for r in records:
        if isinstance(r, ChangeFailed):
            failed_devices.add((r.run, r.device))
            result.append(
                ErrorEntry(r.ts, r.seq, r.event, r.run, r.playbook, r.device, r.attempt, r.error)
            )
        elif isinstance(r, RunFinished):
            result += [
                ErrorEntry(r.ts, r.seq, r.event, r.run, r.playbook, device, None, why)
                for device, why in sorted(r.failed.items())
                if (r.run, device) not in failed_devices
            ]
    return result


# --- the report ------------------------------------------------------------------------------


def _overlaps(episode: CutEpisode, filters: Filters) -> bool:
    """Whether a cut episode overlaps the filters' time window."""
    if filters.since is not None and episode.restored_at is not None:
        restored = parse_ts(episode.restored_at)
        if restored is not None and restored < utc(filters.since):
            return False
    return True


def _time_to_contain(contained: Sequence[Containment]) -> str:
    effective = [c for c in contained if c.time_to_contain_s is not None]
    if not effective:
        return "no cut run changed anything in these records"
    first = effective[0]
    took = (
        f"; run took {first.run_duration_s:g} s with logins and state reads"
        if first.run_duration_s is not None
        else ""
    )
    return (
        f"{first.time_to_contain_s:.3f} s from decision to last confirmed change "
        f"(run {first.run}, {first.playbook}{params(first.parameters)}{took})"
    )


def _summary(
    chain: ChainStatus,
    runs: Sequence[Decision],
    contained: Sequence[Containment],
    cuts: Sequence[CutEpisode],
    still_cut: Sequence[CutEpisode],
    applied: int,
    error_count: int,
    reopened: Sequence[CutEpisode] = (),
) -> Summary:
    if runs:
        last = runs[-1]
        last_run = (
            f"{last.direction} {last.playbook}{params(last.parameters)}: "
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
    if still_cut:
        n = len(still_cut)
        status, headline = "cut", f"CUT: {n} interface{'s' if n > 1 else ''} still cut"
    elif cuts:
        status, headline = "reconnected", "RECONNECTED: nothing isolement cut is still cut"
    else:
        status, headline = "none", "NO CUT RECORDED"
    if reopened:
        n = len(reopened)
        status = "attention"
        headline += (
            f" — REOPENED: {n} interface{'s' if n > 1 else ''} seen open again since cut, "
            "not cut since"
        )
    broken = chain.altered
    if broken or (runs and runs[-1].outcome not in OK_OUTCOMES):
        status = "attention"
        if broken:
            headline += " — JOURNAL NOT INTACT"
        else:
            headline += f" — last run: {runs[-1].outcome or 'no end recorded'}"
    return Summary(
        headline=headline,
        status=status,
        last_run=last_run,
        first_cut_at=first_cut,
        time_to_contain=_time_to_contain(contained),
        cut_runs=sum(1 for r in runs if r.direction == "cut"),
        restore_runs=sum(1 for r in runs if r.direction == "restore"),
        changes_applied=applied,
        errors=error_count,
    )


def build_report(
    records: Iterable[Raw | TornRecord],
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
    whole = parse_all(everything)
    torn = len(everything) - len(whole)
    selected = select(whole, filters)
    scope = select(whole, Filters(filters.device, filters.playbook, None, filters.until))
    if filters.device:  # run records carry no change; the device's own records are the state
        scope = [r for r in scope if r.device == filters.device]
    cuts = [e for e in replay_cuts(scope) if _overlaps(e, filters)]
    still_cut = [e for e in cuts if e.still_cut]
    reopened = [e for e in cuts if e.reopened]
    chain_status = ChainStatus.of(chain)
    runs = decisions(selected)
    contained = containment(selected)
    error_list = errors(selected)
    return IncidentReport(
        source=source,
        generated_at=utc(generated_at or datetime.now(UTC)).isoformat(timespec="seconds"),
        generator=f"isolement {__version__}",
        filters=filters.describe(),
        inventories=sorted({d.inventory for d in runs if d.inventory}),
        records=len(selected),
        torn_lines=torn,
        first_ts=selected[0].ts if selected else None,
        last_ts=selected[-1].ts if selected else None,
        last_hash=whole[-1].hash if whole else None,
        chain=chain_status,
        summary=_summary(
            chain_status,
            runs,
            contained,
            cuts,
            still_cut,
            len(_applied(selected)),
            len(error_list),
            reopened,
        ),
        decisions=runs,
        containment=contained,
        cuts=cuts,
        still_cut=still_cut,
        unconfirmed=unconfirmed(selected),
        reconnections=reconnections(selected),
        errors=error_list,
        timeline=timeline(selected),
        reopened=reopened,
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
