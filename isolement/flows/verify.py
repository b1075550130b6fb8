"""Verification: each targeted path read back from the devices, and real probes.

A link is cut once one of its ends is; the probes say whether traffic really stops where it
should, and still passes where it should.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from isolement.drivers import CutTarget, driver_for
from isolement.flows.preflight import observe
from isolement.flows.runtime import Runtime
from isolement.journal.store import Journal
from isolement.model.errors import LockedError
from isolement.model.plan import KeptEndpoint
from isolement.model.playbook import Playbook
from isolement.planning.planner import select_targets, spare_management_ends
from isolement.probes.namespace import ProbeOutcome, ProbeResult, run_probes


class PathState(StrEnum):
    CUT = "cut"
    PARTIAL = "partial"  # cut at some of its ends, not all: traffic is stopped all the same
    OPEN = "open"
    UNKNOWN = "unknown"
    KEPT = "kept-open"  # an end deliberately left open (a device's own management path)


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

    @property
    def stopped(self) -> bool:
        return self.state in (PathState.CUT, PathState.PARTIAL)


def _link_state(ends: list[EndpointStatus]) -> PathState:
    states = {e.state for e in ends if e.state is not PathState.KEPT}
    if states == {PathState.CUT}:
        return PathState.CUT
    if PathState.CUT in states:
        return PathState.PARTIAL
    return PathState.UNKNOWN if PathState.UNKNOWN in states else PathState.OPEN


def status(
    rt: Runtime, playbook: Playbook | None, parameters: Mapping[str, str]
) -> list[LinkStatus]:
    """Each targeted link (every link without a playbook) as cut, partial, open or unknown."""
    inventory = rt.inventory
    targets: dict[str, list[CutTarget]] = {}
    kept: list[KeptEndpoint] = []
    if playbook is not None:
        targets, kept = spare_management_ends(
            inventory, select_targets(inventory, playbook, parameters)
        )
    else:
        for name, link in inventory.links.items():
            for endpoint in link.endpoints:
                driver = driver_for(inventory.devices[endpoint.device].platform)
                targets.setdefault(endpoint.device, []).append(
                    CutTarget(name, endpoint.interface, driver.preferred_method)
                )
    ends: dict[str, list[EndpointStatus]] = {}
    with observe(rt, targets) as seen:
        for device in sorted(targets):
            state = seen.states.get(device)
            for t in targets[device]:
                if state is None:
                    found, why = PathState.UNKNOWN, seen.unreachable[device]
                elif t.interface not in state.interfaces:
                    found, why = PathState.UNKNOWN, "interface not on device"
                else:
                    is_cut = state.is_cut(t.interface, t.method)
                    found = PathState.CUT if is_cut else PathState.OPEN
                    why = seen.inferred.get(device, "")
                ends.setdefault(t.link, []).append(
                    EndpointStatus(device, t.interface, t.method, found, why)
                )
    for k in kept:
        ends.setdefault(k.link, []).append(
            EndpointStatus(k.device, k.interface, "-", PathState.KEPT, k.why)
        )
    return [
        LinkStatus(name, inventory.links[name].kind, _link_state(ends[name]), ends[name])
        for name in sorted(ends)
    ]


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
    journaled: bool = True

    @property
    def open_links(self) -> list[LinkStatus]:
        return [link for link in self.links if not link.stopped]

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
    report = VerifyReport(links, checks)
    # The verification is evidence too. A verify run while a cut holds the journal is still
    # answered; it is then not journaled, and says so.
    try:
        with Journal(rt.journal_path, custody=rt.custody) as journal:
            journal.record(
                "verify.result",
                playbook=playbook.name,
                parameters=dict(parameters),
                contained=report.contained,
                links={link.link: link.state for link in links},
                probes={
                    c.outcome.probe.name: {"result": c.outcome.result, "expected": c.expected}
                    for c in checks
                },
            )
    except LockedError:
        report.journaled = False
    return report
