"""The containment flows: plan, cut (and `cut --reach`) and restore, end to end.

Data flows one way: inventory + playbook -> state read from the devices (preflight) -> plan
(pure) -> each device's task, wave by wave (task, waves) -> a summary of plan and results
(summary). The run tells its observers as it goes; the journal recorder is the one that must
not fail. Restore is the same run, driven by what the journal says isolement changed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from isolement.drivers import CutTarget
from isolement.flows import persistence
from isolement.flows.evidence import ReadsAhead, reads_ahead
from isolement.flows.interrupt import Interrupted
from isolement.flows.observers import Decision, Observers, RunInfo
from isolement.flows.preflight import Observation, not_dialled, observe
from isolement.flows.recorder import JournalRecorder
from isolement.flows.results import (
    Outcome,
    PlanReport,
    RunReport,
    StepResult,
    StepStatus,
    central_managers,
)
from isolement.flows.runtime import Options, Runtime
from isolement.flows.summary import Unread, summarize
from isolement.flows.task import DeviceTask, RunContext
from isolement.flows.waves import run_waves
from isolement.journal.store import Journal
from isolement.journal.view import JournalView
from isolement.model.errors import JournalError, PlanRefused
from isolement.model.plan import DeviceStep, Direction, Plan
from isolement.model.playbook import Playbook
from isolement.model.state import DeviceState
from isolement.planning.management import OutOfReach, cut_targets, out_of_reach, to_reopen_for
from isolement.planning.planner import Recorded, plan_cut, plan_restore

__all__ = [
    "Options",
    "Outcome",
    "PlanReport",
    "RunReport",
    "RunSpec",
    "cut",
    "execute",
    "plan",
    "recorded_cuts",
    "restore",
]

# Plans a run from the states read and the devices that could not be read (out of reach).
PlanMaker = Callable[[Mapping[str, DeviceState], Collection[str]], Plan]
# Checks the plan computed before anything is sent; raises to refuse it (`cut --expect-plan`).
PlanCheck = Callable[[Plan, Mapping[str, DeviceState], Mapping[str, Sequence[CutTarget]]], None]


@dataclass(frozen=True)
class RunSpec:
    """One run: what it reads, how it plans from what it read, who decided it and why."""

    targets: Mapping[str, Sequence[CutTarget]]
    make_plan: PlanMaker
    decision: Decision
    options: Options
    # It closes again what this command opened (a stage, a path reopened to reach a device):
    # the first interrupt does not stop it.
    closing: bool = False


def known_out_of_reach(
    view: JournalView, targets: Mapping[str, Sequence[CutTarget]], seen: Observation
) -> dict[str, OutOfReach]:
    """What the journal last read of each target the pre-flight could not dial."""
    known = {}
    for device, lost in seen.out_of_reach.items():
        last = view.last_read_back(device)
        seen_cut: list[tuple[bool, str] | None] = []
        for target in targets[device]:
            read = last.get(target.interface)
            seen_cut.append((read[0].is_cut(str(target.method)), read[1]) if read else None)
        known[device] = out_of_reach(device, lost, seen_cut)
    return known


def _unread(
    direction: Direction, seen: Observation, known: Mapping[str, OutOfReach]
) -> tuple[dict[str, str], dict[str, OutOfReach]]:
    """Who could not be read, as the run counts them: (pre-flight failures, out of reach).

    A cut has nothing to do on a device out of reach last seen cut, and nothing to prove
    either: its state is unknown, the run goes on without it. One last seen open (or never
    read) is a pre-flight failure: its cut is still to be made. A restore reaches such devices
    itself, once an earlier wave reopens their path (deferred steps).
    """
    unreachable = dict(seen.unreachable)
    if direction is Direction.RESTORE:
        return unreachable, {}
    unknown = {d: o for d, o in known.items() if o.last_seen_cut}
    for device, o in known.items():
        if device not in unknown:
            unreachable[device] = not_dialled(o.cut_at)
    return unreachable, unknown


def execute(rt: Runtime, recorder: JournalRecorder, spec: RunSpec) -> RunReport:
    """Shared by every run: pre-flight, plan, journal the decision, apply wave by wave with
    retries, read back, and say exactly which paths are not in the wanted state."""
    started = time.monotonic()
    with rt.interrupt.armed(), observe(rt, spec.targets) as seen:
        if rt.interrupt.stopping.is_set() and not spec.closing:
            raise Interrupted("interrupted during the pre-flight: nothing was sent")
        known = known_out_of_reach(recorder.view, spec.targets, seen)
        the_plan = spec.make_plan(seen.states, set(known))  # a refusal: nothing was sent
        unsaved = persistence.unsaved_elsewhere(the_plan, seen, rt.workers)
        persistence.refuse_cut(the_plan, unsaved)  # nothing was sent
        unreachable, unknown = _unread(the_plan.direction, seen, known)
        info = RunInfo(uuid.uuid4().hex[:12], the_plan, spec.decision, rt.inventory.name)
        run = RunContext(
            rt,
            info,
            spec.options,
            Observers([recorder, *rt.watchers]),
            baselines=_baselines(recorder.view, the_plan),
            unsettled=recorder.view.unsettled_lines,
            closing=spec.closing,
            targeted={d: [t.link for t in ts] for d, ts in spec.targets.items()},
            started=started,
            unsaved=unsaved,
        )
        run.observers.run_started(info, unreachable, unknown)
        _observed(run, spec, seen)
        # Log out as soon as a device has nothing more to do: an in-band device's session
        # would otherwise outlive the cut of its own management path.
        seen.close([d for d in seen.states if d not in {s.device for s in the_plan.steps}])
        stopped = bool(unreachable and not spec.options.partial and the_plan.steps)
        if stopped:
            results = _not_started(the_plan, unreachable)
        else:
            # The snapshots of waves 2..n are read while the waves before them are cut.
            with reads_ahead(
                the_plan, seen, rt.journal_path, run.stop_reason, rt.interrupt.aborted, rt.workers
            ) as ahead:
                results = run_waves(
                    the_plan,
                    lambda step: _task(run, seen, ahead, unreachable, step),
                    workers=rt.workers,
                    abort=rt.interrupt.aborted,
                    halted=lambda: run.halted,
                )
        return _finish(run, recorder, results, Unread(unreachable, unknown), stopped)


def _observed(run: RunContext, spec: RunSpec, seen: Observation) -> None:
    """The state read of each target, journaled: the before of every change."""
    for device in sorted(set(spec.targets) & set(seen.states)):
        interfaces = [t.interface for t in spec.targets[device]]
        run.observers.device_observed(run.info, device, seen.states[device], interfaces)


def _task(
    run: RunContext,
    seen: Observation,
    ahead: ReadsAhead,
    unreachable: Mapping[str, str],
    step: DeviceStep,
) -> StepResult:
    device = step.device
    # Claimed before the session is taken: a read ahead under way holds it until it is done.
    snapshot = ahead.claim(device)
    task = DeviceTask(
        run,
        step,
        seen.take(device),
        seen.states.get(device),
        unreachable.get(device, ""),
        snapshot=snapshot,
    )
    return task.run_step()


def _not_started(plan: Plan, unreachable: Mapping[str, str]) -> dict[str, StepResult]:
    """By default a failed pre-flight stops the run before anything is changed."""
    results = {}
    for step in plan.steps:
        why = unreachable.get(step.device)
        status = StepStatus.FAILED if why else StepStatus.NOT_STARTED
        error = why or "not started: pre-flight failed elsewhere"
        results[step.device] = StepResult(step, status, error=error)
    return results


def _baselines(view: JournalView, plan: Plan) -> dict[str, str]:
    """Restore: the snapshot from before the cut of each device it fully restores. A device
    that keeps cuts after this run (another playbook's, or a later stage's) cannot match it
    yet, so it is not compared."""
    if plan.direction is not Direction.RESTORE:
        return {}
    baselines = view.baselines(plan.playbook, plan.parameters)
    undone = {(s.device, c.interface, c.method) for s in plan.steps for c in s.changes}
    still_cut = {
        device
        for device, c in view.outstanding_cuts(plan.playbook, plan.parameters)
        if (device, c.interface, c.method) not in undone
    }
    for device in still_cut | view.devices_cut_by_others(plan.playbook, plan.parameters):
        baselines.pop(device, None)
    return baselines


def _finish(
    run: RunContext,
    recorder: JournalRecorder,
    results: Mapping[str, StepResult],
    unread: Unread,
    stopped: bool,
) -> RunReport:
    plan, interrupt = run.info.plan, run.rt.interrupt
    summary = summarize(
        plan, results, unread, run.targeted, stopped=stopped, journal_error=run.halted
    )
    report = RunReport(
        plan,
        summary.outcome,
        [results[s.device] for s in plan.steps if s.device in results],
        dict(unread.unreachable),
        run.info.run_id,
        time.monotonic() - run.started,
        summary.still_open,
        summary.unknown,
        dict(unread.out_of_reach),
        interrupted=interrupt.stopping.is_set(),
        aborted=interrupt.aborted.is_set(),
        journal_error=run.halted,
    )
    try:
        run.observers.run_finished(run.info, report)
    except JournalError as exc:
        report.outcome = Outcome.JOURNAL_FAILED
        report.journal_error = report.journal_error or f"the journal cannot be written: {exc}"
    if report.aborted:
        recorder.seal()  # the workers still in flight are not waited for
    return report


def plan(
    rt: Runtime, playbook: Playbook, parameters: Mapping[str, str], offline: bool
) -> PlanReport:
    if offline:
        return PlanReport(plan_cut(rt.inventory, playbook, parameters, None), {}, True)
    targets = cut_targets(rt.inventory, playbook, parameters)
    view = JournalView.read(rt.journal_path)
    with observe(rt, targets) as seen:
        known = known_out_of_reach(view, targets, seen)
        unreachable, unknown = _unread(Direction.CUT, seen, known)
        the_plan = plan_cut(rt.inventory, playbook, parameters, seen.states, unread=set(unknown))
        return PlanReport(the_plan, unreachable, False, unknown, central_managers(seen.states))


def recorded_cuts(
    rt: Runtime, view: JournalView, playbook: Playbook, parameters: Mapping[str, str]
) -> list[Recorded]:
    return [
        Recorded(device, change)
        for device, change in view.outstanding_cuts(playbook.name, parameters)
        if device in rt.inventory.devices
    ]


def restore_spec(
    rt: Runtime,
    playbook: Playbook,
    parameters: Mapping[str, str],
    recorded: Sequence[Recorded],
    decision: Decision,
) -> RunSpec:
    """A run undoing exactly these recorded cuts (all of a playbook's, a stage's links, the
    management paths `--reach` reopens)."""
    targets: dict[str, list[CutTarget]] = {}
    for r in recorded:
        targets.setdefault(r.device, []).append(
            CutTarget(r.change.link, r.change.interface, r.change.method)
        )
    return RunSpec(
        targets,
        lambda states, _unread: plan_restore(rt.inventory, playbook, parameters, recorded, states),
        decision,
        Options(partial=True),
    )


def cut_spec(
    rt: Runtime,
    playbook: Playbook,
    parameters: Mapping[str, str],
    decision: Decision,
    options: Options,
    only_links: set[str] | None = None,
    check: PlanCheck | None = None,
) -> RunSpec:
    """A run cutting the playbook's links (only some of them: closing a stage or a path);
    `check` sees the plan before anything is sent, and may refuse it."""
    targets = cut_targets(rt.inventory, playbook, parameters)
    if only_links is not None:
        targets = {
            d: chosen
            for d, ts in targets.items()
            if (chosen := [t for t in ts if t.link in only_links])
        }

    def make(states: Mapping[str, DeviceState], unread: Collection[str]) -> Plan:
        plan = plan_cut(rt.inventory, playbook, parameters, states, only_links, unread)
        if check is not None:
            check(plan, states, targets)
        return plan

    return RunSpec(targets, make, decision, options, closing=only_links is not None)


def cut(
    rt: Runtime,
    playbook: Playbook,
    parameters: Mapping[str, str],
    *,
    reason: str,
    operator: str,
    options: Options | None = None,
    reach: Sequence[str] = (),
    check: PlanCheck | None = None,
) -> RunReport:
    """Cut the playbook's links (`reach`: see `reach_and_cut`; `check`: see `cut_spec`)."""
    decision = Decision(operator, reason, reach=tuple(reach))
    with Journal(rt.journal_path, custody=rt.custody) as journal:
        recorder = JournalRecorder(journal, JournalView.read(rt.journal_path))
        if reach:
            if check is not None:
                raise PlanRefused("a checked plan (--expect-plan) cannot be combined with --reach")
            return reach_and_cut(rt, recorder, playbook, parameters, decision, options)
        spec = cut_spec(rt, playbook, parameters, decision, options or Options(), check=check)
        return execute(rt, recorder, spec)


