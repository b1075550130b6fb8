"""The containment flows: plan, cut, restore, status and verify, end to end.

Data flows one way: inventory + playbook -> state read from the devices -> plan (pure) ->
changes applied in parallel -> state read back -> journal. Restore is the same flow, driven by
what the journal says isolement changed.
"""

from __future__ import annotations

import getpass
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from isolement import session as sessions
from isolement.drivers import CutTarget, Driver, Session, driver_for
from isolement.errors import DeviceError, InputError
from isolement.executor import MAX_WORKERS, run_per_device
from isolement.inventory import Inventory, check_credentials
from isolement.journal import Journal, outstanding_cuts
from isolement.plan import Change, DeviceStep, Direction, Plan
from isolement.planner import Recorded, plan_cut, plan_restore, select_targets
from isolement.playbook import Playbook
from isolement.probes import ProbeOutcome, ProbeResult, run_probes
from isolement.state import DeviceState

Connector = Callable[[Inventory, str, Driver], Session]


@dataclass
class Runtime:
    """What every flow needs: the inventory, where the journal is, how to reach a device."""

    inventory: Inventory
    journal_path: Path
    connect: Connector = sessions.connect
    workers: int = MAX_WORKERS


class Outcome(StrEnum):
    DONE = "done"  # every planned change is applied and confirmed on the device
    NOTHING_TO_DO = "nothing-to-do"
    PARTIAL = "partial"  # some changes applied, some paths still as they were
    FAILED = "failed"  # no planned change could be applied


@dataclass
class StepResult:
    step: DeviceStep
    error: str | None = None
    output: str = ""
    duration_s: float = 0.0


@dataclass
class RunReport:
    plan: Plan
    outcome: Outcome
    steps: list[StepResult]
    unreachable: dict[str, str]
    run_id: str
    duration_s: float

    def failed(self) -> list[StepResult]:
        return [s for s in self.steps if s.error]


@dataclass
class PlanReport:
    plan: Plan
    unreachable: dict[str, str]
    offline: bool


def operator_name() -> str:
    return os.environ.get("SUDO_USER") or getpass.getuser()


@contextmanager
def _open_devices(
    rt: Runtime, devices: set[str]
) -> Iterator[tuple[dict[str, tuple[Session, DeviceState]], dict[str, str]]]:
    """Log in to every device in parallel and read its state; close every session afterwards."""
    check_credentials(rt.inventory, devices)

    def login(device: str) -> tuple[Session, DeviceState]:
        driver = driver_for(rt.inventory.devices[device].platform)
        session = rt.connect(rt.inventory, device, driver)
        try:
            return session, driver.read_state(session)
        except Exception:
            session.close()
            raise

    results = run_per_device(sorted(devices), login, rt.workers)
    opened = {d: r.value for d, r in results.items() if r.value is not None}
    unreachable = {d: r.error or "unknown error" for d, r in results.items() if not r.ok}
    try:
        yield opened, unreachable
    finally:
        run_per_device(opened, lambda d: opened[d][0].close(), rt.workers)


def plan(
    rt: Runtime, playbook: Playbook, parameters: Mapping[str, str], offline: bool
) -> PlanReport:
    targets = select_targets(rt.inventory, playbook, parameters)
    if offline:
        return PlanReport(plan_cut(rt.inventory, playbook, parameters, None), {}, True)
    with _open_devices(rt, set(targets)) as (opened, unreachable):
        observed = {device: state for device, (_, state) in opened.items()}
        return PlanReport(
            plan_cut(rt.inventory, playbook, parameters, observed), unreachable, False
        )


def _journal_states(state: DeviceState, changes: list[Change]) -> dict[str, Any]:
    return {c.interface: state.describe(c.interface) for c in changes}


