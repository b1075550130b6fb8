"""Human-readable text for plans, run reports, status and verification: what an engineer reads
on a terminal at 3 a.m. The --json forms are built from the same objects in cli/main.py.

Text that comes from a device or from the journal goes through `shown`, one line each: an
answer carrying escape sequences or line breaks cannot act on the terminal or fake a line.

`invoked_as` is the playbook as the operator named it (with its --site): the commands this
text suggests are ones that can be typed as they are.
"""

from __future__ import annotations

from collections.abc import Mapping

from isolement.cli.terminal import PLAIN, Terminal
from isolement.drivers import driver_for
from isolement.flows.results import (
    OutOfReach,
    PathState,
    PlanReport,
    Proof,
    RunReport,
    StagePlan,
    StageReport,
    StageState,
    StatusReport,
    StepStatus,
    Verdict,
    VerifyReport,
)
from isolement.model.plan import Direction, Plan
from isolement.model.text import shown
from isolement.planning.impact import Impact

_MARKS = {StepStatus.CONFIRMED: "ok", StepStatus.UNCONFIRMED: "UNCONFIRMED"}


def plan_text(
    report: PlanReport,
    impact: Impact | None = None,
    *,
    verbose: bool = False,
    term: Terminal = PLAIN,
) -> str:
    """The plan: its impact first, then device by device (the raw commands with `verbose`)."""
    plan = report.plan
    verb = "cut" if plan.direction is Direction.CUT else "restore"
    params = " ".join(f"--{k} {v}" for k, v in plan.parameters.items())
    lines = [
        f"Plan: {verb} {plan.playbook}{' ' + params if params else ''} "
        f"on inventory {plan.inventory} (plan {plan.digest()[:12]})",
    ]
    if impact is not None:
        lines += impact_text(impact, term)
    if report.offline:
        lines.append("  offline: device state not read, every targeted endpoint assumed open")
    lines += _steps_text(plan, verbose)
    if plan.already_done:
        lines.append(f"Already {'cut' if plan.direction is Direction.CUT else 'open'}:")
        for device, changes in plan.already_done.items():
            lines += [f"  {device} {c.interface} (link {c.link})" for c in changes]
    if report.unreachable or report.out_of_reach:
        lines.append("Unreachable now (state unknown):")
        why = {**report.unreachable, **{d: o.why for d, o in report.out_of_reach.items()}}
        lines += [f"  {d}: {shown(w)}" for d, w in sorted(why.items())]
    lines += _impact_text(plan)
    lines += _persistence_text(plan)
    lines += [central_warning(device, manager) for device, manager in report.central.items()]
    lines.append(f"Targeted links: {term.listed(plan.targeted_links, 16) or 'none'}")
    lines.append(f"Stays up: {term.listed(plan.untouched_links, 10) or 'nothing'}")
    if plan.nothing_to_do:
        lines.append("Nothing to do: every targeted endpoint is already in the wanted state.")
    lines.append("Nothing was sent.")
    return "\n".join(lines)


def central_warning(device: str, manager: str) -> str:
    """What a central manager may do to a local cut (a PAN-OS under Panorama, a FortiGate under
    FortiManager), for the plan and the pre-flight."""
    return (
        f"  warning: {device} is managed by {manager}: a central push may overwrite the local "
        "cut; re-check with `isolement verify` after each push"
    )


def impact_text(impact: Impact, term: Terminal = PLAIN) -> list[str]:
    """The impact of a cut, as the crisis cell decides on it (the plan and the confirmation)."""
    already = f" ({impact.already} already cut)" if impact.already else ""
    waves = f", in {impact.waves} waves" if impact.waves > 1 else ""
    lines = [f"  {impact.devices} devices to change, {impact.links} links to cut{already}{waves}"]
    if impact.cut_off:
        head = "  sites cut off from every other site and the internet: "
        lines.append(head + term.listed(impact.cut_off, len(head)))
    for site, up in impact.partly.items():
        head = f"  site {site} partly cut; still up: "
        lines.append(head + term.listed(up, len(head)))
    if impact.unmanageable:
        head = "  devices UNREACHABLE for the controller afterwards: "
        lines.append(head + term.listed(impact.unmanageable, len(head)))
    head = "  protected flows kept up: "
    lines.append(head + (term.listed(impact.protected, len(head)) or "none declared"))
    return lines


