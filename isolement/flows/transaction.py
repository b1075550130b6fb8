"""A change set put in effect on one device, through the driver's transaction verbs: the one
place a change is sent.

The order is the same on every platform (napalm's lifecycle): recover isolement's own
uncommitted lines left by a killed run, `begin`, `load` the lines, then where the platform
commits `compare` and `commit`, `end`; a confirmed commit is confirmed once the state could be
read through the same session (the path to the device held); a refused line or commit is
`discard`ed. Every line typed meanwhile is kept for the journal: the transport's own record of
what it wrote to the device where it keeps one (transport/session.py), else the lines handed
to the session.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from isolement.drivers import Driver, Session
from isolement.model.change import ChangeSet, CommitMode
from isolement.model.errors import DeviceError, PlanRefused
from isolement.model.state import DeviceState


@runtime_checkable
class TypedLines(Protocol):
    """A session that records every line it writes to the device (NetmikoSession)."""

    @property
    def typed(self) -> Sequence[str]: ...


class Recording:
    """A Session passed through, that keeps the lines sent through it, in order."""

    def __init__(self, session: Session):
        self._session = session
        self._handed: list[str] = []
        self._mark = len(session.typed) if isinstance(session, TypedLines) else 0

    def sent(self) -> list[str]:
        """Every line sent since the recording began."""
        if isinstance(self._session, TypedLines):
            return list(self._session.typed[self._mark :])
        return list(self._handed)

    def send_command(self, command: str, **options: Any) -> str:
        self._handed += command.splitlines()
        return self._session.send_command(command, **options)

    def send_config(self, commands: Sequence[str]) -> str:
        self._handed += commands
        return self._session.send_config(commands)

    def commit(self, *, confirm_minutes: int | None = None) -> str:
        self._handed.append(
            "commit" if confirm_minutes is None else f"commit confirmed {confirm_minutes}"
        )
        return self._session.commit(confirm_minutes=confirm_minutes)

    def prompt(self) -> str:
        return self._session.prompt()

    def close(self) -> None:
        self._session.close()


def transact(driver: Driver, session: Session, device: str, change: ChangeSet) -> str:
    """Load, commit and confirm one change set; the device's answers. DeviceError on a refusal,
    after the candidate was discarded (what that did is told with the refusal)."""
    if change.unresolved:
        # An offline rendering: never sent (a live plan always renders from the state read).
        raise PlanRefused(f"{device}: the change needs the device's state: {change.unresolved[0]}")
    if not change.lines:
        return ""
    output = [driver.begin(session, device)]
    try:
        output.append(driver.load(session, device, change.lines))
        if change.commit is not CommitMode.NONE:
            output.append(driver.compare(session, device) or "")
            confirmed = change.commit is CommitMode.CONFIRMED
            minutes = change.confirm_minutes if confirmed else None
            output.append(driver.commit(session, device, minutes))
    except DeviceError as exc:
        told = driver.discard(session, device)
        if told is None:
            raise
        raise DeviceError(device, f"{exc.reason}; {told}") from None
    finally:
        output.append(driver.end(session, device))
    if change.commit is CommitMode.CONFIRMED:
        # The session still answers after the change: the path to the device held.
        driver.read_state(session)
        output.append(driver.confirm(session, device))
    return "\n".join(part for part in output if part)


def put_in_effect(
    driver: Driver,
    session: Session,
    device: str,
    change: ChangeSet,
    unsettled: Sequence[str],
    sent: list[str],
) -> tuple[str, DeviceState, str | None]:
    """Put a device's change in effect and read it back; `sent` receives every line typed,
    whatever happens.

    `unsettled` are the lines isolement journaled for this device earlier whose outcome is
    missing (a run killed mid-change): a driver with a candidate configuration recognises a
    candidate holding exactly those as its own and puts it back before sending the change
    (issue #10 item 2). What it did is the third value, journaled with the outcome.
    """
    recording = Recording(session)
    try:
        recovered = driver.recover_candidate(recording, device, unsettled) if unsettled else None
        try:
            output = transact(driver, recording, device, change)
        except DeviceError as exc:
            if recovered is None:
                raise
            raise DeviceError(device, f"{exc.reason} (before it, {recovered})") from exc
        return output, driver.read_state(recording), recovered
    finally:
        sent.extend(recording.sent())
