"""One device's part of a run, from its planned step to its result: attempt, re-plan on retry
from the state read then, snapshot, journal the intent, put the change in effect and read it
back, confirm. It never raises: how the step ended (and the exception, if any) is the result.
The snapshot is read once, before the first intent (a later wave's was read ahead, while the
waves before it ran: flows/evidence.py); every attempt's intent carries it.

When an attempt fails after its intent was journaled, the device is read again (through the
same session when it still answers, else a new one) before anything is concluded: a change
that landed is confirmed, one that did not is failed (and retried), and one that could not be
read is unconfirmed, never "still open".
"""

from __future__ import annotations

import difflib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field

from isolement.drivers import Session, driver_for
from isolement.flows.evidence import take_snapshot
from isolement.flows.observers import Applied, Attempt, Observers, RunInfo
from isolement.flows.preflight import login
from isolement.flows.results import StepResult, StepStatus
from isolement.flows.runtime import Options, Runtime
from isolement.flows.transaction import put_in_effect
from isolement.journal.redaction import redact
from isolement.journal.snapshots import load_snapshot
from isolement.model.errors import (
    ConnectionLost,
    DeviceError,
    IsolementError,
    JournalError,
    NoAnswer,
)
from isolement.model.plan import DeviceStep, Direction
from isolement.model.state import DeviceState
from isolement.planning.planner import device_step, reached