def _steps_text(plan: Plan, verbose: bool = True) -> list[str]:
    lines: list[str] = []
    for wave in plan.waves():
        if len(plan.waves()) > 1:
            lines.append(f"  wave {wave[0].wave}:")
        for step in wave:
            after = f", after {', '.join(step.after)}" if step.after else ""
            lines.append(f"  - {step.device} (site {step.site}, {step.platform}{after})")
            for change in step.changes:
                verb = {
                    Direction.CUT: change.method,
                    Direction.RESTORE: "reopen",
                    Direction.ALLOW: "allow",
                }[plan.direction]
                lines.append(f"      {verb:<8} {change.interface}  (link {change.link})")
            if step.deferred:
                lines.append("      commands: computed from its state once it is reachable again")
                continue
            if not verbose:
                n = len(step.commands)
                lines.append(f"      {n} command line{'s' if n != 1 else ''} (plan -v shows them)")
                continue
            if step.commands:
                lines.append("      commands:")
                lines += [f"        {command}" for command in step.commands]
            commit = step.change.commit_text()
            if commit:
                lines.append(f"      then: {commit}")
            if step.change.unresolved:
                lines.append("      needs the device's state (offline plan):")
                lines += [f"        {intent}" for intent in step.change.unresolved]
    return lines


def _persistence_text(plan: Plan) -> list[str]:
    """Whether the change survives a reboot, per platform changed (the playbook's `persist`)."""
    if plan.direction is Direction.ALLOW or not plan.steps:
        return []
    if not plan.persist:
        return ["Persistence: off (playbook persist: false): a reboot reopens what is cut"]
    lines = ["Persistence: on (playbook persist: true); after each confirmed change:"]
    for platform in sorted({s.platform for s in plan.steps}):
        devices = ", ".join(s.device for s in plan.steps if s.platform == platform)
        lines.append(f"  {platform} ({devices}): {driver_for(platform).facts.persistence_note}")
    return lines


def _impact_text(plan: Plan) -> list[str]:
    lines: list[str] = []
    if plan.kept:
        lines.append("Left open on purpose:")
        lines += [f"  {k.device} {k.interface} (link {k.link}): {k.why}" for k in plan.kept]
    if plan.management:
        lines.append("Management after this plan:")
        for m in plan.management:
            mark = "manageable" if m.manageable_after else "UNREACHABLE"
            lines.append(f"  {m.device:<10} {mark:<12} {m.note}")
    if plan.protected:
        lines.append("Protected flows kept up:")
        lines += [f"  {name}: {reason}" for name, reason in sorted(plan.protected.items())]
    return lines


def outcome_line(report: RunReport, term: Terminal = PLAIN) -> str:
    """The run's outcome in one line, what stays on the screen: contained or what is open."""
    plan = report.plan
    targeted = plan.targeted_links
    n = len(targeted)
    open_ = sorted(report.still_open)
    unknown = sorted(report.unknown)
    done = max(0, n - len(set(open_) | set(unknown)))
    if plan.direction is Direction.CUT:
        word, bad, good = "cut", "STILL OPEN", "CONTAINED"
    else:
        word = "reopened" if plan.direction is Direction.RESTORE else "let through"
        bad, good = "STILL CUT", "RESTORED" if plan.direction is Direction.RESTORE else "ALLOWED"
    if not n and plan.direction is Direction.RESTORE:
        # A restore targets what the journal records cut, not what the playbook selects.
        return "NOTHING TO RESTORE: the journal records no cut of this playbook to undo"
    if not n:
        return "NOTHING TARGETED: the playbook selects no link here"
    if open_:
        head = f"{bad}: {len(open_)}/{n} targeted links not {word}: "
        return head + term.listed(open_, len(head))
    if unknown:
        verdict = "NOT CONTAINED" if plan.direction is Direction.CUT else "NOT PROVEN"
        head = f"{verdict}: {done}/{n} targeted links {word}, {len(unknown)} UNKNOWN: "
        return head + term.listed(unknown, len(head))
    return f"{good}: {n}/{n} targeted links {word}"


def _counts_line(report: RunReport) -> str:
    """How the devices ended: changed, failed, unconfirmed, not started, unreachable."""
    statuses = [s.status for s in report.steps]
    parts = [
        f"{statuses.count(StepStatus.CONFIRMED)}/{len(statuses)} devices changed and read back"
    ]
    for status, word in (
        (StepStatus.FAILED, "FAILED"),
        (StepStatus.UNCONFIRMED, "UNCONFIRMED"),
        (StepStatus.NOT_STARTED, "not started"),
    ):
        if statuses.count(status):
            parts.append(f"{statuses.count(status)} {word}")
    unread = len(report.unreachable) + len(report.out_of_reach)
    if unread:
        parts.append(f"{unread} not read (UNKNOWN)")
    return f"  {', '.join(parts)} · {report.duration_s:.1f} s"


def run_text(report: RunReport, invoked_as: str | None = None, term: Terminal = PLAIN) -> str:
    """Summary first (the outcome, the counts, what is open), then device by device, then the
    outcome again: the last line on the screen says it too."""
    lines = [run_text(report.reopened, invoked_as, term), ""] if report.reopened else []
    plan = report.plan
    cutting = plan.direction is Direction.CUT
    verb = "Cut" if cutting else "Restore"
    lines += [outcome_line(report, term), _counts_line(report)]
    lines.append(
        f"{verb} {plan.playbook}: {report.outcome} in {report.duration_s:.1f} s "
        f"(run {report.run_id}, plan {plan.digest()[:12]})"
    )
    lines += _steps_done(report)
    stepped = {s.step.device for s in report.steps}
    for device, why in sorted(report.unreachable.items()):
        if device not in stepped:
            lines.append(f"  UNKNOWN {device}: {shown(why)}")
    for device, out in sorted(report.out_of_reach.items()):
        lines.append(f"  UNKNOWN {device}: {shown(out.why)}")
    if plan.direction is Direction.RESTORE:
        for device, changes in sorted(plan.already_done.items()):
            for c in changes:
                lines.append(
                    f"  DRIFT  {device}: {c.interface} ({c.link}) was already open: "
                    "reopened by hand since the cut; left as it is"
                )
    lines += _run_notes(report)
    lines += _verdict(report, cutting)
    lines += _reach_text(report.out_of_reach, invoked_as or plan.playbook)
    lines.append(outcome_line(report, term))
    return "\n".join(lines)


def _steps_done(report: RunReport) -> list[str]:
    lines = []
    for result in report.steps:
        mark = _MARKS.get(result.status, "FAILED")
        what = ", ".join(f"{c.interface} ({c.link})" for c in result.step.changes)
        retried = f" after {result.attempts} attempts" if result.attempts > 1 else ""
        lines.append(f"  {mark:<6} {result.step.device}: {what}{retried}")
        if result.error:
            lines.append(f"         {shown(result.error)}")
        lines += [f"         note: {shown(note)}" for note in result.notes]
        if result.drift:
            lines.append(
                "         DRIFT: the configuration differs from before the cut "
                "(changed by hand since?); left as it is:"
            )
            lines += [f"           {shown(line)}" for line in result.drift[:12]]
        elif result.drift == []:
            lines.append("         configuration identical to before the cut")
    return lines


def _run_notes(report: RunReport) -> list[str]:
    lines = []
    if report.plan.nothing_to_do and not report.still_open and not report.unknown:
        lines.append("  nothing to do: every targeted endpoint was already in the wanted state")
    if report.outcome == "stopped":
        lines.append(
            "  pre-flight failed: NOTHING WAS CHANGED. Fix the devices above, or re-run "
            "with --partial to cut what can be cut."
        )
    if report.journal_error:
        lines.append(f"  STOPPED: {shown(report.journal_error)}; nothing more was sent")
    if report.aborted:
        lines.append(
            "  aborted: the device changes in flight were not waited for; their outcome is "
            "unknown (a re-run reads them)"
        )
    elif report.interrupted:
        lines.append("  interrupted: the device changes in flight finished; none was started after")
    return lines


def _verdict(report: RunReport, cutting: bool) -> list[str]:
    lines = []
    if report.still_open:
        lines.append(f"Still {'OPEN' if cutting else 'CUT'}:")
        lines += [f"  {link}: {shown(why)}" for link, why in sorted(report.still_open.items())]
    if report.unknown:
        lines.append("Unknown (not read in this run, neither cut nor open):")
        lines += [f"  {link}: {shown(why)}" for link, why in sorted(report.unknown.items())]
    return lines


def _reach_text(out_of_reach: Mapping[str, OutOfReach], invoked_as: str) -> list[str]:
    """How to learn what the devices out of reach really are."""
    lines = []
    for device, out in sorted(out_of_reach.items()):
        where = ", ".join(f"{link} at {end}" for link, end in out.cut_at)
        lines.append(
            f"To read {device}: isolement cut {invoked_as} --reach {device} --reason ... "
            f"(reopens {where} for as long as it takes to read and re-cut it, then cuts it "
            "again), or check it on site."
        )
    return lines


