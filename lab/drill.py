"""A rehearsal on the lab, end to end, for each playbook: the lab's state read from the devices,
pre-flight, plan, cut, verification with real packets (every path to cut blocked, every
protected flow passing), the staged reconnection, the restore, and a final check that the lab
is back exactly as it was. Faults can be injected by name (lab/faults.py): the report says what
the tool did about each and what the team had to do. Each drill is kept, with its own journal
and that journal's export, and compared with the previous one (lab/history.py)."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

from isolement.cli import paths, render
from isolement.flows import containment, preflight, verify
from isolement.flows import stages as reconnection
from isolement.flows.results import RunReport, Verdict, VerifyReport
from isolement.flows.runtime import Options, Runtime
from isolement.journal.store import read_records
from isolement.model.errors import LabError
from isolement.model.inventory import Inventory, Probe, load_inventory
from isolement.model.playbook import Playbook, load_playbook
from isolement.planning.planner import resolve_parameters, select_targets
from isolement.probes.namespace import run_probes
from isolement.probes.outcome import ProbeResult
from isolement.report import incident as reporting

from . import history
from .clock import drill_clock, moment
from .faults import SLOW_S, DeviceFaults, Fault, FaultName, faulty_inventory, parse_faults
from .history import DrillReport, FaultOutcome, PlaybookDrill
from .snapshot import differences, lab_state
from .stand import LAB_DIR, Manifest, down, up
from .topology import Topology, load_topology, topology_path

OPERATOR = "drill"
# Seconds a probe that passed before the cut is given to pass again after the restore.
RECONVERGENCE_S = 10.0
# Seconds a device may take to answer one command in a drill: a frozen device is given up on
# quickly, a slow one (lab/faults.py SLOW_S) still answers in time. ISOLEMENT_DRILL_TIMEOUT_S
# sets another (the lab tests give a frozen device less time: each of its handshakes, in every
# read of the drill, waits this long); it must stay above SLOW_S when slow-device is drilled.
DRILL_TIMEOUT_S = 6.0
DRILL_TIMEOUT_ENV = "ISOLEMENT_DRILL_TIMEOUT_S"
_INVENTORY_FAULTS = {
    FaultName.WRONG_CREDENTIALS,
    FaultName.HOST_KEY_CHANGED,
    FaultName.UNKNOWN_LINK,
}
_SHOWN = {
    Verdict.CONTAINED: "contained",
    Verdict.CONTAINED_BY_STATE: "by state",
    Verdict.NOT_PROVEN: "UNKNOWN",
    Verdict.NOT_CONTAINED: "OPEN",
}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def drill_timeout(faults: Sequence[Fault] = ()) -> float:
    """The drill's command timeout: DRILL_TIMEOUT_S, or ISOLEMENT_DRILL_TIMEOUT_S when set (a
    number of seconds above 0, and above SLOW_S when the slow-device fault is drilled)."""
    text = os.environ.get(DRILL_TIMEOUT_ENV)
    if text is None:
        return DRILL_TIMEOUT_S
    try:
        timeout = float(text)
    except ValueError:
        raise LabError(f"{DRILL_TIMEOUT_ENV}={text!r}: a number of seconds") from None
    if not 0 < timeout < math.inf:  # (nan and inf too: a frozen device would hold the drill)
        raise LabError(f"{DRILL_TIMEOUT_ENV}={text!r}: a number of seconds above 0")
    if timeout <= SLOW_S and any(f.name is FaultName.SLOW_DEVICE for f in faults):
        raise LabError(
            f"{DRILL_TIMEOUT_ENV}={text!r}: the slow-device fault answers {SLOW_S} s late; "
            "a timeout that short would call it down"
        )
    return timeout


@dataclass
class Lab:
    """The lab as it really is (the topology, its true inventory), and the controller's view
    of it on the drill's night (the runtime, with the inventory-side faults made)."""

    topology: Topology
    truth: Inventory
    playbooks: Path
    directory: Path  # this drill's: journal, inventory copy, reports
    faults: list[Fault]
    device_faults: DeviceFaults
    runtime: Runtime = field(init=False)

    def __post_init__(self) -> None:
        self._night = self.truth
        if any(f.name in _INVENTORY_FAULTS for f in self.faults):
            data = yaml.safe_load(Path(self.truth.source).read_text())
            changed = faulty_inventory(data, self.faults, self.directory, LAB_DIR / "known_hosts")
            path = self.directory / "inventory.yaml"
            path.write_text(yaml.safe_dump(changed, sort_keys=False))
            self._night = load_inventory(path)
        self.runtime = self._runtime(self.truth)

    def _runtime(self, inventory: Inventory) -> Runtime:
        timeout = drill_timeout(self.faults)
        return Runtime(inventory, self.directory / "journal.jsonl", timeout=timeout)

    def begin(self) -> None:
        """The bad night starts: every fault made, the controller given the faulty view."""
        for fault in self.faults:
            self.device_faults.inject(fault)
            print(f"  fault: {fault.name}: {fault.what}")
        self.runtime = self._runtime(self._night)

    def fix(self) -> None:
        """What the team does once it has understood: every fault put right, the controller
        given the true inventory back."""
        self.device_faults.clear_all()
        self.runtime = self._runtime(self.truth)


