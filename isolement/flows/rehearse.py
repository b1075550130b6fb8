"""Readiness on the real network, with no change: the pre-flight and the plan of a cut, timed,
and everything that would block or slow the cut, listed (`isolement rehearse`).

It is the cut's own pre-flight (`preflight.observe`: the credentials the cut will use, every
host key checked, privilege, the state read) and the cut's own planner; no device task runs,
so no configuration command can be sent. Every login and read is timed through the connector,
and the time a cut would take is estimated from those measures (`Estimate`).

The plan computed is journaled with its hash and what it was computed from (`plan.computed`),
and `cut --expect-plan HASH` refuses a plan that differs, saying what changed (`PlanCheck`).
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from isolement.drivers import CutTarget, Driver, Session, driver_for
from isolement.flows.containment import _unread, known_out_of_reach
from isolement.flows.preflight import observe
from isolement.flows.results import OutOfReach, PlanReport, central_managers
from isolement.flows.runtime import Runtime
from isolement.journal import events as ev
from isolement.journal.store import Journal, TornRecord, read_records
from isolement.journal.view import JournalView
from isolement.model.change import ChangeSet, CommitMode
from isolement.model.errors import InputError, IsolementError, PlanRefused
from isolement.model.inventory import Inventory
from isolement.model.plan import Direction, Plan
from isolement.model.playbook import Playbook
from isolement.model.state import DeviceState
from isolement.planning.fingerprint import PREFIX, Fingerprint, PlannedStep, differences
from isolement.planning.management import cut_targets
from isolement.planning.planner import plan_cut

# A device is reported slow when its login and read together take this long, or when one
# command takes this share of the per-command timeout (it could time out on a loaded night).
SLOW_LOGIN_READ_S = 5.0
SLOW_COMMAND_SHARE = 0.25


# --- timing the logins and reads ----------------------------------------------------------


@dataclass
class DeviceTiming:
    """What one device's pre-flight took: the login (TCP, SSH, host key, authentication, the
    first prompt), then the privilege check and the state read, command by command."""

    login_s: float = 0.0
    read_s: float = 0.0
    commands: int = 0
    slowest_s: float = 0.0

    @property
    def per_command_s(self) -> float:
        return self.read_s / self.commands if self.commands else 0.0


class _TimedSession:
    """A session whose every exchange is timed into its device's DeviceTiming."""

    def __init__(self, session: Session, timing: DeviceTiming, lock: threading.Lock):
        self._session = session
        self._timing = timing
        self._lock = lock

    def _timed(self, started: float) -> None:
        took = time.monotonic() - started
        with self._lock:
            self._timing.read_s += took
            self._timing.commands += 1
            self._timing.slowest_s = max(self._timing.slowest_s, took)

    def send_command(
        self,
        command: str,
        *,
        verify_echo: bool = True,
        expect: str | None = None,
        timeout: float | None = None,
    ) -> str:
        started = time.monotonic()
        try:
            return self._session.send_command(
                command, verify_echo=verify_echo, expect=expect, timeout=timeout
            )
        finally:
            self._timed(started)

    def send_config(self, commands: Sequence[str]) -> str:
        # Never reached by a rehearsal (no device task runs); refused all the same, so that a
        # change can never go out through a rehearsal's session.
        raise PlanRefused("a rehearsal sends no configuration")

    def commit(self, *, confirm_minutes: int | None = None) -> str:
        raise PlanRefused("a rehearsal commits nothing")

    def prompt(self) -> str:
        started = time.monotonic()
        try:
            return self._session.prompt()
        finally:
            self._timed(started)

    def close(self) -> None:
        self._session.close()


@dataclass
class Timings:
    """Per device, what its pre-flight took; filled from the device workers."""

    devices: dict[str, DeviceTiming] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, rt: Runtime) -> Runtime:
        """The runtime, its connector timing every login and wrapping every session."""
        connect = rt.connect

        def timed_connect(
            inventory: Inventory, device: str, driver: Driver, timeout: float
        ) -> Session:
            timing = DeviceTiming()
            with self._lock:
                self.devices[device] = timing
            started = time.monotonic()
            try:
                session = connect(inventory, device, driver, timeout)
            finally:
                timing.login_s = time.monotonic() - started
            return _TimedSession(session, timing, self._lock)

        return replace(rt, connect=timed_connect)


# --- the estimate ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WaveEstimate:
    wave: int
    seconds: float
    slowest: str  # the device that sets the wave's time
    not_measured: tuple[str, ...] = ()  # deferred devices: timed as the slowest one measured


