"""Staged reconnection once the doubt is lifted: open a playbook's stages one by one, each
approved by a named person, checked with real probes (and held under watch) before the next,
and closed again at once, automatically if its checks fail: a cut never fails open.

A stage's state lives in the journal: `stage.opened` once verified, `stage.closed` when closed;
a full `cut` of the playbook closes every stage.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from isolement.drivers import CutTarget
from isolement.flows.containment import Options, RunReport, execute, recorded_cuts
from isolement.flows.preflight import cut_targets, observe
from isolement.flows.runtime import Runtime
from isolement.flows.verify import ProbeCheck
from isolement.journal.store import Journal, TornRecord, read_records
from isolement.model.errors import InputError, PlanRefused
from isolement.model.plan import Change, Plan
from isolement.model.playbook import Playbook, Stage
from isolement.model.state import DeviceState
from isolement.planning.planner import plan_allow, plan_cut, plan_restore, selected_links
from isolement.probes.namespace import ProbeResult, run_probes


@dataclass
class StageState:
    name: str
    open: bool = False
    by: str = ""
    at: str = ""
    reason: str = ""


@dataclass
class StageReport:
    stage: str
    opened: bool
    runs: list[RunReport] = field(default_factory=list)
    checks: list[ProbeCheck] = field(default_factory=list)
    closed_again: bool = False
    why: str = ""


def stage_states(
    rt: Runtime, playbook: Playbook, parameters: Mapping[str, str]
) -> dict[str, StageState]:
    """Each stage of the playbook as the journal says it is now."""
    states = {s.name: StageState(s.name) for s in playbook.stages}
    full_cuts: set[str] = set()
    for record in read_records(rt.journal_path):
        if isinstance(record, TornRecord):
            continue
        if record.get("playbook") != playbook.name or record.get("parameters") != parameters:
            continue
        event = record.get("event")
        name = record.get("stage")
        if event == "stage.opened" and name in states:
            states[name] = StageState(
                name,
                True,
                str(record.get("approved_by")),
                str(record.get("ts")),
                str(record.get("reason")),
            )
        elif event == "stage.closed" and name in states:
            states[name] = StageState(name)
        elif event == "run.started" and record.get("direction") == "cut" and not name:
            full_cuts.add(str(record.get("run")))
        elif (
            event == "run.finished"
            and record.get("run") in full_cuts
            and record.get("outcome") in ("done", "partial", "nothing-to-do")
        ):
            states = {s: StageState(s) for s in states}  # a full cut closes every stage
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
    return [ProbeCheck(o, wanted[o.probe.name]) for o in run_probes(probes)]


def _check_references(rt: Runtime, playbook: Playbook, stage: Stage) -> None:
    known = {p.name for p in rt.inventory.probes}
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
            if name not in rt.inventory.links:
                raise InputError(
                    f"unknown link {name!r}",
                    source=str(playbook.source),
                    field=f"stages.{index}.open.link",
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
) -> StageReport:
    index, stage = playbook.stage(name)
    _check_references(rt, playbook, stage)
    with Journal(rt.journal_path, custody=rt.custody) as journal:
        states = stage_states(rt, playbook, parameters)
        for earlier in playbook.stages[:index]:
            if not states[earlier.name].open:
                raise PlanRefused(
                    f"stage {name} comes after stage {earlier.name}, which is not "
                    f"open and verified: open {earlier.name} first"
                )
        decision: dict[str, Any] = {
            "operator": operator,
            "reason": reason,
            "approved_by": approved_by,
            "stage": name,
        }
        report = StageReport(name, opened=False)
        links = _links_opened(rt, playbook, parameters, stage)
        if links:
            recorded = [
                r for r in recorded_cuts(rt, playbook, parameters) if r.change.link in links
            ]
            targets: dict[str, list[Change]] = {}
            for r in recorded:
                targets.setdefault(r.device, []).append(r.change)
            report.runs.append(
                execute(
                    rt,
                    journal,
                    lambda observed: plan_restore(
                        rt.inventory, playbook, parameters, recorded, observed
                    ),
                    _as_targets(targets),
                    decision,
                    Options(partial=True),
                    infer=False,
                )
            )
        if stage.allow:
            bubble_targets = {
                d: ts
                for d, ts in cut_targets(rt.inventory, playbook, parameters).items()
                if any(t.link in {b.via for b in stage.allow} for t in ts)
            }
            report.runs.append(
                execute(
                    rt,
                    journal,
                    lambda observed: plan_allow(
                        rt.inventory, playbook, parameters, stage, observed
                    ),
                    bubble_targets,
                    decision,
                    Options(partial=True),
                )
            )
        failed = [r for r in report.runs if r.outcome not in ("done", "nothing-to-do")]
        why = "; ".join(f"{link}: {w}" for r in failed for link, w in r.still_open.items())
        if not failed:
            why = _watch(rt, stage, report)
        if why:
            _close(
                rt,
                journal,
                playbook,
                parameters,
                [stage],
                operator,
                f"automatic: stage {name} failed its checks: {why}",
            )
            report.closed_again, report.why = True, why
            return report
        journal.record(
            "stage.opened",
            playbook=playbook.name,
            parameters=dict(parameters),
            **decision,
            verified=True,
            checks={c.outcome.probe.name: c.outcome.result for c in report.checks},
        )
        report.opened = True
        return report


def _watch(rt: Runtime, stage: Stage, report: StageReport) -> str:
    """Run the stage's checks until they all hold (within its settle time), then again
    through its hold time; a failure after settling says why the stage is closed again."""
    settled = time.monotonic() + stage.settle_s
    while True:
        wrong = _wrong(rt, stage, report)
        if not wrong:
            break
        # Traffic that must stay blocked and passes is never waited on: the stage opened too
        # much, and is closed again at once.
        leaks = any(not c.ok and c.expected is ProbeResult.BLOCKED for c in report.checks)
        if leaks or time.monotonic() >= settled:
            return wrong
        time.sleep(min(SETTLE_CHECK_EVERY_S, max(0.0, settled - time.monotonic())))
    deadline = time.monotonic() + stage.hold_s
    while time.monotonic() < deadline:
        time.sleep(min(stage.check_every_s, max(0.0, deadline - time.monotonic())))
        wrong = _wrong(rt, stage, report)
        if wrong:
            return wrong
    return ""


# Seconds between checks while reopened paths settle.
SETTLE_CHECK_EVERY_S = 1.0


def _wrong(rt: Runtime, stage: Stage, report: StageReport) -> str:
    """Run the stage's checks (kept in the report); what is not as expected, or ""."""
    report.checks = _checks(rt, stage)
    return ", ".join(
        f"{c.outcome.probe.name} {c.outcome.result} (expected {c.expected})"
        for c in report.checks
        if not c.ok
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
    """Close the stage at once, and every later stage still open (last opened first)."""
    index, _ = playbook.stage(name)
    with Journal(rt.journal_path, custody=rt.custody) as journal:
        states = stage_states(rt, playbook, parameters)
        later = [s for s in playbook.stages[index:] if states[s.name].open]
        if not later:
            raise InputError(f"stage {name} of {playbook.name} is not open; nothing to close")
        return _close(rt, journal, playbook, parameters, list(reversed(later)), operator, reason)


def _close(
    rt: Runtime,
    journal: Journal,
    playbook: Playbook,
    parameters: Mapping[str, str],
    stages: list[Stage],
    operator: str,
    reason: str,
) -> list[RunReport]:
    runs = []
    for stage in stages:
        links = _links_opened(rt, playbook, parameters, stage) | {b.via for b in stage.allow}
        targets = {
            d: ts
            for d, ts in cut_targets(rt.inventory, playbook, parameters).items()
            if any(t.link in links for t in ts)
        }
        runs.append(
            execute(
                rt,
                journal,
                partial(_close_plan, rt, playbook, parameters, links),
                targets,
                {"operator": operator, "reason": reason, "stage": stage.name},
                Options(partial=True),
            )
        )
        journal.record(
            "stage.closed",
            playbook=playbook.name,
            parameters=dict(parameters),
            stage=stage.name,
            operator=operator,
            reason=reason,
            outcome=runs[-1].outcome,
        )
    # A cut on an interface removes every bubble through it: put back those of the stages
    # that stay open (nothing is sent where a bubble is still there).
    closing = {s.name for s in stages}
    recut = {b.via for s in stages for b in s.allow}
    for s in stages:
        recut |= _links_opened(rt, playbook, parameters, s)
    states = stage_states(rt, playbook, parameters)
    for kept in playbook.stages:
        vias = {b.via for b in kept.allow}
        if kept.name in closing or not states[kept.name].open or not vias & recut:
            continue
        runs.append(
            execute(
                rt,
                journal,
                partial(_allow_plan, rt, playbook, parameters, kept),
                {
                    d: ts
                    for d, ts in cut_targets(rt.inventory, playbook, parameters).items()
                    if any(t.link in vias for t in ts)
                },
                {"operator": operator, "reason": reason, "stage": kept.name},
                Options(partial=True),
            )
        )
    return runs


def _allow_plan(
    rt: Runtime,
    playbook: Playbook,
    parameters: Mapping[str, str],
    stage: Stage,
    observed: Mapping[str, DeviceState],
) -> Plan:
    return plan_allow(rt.inventory, playbook, parameters, stage, observed)


def _close_plan(
    rt: Runtime,
    playbook: Playbook,
    parameters: Mapping[str, str],
    links: set[str],
    observed: Mapping[str, DeviceState],
) -> Plan:
    return plan_cut(rt.inventory, playbook, parameters, observed, only_links=links)


def _as_targets(changes_by_device: Mapping[str, list[Change]]) -> dict[str, list[CutTarget]]:
    return {
        d: [CutTarget(c.link, c.interface, c.method) for c in cs]
        for d, cs in changes_by_device.items()
    }


@dataclass
class StagePlan:
    stage: Stage
    state: StageState
    plans: list[Plan]
    reopened: list[str]
    # Probes expected to pass once this stage and the ones before it are open.
    reachable: list[str]


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
        _check_references(rt, playbook, stage)
    states = stage_states(rt, playbook, parameters)
    targets = cut_targets(rt.inventory, playbook, parameters)
    still_cut = {t.link for ts in targets.values() for t in ts}
    recorded = recorded_cuts(rt, playbook, parameters)
    result = []
    with observe(rt, targets, infer=False) as seen:
        for stage in playbook.stages:
            links = _links_opened(rt, playbook, parameters, stage)
            plans = []
            if links:
                subset = [r for r in recorded if r.change.link in links]
                plans.append(plan_restore(rt.inventory, playbook, parameters, subset, seen.states))
            if stage.allow:
                plans.append(plan_allow(rt.inventory, playbook, parameters, stage, seen.states))
            still_cut -= links
            reachable = [p.name for p in rt.inventory.probes if not set(p.crosses) & still_cut]
            reachable += stage.checks.passes  # a bubble's flows pass through a cut link
            result.append(
                StagePlan(stage, states[stage.name], plans, sorted(links), sorted(set(reachable)))
            )
    return result