def status_text(report: StatusReport, invoked_as: str | None = None) -> str:
    lines = []
    for link in report.links:
        lines.append(f"{link.state.upper():<8} {link.link} ({link.kind})")
        for end in link.endpoints:
            why = f"  {shown(end.reason)}" if end.reason else ""
            lines.append(f"    {end.state:<8} {end.device} {end.interface} [{end.method}]{why}")
    lines += _reach_text(report.out_of_reach, invoked_as or "PLAYBOOK")
    lines += _reopened_text(report, invoked_as or "PLAYBOOK")
    return "\n".join(lines)


def _reopened_text(report: StatusReport, invoked_as: str) -> list[str]:
    """Cuts that vanished: open links first, then ends reopened on a link still cut."""
    lines = []
    for link, end in report.reopened_ends:
        held = "" if link.state is PathState.REOPENED else " (the link is still cut at another end)"
        lines.append(
            f"REOPENED: {end.device} {end.interface} ({link.link}) was last seen cut at "
            f"{shown(end.last_seen_cut)} and is open now{held}"
        )
    if report.reopened:
        lines.append(f"Cut them again: isolement cut {invoked_as} (it reads the devices now)")
    return lines


def verify_text(report: VerifyReport, invoked_as: str | None = None) -> str:
    lines = [status_text(report.status, invoked_as), "Probes:"]
    for check in report.probes:
        probe = check.outcome.probe
        where = f"{probe.origin} -> {probe.to}{':' + str(probe.port) if probe.port else ''}"
        if not check.ran:
            lines.append(
                f"  {'-':<5} {probe.name}: could not run, proves nothing ({where}): "
                f"{shown(check.outcome.detail)}"
            )
            continue
        mark = "ok" if check.ok else "WRONG"
        lines.append(
            f"  {mark:<5} {probe.name}: {check.outcome.result} (expected {check.expected}) {where}"
        )
    if not report.probes:
        lines.append("  none declared in the inventory: no cut is proven by packets")
    elif not any(c.ran for c in report.probes):
        lines.append("  none could run here: no cut is proven by packets")
    if not report.journaled:
        lines.append("(not journaled: another isolement run holds the journal)")
    lines += _proof_text(report)
    lines += _verdict_text(report)
    return "\n".join(lines)


def _proof_text(report: VerifyReport) -> list[str]:
    """Link by link: how its cut is known in this run."""
    lines = ["Proof, link by link:"]
    packets = report.blocked_by_packets
    for link in report.links:
        proof = report.proof[link.link]
        if proof is Proof.PACKETS and link.stopped:
            how = f"proven by packets: {', '.join(packets[link.link])} blocked"
        elif proof is Proof.PACKETS:
            how = "not read in this run; blocked all the same, by packets: " + ", ".join(
                packets[link.link]
            )
        elif proof is Proof.STATE:
            how = "read-back state only: no probe crossing it alone ran and was blocked"
        elif link.state is PathState.OPEN:
            how = "OPEN as read back"
        else:
            how = f"not proven: {link.state}, and no probe proves it blocked"
        lines.append(f"  {link.link}: {how}")
    return lines


def _verdict_text(report: VerifyReport) -> list[str]:
    lines = []
    open_ = ", ".join(link.link for link in report.open_links)
    unproven = ", ".join(link.link for link in report.unproven_links)
    verdict = report.verdict
    if verdict is Verdict.CONTAINED:
        lines.append("CONTAINED: every targeted link proven cut by packets")
    elif verdict is Verdict.CONTAINED_BY_STATE:
        lines.append(
            "CONTAINED BY READ-BACK STATE ONLY: the devices say cut, no probe contradicts it; "
            f"not proven by packets: {', '.join(report.state_only)}"
        )
    elif verdict is Verdict.NOT_CONTAINED:
        lines.append("NOT CONTAINED" + (f": still open: {open_}" if open_ else ""))
    if unproven:
        lines.append(
            f"NOT PROVEN: not read in this run, and no probe proves them blocked: {unproven}"
        )
    if report.leaking_probes:
        lines.append(
            "Traffic still passes: "
            + ", ".join(p.outcome.probe.name for p in report.leaking_probes)
        )
    if report.collateral:
        lines.append(
            "Warning, paths meant to stay up do not pass: "
            + ", ".join(p.outcome.probe.name for p in report.collateral)
        )
    return lines