def _execute(
    rt: Runtime,
    journal: Journal,
    make_plan: Callable[[Mapping[str, DeviceState]], Plan],
    devices: set[str],
    decision: dict[str, Any],
) -> RunReport:
    """Shared by cut and restore: read, plan, journal the decision, apply, read back."""
    started = time.monotonic()
    run_id = uuid.uuid4().hex[:12]
    with _open_devices(rt, devices) as (opened, unreachable):
        observed = {device: state for device, (_, state) in opened.items()}
        the_plan = make_plan(observed)  # a refusal here means nothing was sent
        direction = the_plan.direction
        common = {"run": run_id, "playbook": the_plan.playbook, "parameters": the_plan.parameters}
        journal.record(
            "run.started",
            **common,
            **decision,
            direction=direction,
            plan=the_plan.digest(),
            inventory=rt.inventory.name,
            controller=socket.gethostname(),
            steps=[s.device for s in the_plan.steps],
            unreachable=unreachable,
        )
        steps = {s.device: s for s in the_plan.steps}

        def apply(device: str) -> StepResult:
            step = steps[device]
            if device not in opened:
                journal.record(
                    "change.skipped",
                    **common,
                    device=device,
                    direction=direction,
                    error=unreachable[device],
                )
                raise DeviceError(device, unreachable[device])
            session, before = opened[device]
            driver = driver_for(step.platform)
            changes = [c.model_dump(mode="json") for c in step.changes]
            journal.record(
                "change.intent",
                **common,
                device=device,
                direction=direction,
                changes=changes,
                commands=step.commands,
                before=_journal_states(before, step.changes),
            )
            t0 = time.monotonic()
            try:
                output = driver.apply(session, device, step.commands)
                after = driver.read_state(session)
            except Exception as exc:
                journal.record(
                    "change.failed",
                    **common,
                    device=device,
                    direction=direction,
                    changes=changes,
                    error=str(exc),
                )
                raise
            want_cut = direction is Direction.CUT
            confirmed = [c for c in step.changes if after.is_cut(c.interface, c.method) == want_cut]
            journal.record(
                "change.applied",
                **common,
                device=device,
                direction=direction,
                changes=changes,
                commands=step.commands,
                output=output,
                before=_journal_states(before, step.changes),
                after=_journal_states(after, step.changes),
                confirmed=[c.model_dump(mode="json") for c in confirmed],
                duration_s=round(time.monotonic() - t0, 3),
            )
            if len(confirmed) != len(step.changes):
                missing = ", ".join(c.interface for c in step.changes if c not in confirmed)
                raise DeviceError(device, f"commands accepted but not in effect on: {missing}")
            return StepResult(step, output=output, duration_s=time.monotonic() - t0)

        results = run_per_device(steps, apply, rt.workers)
    step_results = [
        r.value if r.value is not None else StepResult(steps[d], error=r.error)
        for d, r in results.items()
    ]
    failed = sum(1 for s in step_results if s.error)
    if not step_results:
        outcome = Outcome.NOTHING_TO_DO if not unreachable else Outcome.FAILED
    elif failed == 0:
        outcome = Outcome.DONE
    else:
        outcome = Outcome.FAILED if failed == len(step_results) else Outcome.PARTIAL
    # Unreachable devices with nothing planned still leave their paths in doubt.
    if outcome in (Outcome.DONE, Outcome.NOTHING_TO_DO) and unreachable:
        outcome = Outcome.PARTIAL
    report = RunReport(
        the_plan, outcome, step_results, unreachable, run_id, time.monotonic() - started
    )
    journal.record(
        "run.finished",
        **common,
        direction=direction,
        outcome=outcome,
        failed={s.step.device: s.error for s in step_results if s.error},
        duration_s=round(report.duration_s, 3),
    )
    return report


def cut(
    rt: Runtime, playbook: Playbook, parameters: Mapping[str, str], *, reason: str, operator: str
) -> RunReport:
    devices = set(select_targets(rt.inventory, playbook, parameters))
    with Journal(rt.journal_path) as journal:
        return _execute(
            rt,
            journal,
            lambda observed: plan_cut(rt.inventory, playbook, parameters, observed),
            devices,
            {"operator": operator, "reason": reason},
        )


def recorded_cuts(rt: Runtime, playbook: Playbook, parameters: Mapping[str, str]) -> list[Recorded]:
    return [
        Recorded(device, Change.model_validate(change))
        for device, change in outstanding_cuts(rt.journal_path, playbook.name, dict(parameters))
        if device in rt.inventory.devices
    ]


def restore(
    rt: Runtime,
    playbook: Playbook,
    parameters: Mapping[str, str],
    *,
    reason: str,
    operator: str,
    approved_by: str,
) -> RunReport:
    with Journal(rt.journal_path) as journal:
        recorded = recorded_cuts(rt, playbook, parameters)
        devices = {r.device for r in recorded}

        def make_plan(observed: Mapping[str, DeviceState]) -> Plan:
            reachable = [r for r in recorded if r.device in observed]
            return plan_restore(rt.inventory, playbook, parameters, reachable, observed)

        return _execute(
            rt,
            journal,
            make_plan,
            devices,
            {"operator": operator, "reason": reason, "approved_by": approved_by},
        )


