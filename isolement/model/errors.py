"""Every error isolement raises on purpose, with a message meant for a tired engineer.

IsolementError
├── InputError            bad inventory/playbook/argument: refused before anything is sent
│   └── PlanRefused       the request is well-formed but unsafe or impossible to plan
├── DeviceError           a device could not be reached, refused us, or answered with an error
│   ├── NoAnswer          it did not answer within the time allowed (slow or hung)
│   ├── NotReached        no SSH session could be set up (time-out, refused, dropped):
│   │                     may pass, so tried again before the device is declared unreachable
│   └── ConnectionLost    the session broke (the device closed it, a reset)
├── UnexpectedOutput      a driver could not make sense of what a device printed
├── JournalError          the journal cannot be read as evidence, or cannot be written
│   ├── JournalWriteError a record or snapshot could not be written durably (disk full,
│   │                     read-only, I/O error): the run stops, nothing more is sent
│   └── JournalAltered    the journal fails verification: nothing acts on it without
│                         an explicit, journaled override (--accept-altered-journal)
├── LockedError           another run holds the lock on this journal or on these devices
└── LabError              the lab cannot be stood up or torn down
"""

from __future__ import annotations


class IsolementError(Exception):
    """Base of every error isolement raises on purpose."""


class InputError(IsolementError):
    """Bad input: names the file and the field. Nothing has been sent to any device."""

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        self.source = source
        self.field = field
        where = ", ".join(part for part in (source, f"field {field}" if field else None) if part)
        super().__init__(f"{where}: {message}" if where else message)


class PlanRefused(InputError):
    """The request is well-formed but would be unsafe or cannot be carried out."""


class DeviceError(IsolementError):
    """A device could not be reached, refused the login, or answered with an error."""

    def __init__(self, device: str, message: str):
        self.device = device
        self.reason = message
        super().__init__(f"{device}: {message}")


class NoAnswer(DeviceError):
    """The device did not answer within the time allowed: slow or hung, not refusing."""


class NotReached(DeviceError):
    """No SSH session could be set up, for a reason that may pass (a connection storm, a device
    busy): `cause` is `time-out`, `refused` or `dropped`. Never an authentication refused or a
    host key mismatch, which trying again cannot mend."""

    def __init__(self, device: str, message: str, cause: str):
        self.cause = cause
        super().__init__(device, message)


class ConnectionLost(DeviceError):
    """The session broke before the answer came: whatever was sent may have taken effect."""


class UnexpectedOutput(IsolementError):
    """A driver could not parse a device's answer; the caller names the device."""


class JournalError(IsolementError):
    """The journal cannot be read as evidence, or cannot be written."""


class JournalWriteError(JournalError):
    """A record or snapshot could not be written durably. Nothing partial is left behind, and
    no change may be sent after it: the run stops."""


class JournalAltered(JournalError):
    """The journal fails verification (a record edited, removed, forged or torn): nothing acts
    on it without an explicit, journaled override."""


class LockedError(IsolementError):
    """Another isolement run holds the lock on this journal, or on devices of this network."""


class LabError(IsolementError):
    """The lab cannot be stood up, inspected or torn down."""