def stages_text(stages: list[StageState]) -> str:
    if not stages:
        return ""
    lines = ["", "Reconnection stages:"]
    for n, s in enumerate(stages, 1):
        if s.pending_at:
            state = (
                f"MAY BE OPEN: opening began at {shown(s.pending_at)} (approved by {shown(s.by)}: "
                f"{shown(s.reason)}), "
                f"outcome not journaled; close it with --close {s.name}"
            )
        elif s.open:
            # Read back from the journal: the words as typed, shown safely.
            state = f"OPEN since {shown(s.at)}, approved by {shown(s.by)}: {shown(s.reason)}"
            if s.accepted:
                state += f"; not proven by packets, state accepted: {shown(s.accepted)}"
            elif not s.verified:
                state += "; opened, not proven (its checks could not run)"
        else:
            state = "closed"
        lines.append(f"  {n}. {s.name:<16} {state}")
    return "\n".join(lines)


def stage_text(report: StageReport, invoked_as: str | None = None) -> str:
    lines = [run_text(run, invoked_as) for run in report.runs]
    for check in report.checks:
        name = check.outcome.probe.name
        if not check.ran:
            lines.append(
                f"  {'-':<5} check {name}: could not run, proves nothing "
                f"({check.outcome.probe.origin}): {shown(check.outcome.detail)}"
            )
            continue
        mark = "ok" if check.ok else "WRONG"
        lines.append(
            f"  {mark:<5} check {name}: {check.outcome.result} (expected {check.expected})"
        )
    if report.verified:
        lines.append(f"Stage {report.stage}: OPEN and verified by packets.")
    elif report.opened:
        why = (
            "it declares no checks"
            if not report.checks
            else "checks that could not run: "
            + ", ".join(c.outcome.probe.name for c in report.unproven)
        )
        lines.append(f"Stage {report.stage}: opened, not proven ({why}).")
        if report.accepted:
            lines.append(
                f"  read-back state accepted as its proof (journaled): {shown(report.accepted)}"
            )
        else:
            lines.append(
                "  the next stage waits until this one is proven: open it again once its probes "
                "can run, or with --accept-state-proof REASON"
            )
    else:
        lines.append(
            f"Stage {report.stage}: NOT OPENED: {shown(report.why)}. It was closed again "
            "(the cut never fails open)."
        )
    return "\n".join(lines)


def stage_plans_text(playbook: str, stages: list[StagePlan]) -> str:
    lines = [f"Reconnection stages of {playbook}, in order (nothing is sent):"]
    for n, sp in enumerate(stages, 1):
        stage = sp.stage
        state = f"open, approved by {shown(sp.state.by)}" if sp.state.open else "closed"
        if sp.state.open and not sp.state.settled_open:
            state += ", not proven"
        lines.append(f"{n}. {stage.name} [{state}]: {stage.description}".rstrip(": "))
        if sp.reopened:
            lines.append(f"   reopens: {', '.join(sp.reopened)}")
        for bubble in stage.allow:
            flows = ", ".join(
                f"{f.protocol}{'/' + str(f.port) if f.port else ''} {f.source} -> {f.destination}"
                for f in bubble.flows
            )
            lines.append(f"   lets through {bubble.via}: {flows} (everything else stays blocked)")
        for plan in sp.plans:
            lines += _steps_text(plan)
        checks = stage.checks
        if checks.passes or checks.blocked:
            lines.append(
                f"   checks: must pass {', '.join(checks.passes) or '-'}; "
                f"must still fail {', '.join(checks.blocked) or '-'}"
                + (f"; held {stage.hold_s:g} s" if stage.hold_s else "")
            )
        lines += _reachable_text(sp)
    return "\n".join(lines)


def _reachable_text(sp: StagePlan) -> list[str]:
    """What the stage makes reachable: the paths across what it reopens, and the inventory's
    probes that pass from it on."""
    through = sp.reopened + [b.via for b in sp.stage.allow]
    lines = []
    if through:
        what = "paths across" if sp.reopened else "the chosen flows through"
        lines.append(f"   reachable after this stage: {what} {', '.join(through)}")
    if sp.new:
        lines.append(f"   probes that pass from this stage on: {', '.join(sp.new)}")
    else:
        lines.append("   probes that pass from this stage on: none of the inventory's")
    if sp.unprobed:
        lines.append(
            f"   no probe of the inventory crosses {', '.join(sp.unprobed)}: packets cannot "
            "prove what this stage brings back"
        )
    return lines
