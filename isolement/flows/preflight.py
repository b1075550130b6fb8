"""Pre-flight: log in to every device a run concerns, in parallel, and read its state.

Reachability, host key, authentication, privilege and readable state are all proven before a
plan is made; devices cut off from the controller by design are not dialled.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from isolement.drivers import CutTarget, Session, driver_for
from isolement.flows.executor import DeviceResult, run_per_device
from isolement.flows.runtime import Runtime
from isolement.journal.store import last_read_back
from isolement.model.errors import DeviceError
from isolement.model.inventory import Inventory, check_credentials
from isolement.model.playbook import Playbook
from isolement.model.state import DeviceState
from isolement.planning.planner import plan_cut, select_targets, spare_management_ends


def login(rt: Runtime, device: str) -> tuple[Session, DeviceState]:
    """Open a session and read the state: reachability, host key, authentication, privilege
    and readable state are all proven by the time this returns."""
    driver = driver_for(rt.inventory.devices[device].platform)
    session = rt.connect(rt.inventory, device, driver, rt.timeout)
    try:
        if not driver.has_privilege(session):
            raise DeviceError(device, "logged in without the privilege to change configuration")
        return session, driver.read_state(session)
    except Exception:
        session.close()
        raise


@dataclass
class Observation:
    """What the pre-flight found: a session and state per reachable device, and why the others
    could not be read."""

    sessions: dict[str, Session]
    states: dict[str, DeviceState]
    unreachable: dict[str, str]
    # Devices unreachable by design (their management link is cut), whose state is taken from
    # what isolement last read back on them: device -> how we know.
    inferred: dict[str, str]


def _management_cut(
    inventory: Inventory, device: str, states: Mapping[str, DeviceState]
) -> list[str]:
    """The links of this device's management path that are cut at a device we could read."""
    lost = []
    for link in inventory.devices[device].managed_via:
        for end in inventory.links[link].endpoints:
            state = states.get(end.device)
            method = driver_for(inventory.devices[end.device].platform).preferred_method
            if state is not None and state.is_cut(end.interface, method):
                lost.append(link)
                break
    return lost


def _inferred_state(journal_path: Path, device: str) -> tuple[DeviceState, str]:
    interfaces: dict[str, bool] = {}
    denies: dict[str, list[str]] = {}
    latest = ""
    for (name, interface), (seen, ts) in last_read_back(journal_path).items():
        if name == device:
            interfaces[interface] = seen.get("admin_up") is not False
            if seen.get("deny_rules"):
                denies[interface] = list(seen["deny_rules"])
            latest = max(latest, ts)
    return DeviceState(interfaces=interfaces, denies=denies), latest


@contextmanager
def observe(
    rt: Runtime, targets: Mapping[str, Sequence[CutTarget]], infer: bool = True
) -> Iterator[Observation]:
    """Log in to every target device, and to the devices on their management paths, in
    parallel (the pre-flight); close every session afterwards.

    With `infer`, a target unreachable because its management link is cut takes its state from
    the journal, provided that state shows every one of its targets already cut: there is then
    nothing to do on it, and nothing to prove but what was read back before the link went down.
    """
    inventory = rt.inventory
    devices = set(targets)
    on_paths = {
        end.device
        for device in devices
        for link in inventory.devices[device].managed_via
        for end in inventory.links[link].endpoints
    }
    check_credentials(inventory, devices | on_paths)
    waiting = {d for d in devices | on_paths if inventory.devices[d].managed_via}

    def login_all(names: set[str]) -> dict[str, DeviceResult[tuple[Session, DeviceState]]]:
        return run_per_device(sorted(names), lambda d: login(rt, d), rt.workers)

    # Out-of-band devices first; then, round by round, the in-band devices whose management
    # path is seen up. One whose path is cut is not dialled: it could only time out.
    results = login_all((devices | on_paths) - waiting)
    while True:
        states = {d: r.value[1] for d, r in results.items() if r.value is not None}
        ready = {d for d in waiting if not _management_cut(inventory, d, states)}
        if not ready:
            break
        waiting -= ready
        results |= login_all(ready)
    sessions = {d: r.value[0] for d, r in results.items() if r.value is not None}
    states = {d: r.value[1] for d, r in results.items() if r.value is not None}
    unreachable: dict[str, str] = {}
    inferred: dict[str, str] = {}
    for device in sorted(devices):
        result = results.get(device)
        if result is not None and result.error is None:
            continue
        error = (result.error if result is not None else None) or "not dialled"
        lost = _management_cut(inventory, device, states)
        if lost and infer:
            state, seen_at = _inferred_state(rt.journal_path, device)
            if all(state.is_cut(t.interface, t.method) for t in targets[device]):
                states[device] = state
                inferred[device] = (
                    f"as read back at {seen_at}; unreachable since its management link "
                    f"{', '.join(lost)} is cut"
                )
                continue
        if lost:
            error += (
                f" (it is managed through {', '.join(lost)}, which is cut: reopen that first, "
                "or change this device in the same run that cuts it)"
            )
        unreachable[device] = error
    try:
        yield Observation(sessions, states, unreachable, inferred)
    finally:
        run_per_device(list(sessions), lambda d: sessions[d].close(), rt.workers)


def cut_targets(
    inventory: Inventory, playbook: Playbook, parameters: Mapping[str, str]
) -> dict[str, list[CutTarget]]:
    """What a cut changes, per device: the selection, less each device's own management end."""
    return spare_management_ends(inventory, select_targets(inventory, playbook, parameters))[0]


def preflight(rt: Runtime, playbook: Playbook, parameters: Mapping[str, str]) -> dict[str, str]:
    """Device -> problem, for every device the playbook targets ('' when ready)."""
    targets = cut_targets(rt.inventory, playbook, parameters)
    with observe(rt, targets) as seen:
        plan_cut(rt.inventory, playbook, parameters, seen.states)  # interfaces exist, plan holds
    return {device: seen.unreachable.get(device, "") for device in sorted(targets)}
