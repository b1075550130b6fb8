"""The containment flows: plan, cut and restore, end to end.

Data flows one way: inventory + playbook -> state read from the devices -> plan (pure) ->
changes applied in parallel -> state read back -> journal. Restore is the same flow, driven by
what the journal says isolement changed.
"""

from __future__ import annotations

import difflib
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from isolement.drivers import CutTarget, Driver, Session, driver_for
from isolement.flows.executor import run_per_device
from isolement.flows.preflight import cut_targets, login, observe
from isolement.flows.runtime import Runtime
from isolement.journal.redaction import redact
from isolement.journal.snapshots import load_snapshot, store_snapshot
from isolement.journal.store import (
    Journal,
    devices_cut_by_others,
    outstanding_cuts,
    snapshots_before_cut,
)
from isolement.model.errors import DeviceError, IsolementError, JournalError
from isolement.model.plan import Change, DeviceStep, Direction, Plan
from isolement.model.playbook import Playbook
from isolement.model.state import DeviceState
from isolement.planning.planner import (
    Recorded,
    device_step,
    plan_cut,
    plan_restore,
    reached,
)


@dataclass(frozen=True)
class Options:
    """How a run behaves when devices fail."""

    # Cut what can be cut when pre-flight fails on some devices (default: change nothing).
    partial: bool = False
    # Extra attempts for a device whose change failed, with a doubling delay between them.
    retries: int = 2
    backoff_s: float = 1.0


class Outcome(StrEnum):
    DONE = "done"  # every targeted path is in the wanted state, confirmed on the devices
    NOTHING_TO_DO = "nothing-to-do"  # it already was; nothing was sent
    PARTIAL = "partial"  # some paths are in the wanted state, some are not (see still_open)
    FAILED = "failed"  # no targeted path could be changed
    STOPPED = "stopped"  # pre-flight failed on some devices: nothing was changed


@dataclass
class StepResult:
    step: DeviceStep
    error: str | None = None
    output: str = ""
    duration_s: float = 0.0
    attempts: int = 0
    # Restore only: how the configuration differs from the snapshot taken before the cut
    # ([] when identical, None when there is no snapshot to compare with).
    drift: list[str] | None = None


@dataclass
class RunReport:
    plan: Plan
    outcome: Outcome
    steps: list[StepResult]
    unreachable: dict[str, str]
    run_id: str
    duration_s: float
    # Targeted links not in the wanted state at the end, with the reason.
    still_open: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False


@dataclass
class PlanReport:
    plan: Plan
    unreachable: dict[str, str]
    offline: bool


def plan(
    rt: Runtime, playbook: Playbook, parameters: Mapping[str, str], offline: bool
) -> PlanReport:
    if offline:
        return PlanReport(plan_cut(rt.inventory, playbook, parameters, None), {}, True)
    targets = cut_targets(rt.inventory, playbook, parameters)
    with observe(rt, targets) as seen:
        the_plan = plan_cut(rt.inventory, playbook, parameters, seen.states)
        return PlanReport(the_plan, seen.unreachable, False)


def _journal_states(state: DeviceState, changes: list[Change]) -> dict[str, Any]:
    return {c.interface: state.describe(c.interface) for c in changes}


