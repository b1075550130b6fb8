"""Staged reconnection once the doubt is lifted: open a playbook's stages one by one, each
approved by a named person, checked with real probes (and held under watch) before the next,
and closed again at once, automatically if its checks fail or anything interrupts the watch:
a cut never fails open.

A check that could not run (probes/outcome.py: UNAVAILABLE) proves nothing: it never closes the
stage, and never verifies it. A stage is "open and verified" only when it has checks and every
one ran and held; otherwise it is "opened, not proven", and the next stage waits until it is
proven, or until the operator accepts the devices' read-back state as its proof
(`accept_state_proof`, a reason, journaled with the stage).

A stage's state lives in the journal: `stage.intent` before anything is reopened, then
`stage.opened` once open (verified, or not proven) or `stage.closed` when closed again. A stage
whose intent has no outcome (the run was killed while it was open) may be open, is shown so,
and `--close` closes it; a full `cut` of the playbook closes every stage.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace

from isolement.drivers import CutTarget
from isolement.flows.containment import (
    RunSpec,
    cut_spec,
    execute,
    recorded_cuts,
    restore_spec,
)
from isolement.flows.observers import Decision
from isolement.flows.preflight import observe
from isolement.flows.recorder import JournalRecorder
from isolement.flows.results import (
    Outcome,
    ProbeCheck,
    RunReport,
    StagePlan,
    StageReport,
    StageState,
)
from isolement.flows.runtime import Options, Runtime
from isolement.journal import events as ev
from isolement.journal.store import Journal
from isolement.journal.view import JournalView
from isolement.model.errors import InputError, PlanRefused
from isolement.model.inventory import Inventory
from isolement.model.playbook import Playbook, Stage
from isolement.planning.management import cut_targets
from isolement.planning.planner import plan_allow, plan_restore, selected_links
from isolement.probes import run_probes
from isolement.probes.outcome import ProbeResult

# Seconds between checks while reopened paths settle.
SETTLE_CHECK_EVERY_S = 1.0
_OK = (Outcome.DONE, Outcome.NOTHING_TO_DO)


def stage_states(
    view: JournalView, playbook: Playbook, parameters: Mapping[str, str]
) -> dict[str, StageState]:
    """Each stage of the playbook as the journal says it is now."""
    states = {}
    for stage in playbook.stages:
        record = view.stage(playbook.name, parameters, stage.name)
        pending = record.pending
        states[stage.name] = StageState(
            stage.name,
            record.open,
            pending.approved_by if pending and not record.open else record.by,
            record.at,
            pending.reason if pending and not record.open else record.reason,
            pending_at=pending.ts if pending else "",
            verified=record.verified,
            accepted=record.accepted,
        )
    return states


def _links_opened(
    rt: Runtime, playbook: Playbook, parameters: Mapping[str, str], stage: Stage
) -> set[str]:
    if stage.open is None:
        return set()
    targeted = {
        t.link for ts in cut_targets(rt.inventory, playbook, parameters).values() for t in ts
    }
    return selected_links(rt.inventory, stage.open, parameters) & targeted


def _checks(rt: Runtime, stage: Stage) -> list[ProbeCheck]:
    wanted = {
        **{n: ProbeResult.PASSES for n in stage.checks.passes},
        **{n: ProbeResult.BLOCKED for n in stage.checks.blocked},
    }
    probes = [p for p in rt.inventory.probes if p.name in wanted]
    return [ProbeCheck(o, wanted[o.probe.name]) for o in run_probes(rt, probes)]


def check_references(inventory: Inventory, playbook: Playbook, stage: Stage) -> None:
    """The stage's probes and links are the inventory's: refused with the playbook's file and
    field (by `validate` too: it needs nothing but the files)."""
    known = {p.name for p in inventory.probes}
    index = playbook.stages.index(stage)
    for kind in ("passes", "blocked"):
        for name in getattr(stage.checks, kind):
            if name not in known:
                raise InputError(
                    f"unknown probe {name!r}; the inventory's probes: {', '.join(sorted(known))}",
                    source=str(playbook.source),
                    field=f"stages.{index}.checks.{kind}",
                )
    if stage.open is not None:
        for name in stage.open.link or []:
            if name not in inventory.links:
                raise InputError(
                    f"unknown link {name!r}",
                    source=str(playbook.source),
                    field=f"stages.{index}.open.link",
                )
    for n, bubble in enumerate(stage.allow):
        if bubble.via not in inventory.links:
            raise InputError(
                f"unknown link {bubble.via!r}",
                source=str(playbook.source),
                field=f"stages.{index}.allow.{n}.via",
            )


def _bubble_targets(
    rt: Runtime, playbook: Playbook, parameters: Mapping[str, str], vias: set[str]
) -> dict[str, list[CutTarget]]:
    return {
        d: ts
        for d, ts in cut_targets(rt.inventory, playbook, parameters).items()
        if any(t.link in vias for t in ts)
    }


def _check_order(
    view: JournalView, playbook: Playbook, parameters: Mapping[str, str], index: int
) -> None:
    states = stage_states(view, playbook, parameters)
    name = playbook.stages[index].name
    for earlier in playbook.stages[:index]:
        state = states[earlier.name]
        if not state.open:
            raise PlanRefused(
                f"stage {name} comes after stage {earlier.name}, which is not "
                f"open and verified: open {earlier.name} first"
            )
        if not state.settled_open:
            raise PlanRefused(
                f"stage {name} comes after stage {earlier.name}, which is opened but not "
                f"proven (its checks could not run): open {earlier.name} again once its "
                "probes can run, or with --accept-state-proof REASON to take the devices' "
                "read-back state as its proof"
            )


def open_stage(
    rt: Runtime,
    playbook: Playbook,
    parameters: Mapping[str, str],
    name: str,
    *,
    approved_by: str,
    reason: str,
    operator: str,
    accept_state_proof: str = "",
) -> StageReport:
    """Open the stage and watch it. `accept_state_proof`: the operator's reason for taking
    read-back state as its proof should its checks not all run (journaled)."""
    index, stage = playbook.stage(name)
    check_references(rt.inventory, playbook, stage)
    with Journal(rt.journal_path, custody=rt.custody) as journal:
        recorder = JournalRecorder(journal, JournalView.read(rt.journal_path))
        _check_order(recorder.view, playbook, parameters, index)
        decision = Decision(operator, reason, approved_by=approved_by, stage=name)
        scope = {"playbook": playbook.name, "parameters": dict(parameters), "stage": name}
        # Journaled before anything is reopened: a run killed from here on leaves a stage that
        # may be open, which `--close` closes.
        recorder.write(
            ev.StageIntent(**scope, operator=operator, reason=reason, approved_by=approved_by)
        )
        report = StageReport(name, opened=False)
        with rt.interrupt.armed():
            why = _watched_or_closed(rt, recorder, playbook, parameters, stage, decision, report)
        if why:
            report.closed_again, report.why = True, why
            return report
        report.opened = True
        if not report.verified:
            report.accepted = accept_state_proof
        recorder.write(
            ev.StageOpened(
                **scope,
                operator=operator,
                reason=reason,
                approved_by=approved_by,
                verified=report.verified,
                checks={c.outcome.probe.name: c.outcome.result for c in report.checks},
                unproven={c.outcome.probe.name: c.outcome.detail for c in report.unproven},
                state_proof_accepted=report.accepted,
            )
        )
        return report


def _watched_or_closed(
    rt: Runtime,
    recorder: JournalRecorder,
    playbook: Playbook,
    parameters: Mapping[str, str],
    stage: Stage,
    decision: Decision,
    report: StageReport,
) -> str:
    """Open and watch the stage; closed again (and why) if anything is wrong or interrupts."""
    name, operator = stage.name, decision.operator
    try:
        why = _open_and_watch(rt, recorder, playbook, parameters, stage, decision, report)
    except BaseException as exc:
        # Ctrl-C raised as KeyboardInterrupt, a journal that failed, anything: the stage is
        # closed again before the error goes on.
        what = f"automatic: stage {name} interrupted: {type(exc).__name__}: {exc}"
        _close(rt, recorder, playbook, parameters, [stage], operator, what)
        raise
    if rt.interrupt.stopping.is_set():
        why = why or "interrupted"
        what = f"automatic: stage {name} interrupted before it was verified: {why}"
    else:
        what = f"automatic: stage {name} failed its checks: {why}"
    if why:
        _close(rt, recorder, playbook, parameters, [stage], operator, what)
    return why


def _open_and_watch(
    rt: Runtime,
    recorder: JournalRecorder,
    playbook: Playbook,
    parameters: Mapping[str, str],
    stage: Stage,
    decision: Decision,
    report: StageReport,
) -> str:
    """Reopen the stage's links and bubbles, then watch it; why it must be closed again, or
    "" when it holds."""
    links = _links_opened(rt, playbook, parameters, stage)
    if links:
        recorded = [
            r
            for r in recorded_cuts(rt, recorder.view, playbook, parameters)
            if r.change.link in links
        ]
        spec = restore_spec(rt, playbook, parameters, recorded, decision)
        report.runs.append(execute(rt, recorder, spec))
    if stage.allow:
        report.runs.append(
            execute(rt, recorder, _allow_spec(rt, playbook, parameters, stage, decision))
        )
    failed = [r for r in report.runs if r.outcome not in _OK]
    if failed:
        paths = {link: why for r in failed for link, why in {**r.still_open, **r.unknown}.items()}
        return "; ".join(f"{link}: {why}" for link, why in paths.items()) or "not opened"
    if rt.interrupt.stopping.is_set():
        return "interrupted while it was being opened"
    return _watch(rt, stage, report)


def _allow_spec(
    rt: Runtime,
    playbook: Playbook,
    parameters: Mapping[str, str],
    stage: Stage,
    decision: Decision,
    options: Options | None = None,
) -> RunSpec:
    """A run opening (or putting back) a stage's bubbles."""
    vias = {b.via for b in stage.allow}
    return RunSpec(
        _bubble_targets(rt, playbook, parameters, vias),
        lambda states, _unread: plan_allow(rt.inventory, playbook, parameters, stage, states),
        decision,
        options or Options(partial=True),
    )


