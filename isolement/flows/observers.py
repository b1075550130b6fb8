"""The run-events protocol: what a run tells whoever watches it, as it happens.

An observer is any object with these methods (nornir's processors: hooks called on each event,
never part of the runner). The journal recorder (flows/recorder.py) is one, and must not fail
silently: an exception from an observer stops the run (a journal that cannot be written must
stop everything). Live progress (cli/progress.py) only reads, and never raises.

Reads and probes happen outside a run too (pre-flight, status, verify, a stage's checks) and
before its plan exists: `ReadObserver` hears of them. A `Watcher` hears both; the runtime's
watchers (Runtime.watchers) are told by every flow.

Device events come from the device workers, several at once: an observer keeps its own lock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from isolement.model.plan import Change, DeviceStep, Plan
from isolement.model.state import DeviceState
from isolement.planning.management import OutOfReach

if TYPE_CHECKING:
    from isolement.flows.results import RunReport


@dataclass(frozen=True)
class Decision:
    """Who decided the run, and why."""

    operator: str
    reason: str
    approved_by: str | None = None
    stage: str | None = None  # the reconnection stage the run opens or closes
    reach: tuple[str, ...] = ()  # `cut --reach`: the devices it reopens a path to


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    plan: Plan
    decision: Decision
    inventory: str


@dataclass(frozen=True)
class Attempt:
    """One attempt at one device's change, as planned from its state just read."""

    device: str
    number: int
    step: DeviceStep
    before: DeviceState
    snapshot: str | None = None  # the configuration before a cut, kept beside the journal
    # Every line typed to the device by this attempt, filled as it is sent (the transaction's
    # own lines and the read-back included): journaled with the outcome.
    sent: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Applied:
    """An attempt whose change was read back from the device."""

    output: str
    after: DeviceState
    confirmed: Sequence[Change]
    duration_s: float
    drift: list[str] | None = None
    complaint: str | None = None  # the device printed an error, yet the change is in effect
    # isolement's own uncommitted lines, left by a run killed mid-change, put back first.
    recovered: str | None = None
    # Persistence: how the change was made to survive a reboot ("saved: write memory", "not
    # saved: ..."), None when the run does not persist.
    saved: str | None = None


class RunObserver(Protocol):
    def run_started(
        self,
        run: RunInfo,
        unreachable: Mapping[str, str],
        out_of_reach: Mapping[str, OutOfReach],
    ) -> None: ...

    def device_observed(
        self, run: RunInfo, device: str, state: DeviceState, interfaces: Sequence[str]
    ) -> None:
        """A target read at pre-flight; `interfaces` are its targeted ones."""
        ...

    def change_intent(self, run: RunInfo, attempt: Attempt) -> None:
        """Before anything is sent: when this returns, the intent is durable."""
        ...

    def change_applied(self, run: RunInfo, attempt: Attempt, applied: Applied) -> None: ...

    def change_failed(
        self, run: RunInfo, attempt: Attempt, error: str, after: DeviceState | None
    ) -> None: ...

    def change_unconfirmed(self, run: RunInfo, attempt: Attempt, error: str) -> None: ...

    def run_finished(self, run: RunInfo, report: RunReport) -> None: ...


class ReadObserver(Protocol):
    def reads_started(self, devices: Sequence[str]) -> None:
        """These devices are being logged in to and read (a pre-flight, or a round of it)."""
        ...

    def device_read(self, device: str, error: str | None) -> None:
        """One device read (`error` None), or why it could not be."""
        ...

    def probes_started(self, probes: Sequence[str]) -> None: ...

    def probes_done(self, results: Mapping[str, str]) -> None:
        """Probe name -> its result (passes, blocked, unavailable), as a group of them ends."""
        ...


class Watcher(RunObserver, ReadObserver, Protocol):
    """Hears everything a command does, to show it as it happens."""


class Watchers(list[Watcher]):
    """Several watchers as one, for the reads and probes (runs go through `Observers`)."""

    def reads_started(self, devices: Sequence[str]) -> None:
        for w in self:
            w.reads_started(devices)

    def device_read(self, device: str, error: str | None) -> None:
        for w in self:
            w.device_read(device, error)

    def probes_started(self, probes: Sequence[str]) -> None:
        for w in self:
            w.probes_started(probes)

    def probes_done(self, results: Mapping[str, str]) -> None:
        for w in self:
            w.probes_done(results)


class Observers(list[RunObserver]):
    """Several observers as one: each event goes to each, in order."""

    def run_started(
        self,
        run: RunInfo,
        unreachable: Mapping[str, str],
        out_of_reach: Mapping[str, OutOfReach],
    ) -> None:
        for o in self:
            o.run_started(run, unreachable, out_of_reach)

    def device_observed(
        self, run: RunInfo, device: str, state: DeviceState, interfaces: Sequence[str]
    ) -> None:
        for o in self:
            o.device_observed(run, device, state, interfaces)

    def change_intent(self, run: RunInfo, attempt: Attempt) -> None:
        for o in self:
            o.change_intent(run, attempt)

    def change_applied(self, run: RunInfo, attempt: Attempt, applied: Applied) -> None:
        for o in self:
            o.change_applied(run, attempt, applied)

    def change_failed(
        self, run: RunInfo, attempt: Attempt, error: str, after: DeviceState | None
    ) -> None:
        for o in self:
            o.change_failed(run, attempt, error, after)

    def change_unconfirmed(self, run: RunInfo, attempt: Attempt, error: str) -> None:
        for o in self:
            o.change_unconfirmed(run, attempt, error)

    def run_finished(self, run: RunInfo, report: RunReport) -> None:
        for o in self:
            o.run_finished(run, report)
