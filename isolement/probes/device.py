"""Probes sent by a managed device itself, through its own CLI: the platform's ping.

One session per device (the inventory's host keys and credentials, as every flow connects),
its probes sent one after the other, the devices in parallel. What the device printed is read
by its driver: a probe passes when a reply came back, is blocked when requests went out and none
came back, and is UNAVAILABLE, proving nothing, when it could not be run or read: the device out
of reach, a platform whose ping cannot send that probe (TCP on most, a source on some), an
answer the driver cannot read.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress

from isolement.drivers import Driver, Session, driver_for
from isolement.drivers.base import InterruptibleSession, PingReply
from isolement.flows.executor import run_per_device
from isolement.flows.runtime import Runtime
from isolement.model.errors import DeviceError, InputError, UnexpectedOutput
from isolement.model.inventory import Probe, check_credentials
from isolement.probes.outcome import ProbeOutcome, ProbeResult

# Echo requests per probe: one lost on a healthy path is not taken for a cut, and a blocked path
# is known within a few seconds on every platform (each waits about 1-2 s for a reply).
COUNT = 3


def run_device_probes(rt: Runtime, probes: list[Probe]) -> list[ProbeOutcome]:
    """An outcome per probe, in the order given; probes not sent from a device are
    UNAVAILABLE (another kind of probe runs them)."""
    by_device: dict[str, list[int]] = {}
    outcomes: dict[int, ProbeOutcome] = {}
    for index, probe in enumerate(probes):
        device = probe.from_device
        if device is None:
            outcomes[index] = _unavailable(probe, f"sent from the {probe.origin}, not a device")
        elif device not in rt.inventory.devices:
            outcomes[index] = _unavailable(probe, f"no device {device} in the inventory")
        else:
            by_device.setdefault(device, []).append(index)

    def send(device: str) -> list[ProbeOutcome]:
        return _on_device(rt, device, [probes[i] for i in by_device[device]])

    results = run_per_device(sorted(by_device), send, rt.workers, abort=rt.interrupt.aborted)
    for device, indexes in by_device.items():
        result = results.get(device)
        if result is not None and result.value is not None:
            outcomes.update(zip(indexes, result.value, strict=True))
            continue
        why = (result.error if result else None) or "not run (interrupted)"
        if result is not None and isinstance(result.exception, DeviceError):
            why = result.exception.reason
        for index in indexes:
            outcomes[index] = _unavailable(probes[index], f"{device}: {why}")
    return [outcomes[i] for i in range(len(probes))]


def _on_device(rt: Runtime, device: str, probes: Sequence[Probe]) -> list[ProbeOutcome]:
    driver = driver_for(rt.inventory.devices[device].platform)
    commands = [_command(driver, probe) for probe in probes]
    if all(command is None for command in commands):
        # Nothing this platform can send: no login at all.
        return [_cannot(driver, probe) for probe in probes]
    try:
        check_credentials(rt.inventory, {device})
    except InputError as exc:
        return [_unavailable(probe, f"{device}: {exc}") for probe in probes]
    session = rt.connect(rt.inventory, device, driver, rt.timeout)
    try:
        outcomes = []
        for probe, command in zip(probes, commands, strict=True):
            if command is None:
                outcomes.append(_cannot(driver, probe))
            else:
                outcomes.append(_send(driver, session, device, probe, command))
        return outcomes
    finally:
        with suppress(Exception):  # a device whose path was just cut may never say goodbye
            session.close()


def _command(driver: Driver, probe: Probe) -> str | None:
    return driver.ping_command(probe.to, source=probe.source, count=COUNT, port=probe.port)


def _send(
    driver: Driver, session: Session, device: str, probe: Probe, command: str
) -> ProbeOutcome:
    *options, ping = command.split("\n")
    try:
        for line in options:
            answer = session.send_command(line, verify_echo=driver.facts.verify_echo)
            error = driver.find_error(answer)
            if error:
                return _unavailable(probe, f"{device} refused {line!r}: {error}")
        if driver.facts.ping_runs_until_interrupted:
            if not isinstance(session, InterruptibleSession):
                return _unavailable(probe, f"{device}: this session cannot interrupt a ping")
            # One echo request a second, then Ctrl-C; half a second more for the last reply.
            output = session.send_interrupted(ping, after=COUNT + 0.5)
        else:
            # Each platform waits 1-2 s per unanswered request; beyond the session's own
            # timeout for a long count.
            output = session.send_command(
                ping, verify_echo=driver.facts.verify_echo, timeout=ping_wait(COUNT)
            )
        reply = driver.parse_ping(output)
    except UnexpectedOutput as exc:
        return _unavailable(probe, f"{device}: {exc}")
    except DeviceError as exc:
        return _unavailable(probe, f"{device}: {exc.reason}")
    return _outcome(probe, device, reply)


def ping_wait(count: int) -> float:
    """Seconds a ping of `count` requests may take on the slowest platform (2 s per request
    unanswered, as IOS and the ASA wait by default), with a margin."""
    return 2.0 * count + 10.0


def _outcome(probe: Probe, device: str, reply: PingReply) -> ProbeOutcome:
    said = f"{device}: {reply.received}/{reply.sent} replies"
    if reply.received > 0:
        return ProbeOutcome(probe, ProbeResult.PASSES, said)
    if reply.sent > 0:
        return ProbeOutcome(probe, ProbeResult.BLOCKED, said)
    return _unavailable(probe, f"{device}: no echo request was sent")


def _cannot(driver: Driver, probe: Probe) -> ProbeOutcome:
    what = f"TCP port {probe.port}" if probe.port is not None else "this probe"
    if probe.port is None and probe.source is not None:
        what = f"a ping from {probe.source}"
    return _unavailable(probe, f"{driver.platform}'s CLI cannot send {what}")


def _unavailable(probe: Probe, detail: str) -> ProbeOutcome:
    return ProbeOutcome(probe, ProbeResult.UNAVAILABLE, detail)