@dataclass(frozen=True)
class Estimate:
    """How long the cut would take, from what the rehearsal measured.

    The cut's pre-flight is this one again: its measured wall time. Then, wave by wave, each
    device's change at its own measured per-command latency: the snapshot (one command), the
    configuration lines (plus entering and leaving configuration mode, plus the commit on a
    platform that commits), and the read-back (its measured read again); a wave lasts as long as
    its slowest device (more devices than workers: they queue, the earliest free worker first).
    Journal writes and the retries of a failing device are not counted.
    """

    preflight_s: float
    waves: tuple[WaveEstimate, ...]
    how: str = (
        "pre-flight as measured, then per wave the slowest device's snapshot + commands + "
        "read-back at its measured per-command latency"
    )

    @property
    def total_s(self) -> float:
        return self.preflight_s + sum(w.seconds for w in self.waves)


def _change_s(driver: Driver, change: ChangeSet, timing: DeviceTiming) -> float:
    commits = {CommitMode.NONE: 0, CommitMode.PLAIN: 1, CommitMode.CONFIRMED: 2}[change.commit]
    framing = 2 if driver.facts.config_mode else 0
    lines = len(change.lines) + framing + commits
    return (1 + lines) * timing.per_command_s + timing.read_s


def estimate(plan: Plan, timings: Timings, preflight_s: float, workers: int) -> Estimate:
    measured = timings.devices
    slowest = max(measured.values(), key=lambda t: t.read_s, default=DeviceTiming())
    waves = []
    for wave in plan.waves():
        costs: list[tuple[float, str]] = []
        guessed = []
        for step in wave:
            timing = measured.get(step.device)
            if timing is None or step.deferred:
                guessed.append(step.device)
                timing = replace(slowest, read_s=slowest.read_s + slowest.login_s)
            costs.append((_change_s(driver_for(step.platform), step.change, timing), step.device))
        seconds, who = _scheduled(costs, workers)
        waves.append(WaveEstimate(wave[0].wave, seconds, who, tuple(guessed)))
    return Estimate(preflight_s, tuple(waves))


def _scheduled(costs: list[tuple[float, str]], workers: int) -> tuple[float, str]:
    """The wave's wall time with `workers` in parallel, longest first, and who ends last."""
    free: list[tuple[float, str]] = [(0.0, "")] * max(1, min(workers, len(costs)))
    for cost, device in sorted(costs, reverse=True):
        at, _ = heapq.heappop(free)
        heapq.heappush(free, (at + cost, device))
    return max(free)


# --- what would block or slow the cut ------------------------------------------------------


class Kind(StrEnum):
    # Block: the cut stops before anything is changed (unless --partial).
    UNREACHABLE = "unreachable"
    HOST_KEY = "host key"
    CREDENTIALS = "credentials"
    NO_PRIVILEGE = "no privilege"
    OUT_OF_REACH = "out of reach"  # behind a cut management link, last seen open
    REFUSED = "plan refused"
    # Slow, or left to check: the cut runs.
    SLOW = "slow"
    UNKNOWN = "unknown state"  # behind a cut management link, last seen cut: not provable now
    MANAGEMENT_LOST = "management path lost"


BLOCKING = frozenset(
    {
        Kind.UNREACHABLE,
        Kind.HOST_KEY,
        Kind.CREDENTIALS,
        Kind.NO_PRIVILEGE,
        Kind.OUT_OF_REACH,
        Kind.REFUSED,
    }
)


@dataclass(frozen=True)
class Finding:
    kind: Kind
    device: str
    detail: str

    @property
    def blocks(self) -> bool:
        return self.kind in BLOCKING


def _kind_of(why: str) -> Kind:
    text = why.lower()
    if text.startswith("not dialled"):
        return Kind.OUT_OF_REACH  # preflight.not_dialled: behind a cut link, last seen open
    if "privilege" in text:
        return Kind.NO_PRIVILEGE
    if "host key" in text or "known_hosts" in text:
        return Kind.HOST_KEY
    if "authentication" in text:
        return Kind.CREDENTIALS
    return Kind.UNREACHABLE