@dataclass
class Sweep:
    """The drill's own packets, from the true inventory's probes: those that must be blocked
    after this cut and pass, those that must pass and do not."""

    open_paths: list[str]
    protected_down: list[str]
    could_not_run: list[str]

    @property
    def contained(self) -> bool:
        return not self.open_paths and not self.protected_down


def _sweep(truth: Inventory, targeted: set[str]) -> Sweep:
    protected = {link for flow in truth.protected.values() for link in flow.links}
    outcomes = run_probes([p for p in truth.probes if p.from_netns is not None])
    sweep = Sweep([], [], [])
    for o in outcomes:
        crosses = set(o.probe.crosses)
        if o.result is ProbeResult.UNAVAILABLE:
            sweep.could_not_run.append(o.probe.name)
        elif crosses & targeted and o.result is ProbeResult.PASSES:
            sweep.open_paths.append(f"{o.probe.name} (crosses {', '.join(sorted(crosses))})")
        elif crosses & protected and o.result is not ProbeResult.PASSES:
            sweep.protected_down.append(o.probe.name)
    return sweep


def _passing(probes: Sequence[Probe]) -> set[str]:
    return {o.probe.name for o in run_probes(list(probes)) if o.result is ProbeResult.PASSES}


def _eventually_back(probes: Sequence[Probe], before: set[str]) -> set[str]:
    """The probes that passed before the cut and still fail after the restore. Routers put
    their static routes back a moment after an interface comes up, so a failing probe is given
    a few seconds before it is called missing."""
    deadline = time.monotonic() + RECONVERGENCE_S
    while True:
        missing = before - _passing(probes)
        if not missing or time.monotonic() >= deadline:
            return missing
        time.sleep(1.0)


def _what_the_tool_did(
    fault: Fault, lab: Lab, cut: RunReport, check: VerifyReport, sweep: Sweep
) -> str:
    """What the first cut and its verification said about this fault, in their own words."""
    if fault.name is FaultName.UNKNOWN_LINK:
        wrong = [p.outcome.probe.name for p in check.probes if p.wrong]
        found = [p for p in sweep.open_paths if fault.target in p]
        text = (
            f"verify: {_SHOWN[check.verdict]}; traffic still passes: {', '.join(wrong)}"
            if wrong
            else "verify saw nothing: no probe of its inventory crossed it"
        )
        return text + (f"; the drill's packets: {', '.join(found)}" if found else "")
    device = fault.target
    links = {
        name
        for name, link in lab.truth.links.items()
        if any(e.device == device for e in link.endpoints)
    }
    still = sorted(set(cut.still_open) & links)
    unknown = sorted(set(cut.unknown) & links)
    parts = []
    if device in cut.unreachable:
        parts.append(f"pre-flight: {cut.unreachable[device]}; nothing sent to it")
    else:
        for step in cut.steps:
            if step.step.device == device:
                said = f"; {step.error}" if step.error else ""
                notes = f" ({'; '.join(step.notes)})" if step.notes else ""
                parts.append(
                    f"{step.status} after {step.attempts} attempt(s), {step.duration_s:.1f} s"
                    f"{said}{notes}"
                )
    if still:
        parts.append(f"reported still open: {', '.join(still)}")
    if unknown:
        parts.append(f"reported unknown: {', '.join(unknown)}")
    if device in cut.unreachable and not still and not unknown:
        parts.append("its links were cut at their other ends")
    return "; ".join(parts) or "not concerned by this playbook"


