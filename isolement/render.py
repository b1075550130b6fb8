"""Human-readable text for plans, run reports, status and verification: what an engineer reads
on a terminal at 3 a.m. The --json forms are built from the same objects in cli.py."""

from __future__ import annotations

from isolement.containment import LinkStatus, PlanReport, RunReport, VerifyReport
from isolement.plan import Direction, Plan


def plan_text(report: PlanReport) -> str:
    plan = report.plan
    verb = "cut" if plan.direction is Direction.CUT else "restore"
    params = " ".join(f"--{k} {v}" for k, v in plan.parameters.items())
    lines = [
        f"Plan: {verb} {plan.playbook}{' ' + params if params else ''} "
        f"on inventory {plan.inventory} (plan {plan.digest()[:12]})",
    ]
    if report.offline:
        lines.append("  offline: device state not read, every targeted endpoint assumed open")
    lines += _steps_text(plan)
    if plan.already_done:
        lines.append(f"Already {'cut' if plan.direction is Direction.CUT else 'open'}:")
        for device, changes in plan.already_done.items():
            lines += [f"  {device} {c.interface} (link {c.link})" for c in changes]
    if report.unreachable:
        lines.append("Unreachable now (state unknown):")
        lines += [f"  {d}: {why}" for d, why in sorted(report.unreachable.items())]
    lines.append(f"Targeted links: {', '.join(plan.targeted_links) or 'none'}")
    lines.append(f"Stays up: {', '.join(plan.untouched_links) or 'nothing'}")
    if plan.nothing_to_do:
        lines.append("Nothing to do: every targeted endpoint is already in the wanted state.")
    lines.append("Nothing was sent.")
    return "\n".join(lines)


def _steps_text(plan: Plan) -> list[str]:
    lines: list[str] = []
    for n, step in enumerate(plan.steps, 1):
        lines.append(f"  [{n}] {step.device} (site {step.site}, {step.platform})")
        for change in step.changes:
            lines.append(f"      {change.method:<8} {change.interface}  (link {change.link})")
        lines.append("      commands:")
        lines += [f"        {command}" for command in step.commands]
    return lines


def run_text(report: RunReport) -> str:
    plan = report.plan
    verb = "Cut" if plan.direction is Direction.CUT else "Restore"
    lines = [
        f"{verb} {plan.playbook}: {report.outcome} in {report.duration_s:.1f} s "
        f"(run {report.run_id}, plan {plan.digest()[:12]})"
    ]
    for result in report.steps:
        mark = "FAILED" if result.error else "ok"
        what = ", ".join(f"{c.interface} ({c.link})" for c in result.step.changes)
        lines.append(f"  {mark:<6} {result.step.device}: {what}")
        if result.error:
            lines.append(f"         {result.error}")
    for device, why in sorted(report.unreachable.items()):
        if device not in {s.step.device for s in report.steps}:
            lines.append(f"  UNKNOWN {device}: {why}")
    if plan.nothing_to_do and not report.unreachable:
        lines.append("  nothing to do: every targeted endpoint was already in the wanted state")
    return "\n".join(lines)


def status_text(links: list[LinkStatus]) -> str:
    lines = []
    for link in links:
        lines.append(f"{link.state.upper():<8} {link.link} ({link.kind})")
        for end in link.endpoints:
            why = f"  {end.reason}" if end.reason else ""
            lines.append(f"    {end.state:<8} {end.device} {end.interface} [{end.method}]{why}")
    return "\n".join(lines)


def verify_text(report: VerifyReport) -> str:
    lines = [status_text(report.links), "Probes:"]
    for check in report.probes:
        mark = "ok" if check.ok else "WRONG"
        probe = check.outcome.probe
        lines.append(
            f"  {mark:<5} {probe.name}: {check.outcome.result} (expected {check.expected}) "
            f"{probe.from_netns} -> {probe.to}"
        )
    if not report.probes:
        lines.append("  none available (probes run in the lab's namespaces)")
    verdict = "CONTAINED" if report.contained else "NOT CONTAINED"
    open_ = ", ".join(link.link for link in report.open_links)
    lines.append(f"{verdict}" + (f": still open: {open_}" if open_ else ""))
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
    return "\n".join(lines)