def _watch(rt: Runtime, stage: Stage, report: StageReport) -> str:
    """Run the stage's checks until they all hold (within its settle time), then again
    through its hold time; a failure after settling says why the stage is closed again. An
    interrupt ends the watch at once (the stage is then closed again)."""
    settled = time.monotonic() + stage.settle_s
    while True:
        wrong = _wrong(rt, stage, report)
        if not wrong:
            break
        # Traffic that must stay blocked and passes is never waited on: the stage opened too
        # much, and is closed again at once.
        leaks = any(c.wrong and c.expected is ProbeResult.BLOCKED for c in report.checks)
        if leaks or time.monotonic() >= settled:
            return wrong
        if rt.interrupt.wait(min(SETTLE_CHECK_EVERY_S, settled - time.monotonic())):
            return "interrupted during its checks"
    deadline = time.monotonic() + stage.hold_s
    while time.monotonic() < deadline:
        if rt.interrupt.wait(min(stage.check_every_s, deadline - time.monotonic())):
            return "interrupted during its hold"
        wrong = _wrong(rt, stage, report)
        if wrong:
            return wrong
    return ""


def _wrong(rt: Runtime, stage: Stage, report: StageReport) -> str:
    """Run the stage's checks (kept in the report); what ran and is not as expected, or "".
    A check that could not run is not wrong: it proves nothing (the report says so)."""
    report.checks = _checks(rt, stage)
    return ", ".join(
        f"{c.outcome.probe.name} {c.outcome.result} (expected {c.expected})"
        for c in report.checks
        if c.wrong
    )