def _cut_and_verify(
    lab: Lab, playbook: Playbook, params: dict[str, str], targeted: set[str], partial: bool
) -> tuple[RunReport, VerifyReport, Sweep]:
    rt = lab.runtime
    cut = containment.cut(
        rt,
        playbook,
        params,
        reason=f"lab drill: {playbook.name}",
        operator=OPERATOR,
        options=Options(partial=partial, retries=1),
    )
    print(f"  cut: {cut.outcome} in {cut.duration_s:.1f} s" + _open_text(cut))
    check = verify.verify(rt, playbook, params)
    sweep = _sweep(lab.truth, targeted)
    print(
        f"  verify: {_SHOWN[check.verdict]}; the drill's own packets: "
        + ("every path to cut blocked" if not sweep.open_paths else "STILL OPEN: ")
        + ", ".join(sweep.open_paths)
        + ("; protected flows pass" if not sweep.protected_down else "; PROTECTED DOWN: ")
        + ", ".join(sweep.protected_down)
    )
    return cut, check, sweep


def _open_text(cut: RunReport) -> str:
    text = ""
    if cut.still_open:
        text += f"; still open: {', '.join(sorted(cut.still_open))}"
    if cut.unknown:
        text += f"; unknown: {', '.join(sorted(cut.unknown))}"
    if cut.unreachable:
        text += f"; unreachable: {', '.join(sorted(cut.unreachable))}"
    return text


def _contained(check: VerifyReport, sweep: Sweep) -> bool:
    return check.verdict in (Verdict.CONTAINED, Verdict.CONTAINED_BY_STATE) and sweep.contained