def findings(
    plan: Plan | None,
    unreachable: Mapping[str, str],
    unknown: Mapping[str, OutOfReach],
    timings: Timings,
    timeout: float,
) -> list[Finding]:
    found = [Finding(_kind_of(why), d, why) for d, why in sorted(unreachable.items())]
    for device, o in sorted(unknown.items()):
        found.append(Finding(Kind.UNKNOWN, device, f"{o.why}: `cut --reach {device}` reads it"))
    for device, t in sorted(timings.devices.items()):
        if device in unreachable:
            continue
        if t.login_s + t.read_s >= SLOW_LOGIN_READ_S or t.slowest_s >= timeout * SLOW_COMMAND_SHARE:
            found.append(
                Finding(
                    Kind.SLOW,
                    device,
                    f"login {t.login_s:.1f} s, read {t.read_s:.1f} s over {t.commands} "
                    f"commands (slowest {t.slowest_s:.1f} s; the timeout is {timeout:g} s)",
                )
            )
    for m in plan.management if plan else []:
        if not m.manageable_after:
            note = m.note or "a later change needs its management path reopened first"
            found.append(Finding(Kind.MANAGEMENT_LOST, m.device, f"out of reach once cut: {note}"))
    return found


# --- the rehearsal --------------------------------------------------------------------------


@dataclass
class Rehearsal:
    report: PlanReport | None  # None: the plan was refused (see the REFUSED finding)
    fingerprint: Fingerprint | None
    findings: list[Finding]
    timings: Timings
    estimate: Estimate | None
    targets: dict[str, list[CutTarget]]

    @property
    def blockers(self) -> list[Finding]:
        return [f for f in self.findings if f.blocks]

    @property
    def ready(self) -> bool:
        return not self.blockers


@dataclass
class Planned:
    """A cut plan computed from the devices now, and its fingerprint."""

    report: PlanReport
    fingerprint: Fingerprint
    states: dict[str, DeviceState]


def fingerprint_of(
    rt: Runtime,
    playbook: Playbook,
    plan: Plan,
    states: Mapping[str, DeviceState],
    targets: Mapping[str, Sequence[CutTarget]],
) -> Fingerprint:
    return Fingerprint.of(plan, rt.inventory, playbook, states, targets)


def planned(
    rt: Runtime, playbook: Playbook, parameters: Mapping[str, str], offline: bool = False
) -> Planned:
    """`containment.plan`, keeping what the plan was computed from (for `plan`)."""
    targets = cut_targets(rt.inventory, playbook, parameters)
    if offline:
        the_plan = plan_cut(rt.inventory, playbook, parameters, None)
        report = PlanReport(the_plan, {}, True)
        return Planned(report, fingerprint_of(rt, playbook, the_plan, {}, targets), {})
    view = JournalView.read(rt.journal_path)
    with observe(rt, targets) as seen:
        known = known_out_of_reach(view, targets, seen)
        unreachable, unknown = _unread(Direction.CUT, seen, known)
        the_plan = plan_cut(rt.inventory, playbook, parameters, seen.states, unread=set(unknown))
        report = PlanReport(the_plan, unreachable, False, unknown, central_managers(seen.states))
        states = dict(seen.states)
    return Planned(report, fingerprint_of(rt, playbook, the_plan, states, targets), states)


def rehearse(rt: Runtime, playbook: Playbook, parameters: Mapping[str, str]) -> Rehearsal:
    """The cut's pre-flight and plan, timed; nothing is changed anywhere."""
    timings = Timings()
    timed = timings.timed(rt)
    targets = {d: list(ts) for d, ts in cut_targets(rt.inventory, playbook, parameters).items()}
    view = JournalView.read(rt.journal_path)
    started = time.monotonic()
    refused = ""
    with observe(timed, targets) as seen:
        preflight_s = time.monotonic() - started
        known = known_out_of_reach(view, targets, seen)
        unreachable, unknown = _unread(Direction.CUT, seen, known)
        try:
            the_plan: Plan | None = plan_cut(
                rt.inventory, playbook, parameters, seen.states, unread=set(unknown)
            )
        except InputError as exc:
            the_plan = None
            refused = str(exc)
        states = dict(seen.states)
    found = findings(the_plan, unreachable, unknown, timings, rt.timeout)
    if the_plan is None:
        found.insert(0, Finding(Kind.REFUSED, "-", refused))
        return Rehearsal(None, None, found, timings, None, targets)
    report = PlanReport(the_plan, unreachable, False, unknown, central_managers(states))
    return Rehearsal(
        report,
        fingerprint_of(rt, playbook, the_plan, states, targets),
        found,
        timings,
        estimate(the_plan, timings, preflight_s, rt.workers),
        targets,
    )


# --- the journal ----------------------------------------------------------------------------


