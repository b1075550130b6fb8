"""The configuration before a cut (the restore's baseline, the record of the device before
isolement touched it), and the snapshots of the later waves read ahead: while wave 1 is cut,
threads of their own (the workers wave 1 leaves spare) read, over the sessions the pre-flight
left open, the configuration of each device of waves 2..n, so that a device's wave waits on
its change alone (#16: time to contain counts only what must precede the change).

A snapshot still precedes its device's change, and its digest is still in the intent journaled
before the first line is sent. The reads ahead never hold up wave 1: no device of it waits for
a worker behind them, and a device's session is used by one thread at a time, taken from the
pre-flight's Observation for the read and put back after it. When a device's wave comes, its
task claims the read: done, it has the digest; under way, it waits for that read, not a second
one; not started yet, it is withdrawn and the task reads the snapshot itself, as it does on
wave 1 and after a read ahead that failed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import Enum
from pathlib import Path

from isolement.drivers import Driver, Session, driver_for
from isolement.flows.preflight import Observation
from isolement.journal.snapshots import store_snapshot
from isolement.model.errors import ConnectionLost, JournalError, NoAnswer
from isolement.model.plan import Direction, Plan

# Threads reading ahead: the workers wave 1 leaves spare (its devices never wait for a worker
# behind a read), and at least this many when wave 1 takes them all. A wave lasts as long as
# its slowest device, so its reads ahead pay only if they are all done when it comes. A cut of
# 20 + 20 emulated IOS devices (2 waves) whose `show running-config` takes 1 s: 3.8-3.9 s
# without reads ahead, 3.8 s with 8 readers, 2.75 s with wave 1's spare workers (all 20 at
# once). A read not started when its device's wave comes costs nothing: its task reads it.
READERS = 8

# How often the end of the run looks whether it was told to stop waiting for a read.
_POLL_S = 0.1


def take_snapshot(journal_path: Path, device: str, driver: Driver, session: Session) -> str:
    """Read the device's configuration and keep it beside the journal; its digest."""
    text = driver.snapshot(session)
    try:
        return store_snapshot(journal_path, text)
    except OSError as exc:
        raise JournalError(f"cannot keep the snapshot of {device}: {exc}") from exc


class _Read(Enum):
    PENDING = "pending"  # not started: a reader or the device's task may take it
    READING = "reading"  # a reader holds the device's session
    DONE = "done"  # read (a digest) or failed (none): the device's task decides
    WITHDRAWN = "withdrawn"  # claimed before it started, or the run ended first


class ReadsAhead:
    """The snapshots of the later waves' devices, read while the earlier waves run."""

    def __init__(
        self,
        devices: Sequence[str],
        seen: Observation,
        read: Callable[[str, Session], str],
        stop: Callable[[], str | None],
    ):
        self._order = list(devices)
        self._seen = seen
        self._read = read
        self._stop = stop  # why no read may start now (the run's stop reason), or None
        self._state = dict.fromkeys(self._order, _Read.PENDING)
        self._digests: dict[str, str] = {}
        self._changed = threading.Condition()
        self._readers: list[threading.Thread] = []

    def start(self, readers: int) -> None:
        for _ in range(min(readers, len(self._order))):
            thread = threading.Thread(target=self._reader, daemon=True, name="isolement-snapshot")
            self._readers.append(thread)
            thread.start()

    def claim(self, device: str) -> str | None:
        """Called by the device's task before it takes its session: the digest of the
        snapshot read ahead (waiting for a read under way), or None for the task to read it."""
        with self._changed:
            if device not in self._state:
                return None
            while self._state[device] is _Read.READING:
                self._changed.wait()
            if self._state[device] is _Read.PENDING:
                self._state[device] = _Read.WITHDRAWN
            return self._digests.get(device)

    def close(self, aborted: threading.Event) -> None:
        """No read starts any more; the reads under way are waited for (each bounded by the
        session's time-out) unless `aborted` is set (the run stopped waiting for anything in
        flight): a read still under way then puts its session back once done, and it is
        logged out of then."""
        with self._changed:
            for device, state in self._state.items():
                if state is _Read.PENDING:
                    self._state[device] = _Read.WITHDRAWN
        for thread in self._readers:
            while thread.is_alive() and not aborted.is_set():
                thread.join(_POLL_S)

    def _reader(self) -> None:
        while (device := self._next()) is not None:
            digest = None
            try:
                session = self._seen.take(device)
                if session is not None:
                    digest, usable = self._snapshot(device, session)
                    self._seen.put_back(device, session, usable=usable)
            finally:  # whatever happened, a task waiting for this read is told it ended
                with self._changed:
                    if digest is not None:
                        self._digests[device] = digest
                    self._state[device] = _Read.DONE
                    self._changed.notify_all()

    def _snapshot(self, device: str, session: Session) -> tuple[str | None, bool]:
        """The digest (None if the read failed: the device's task reads it again, and says
        why), and whether the session is still worth handing to the task."""
        try:
            return self._read(device, session), True
        except (NoAnswer, ConnectionLost):
            return None, False  # the task logs in again rather than wait on this session
        except Exception:  # noqa: BLE001 - not this thread's to report: the task's read is
            return None, True

    def _next(self) -> str | None:
        """The next device to read, in wave order; None once there is none or the run stops."""
        with self._changed:
            if self._stop() is not None:
                return None
            for device in self._order:
                if self._state[device] is _Read.PENDING:
                    self._state[device] = _Read.READING
                    return device
            return None


@contextmanager
def reads_ahead(
    plan: Plan,
    seen: Observation,
    journal_path: Path,
    stop: Callable[[], str | None],
    aborted: threading.Event,
    workers: int,
) -> Iterator[ReadsAhead]:
    """The snapshots of a cut's waves 2..n read from now on, by the workers wave 1 leaves spare
    (at least READERS, never more than the run's `workers`), for the length of the block;
    leaving it withdraws those not started, and waits for those under way unless `aborted`
    (and no longer once it is set meanwhile)."""
    waves = plan.waves()
    later = [
        s.device
        for wave in waves[1:]
        for s in wave
        if not s.deferred and seen.peek(s.device) is not None
    ]
    devices = later if plan.direction is Direction.CUT else []
    spare = workers - min(workers, len(waves[0]) if waves else 0)
    platforms = {s.device: s.platform for s in plan.steps}

    def read(device: str, session: Session) -> str:
        return take_snapshot(journal_path, device, driver_for(platforms[device]), session)

    ahead = ReadsAhead(devices, seen, read, stop)
    ahead.start(min(workers, max(READERS, spare)))
    try:
        yield ahead
    finally:
        ahead.close(aborted)