def _rehearse(lab: Lab, name: str) -> PlaybookDrill:
    playbook = load_playbook(name, lab.playbooks)
    truth = lab.truth
    # A parameterised playbook (isolate-site) is rehearsed on the first site.
    params = resolve_parameters(playbook, truth, {"site": sorted(truth.sites)[0]})
    targeted = {t.link for ts in select_targets(truth, playbook, params).values() for t in ts}
    print(f"\n=== {name} ({lab.topology.name}) ===")
    initial = lab_state(lab.topology, LAB_DIR)
    passing_before = _passing(truth.probes)
    checks: dict[str, bool] = {}
    faulty = bool(lab.faults)
    lab.begin()
    rt = lab.runtime
    started = time.monotonic()
    problems, _ = preflight.preflight(rt, playbook, params)
    not_ready = {d: why for d, why in problems.items() if why}
    if not faulty:  # on a bad night these fail by design: the fault table says how
        checks["pre-flight: every device ready"] = not not_ready
    print(
        f"  pre-flight: {len(problems) - len(not_ready)}/{len(problems)} ready in "
        f"{time.monotonic() - started:.1f} s"
        + "".join(f"\n    NOT READY {d}: {why}" for d, why in sorted(not_ready.items()))
    )
    planned = containment.plan(rt, playbook, params, offline=False)
    waves = sorted({s.wave for s in planned.plan.steps})
    plan_file = lab.directory / f"plan-{name}.txt"
    plan_file.write_text(render.plan_text(planned) + "\n")
    print(f"  plan: {len(planned.plan.steps)} devices in {len(waves)} wave(s) ({plan_file.name})")
    decision = _now()
    cut, check, sweep = _cut_and_verify(lab, playbook, params, targeted, partial=faulty)
    first = (cut, check, sweep)
    if not faulty:
        checks["cut: done at the first run"] = cut.outcome is containment.Outcome.DONE
    notes = []
    if not _contained(check, sweep) and faulty:
        # The team's part: each fault understood and put right, then the cut run again.
        lab.fix()
        notes.append("not contained at the first run: the team put every fault right, cut again")
        print("  the team puts every fault right and runs the cut again")
        cut, check, sweep = _cut_and_verify(lab, playbook, params, targeted, partial=True)
    verified = _now() if _contained(check, sweep) else None
    lab.fix()  # whatever is left (a slow device, ...) is put right before reconnecting
    checks["isolation verified by packets"] = verified is not None
    checks["every path to cut blocked (the drill's own packets)"] = not sweep.open_paths
    checks["protected flows pass"] = not sweep.protected_down
    rt = lab.runtime
    for stage in playbook.stages:
        opened = reconnection.open_stage(
            rt,
            playbook,
            params,
            stage.name,
            approved_by=OPERATOR,
            reason="lab drill: staged reconnection",
            operator=OPERATOR,
        )
        checks[f"stage {stage.name}: verified by packets"] = opened.verified
        print(f"  stage {stage.name}: {'verified' if opened.verified else opened.why or 'NOT'}")
        if not opened.opened:
            break
    restored = containment.restore(
        rt, playbook, params, reason="lab drill: restore", operator=OPERATOR, approved_by=OPERATOR
    )
    good = (containment.Outcome.DONE, containment.Outcome.NOTHING_TO_DO)
    checks["restore: done"] = restored.outcome in good
    missing = _eventually_back(truth.probes, passing_before)
    checks["every probe that passed before passes again"] = not missing
    changed = differences(initial, lab_state(lab.topology, LAB_DIR))
    checks["the lab is back to its exact initial state"] = not changed
    print(f"  restore: {restored.outcome}" + _open_text(restored))
    if missing:
        notes.append(f"not back after the restore: {', '.join(sorted(missing))}")
    if changed:
        notes.append(f"changed since the start: {', '.join(changed)}")
    records = list(read_records(rt.journal_path))
    since = [r for r in records if isinstance(r, dict) and moment(str(r["ts"])) >= moment(decision)]
    faults = [
        FaultOutcome(
            f"{f.name}={f.target}",
            f.what,
            _what_the_tool_did(f, lab, *first),
            f.team,
        )
        for f in lab.faults
    ]
    return PlaybookDrill(name, drill_clock(since, decision, verified), faults, checks, notes)


def _export(directory: Path) -> None:
    """The drill's journal in every format `journal export` writes, beside its report."""
    report = reporting.report_from_journal(directory / "journal.jsonl")
    for fmt, to_text in reporting.FORMATS.items():
        reporting.write_export(directory / f"report.{fmt}", to_text(report))


