"""Admitting new SSH connections at a rate the controller and the devices can take, and trying
again a connection that failed for a reason that passes.

A pre-flight of a thousand devices opens a thousand connections within seconds. Each SSH
handshake (key exchange, host key, authentication) costs CPU on both sides; all at once, they
starve each other, and the devices' SSH servers drop the ones that take too long: `No existing
session`, `Error reading SSH protocol banner`, connection reset. So the handshakes, and only
they, are bounded: a session once logged in holds no slot, and the number of sessions open is
not capped. What still fails for such a reason (time-out, refused, dropped) is tried again
after a back-off that an interrupt cuts short; an authentication refused or a host key that
does not match is never tried again.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from isolement.model.errors import NotReached

T = TypeVar("T")

# Handshakes in progress at once, per process. On the 2-core benchmark machine (bench/README.md)
# 1000 emulated devices logged in without a drop at this bound, where 128 at once (the worker
# bound) lost some to the emulators' handshake time-outs; the floor needed the same kind of
# bound (`--floor-concurrency`). Slower devices make each handshake wait longer, not cost more
# CPU here, so the bound is not raised for them: it only queues the devices' own logins.
MAX_HANDSHAKES = 32

# Attempts at one connection before the device is declared unreachable, and the first pause
# between two (doubled each time, with jitter so retried devices do not come back in step).
CONNECT_ATTEMPTS = 3
FIRST_BACKOFF_S = 1.0

_handshakes = threading.BoundedSemaphore(MAX_HANDSHAKES)


@contextmanager
def handshake() -> Iterator[None]:
    """Hold one of the handshake slots for the block (TCP connect, SSH key exchange, login)."""
    with _handshakes:
        yield


def with_retries(
    connect: Callable[[], T],
    wait: Callable[[float], bool],
    attempts: int = CONNECT_ATTEMPTS,
    backoff_s: float = FIRST_BACKOFF_S,
) -> T:
    """`connect()`, tried again on NotReached up to `attempts` times in all. `wait(seconds)`
    sleeps between tries and says whether the run was interrupted meanwhile (then the last
    failure is raised at once). The error raised says how many attempts were made."""
    delay = backoff_s
    for attempt in range(1, attempts + 1):
        try:
            return connect()
        except NotReached as exc:
            last = attempt == attempts
            # Jitter only spreads the retries in time: nothing secret depends on it.
            if last or wait(delay * random.uniform(0.5, 1.5)):  # noqa: S311
                tries = f"{attempt} attempt" + ("s" if attempt > 1 else "")
                raise NotReached(exc.device, f"{exc.reason} ({tries})", exc.cause) from None
            delay *= 2
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover
