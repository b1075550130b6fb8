"""`isolement rehearse PLAYBOOK`: the text and JSON of a rehearsal, and the exit code.

Exit codes (cli/main.py's meanings): 0 ready: every device reached, privileged and read, the
plan computed, nothing would block the cut (slow devices and paths the cut would leave the
controller without are listed all the same); 4 not ready: something would stop the cut before
it changes anything (a device unreachable, a host key or credentials refused, no privilege, a
device behind a cut link last seen open, the plan refused); 6 nothing blocks, but some targets
could not be read (behind a cut management link, last seen cut): the cut could not prove them.
Nothing is sent to any device in any case; the plan computed is journaled (plan.computed).
"""

from __future__ import annotations

from typing import Any

from isolement.cli import render
from isolement.flows.rehearse import Kind, Rehearsal

EXIT_READY, EXIT_NOT_READY, EXIT_UNKNOWN = 0, 4, 6


def exit_code(r: Rehearsal) -> int:
    if not r.ready:
        return EXIT_NOT_READY
    if any(f.kind is Kind.UNKNOWN for f in r.findings):
        return EXIT_UNKNOWN
    return EXIT_READY


def text(r: Rehearsal, playbook: str) -> str:
    lines = [f"Rehearsal of {playbook}: pre-flight and plan only; nothing was sent."]
    lines.append("Devices (login, then privilege check and state read):")
    for device in sorted(r.targets):
        t = r.timings.devices.get(device)
        blocked = [f for f in r.findings if f.device == device and f.blocks]
        mark = "NOT READY" if blocked else ("ready" if t and device in _read(r) else "not read")
        timing = (
            f"login {t.login_s:.2f} s, read {t.read_s:.2f} s ({t.commands} commands, "
            f"{t.per_command_s * 1000:.0f} ms each)"
            if t
            else "not dialled"
        )
        lines.append(f"  {mark:<10} {device}  {timing}")
    if r.report is not None:
        lines.append(render.plan_text(r.report).replace("\nNothing was sent.", ""))
    if r.fingerprint is not None:
        lines.append(f"plan hash: {r.fingerprint.plan}")
        lines.append(
            f"  computed from: inventory {r.fingerprint.inventory}, playbook "
            f"{r.fingerprint.playbook}, the state of {len(r.fingerprint.states)} devices"
        )
    if r.estimate is not None:
        e = r.estimate
        waves = ", ".join(
            f"wave {w.wave} {w.seconds:.1f} s ({w.slowest})"
            + (f", not measured: {', '.join(w.not_measured)}" if w.not_measured else "")
            for w in e.waves
        )
        lines.append(
            f"Estimated cut: {e.total_s:.1f} s = pre-flight {e.preflight_s:.1f} s"
            + (f" + {waves}" if waves else " (nothing to change)")
        )
        lines.append(f"  how: {e.how}")
    blockers = r.blockers
    others = [f for f in r.findings if not f.blocks]
    if blockers:
        lines.append("Would BLOCK the cut (it changes nothing unless --partial):")
        lines += [f"  {f.kind}: {f.device}: {f.detail}" for f in blockers]
    if others:
        lines.append("Would slow the cut, or leave something to do:")
        lines += [f"  {f.kind}: {f.device}: {f.detail}" for f in others]
    lines.append(
        "READY: nothing found that would block the cut"
        if r.ready
        else f"NOT READY: {len(blockers)} problem(s) would block the cut"
    )
    lines.append("Nothing was sent.")
    return "\n".join(lines)


def _read(r: Rehearsal) -> set[str]:
    return set(r.fingerprint.states) if r.fingerprint else set()


def data(r: Rehearsal) -> dict[str, Any]:
    return {
        "ready": r.ready,
        "plan": r.report.plan if r.report else None,
        "plan_hash": r.fingerprint.plan if r.fingerprint else None,
        "computed_from": r.fingerprint.model_dump(exclude={"steps", "plan"})
        if r.fingerprint
        else None,
        "timings": {
            d: {
                "login_s": round(t.login_s, 3),
                "read_s": round(t.read_s, 3),
                "commands": t.commands,
                "per_command_s": round(t.per_command_s, 4),
            }
            for d, t in sorted(r.timings.devices.items())
        },
        "estimate": {
            "total_s": round(r.estimate.total_s, 3),
            "preflight_s": round(r.estimate.preflight_s, 3),
            "waves": [
                {
                    "wave": w.wave,
                    "seconds": round(w.seconds, 3),
                    "slowest": w.slowest,
                    "not_measured": list(w.not_measured),
                }
                for w in r.estimate.waves
            ],
            "how": r.estimate.how,
        }
        if r.estimate
        else None,
        "findings": [
            {"kind": str(f.kind), "device": f.device, "detail": f.detail, "blocks": f.blocks}
            for f in r.findings
        ],
    }
