"""A rehearsal on the lab: for each playbook, plan, cut, verify with real packets, restore, and
check that every probe that passed before the cut passes again. Prints the timings."""

from __future__ import annotations

import time
from dataclasses import dataclass

from isolement.cli import paths, render
from isolement.flows import containment, verify
from isolement.flows import stages as reconnection
from isolement.flows.results import Verdict
from isolement.flows.runtime import Runtime
from isolement.journal.store import default_journal_path
from isolement.model.inventory import Probe, load_inventory
from isolement.model.playbook import load_playbook
from isolement.planning.planner import resolve_parameters
from isolement.probes.namespace import run_probes
from isolement.probes.outcome import ProbeResult

from .stand import Manifest, down, up

OPERATOR = "drill"
# Seconds a probe that passed before the cut is given to pass again after the restore.
RECONVERGENCE_S = 10.0


_SHOWN = {
    Verdict.CONTAINED: "contained",
    Verdict.CONTAINED_BY_STATE: "by state",
    Verdict.NOT_PROVEN: "UNKNOWN",
    Verdict.NOT_CONTAINED: "OPEN",
}
_CONTAINED = ("contained", "by state")


@dataclass
class DrillResult:
    playbook: str
    time_to_contain_s: float
    cut: containment.Outcome
    # verify's verdict, as the summary shows it: "contained" (every targeted link proven cut
    # by packets), "by state" (cut as read back, some link not proven by packets: the lab's
    # backup link, shut in normal times, has no probe of its own), "OPEN" or "UNKNOWN".
    verified: str
    restore: containment.Outcome
    probes_back: bool
    stages: str  # reconnection stages opened and verified, of those the playbook declares

    @property
    def ok(self) -> bool:
        good = (containment.Outcome.DONE, containment.Outcome.NOTHING_TO_DO)
        all_stages = self.stages == "-" or self.stages.split("/")[0] == self.stages.split("/")[1]
        return (
            self.cut in good
            and self.verified in _CONTAINED
            and self.restore in good
            and self.probes_back
            and all_stages
        )


def _rehearse(rt: Runtime, name: str) -> DrillResult:
    inventory = rt.inventory
    playbook = load_playbook(name, paths.PLAYBOOKS)
    # A parameterised playbook (isolate-site) is rehearsed on the first site.
    params = resolve_parameters(playbook, inventory, {"site": sorted(inventory.sites)[0]})
    passing_before = {
        o.probe.name for o in run_probes(inventory.probes) if o.result is ProbeResult.PASSES
    }
    print(f"\n=== {name} ===")
    print(render.plan_text(containment.plan(rt, playbook, params, offline=False)))
    cut = containment.cut(rt, playbook, params, reason=f"lab drill: {name}", operator=OPERATOR)
    print(render.run_text(cut, name))
    check = verify.verify(rt, playbook, params)
    print(render.verify_text(check, name))
    opened = 0
    for stage in playbook.stages:
        # Reconnection in the playbook's clinical order, each stage checked before the next.
        report = reconnection.open_stage(
            rt,
            playbook,
            params,
            stage.name,
            approved_by=OPERATOR,
            reason="lab drill: staged reconnection",
            operator=OPERATOR,
        )
        print(render.stage_text(report, name))
        if not report.opened:
            break
        opened += 1
    # Whatever the stages did not reopen (all of it, for a playbook without stages).
    restored = containment.restore(
        rt, playbook, params, reason="lab drill: restore", operator=OPERATOR, approved_by=OPERATOR
    )
    print(render.run_text(restored, name))
    missing = _back_after_restore(inventory.probes, passing_before)
    if missing:
        print(f"NOT BACK after restore: {', '.join(sorted(missing))}")
    stages = f"{opened}/{len(playbook.stages)}" if playbook.stages else "-"
    verified = _SHOWN[check.verdict]
    return DrillResult(
        name, cut.duration_s, cut.outcome, verified, restored.outcome, not missing, stages
    )


def _back_after_restore(probes: list[Probe], passing_before: set[str]) -> set[str]:
    """The probes that passed before the cut and still fail after the restore. Routers put
    their static routes back a moment after an interface comes up, so a failing probe is given
    a few seconds before it is called missing."""
    deadline = time.monotonic() + RECONVERGENCE_S
    while True:
        passing = {o.probe.name for o in run_probes(probes) if o.result is ProbeResult.PASSES}
        missing = passing_before - passing
        if not missing or time.monotonic() >= deadline:
            return missing
        time.sleep(1.0)


def drill(playbooks: list[str], keep: bool = False) -> int:
    brought_up = Manifest.load() is None
    if brought_up:
        print(up())
    try:
        inventory = load_inventory(paths.DEFAULT_INVENTORY)
        journal = default_journal_path(paths.state_dir(), inventory.name)
        rt = Runtime(inventory, journal)
        results = [_rehearse(rt, name) for name in playbooks]
    finally:
        if brought_up and not keep:
            print(down())
    print("\nDrill summary")
    print(
        f"  {'playbook':<16} {'time to contain':>15}  {'cut':<14} {'verified':<10} "
        f"{'stages':<7} {'restore':<14} probes back"
    )
    for r in results:
        print(
            f"  {r.playbook:<16} {r.time_to_contain_s:>13.1f} s  {r.cut:<14} "
            f"{r.verified:<10} {r.stages:<7} {r.restore:<14} "
            f"{'yes' if r.probes_back else 'NO'}"
        )
    if any(r.verified == "by state" for r in results):
        print(
            "  by state: cut as the devices read back, no probe contradicting it; some link is "
            "not proven by packets (verify says which)"
        )
    print(f"Journal: {journal}")
    passed = all(r.ok for r in results)
    print("DRILL PASSED" if passed else "DRILL FAILED")
    return 0 if passed else 3