def close_stage(
    rt: Runtime,
    playbook: Playbook,
    parameters: Mapping[str, str],
    name: str,
    *,
    reason: str,
    operator: str,
) -> list[RunReport]:
    """Close the stage at once, and every later stage that may be open (last first): open, or
    begun and never settled (its run was killed)."""
    index, _ = playbook.stage(name)
    with Journal(rt.journal_path, custody=rt.custody) as journal:
        recorder = JournalRecorder(journal, JournalView.read(rt.journal_path))
        states = stage_states(recorder.view, playbook, parameters)
        later = [s for s in playbook.stages[index:] if states[s.name].may_be_open]
        if not later:
            raise InputError(f"stage {name} of {playbook.name} is not open; nothing to close")
        with rt.interrupt.armed():
            return _close(
                rt, recorder, playbook, parameters, list(reversed(later)), operator, reason
            )


def _close(
    rt: Runtime,
    recorder: JournalRecorder,
    playbook: Playbook,
    parameters: Mapping[str, str],
    stages: list[Stage],
    operator: str,
    reason: str,
) -> list[RunReport]:
    """Cut the stages' links again (a cut of only those), then put back the bubbles of the
    stages that stay open which those cuts removed."""
    runs = []
    for stage in stages:
        links = _links_opened(rt, playbook, parameters, stage) | {b.via for b in stage.allow}
        decision = Decision(operator, reason, stage=stage.name)
        spec = cut_spec(rt, playbook, parameters, decision, Options(partial=True), links)
        runs.append(execute(rt, recorder, spec))
        recorder.write(
            ev.StageClosed(
                playbook=playbook.name,
                parameters=dict(parameters),
                stage=stage.name,
                operator=operator,
                reason=reason,
                outcome=runs[-1].outcome,
            )
        )
    runs += _bubbles_back(rt, recorder, playbook, parameters, stages, Decision(operator, reason))
    return runs