class _Interrupt:
    """First Ctrl-C (or SIGTERM): start nothing new, let in-flight device changes finish and
    report. Second: stop at once. Installed only in the main thread."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, _frame: object) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()
        print(
            "isolement: interrupted: finishing the device changes in flight, starting no "
            "new ones (press Ctrl-C again to abort at once)",
            file=sys.stderr,
        )

    def __enter__(self) -> _Interrupt:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def execute(
    rt: Runtime,
    journal: Journal,
    make_plan: Callable[[Mapping[str, DeviceState]], Plan],
    targets: Mapping[str, Sequence[CutTarget]],
    decision: dict[str, Any],
    options: Options,
    infer: bool = True,
) -> RunReport:
    """Shared by cut and restore: pre-flight, plan, journal the decision, apply wave by wave
    with retries, read back, and say exactly which paths are not in the wanted state."""
    started = time.monotonic()
    run_id = uuid.uuid4().hex[:12]
    with observe(rt, targets, infer) as seen, _Interrupt() as interrupt:
        unreachable = seen.unreachable
        the_plan = make_plan(seen.states)  # a refusal here means nothing was sent
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
            waves=[[s.device for s in wave] for wave in the_plan.waves()],
            preflight_failed=unreachable,
            inferred=seen.inferred,
        )
        for device in sorted(set(targets) & set(seen.states) - set(seen.inferred)):
            changes = [
                Change(link=t.link, interface=t.interface, method=t.method) for t in targets[device]
            ]
            journal.record(
                "device.observed",
                **common,
                device=device,
                state=_journal_states(seen.states[device], changes),
            )
        sessions_ = seen.sessions
        results: dict[str, StepResult] = {}

        def close(device: str) -> None:
            session = sessions_.pop(device, None)
            if session is not None:
                session.close()

        # Log out as soon as a device has nothing more to do: an in-band device's session
        # would otherwise outlive the cut of its own management path.
        idle = set(sessions_) - {s.device for s in the_plan.steps}
        run_per_device(idle, close, rt.workers)
        # By default a failed pre-flight stops the run before anything is changed.
        stopped = bool(unreachable and not options.partial and the_plan.steps)
        if stopped:
            for step in the_plan.steps:
                why = unreachable.get(step.device, "not started: pre-flight failed elsewhere")
                results[step.device] = StepResult(step, error=why)

        def attempt(step: DeviceStep, number: int) -> StepResult:
            device = step.device
            driver = driver_for(step.platform)
            if number == 1 and device in sessions_:
                session, before, todo = sessions_[device], seen.states[device], step
            else:
                close(device)
                session, before = login(rt, device)
                sessions_[device] = session
                # Re-plan this device from its state now: part of the change may have landed.
                fresh, _ = device_step(rt.inventory, device, direction, step.changes, before)
                if fresh is None:
                    return StepResult(step, output="already in the wanted state on retry")
                todo = fresh
            changes = [c.model_dump(mode="json") for c in todo.changes]
            # The configuration before a cut is evidence, and what a restore is checked against.
            snapshot = (
                store_snapshot(rt.journal_path, driver.snapshot(session))
                if direction is Direction.CUT
                else None
            )
            journal.record(
                "change.intent",
                snapshot=snapshot,
                **common,
                device=device,
                direction=direction,
                attempt=number,
                changes=changes,
                commands=todo.commands,
                before=_journal_states(before, todo.changes),
            )
            t0 = time.monotonic()
            try:
                output = driver.apply(session, device, todo.commands)
                after = driver.read_state(session)
            except Exception as exc:
                journal.record(
                    "change.failed",
                    **common,
                    device=device,
                    direction=direction,
                    attempt=number,
                    changes=changes,
                    error=str(exc),
                )
                raise
            confirmed = [c for c in todo.changes if reached(after, c, direction)]
            drift = _drift(rt, driver, session, device) if direction is Direction.RESTORE else None
            journal.record(
                "change.applied",
                **common,
                device=device,
                direction=direction,
                attempt=number,
                changes=changes,
                commands=todo.commands,
                output=output,
                before=_journal_states(before, todo.changes),
                after=_journal_states(after, todo.changes),
                confirmed=[c.model_dump(mode="json") for c in confirmed],
                duration_s=round(time.monotonic() - t0, 3),
                drift=drift,
            )
            if len(confirmed) != len(todo.changes):
                missing = ", ".join(c.interface for c in todo.changes if c not in confirmed)
                raise DeviceError(device, f"commands accepted but not in effect on: {missing}")
            return StepResult(step, output=output, duration_s=time.monotonic() - t0, drift=drift)

        baselines = snapshots_before_cut(
            rt.journal_path, the_plan.playbook, dict(the_plan.parameters)
        )
        # A device keeps cuts after this run (another playbook's, or a later stage's): its
        # configuration cannot match the snapshot yet, so it is not compared.
        undone = {(s.device, c.interface, c.method) for s in the_plan.steps for c in s.changes}
        still_cut = {
            device
            for device, c in outstanding_cuts(
                rt.journal_path, the_plan.playbook, dict(the_plan.parameters)
            )
            if (device, c["interface"], c["method"]) not in undone
        }
        for device in still_cut | devices_cut_by_others(
            rt.journal_path, the_plan.playbook, dict(the_plan.parameters)
        ):
            baselines.pop(device, None)

        def _drift(rt: Runtime, driver: Driver, session: Session, device: str) -> list[str] | None:
            """How the configuration differs from before the cut, once restored ([] if not)."""
            before = (
                load_snapshot(rt.journal_path, baselines[device]) if device in baselines else None
            )
            if before is None:
                return None
            after = redact(driver.snapshot(session))
            return list(
                difflib.unified_diff(
                    before.splitlines(),
                    after.splitlines(),
                    "before the cut",
                    "after restore",
                    lineterm="",
                    n=0,
                )
            )

        def apply_with_retries(device: str) -> StepResult:
            try:
                return try_device(device)
            finally:
                close(device)

        def try_device(device: str) -> StepResult:
            step = steps[device]
            delay = options.backoff_s
            last_error = unreachable.get(device, "")
            # Pre-flight was the first attempt on a device it could not reach; a deferred step
            # (behind a management path this run reopens) has not been tried yet.
            first = 2 if device in unreachable and not step.deferred else 1
            for number in range(first, options.retries + 2):
                if interrupt.event.is_set():
                    raise DeviceError(
                        device,
                        f"not started: interrupted ({last_error})"
                        if last_error
                        else "not started: interrupted",
                    )
                try:
                    result = attempt(step, number)
                    result.attempts = number
                    return result
                except JournalError:
                    raise  # the journal cannot be written: retrying would send unjournaled
                except (DeviceError, IsolementError) as exc:
                    last_error = exc.reason if isinstance(exc, DeviceError) else str(exc)
                if number <= options.retries:
                    time.sleep(delay)
                    delay *= 2
            raise DeviceError(device, last_error)

        steps = {s.device: s for s in the_plan.steps}
        for wave in [] if stopped else the_plan.waves():
            runnable = []
            for step in wave:
                blocked = [d for d in step.after if results.get(d) and results[d].error]
                if blocked:
                    results[step.device] = StepResult(
                        step,
                        error=(
                            f"held back: it would cut the management path of {', '.join(blocked)}, "
                            "whose own change did not complete (re-run to retry)"
                        ),
                    )
                else:
                    runnable.append(step.device)
            for device, r in run_per_device(runnable, apply_with_retries, rt.workers).items():
                results[device] = (
                    r.value
                    if r.value is not None
                    else StepResult(steps[device], error=r.error, attempts=options.retries + 1)
                )
        return _finish(
            rt,
            journal,
            the_plan,
            results,
            unreachable,
            common,
            started,
            Outcome.STOPPED if stopped else None,
            interrupt.event.is_set(),
        )


def _finish(
    rt: Runtime,
    journal: Journal,
    the_plan: Plan,
    results: Mapping[str, StepResult],
    unreachable: dict[str, str],
    common: dict[str, Any],
    started: float,
    outcome: Outcome | None,
    interrupted: bool,
) -> RunReport:
    step_results = [results[s.device] for s in the_plan.steps if s.device in results]
    # A link is in the wanted state once any of its ends is: cut, one end stops the traffic.
    done_ends: dict[str, list[str]] = {}
    for device, changes in the_plan.already_done.items():
        for c in changes:
            done_ends.setdefault(c.link, []).append(device)
    failures: dict[str, list[str]] = {}
    for result in step_results:
        for c in result.step.changes:
            if result.error:
                failures.setdefault(c.link, []).append(f"{result.step.device}: {result.error}")
            else:
                done_ends.setdefault(c.link, []).append(result.step.device)
    stepped = {r.step.device for r in step_results}
    for device, why in unreachable.items():
        if device in stepped:
            continue  # its failure is already in its step result
        for link in the_plan.targeted_links:
            if device in {e.device for e in rt.inventory.links[link].endpoints}:
                failures.setdefault(link, []).append(f"{device}: {why}")
    still_open: dict[str, str] = {}
    for link in the_plan.targeted_links:
        if the_plan.direction is Direction.CUT:
            complete = link in done_ends  # one cut end stops the traffic
        else:
            complete = link not in failures  # every end isolement cut must be reopened
        if not complete:
            still_open[link] = "; ".join(failures.get(link, ["not changed"]))
    if outcome is None:
        if not still_open:
            outcome = Outcome.NOTHING_TO_DO if not the_plan.steps else Outcome.DONE
        elif len(still_open) < len(the_plan.targeted_links):
            outcome = Outcome.PARTIAL
        else:
            outcome = Outcome.FAILED
    report = RunReport(
        the_plan,
        outcome,
        step_results,
        unreachable,
        common["run"],
        time.monotonic() - started,
        still_open,
        interrupted,
    )
    journal.record(
        "run.finished",
        **common,
        direction=the_plan.direction,
        outcome=outcome,
        still_open=still_open,
        failed={s.step.device: s.error for s in step_results if s.error},
        interrupted=interrupted,
        duration_s=round(report.duration_s, 3),
    )
    return report


def cut(
    rt: Runtime,
    playbook: Playbook,
    parameters: Mapping[str, str],
    *,
    reason: str,
    operator: str,
    options: Options | None = None,
) -> RunReport:
    targets = cut_targets(rt.inventory, playbook, parameters)
    with Journal(rt.journal_path, custody=rt.custody) as journal:
        return execute(
            rt,
            journal,
            lambda observed: plan_cut(rt.inventory, playbook, parameters, observed),
            targets,
            {"operator": operator, "reason": reason},
            options or Options(),
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
    options: Options | None = None,
) -> RunReport:
    with Journal(rt.journal_path, custody=rt.custody) as journal:
        recorded = recorded_cuts(rt, playbook, parameters)
        targets: dict[str, list[CutTarget]] = {}
        for r in recorded:
            targets.setdefault(r.device, []).append(
                CutTarget(r.change.link, r.change.interface, r.change.method)
            )

        return execute(
            rt,
            journal,
            lambda observed: plan_restore(rt.inventory, playbook, parameters, recorded, observed),
            targets,
            {"operator": operator, "reason": reason, "approved_by": approved_by},
            options or Options(partial=True),
            # A device cut off from the controller is restored from its state once its
            # management path is back (a deferred step), never from a remembered state.
            infer=False,
        )