@dataclass
class RunContext:
    """What the device tasks of one run share. Read-only, but for `halt`."""

    rt: Runtime
    info: RunInfo
    options: Options
    observers: Observers
    # Restore: device -> the snapshot before the cut, which its configuration is compared with.
    baselines: Mapping[str, str] = field(default_factory=dict)
    # The journal's lines for a device whose outcome is missing (JournalView.unsettled_lines).
    unsettled: Callable[[str], Sequence[str]] = lambda _device: []
    # Closes again what this command opened: the first interrupt does not stop it.
    closing: bool = False
    # Device -> the links the run targets on it (a device with no step counts for them too).
    targeted: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # Persistence: devices not to save (someone else's unsaved changes found there) and why.
    unsaved: Mapping[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    _halted: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def direction(self) -> Direction:
        return self.info.plan.direction

    def halt(self, why: str) -> None:
        """Nothing more is started in this run (the journal cannot be written)."""
        with self._lock:
            if not self._halted:
                self._halted.append(why)

    @property
    def halted(self) -> str | None:
        with self._lock:
            return self._halted[0] if self._halted else None

    def stop_reason(self) -> str | None:
        """Why nothing more may be started now, or None."""
        interrupt = self.rt.interrupt
        if self.halted:
            return self.halted
        if interrupt.aborted.is_set():
            return "aborted"
        if interrupt.stopping.is_set() and not self.closing:
            return "interrupted"
        return None

    def pause(self, seconds: float) -> None:
        """A back-off, cut short by an interrupt that stops the run."""
        event = self.rt.interrupt.aborted if self.closing else self.rt.interrupt.stopping
        event.wait(seconds)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DeviceError):
        return exc.reason
    if isinstance(exc, IsolementError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class DeviceTask:
    """One device's step, run to its end by `run()`."""

    def __init__(
        self,
        run: RunContext,
        step: DeviceStep,
        session: Session | None,
        state: DeviceState | None,
        first_error: str = "",
        snapshot: str | None = None,
    ):
        self.run = run
        self.step = step
        self.device = step.device
        self.driver = driver_for(step.platform)
        self._session = session
        self._state = state  # as read last; None once not known
        self._last_error = first_error
        self._sent = False  # an attempt's intent was journaled: its change may have been sent
        self._unconfirmed = False  # the last attempt sent could not be read back
        # The configuration before the first attempt (read ahead, or by the first attempt that
        # got that far): every attempt's intent carries it, a retry's too.
        self._before = snapshot

    def run_step(self) -> StepResult:
        try:
            return self._attempts()
        finally:
            self._close()

    def _attempts(self) -> StepResult:
        # Pre-flight was the first attempt on a device it could not read; a deferred step
        # (behind a management path this run reopens) has not been tried yet.
        first = 2 if self._state is None and not self.step.deferred else 1
        delay = self.run.options.backoff_s
        last = self.run.options.retries + 1
        for number in range(first, last + 1):
            stop = self.run.stop_reason()
            if stop:
                return self._ended(number - 1, f"not started: {stop}")
            result = self._attempt(number)
            if result is not None:
                return result
            if number < last:
                self.run.pause(delay)
                delay *= 2
        return self._ended(last, None)

    def _ended(self, attempts: int, stop: str | None) -> StepResult:
        """The step given up: unconfirmed if its last change could not be read back, failed
        if one was known to fail, not started otherwise."""
        why = self._last_error
        error = (f"{stop} ({why})" if why else stop) if stop else why
        if self._unconfirmed:
            status = StepStatus.UNCONFIRMED
        elif self._sent or (why and not stop):
            status = StepStatus.FAILED
        else:
            status = StepStatus.NOT_STARTED
        return StepResult(self.step, status, error=error or "not changed", attempts=attempts)

    def _attempt(self, number: int) -> StepResult | None:
        """One try: a result once the step is settled, None to try again."""
        try:
            todo = self._todo(number)
            if todo is None:
                return StepResult(
                    self.step,
                    StepStatus.CONFIRMED,
                    output="already in the wanted state on retry",
                    attempts=number,
                )
            snapshot = self._snapshot()
        except JournalError as exc:
            return self._halt(exc, number)
        except Exception as exc:  # noqa: BLE001 - nothing sent yet: a failed try, retried
            self._last_error = _reason(exc)
            return None
        return self._change(todo, number, snapshot)

    def _todo(self, number: int) -> DeviceStep | None:
        """The step to make now: as planned on the first try, re-planned from the device's state
        now on a retry (part of the change may have landed)."""
        if self._state is None or self._session is None:
            self._close()
            self._session, self._state = login(self.run.rt, self.device)
        elif number == 1 and not self.step.deferred:
            return self.step
        inventory = self.run.rt.inventory
        todo, _ = device_step(
            inventory, self.device, self.run.direction, self.step.changes, self._state
        )
        return todo

    def _snapshot(self) -> str | None:
        """The configuration before a cut: evidence, and what a restore is checked against.
        Read once: a retry's "before" is still the one from before the first attempt."""
        if self.run.direction is not Direction.CUT:
            return None
        if self._before is None:
            assert self._session is not None
            self._before = take_snapshot(
                self.run.rt.journal_path, self.device, self.driver, self._session
            )
        return self._before

    def _change(self, todo: DeviceStep, number: int, snapshot: str | None) -> StepResult | None:
        assert self._session is not None and self._state is not None
        unsettled = self.run.unsettled(self.device)  # before this attempt's own intent
        attempt = Attempt(self.device, number, todo, self._state, snapshot)
        try:
            self.run.observers.change_intent(self.run.info, attempt)
        except JournalError as exc:
            return self._halt(exc, number)
        self._sent = True
        started = time.monotonic()
        try:
            output, after, recovered = put_in_effect(
                self.driver, self._session, self.device, todo.change, unsettled, attempt.sent
            )
        except Exception as exc:  # noqa: BLE001 - whatever broke, the device is read again
            return self._settle(attempt, exc, started)
        return self._read_back(attempt, output, after, started, complaint=None, recovered=recovered)

    def _read_back(
        self,
        attempt: Attempt,
        output: str,
        after: DeviceState,
        started: float,
        complaint: str | None,
        recovered: str | None = None,
    ) -> StepResult | None:
        """Confirm what the device says now; a result if the change is wholly in effect."""
        self._state, self._unconfirmed = after, False
        changes = attempt.step.changes
        confirmed = [c for c in changes if reached(after, c, self.run.direction)]
        missing = [c.interface for c in changes if c not in confirmed]
        if missing and complaint is not None:
            self._tell_failed(attempt, complaint, after)
            self._last_error = complaint
            return None
        drift = self._drift() if self.run.direction is Direction.RESTORE else None
        saved = None if missing else self._save()
        duration = time.monotonic() - started
        applied = Applied(output, after, confirmed, duration, drift, complaint, recovered, saved)
        self._tell(lambda: self.run.observers.change_applied(self.run.info, attempt, applied))
        if missing:
            why = [f"{i} ({after.shadowed[i]})" if i in after.shadowed else i for i in missing]
            self._last_error = f"commands accepted but not in effect on: {', '.join(why)}"
            return None
        notes = [f"{complaint}; read again since: the change is in effect"] if complaint else []
        notes += [recovered] if recovered else []

        if saved is not None and not saved.startswith("saved"):
            notes.append(saved)
        return StepResult(
            self.step,
            StepStatus.CONFIRMED,
            output=output,
            duration_s=duration,
            attempts=attempt.number,
            drift=drift,
            notes=notes,
        )

    def _settle(self, attempt: Attempt, exc: Exception, started: float) -> StepResult | None:
        """The attempt broke after its intent: read the device again before saying anything."""
        error = _reason(exc)
        self._last_error = error
        after, why_not = self._read_again(exc)
        if after is None:
            self._state, self._unconfirmed = None, True
            self._last_error = f"{error}; not read back since ({why_not}): unconfirmed"
            self._tell(
                lambda: self.run.observers.change_unconfirmed(
                    self.run.info, attempt, self._last_error
                )
            )
            return None
        return self._read_back(attempt, "", after, started, complaint=error)

    def _read_again(self, exc: Exception) -> tuple[DeviceState | None, str]:
        """The device's state now, through the session if it still answers, else a new one."""
        if self._session is not None and not isinstance(exc, (NoAnswer, ConnectionLost)):
            with suppress(Exception):  # the session is no good: a new one is tried
                return self.driver.read_state(self._session), ""
        self._close()
        try:
            self._session, state = login(self.run.rt, self.device)
        except Exception as again:  # noqa: BLE001 - the outcome stays unknown, and says why
            return None, _reason(again)
        return state, ""

    def _tell_failed(self, attempt: Attempt, error: str, after: DeviceState) -> None:
        self._tell(lambda: self.run.observers.change_failed(self.run.info, attempt, error, after))

    def _tell(self, event: Callable[[], None]) -> None:
        """An outcome to journal: a journal that cannot take it stops the run."""
        try:
            event()
        except JournalError as exc:
            self.run.halt(f"the journal cannot be written: {exc}")

    def _halt(self, exc: JournalError, number: int) -> StepResult:
        self.run.halt(f"the journal cannot be written: {exc}")
        sent = "" if self._sent else "not sent: "
        status = StepStatus.UNCONFIRMED if self._unconfirmed else StepStatus.FAILED
        return StepResult(
            self.step,
            status,
            error=f"{sent}the journal cannot be written: {exc}",
            exception=exc,
            attempts=number,
        )

    def _save(self) -> str | None:
        """Persistence: the change confirmed, saved to the startup configuration where the
        platform needs it; what was done, for the journal. A failed save leaves the change in
        effect: it is said, never raised."""
        plan = self.run.info.plan
        if not plan.persist or plan.direction is Direction.ALLOW:
            return None
        facts = self.driver.facts
        if facts.persistence != "save":
            return {
                "auto": "saved: the device saves each change itself",
                "commit": "saved: the commit persists it",
            }.get(facts.persistence, f"not saved: {facts.persistence_note}")
        if self.device in self.run.unsaved:
            return (
                "not saved: someone else's unsaved changes are on the device "
                f"({self.run.unsaved[self.device]}); save by hand once they are settled"
            )
        assert self._session is not None
        try:
            self.driver.save(self._session, self.device)
        except IsolementError as exc:
            return f"not saved ({_reason(exc)}): a reboot would reopen the change"
        return f"saved: {', '.join(facts.save_commands)}"

    def _drift(self) -> list[str] | None:
        """How the configuration differs from before the cut, once restored ([] if not)."""
        digest = self.run.baselines.get(self.device)
        before = load_snapshot(self.run.rt.journal_path, digest) if digest else None
        if before is None or self._session is None:
            return None
        try:
            after = redact(self.driver.snapshot(self._session))
        except IsolementError:
            return None  # restored all the same; only the comparison is missing
        diff = difflib.unified_diff(
            before.splitlines(),
            after.splitlines(),
            "before the cut",
            "after restore",
            lineterm="",
            n=0,
        )
        return list(diff)

    def _close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            with suppress(Exception):  # logging out of a device that went away
                session.close()