def computed_event(
    plan: Plan,
    fingerprint: Fingerprint,
    *,
    by: str,
    offline: bool = False,
    operator: str = "",
    rehearsal: Rehearsal | None = None,
) -> ev.PlanComputed:
    return ev.PlanComputed(
        playbook=plan.playbook,
        parameters=plan.parameters,
        by=by,
        direction=plan.direction,
        plan_hash=fingerprint.plan,
        inventory=plan.inventory,
        inventory_hash=fingerprint.inventory,
        playbook_hash=fingerprint.playbook,
        states=fingerprint.states,
        # Read from the steps' attributes (a dump and a validation of each took 0.15 s).
        steps=[
            ev.PlannedStepRecord.model_validate(s, from_attributes=True) for s in fingerprint.steps
        ],
        offline=offline,
        operator=operator,
        ready=rehearsal.ready if rehearsal else None,
        blockers={f.device: f"{f.kind}: {f.detail}" for f in rehearsal.blockers}
        if rehearsal
        else {},
        estimate_s=round(rehearsal.estimate.total_s, 3)
        if rehearsal and rehearsal.estimate
        else None,
    )


def record(rt: Runtime, event: ev.PlanComputed) -> None:
    """Journal the plan computed (raises JournalError / LockedError as every write does).

    The journal's own lock only: a plan changes no device, so it takes no lock of the
    network's addresses (those keep two runs from changing the same devices at once; a plan
    computed beside a run on them is no conflict, and locking 5000 addresses took 0.2 s)."""
    custody = replace(rt.custody, network=None)
    with Journal(rt.journal_path, custody=custody) as journal:
        name, fields = ev.to_fields(event)
        journal.record(name, **fields)


def computed_plans(path: Path, plan_hash: str) -> list[ev.PlanComputed]:
    """Every `plan.computed` record of this hash, oldest first."""
    found = []
    for r in read_records(path) if path.exists() else []:
        if isinstance(r, TornRecord) or r.get("event") != "plan.computed":
            continue
        event = ev.from_record(r)
        if isinstance(event, ev.PlanComputed) and event.plan_hash == plan_hash:
            found.append(event)
    return found


# --- cut --expect-plan ----------------------------------------------------------------------


def normal_hash(given: str) -> str:
    """`sha256:<64 hex>` from what an operator pasted (with or without the prefix)."""
    text = given.strip().lower()
    hex_part = text.removeprefix(PREFIX)
    if len(hex_part) != 64 or any(c not in "0123456789abcdef" for c in hex_part):
        raise ValueError(f"{given!r} is not a plan hash (sha256:<64 hex digits>)")
    return PREFIX + hex_part


@dataclass
class ExpectedPlan:
    """The plan the cut computes must be this one: otherwise refused before anything is sent,
    with what changed since it was computed (as the journal recorded it)."""

    rt: Runtime
    playbook: Playbook
    expected: str
    checked: bool = False

    def __call__(
        self,
        plan: Plan,
        states: Mapping[str, DeviceState],
        targets: Mapping[str, Sequence[CutTarget]],
    ) -> None:
        now = fingerprint_of(self.rt, self.playbook, plan, states, targets)
        if now.plan == self.expected:
            self.checked = True
            return
        raise PlanRefused(self.explain(now))

    def explain(self, now: Fingerprint) -> str:
        lines = [
            f"the plan computed now ({now.plan}) is not the expected one ({self.expected}); "
            "nothing was sent"
        ]
        then = None
        with suppress(IsolementError, OSError):
            recorded = computed_plans(self.rt.journal_path, self.expected)
            then = recorded[-1] if recorded else None
        if then is None:
            lines.append(
                f"  no plan {self.expected} is recorded in {self.rt.journal_path}: what it was "
                "computed from is not known; the plan now:"
            )
            for s in now.steps:
                lines.append(f"  {s.device} (wave {s.wave}): {', '.join(s.changes)}")
                lines += [f"    {c}" for c in s.commands]
        else:
            lines.append(
                f"  since {then.by or 'the plan'} at {then.ts or '?'} (journal seq {then.seq}):"
            )
            recorded_fp = Fingerprint(
                plan=then.plan_hash,
                inventory=then.inventory_hash,
                playbook=then.playbook_hash,
                states=dict(then.states),
                steps=[PlannedStep.model_validate(s.model_dump()) for s in then.steps],
            )
            lines += [f"  {line}" for line in differences(recorded_fp, now)]
        lines.append("  rehearse again, check the plan, and cut with the new hash")
        return "\n".join(lines)
