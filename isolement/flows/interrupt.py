"""Ctrl-C, SIGTERM and SIGHUP during a run: the first stops anything new from starting and lets
the device changes in flight finish and be journaled; the second stops waiting for them (their
outcome is then unknown, and said so). A dropped SSH session to the controller sends SIGHUP:
it is handled like Ctrl-C, never left to kill the run between a change and its outcome.

The handlers only set events; the flows look at them where they wait (between devices, in a
back-off, during a stage's watch), so no exception ever lands in the middle of a change.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from isolement.model.errors import IsolementError

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(IsolementError):
    """The run was interrupted before it changed anything."""


class Interrupt:
    """The operator's interrupts, for one invocation."""

    def __init__(self) -> None:
        self.stopping = threading.Event()  # first signal: start nothing new
        self.aborted = threading.Event()  # second: stop waiting for what is in flight
        self._armed = 0
        self._previous: dict[int, Any] = {}
        self._lock = threading.Lock()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, less if interrupted meanwhile; whether it was."""
        return self.stopping.wait(max(0.0, seconds))

    @contextmanager
    def armed(self) -> Iterator[Interrupt]:
        """The handlers installed for the length of the block (in the main thread only: signals
        are delivered there); nested blocks share them."""
        main = threading.current_thread() is threading.main_thread()
        with self._lock:
            if main and self._armed == 0:
                for sig in SIGNALS:
                    self._previous[sig] = signal.signal(sig, self._handle)
            self._armed += 1
        try:
            yield self
        finally:
            with self._lock:
                self._armed -= 1
                if self._armed == 0:
                    for signum, handler in self._previous.items():
                        signal.signal(signum, handler)
                    self._previous.clear()

    def _handle(self, signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if self.stopping.is_set():
            self.aborted.set()
            _say(
                f"isolement: {name} again: not waiting for the devices in flight; their "
                "outcome is unknown (the journal has their intent; a re-run reads them)"
            )
            return
        self.stopping.set()
        _say(
            f"isolement: {name}: finishing the device changes in flight, starting no new ones "
            "(once more to stop waiting for them)"
        )


def _say(message: str) -> None:
    # After SIGHUP the terminal may be gone: a failed write must not become an exception in
    # whatever the main thread was doing.
    with suppress(OSError, ValueError):
        print(message, file=sys.stderr, flush=True)