def _bubbles_back(
    rt: Runtime,
    recorder: JournalRecorder,
    playbook: Playbook,
    parameters: Mapping[str, str],
    closed: list[Stage],
    decision: Decision,
) -> list[RunReport]:
    """A cut on an interface removes every bubble through it: put back those of the stages
    that stay open (nothing is sent where a bubble is still there)."""
    recut = {b.via for s in closed for b in s.allow}
    for s in closed:
        recut |= _links_opened(rt, playbook, parameters, s)
    states = stage_states(recorder.view, playbook, parameters)
    runs = []
    for kept in playbook.stages:
        vias = {b.via for b in kept.allow}
        if kept in closed or not states[kept.name].open or not vias & recut:
            continue
        spec = _allow_spec(rt, playbook, parameters, kept, replace(decision, stage=kept.name))
        runs.append(execute(rt, recorder, replace(spec, closing=True)))
    return runs


def plan_stages(rt: Runtime, playbook: Playbook, parameters: Mapping[str, str]) -> list[StagePlan]:
    """Every stage in order: the commands per device (from the devices' state now) and what
    becomes reachable. Sends nothing."""
    if not playbook.stages:
        raise InputError(
            f"playbook {playbook.name} declares no reconnection stages",
            source=str(playbook.source),
            field="stages",
        )
    for stage in playbook.stages:
        check_references(rt.inventory, playbook, stage)
    view = JournalView.read(rt.journal_path)
    states = stage_states(view, playbook, parameters)
    targets = cut_targets(rt.inventory, playbook, parameters)
    targeted = {t.link for ts in targets.values() for t in ts}
    still_cut = set(targeted)
    reachable: set[str] = set()
    recorded = recorded_cuts(rt, view, playbook, parameters)
    result = []
    with observe(rt, targets) as seen:
        for stage in playbook.stages:
            links = _links_opened(rt, playbook, parameters, stage)
            plans = []
            if links:
                subset = [r for r in recorded if r.change.link in links]
                plans.append(plan_restore(rt.inventory, playbook, parameters, subset, seen.states))
            if stage.allow:
                plans.append(plan_allow(rt.inventory, playbook, parameters, stage, seen.states))
            before = reachable
            still_cut -= links
            # A probe whose path crosses a targeted link and no link still cut; and the
            # stage's own "passes" checks (a bubble's flows pass through a cut link). Probes
            # crossing no targeted link were never cut: they are not this plan's news.
            reachable = (
                {
                    p.name
                    for p in rt.inventory.probes
                    if set(p.crosses) & targeted and not set(p.crosses) & still_cut
                }
                | before
                | set(stage.checks.passes)
            )
            result.append(
                StagePlan(
                    stage,
                    states[stage.name],
                    plans,
                    sorted(links),
                    sorted(reachable),
                    sorted(reachable - before),
                    sorted(
                        link
                        for link in links | {b.via for b in stage.allow}
                        if not any(link in p.crosses for p in rt.inventory.probes)
                    ),
                )
            )
    return result