def reach_and_cut(
    rt: Runtime,
    recorder: JournalRecorder,
    playbook: Playbook,
    parameters: Mapping[str, str],
    decision: Decision,
    options: Options | None,
) -> RunReport:
    """Read devices out of reach: reopen, at the controller's side, the management links this
    playbook cut for them (a restore of those ends only), then cut as usual, which reads them,
    re-cuts what they lost and cuts their links again, in waves; cut the reopened links again
    whatever happened. Every step is a journaled run."""
    recorded = recorded_cuts(rt, recorder.view, playbook, parameters)
    reopen = to_reopen_for(rt.inventory, recorded, decision.reach)  # refused: nothing sent
    links = {r.change.link for r in reopen}
    # Once something is reopened, what follows closes it: not stopped by a first interrupt,
    # and a device that fails does not hold back the cut of its management link.
    closing = replace(options or Options(), partial=True)
    with rt.interrupt.armed():
        opened = execute(rt, recorder, restore_spec(rt, playbook, parameters, reopen, decision))
        spec = cut_spec(rt, playbook, parameters, decision, closing)
        report = execute(rt, recorder, replace(spec, closing=True))
        if links & (set(report.still_open) | set(report.unknown)):
            again = cut_spec(rt, playbook, parameters, decision, closing, only_links=links)
            execute(rt, recorder, again)
    report.reopened = opened
    return report


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
    decision = Decision(operator, reason, approved_by=approved_by)
    with Journal(rt.journal_path, custody=rt.custody) as journal:
        recorder = JournalRecorder(journal, JournalView.read(rt.journal_path))
        recorded = recorded_cuts(rt, recorder.view, playbook, parameters)
        spec = restore_spec(rt, playbook, parameters, recorded, decision)
        return execute(rt, recorder, replace(spec, options=options or spec.options))
