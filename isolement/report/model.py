"""What a report says, as data: the timeline, the decisions, what was cut when, time-to-contain,
what is still cut, the reconnections, the errors and the state of the hash chain; and how
journal times are read and written. No I/O, no rendering: report/extract.py fills it from the
journal's records, report/render.py turns it into Markdown, HTML, JSON or CSV.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from isolement.journal.verification import Verification

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
            parts.append(f"since {utc(self.since).isoformat()}")
        if self.until:
            parts.append(f"until {utc(self.until).isoformat()}")
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
class Gap:
    """A cut seen gone before any restore (a reboot without it, an end reopened by hand): last
    seen cut at `last_seen_cut`, seen open at `seen_open_at`, and in effect again at `closed_at`
    (cut again, or read cut again) or still open (None)."""

    last_seen_cut: str | None
    seen_open_at: str
    closed_at: str | None = None

    def describe(self) -> str:
        text = f"last seen cut at {human_time(self.last_seen_cut)} UTC, seen open at "
        text += f"{human_time(self.seen_open_at)} UTC"
        if self.closed_at:
            return text + f", cut again at {human_time(self.closed_at)} UTC"
        return text + ", not seen cut since"


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
    # The intervals in which the cut was seen gone, in order.
    gaps: tuple[Gap, ...] = ()

    @property
    def reopened(self) -> bool:
        """Last seen open, before any restore: the cut vanished and was not made again."""
        return bool(self.gaps) and self.gaps[-1].closed_at is None and self.restored_at is None

    @property
    def still_cut(self) -> bool:
        return self.cut_at is not None and self.restored_at is None and not self.reopened

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
    """A change that failed, or a device a run reports as failed without a change.failed of its
    own (held back, pre-flight, interrupted)."""

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
        if isinstance(chain, tuple):
            return cls(True, chain[0], chain[1], "altered" if chain[1] else "not-anchored")
        return cls(True, chain.records, chain.problem, chain.verdict, chain.describe())


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
    # Cuts seen gone since (a reboot, an end reopened by hand) and not made again.
    reopened: list[CutEpisode] = field(default_factory=list)


# --- times -------------------------------------------------------------------------------------


def parse_ts(ts: str) -> datetime | None:
    """A journal timestamp as an aware UTC datetime, or None if it is not one."""
    try:
        parsed = datetime.fromisoformat(ts)
    except (TypeError, ValueError):
        return None
    return utc(parsed)


def utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_moment(text: str) -> datetime:
    """A --since/--until value: ISO 8601 (`2026-11-23T14:19:49Z`, `2026-11-23 14:19`,
    `2026-11-23`); without an offset it is UTC, like every time in the journal."""
    try:
        return utc(datetime.fromisoformat(text.strip()))
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


def seconds_between(start: str, end: str) -> float | None:
    a, b = parse_ts(start), parse_ts(end)
    if a is None or b is None:
        return None
    return round((b - a).total_seconds(), 3)