class PathState(StrEnum):
    CUT = "cut"
    OPEN = "open"
    PARTIAL = "partial"
    UNKNOWN = "unknown"


@dataclass
class EndpointStatus:
    device: str
    interface: str
    method: str
    state: PathState
    reason: str = ""


@dataclass
class LinkStatus:
    link: str
    kind: str
    state: PathState
    endpoints: list[EndpointStatus] = field(default_factory=list)


def status(
    rt: Runtime, playbook: Playbook | None, parameters: Mapping[str, str]
) -> list[LinkStatus]:
    """Each targeted link (every link without a playbook) as cut, open, partial or unknown."""
    targets: dict[str, list[CutTarget]] = {}
    if playbook is not None:
        targets = select_targets(rt.inventory, playbook, parameters)
    else:
        for name, link in rt.inventory.links.items():
            for endpoint in link.endpoints:
                driver = driver_for(rt.inventory.devices[endpoint.device].platform)
                targets.setdefault(endpoint.device, []).append(
                    CutTarget(name, endpoint.interface, driver.preferred_method)
                )
    links: dict[str, LinkStatus] = {}
    with _open_devices(rt, set(targets)) as (opened, unreachable):
        for device in sorted(targets):
            for target in targets[device]:
                end: EndpointStatus
                if device in unreachable:
                    end = EndpointStatus(
                        device,
                        target.interface,
                        target.method,
                        PathState.UNKNOWN,
                        unreachable[device],
                    )
                else:
                    state = opened[device][1]
                    if target.interface not in state.interfaces:
                        cut_state, why = PathState.UNKNOWN, "interface not on device"
                    elif state.is_cut(target.interface, target.method):
                        cut_state, why = PathState.CUT, ""
                    else:
                        cut_state, why = PathState.OPEN, ""
                    end = EndpointStatus(device, target.interface, target.method, cut_state, why)
                kind = rt.inventory.links[target.link].kind
                links.setdefault(target.link, LinkStatus(target.link, kind, PathState.OPEN))
                links[target.link].endpoints.append(end)
    for status_ in links.values():
        states = {e.state for e in status_.endpoints}
        if PathState.CUT in states:
            status_.state = PathState.CUT if states == {PathState.CUT} else PathState.PARTIAL
        elif PathState.UNKNOWN in states:
            status_.state = PathState.UNKNOWN
        else:
            status_.state = PathState.OPEN
    return [links[name] for name in sorted(links)]


@dataclass
class ProbeCheck:
    outcome: ProbeOutcome
    expected: ProbeResult

    @property
    def ok(self) -> bool:
        return self.outcome.result is self.expected


@dataclass
class VerifyReport:
    links: list[LinkStatus]
    probes: list[ProbeCheck]

    @property
    def open_links(self) -> list[LinkStatus]:
        return [link for link in self.links if link.state is not PathState.CUT]

    @property
    def leaking_probes(self) -> list[ProbeCheck]:
        return [p for p in self.probes if p.expected is ProbeResult.BLOCKED and not p.ok]

    @property
    def collateral(self) -> list[ProbeCheck]:
        """Paths the playbook should have left up that no longer pass."""
        return [p for p in self.probes if p.expected is ProbeResult.PASSES and not p.ok]

    @property
    def contained(self) -> bool:
        return not self.open_links and not self.leaking_probes


def verify(rt: Runtime, playbook: Playbook, parameters: Mapping[str, str]) -> VerifyReport:
    links = status(rt, playbook, parameters)
    targeted = {link.link for link in links}
    checks = []
    for outcome in run_probes(rt.inventory.probes):
        if outcome.result is ProbeResult.UNAVAILABLE:
            continue
        crosses_cut = bool(targeted & set(outcome.probe.crosses))
        expected = ProbeResult.BLOCKED if crosses_cut else ProbeResult.PASSES
        checks.append(ProbeCheck(outcome, expected))
    return VerifyReport(links, checks)


def require_text(value: str | None, option: str) -> str:
    if not value or not value.strip():
        raise InputError(f"{option} is required and must not be empty")
    return value
