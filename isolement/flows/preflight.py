"""Pre-flight: log in to every device a run concerns, in parallel, and read its state.

Reachability, host key, authentication, privilege and readable state are all proven before a
plan is made. A device whose management path is cut at a device just read is not dialled (it
could only time out): it is out of reach, and what that means is the flow's to say.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from isolement.drivers import CutTarget, Session, driver_for
from isolement.flows.executor import DeviceResult, run_per_device
from isolement.flows.runtime import Runtime
from isolement.model.errors import DeviceError, NoAnswer
from isolement.model.inventory import check_credentials
from isolement.model.playbook import Playbook
from isolement.model.state import DeviceState
from isolement.planning.management import cut_targets, management_cut, on_management_paths
from isolement.planning.planner import plan_cut
from isolement.transport import admission, credentials


def login(rt: Runtime, device: str) -> tuple[Session, DeviceState]:
    """Open a session and read the state: reachability, host key, authentication, privilege
    and readable state are all proven by the time this returns."""
    driver = driver_for(rt.inventory.devices[device].platform)
    # A connection that fails for a reason that may pass (time-out, refused, dropped under a
    # connection storm) is tried again before the device is declared unreachable.
    session = admission.with_retries(
        lambda: rt.connect(rt.inventory, device, driver, rt.timeout), rt.interrupt.wait
    )
    try:
        try:
            privileged = driver.has_privilege(session)
        except NoAnswer as exc:
            # Slow is not refused: a timeout here must never read as a missing right.
            raise NoAnswer(device, f"{exc.reason} (checking its privilege)") from None
        if not privileged:
            raise DeviceError(device, "logged in without the privilege to change configuration")
        return session, driver.read_state(session)
    except Exception:
        session.close()
        raise


def watched_login(rt: Runtime, device: str) -> tuple[Session, DeviceState]:
    """`login`, its outcome told to the runtime's watchers as it comes."""
    try:
        found = login(rt, device)
    except DeviceError as exc:
        rt.watchers.device_read(device, exc.reason)
        raise
    except Exception as exc:
        rt.watchers.device_read(device, str(exc) or type(exc).__name__)
        raise
    rt.watchers.device_read(device, None)
    return found


def not_dialled(lost: Sequence[tuple[str, str]]) -> str:
    links = ", ".join(dict.fromkeys(link for link, _ in lost))
    return (
        f"not dialled (it is managed through {links}, which is cut: reopen that first, or "
        "change this device in the same run that cuts it)"
    )


@dataclass
class Observation:
    """What the pre-flight found: a state (and an open session) per device read, why the others
    could not be read, and the targets out of reach (management link cut at a device read)."""

    states: dict[str, DeviceState]
    unreachable: dict[str, str]
    # device -> (link, device) where its management path is cut.
    out_of_reach: dict[str, list[tuple[str, str]]]
    _sessions: dict[str, Session] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _closed: bool = False  # every session held was logged out of: none is held again

    def peek(self, device: str) -> Session | None:
        """The device's session, still held here (a pre-flight question before the plan)."""
        with self._lock:
            return self._sessions.get(device)

    def take(self, device: str) -> Session | None:
        """The device's session, now the caller's to use and close (device workers call it)."""
        with self._lock:
            return self._sessions.pop(device, None)

    def put_back(self, device: str, session: Session, *, usable: bool = True) -> None:
        """A session taken for a while (a snapshot read ahead, flows/evidence.py), held here
        again. One that is no good (`usable` False: it stopped answering), or that comes back
        once every session was logged out of (the run stopped waiting for that read), is
        logged out of here and now: each session is still closed once, by whoever holds it."""
        with self._lock:
            if usable and not self._closed:
                self._sessions[device] = session
                return
        with suppress(Exception):  # a session whose device went away closes all the same
            session.close()

    def close(self, devices: Sequence[str] | None = None, workers: int = 1) -> None:
        """Log out of these devices (every one still held, by default, and of any put back
        after), in parallel."""
        with self._lock:
            names = list(self._sessions) if devices is None else list(devices)
            held = {d: s for d in names if (s := self._sessions.pop(d, None)) is not None}
            self._closed = self._closed or devices is None

        def close(device: str) -> None:
            with suppress(Exception):  # a session whose device went away closes all the same
                held[device].close()

        run_per_device(list(held), close, workers)


@contextmanager
def observe(rt: Runtime, targets: Mapping[str, Sequence[CutTarget]]) -> Iterator[Observation]:
    """Log in to every target device, and to the devices on their management paths, in
    parallel (the pre-flight); close every session still held afterwards."""
    inventory = rt.inventory
    devices = set(targets)
    every = devices | on_management_paths(inventory, devices)
    check_credentials(inventory, every)
    # Every secret read (each prompt asked, one at a time) before the first session opens.
    credentials.prepare(inventory, every)
    waiting = {d for d in every if inventory.devices[d].managed_via}
    abort = rt.interrupt.aborted

    def login_all(names: set[str]) -> dict[str, DeviceResult[tuple[Session, DeviceState]]]:
        rt.watchers.reads_started(sorted(names))
        return run_per_device(
            sorted(names), lambda d: watched_login(rt, d), rt.workers, abort=abort
        )

    # Out-of-band devices first; then, round by round, the in-band devices whose management
    # path is seen up.
    results = login_all(every - waiting)
    while True:
        states = {d: r.value[1] for d, r in results.items() if r.value is not None}
        ready = {d for d in waiting if not management_cut(inventory, d, states)}
        if not ready or abort.is_set():
            break
        waiting -= ready
        results |= login_all(ready)
    seen = Observation(
        states={d: r.value[1] for d, r in results.items() if r.value is not None},
        unreachable={},
        out_of_reach={},
        _sessions={d: r.value[0] for d, r in results.items() if r.value is not None},
    )
    for device in sorted(devices - set(seen.states)):
        lost = management_cut(inventory, device, seen.states)
        result = results.get(device)
        if lost and result is None:
            seen.out_of_reach[device] = lost
        else:
            seen.unreachable[device] = (result.error if result else None) or "not dialled"
    try:
        yield seen
    finally:
        seen.close(workers=rt.workers)


def preflight(
    rt: Runtime, playbook: Playbook, parameters: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Device -> problem, for every device the playbook targets ('' when ready); and device ->
    the central manager (Panorama, FortiManager) its state names."""
    targets = cut_targets(rt.inventory, playbook, parameters)
    with observe(rt, targets) as seen:
        # Interfaces exist, the plan holds (on what could be read).
        plan_cut(rt.inventory, playbook, parameters, seen.states, unread=set(seen.out_of_reach))
    problems = dict(seen.unreachable)
    problems |= {device: not_dialled(lost) for device, lost in seen.out_of_reach.items()}
    central = {
        d: s.facts["managed_by"] for d, s in sorted(seen.states.items()) if "managed_by" in s.facts
    }
    return {device: problems.get(device, "") for device in sorted(targets)}, central