def drill(
    playbooks: Sequence[str],
    keep: bool = False,
    topology: str | None = None,
    faults: Sequence[str] = (),
    show_history: bool = False,
) -> int:
    state_dir = paths.state_dir()
    if show_history:
        print(history.history_text(state_dir))
        return 0
    manifest = Manifest.load()
    if manifest is not None and topology is not None and manifest.topology != topology:
        raise LabError(f"lab {manifest.topology} is up: 'isolement lab down' first")
    name = topology or (manifest.topology if manifest is not None else None)
    topo = load_topology(topology_path(name))
    truth = load_inventory(paths.DEFAULT_INVENTORY.parent / topo.inventory)
    own = paths.PLAYBOOKS / topo.name
    playbook_dir = own if own.is_dir() else paths.PLAYBOOKS
    chosen = parse_faults(faults, topo, sorted(truth.devices), sorted(truth.links))
    drill_timeout(chosen)  # a bad ISOLEMENT_DRILL_TIMEOUT_S refused before the lab is touched
    for playbook in playbooks:
        load_playbook(playbook, playbook_dir)  # a bad name refused before the lab is touched
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    directory = history.drills_dir(state_dir) / f"{stamp}-{topo.name}"
    directory.mkdir(parents=True, exist_ok=False, mode=0o700)
    lab_up_s = None
    if manifest is None:
        started = time.monotonic()
        print(up(topology_path(name)))
        lab_up_s = round(time.monotonic() - started, 2)
        manifest = Manifest.load()
    assert manifest is not None
    device_faults = DeviceFaults(topo, LAB_DIR, manifest.processes)
    try:
        lab = Lab(topo, truth, playbook_dir, directory, chosen, device_faults)
        results = [_rehearse(lab, playbook) for playbook in playbooks]
    finally:
        device_faults.clear_all()
        if manifest is not None and lab_up_s is not None and not keep:
            print(down())
    report = DrillReport(_now(), topo.name, history.names(chosen), results, lab_up_s)
    history.keep(report, directory)
    _export(directory)
    text = report_text(report)
    (directory / "drill.md").write_text(text + "\n")
    print("\n" + text)
    before = history.previous(state_dir, report, directory)
    if before is not None:
        print("\nAgainst the previous drill (same lab, same faults):")
        print("\n".join(f"  {c}" for c in history.compare(before, report)))
    print(f"\nKept in {directory} (drill.json, drill.md, report.md|html|json|csv, journal.jsonl)")
    print("DRILL PASSED" if report.passed else "DRILL FAILED")
    return 0 if report.passed else 3


def _s(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.1f} s"


def report_text(report: DrillReport) -> str:
    lines = [f"Drill report: lab {report.topology}, {report.started}"]
    if report.lab_up_s is not None:
        lines.append(f"  lab up: {report.lab_up_s:.1f} s")
    if report.faults:
        lines.append(f"  faults: {', '.join(report.faults)}")
    for p in report.playbooks:
        c = p.clock
        lines.append(f"\n{p.playbook}: time to contain {_s(c.contain_s)} ({c.cut_runs} cut run(s))")
        for w in c.waves:
            lines.append(f"  wave {w.wave}: done at +{w.done_at_s:.1f} s ({', '.join(w.devices)})")
        for d in c.devices:
            again = f", {d.attempts} attempts" if d.attempts > 1 else ""
            lines.append(
                f"    {d.device:<10} wave {d.wave}  +{d.seconds:.1f} s  {d.outcome}{again}"
            )
        for s in c.stages:
            lines.append(f"  stage {s.stage:<16} {_s(s.seconds):>9}  {s.outcome}")
        for f in p.faults:
            lines += [
                f"  fault {f.fault}: {f.what}",
                f"    the tool: {f.tool}",
                f"    the team: {f.team}",
            ]
        for check, ok in p.checks.items():
            lines.append(f"  {'ok  ' if ok else 'FAIL'} {check}")
        lines += [f"  note: {n}" for n in p.notes]
    lines += [
        "\nSummary",
        f"  {'playbook':<16} {'time to contain':>15}  {'cut runs':>8}  {'stages':<7} result",
    ]
    for p in report.playbooks:
        verified = sum(1 for s in p.clock.stages if s.outcome == "verified")
        stages = f"{verified}/{len(p.clock.stages)}" if p.clock.stages else "-"
        failed = [check for check, ok in p.checks.items() if not ok]
        result = "passed" if not failed else f"FAILED: {'; '.join(failed)}"
        lines.append(
            f"  {p.playbook:<16} {_s(p.clock.contain_s):>15}  {p.clock.cut_runs:>8}  "
            f"{stages:<7} {result}"
        )
    return "\n".join(lines)


__all__ = ["drill", "report_text"]
