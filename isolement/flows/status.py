"""Status: each targeted path as read from its devices now, and nothing else.

An endpoint is "cut" or "open" only when its device was read in this run; a device that could
not be read (unreachable, or out of reach behind a cut management link) leaves its endpoints
"unknown", with what the journal last read of them and when.

An end read open that isolement cut, saw cut, and has not restored is "reopened" (the cut
vanished: a reboot without it, a port reopened by hand, a policy deleted), with when it was last
seen cut; an end never seen cut stays "open". A link is cut while one of its ends is: its other,
reopened, ends are shown as such all the same.
"""

from __future__ import annotations

from collections.abc import Mapping

from isolement.drivers import CutTarget, driver_for
from isolement.flows.containment import known_out_of_reach
from isolement.flows.preflight import observe
from isolement.flows.results import EndpointStatus, LinkStatus, PathState, StatusReport
from isolement.flows.runtime import Runtime
from isolement.journal.view import JournalView
from isolement.model.inventory import Inventory
from isolement.model.plan import KeptEndpoint
from isolement.model.playbook import Playbook
from isolement.planning.planner import select_targets, spare_management_ends


def _link_state(ends: list[EndpointStatus]) -> PathState:
    states = {e.state for e in ends if e.state is not PathState.KEPT}
    if PathState.CUT in states:
        # One end suffices; an end reopened since is not an end never cut.
        return PathState.CUT if states <= {PathState.CUT, PathState.REOPENED} else PathState.PARTIAL
    if PathState.UNKNOWN in states:
        return PathState.UNKNOWN  # the end not read may hold the cut
    return PathState.REOPENED if PathState.REOPENED in states else PathState.OPEN


def _read_now(
    view: JournalView,
    scope: tuple[str, Mapping[str, str]] | None,
    device: str,
    t: CutTarget,
    cut: bool,
) -> tuple[PathState, str, str]:
    """An end as read now: cut, open, or reopened (a cut of isolement's seen before)."""
    if cut:
        return PathState.CUT, "", ""
    last = view.vanished(device, t.interface, str(t.method), scope)
    if last is None:
        return PathState.OPEN, "", ""
    return PathState.REOPENED, f"last seen cut at {last}; read open now", last


def _targets(
    inventory: Inventory, playbook: Playbook | None, parameters: Mapping[str, str]
) -> tuple[dict[str, list[CutTarget]], list[KeptEndpoint]]:
    """The playbook's targets and the ends it keeps; every link end without a playbook."""
    if playbook is not None:
        return spare_management_ends(inventory, select_targets(inventory, playbook, parameters))
    targets: dict[str, list[CutTarget]] = {}
    for name, link in inventory.links.items():
        for endpoint in link.endpoints:
            driver = driver_for(inventory.devices[endpoint.device].platform)
            targets.setdefault(endpoint.device, []).append(
                CutTarget(name, endpoint.interface, driver.facts.preferred_method)
            )
    return targets, []


def status(rt: Runtime, playbook: Playbook | None, parameters: Mapping[str, str]) -> StatusReport:
    """Each targeted link (every link without a playbook) as cut, partial, open or unknown."""
    inventory = rt.inventory
    targets, kept = _targets(inventory, playbook, parameters)
    view = JournalView.read(rt.journal_path)
    scope = (playbook.name, parameters) if playbook is not None else None
    ends: dict[str, list[EndpointStatus]] = {}
    with observe(rt, targets) as seen:
        known = known_out_of_reach(view, targets, seen)
        for device in sorted(targets):
            state = seen.states.get(device)
            for t in targets[device]:
                last = ""
                if state is None:
                    found = PathState.UNKNOWN
                    why = known[device].why if device in known else seen.unreachable[device]
                elif t.interface not in state.interfaces:
                    found, why = PathState.UNKNOWN, "interface not on device"
                else:
                    cut = state.is_cut(t.interface, t.method)
                    found, why, last = _read_now(view, scope, device, t, cut)
                    # isolement's deny in place yet evaluated after an allow: say which.
                    shadow = state.shadowed.get(t.interface, "")
                    why = "; ".join(w for w in (why, shadow) if w)
                ends.setdefault(t.link, []).append(
                    EndpointStatus(device, t.interface, t.method, found, why, last)
                )
    for k in kept:
        ends.setdefault(k.link, []).append(
            EndpointStatus(k.device, k.interface, "-", PathState.KEPT, k.why)
        )
    links = [
        LinkStatus(name, inventory.links[name].kind, _link_state(ends[name]), ends[name])
        for name in sorted(ends)
    ]
    return StatusReport(links, known)
