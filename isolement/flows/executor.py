"""Run one task per device in parallel and collect a result per device.

Threads, one per device up to a bound: the work is waiting on SSH, not computing. Wall time of
a whole `containment.cut` of 200 emulated IOS devices through netmiko (127.0.0.1, 2-core VM,
Python 3.11, the machine busy with other work), measured with

    .venv/bin/python bench/bench_executor.py [--latency S] [--workers 6,32,64,128,200]

    seconds per command    6 workers  32         64         128        200
    0.05 (default, 5 runs) 35.6-36.5  8.9-11.9   7.1-11.4   8.8-10.4   9.0-12.1
    0.2  (1 to 3 runs)     -          18.5       11.6-13.0  11.6-13.3  15.2
    0.5  (1 run)           -          -          23.3       14.3       18.5

(before the host-key and template speed-ups of session.py and drivers/cisco_ios.py, 16-24 s
from 32 workers up at 0.05 s). Up to ~32 workers a cut waits on the devices; above, on
isolement's own CPU (one core: the threads share the GIL), where the bound matters little
until 200 workers cost more CPU than they save. The slower the devices, the further up waiting
dominates: at 0.5 s per command 128 workers take 14 s where 64 take 23 s.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from isolement.model.errors import DeviceError, IsolementError

T = TypeVar("T")

# One thread per device up to this many; above it, devices wait for a free worker. 128 (see the
# figures above): on devices as quick as the emulator it is within noise of the fastest bound
# (64: 7-11 s for 200 devices), on slow ones (0.5 s per command) it is the fastest, 40 % under
# 64; 200 workers were never faster and used the most CPU. Memory does not set the bound: every
# session stays open for the whole run whatever the bound (the pre-flight opens them all), about
# 0.1 MB each (peak RSS 80-90 MB for 200 sessions, 65 MB of it the interpreter and imports), and
# a worker thread adds little.
MAX_WORKERS = 128

# How often the waiting thread looks whether it was told to stop waiting.
_POLL_S = 0.1


@dataclass(frozen=True)
class DeviceResult(Generic[T]):
    """One device's task, done: its value, or why not (the exception kept as a value)."""

    device: str
    value: T | None = None
    error: str | None = None
    exception: BaseException | None = None
    # Still running when the caller stopped waiting: nothing is known of it.
    abandoned: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


def _guarded(device: str, task: Callable[[str], T]) -> DeviceResult[T]:
    try:
        return DeviceResult(device, value=task(device))
    except DeviceError as exc:
        return DeviceResult(device, error=exc.reason, exception=exc)
    except IsolementError as exc:
        return DeviceResult(device, error=str(exc), exception=exc)
    except Exception as exc:  # noqa: BLE001 - one device's surprise must not stop the others
        return DeviceResult(device, error=f"{type(exc).__name__}: {exc}", exception=exc)


def run_per_device(
    devices: Iterable[str],
    task: Callable[[str], T],
    workers: int = MAX_WORKERS,
    *,
    abort: threading.Event | None = None,
) -> dict[str, DeviceResult[T]]:
    """`task(device)` for each device, at most `workers` at once; a result per device.

    With `abort` set, stop waiting: the devices still running come back `abandoned`, those not
    started with an error saying so. The worker threads are daemons, so a process that stops
    waiting is not held up by a device that never answers.
    """
    names = list(dict.fromkeys(devices))
    done: queue.Queue[DeviceResult[T]] = queue.Queue()
    pending: queue.Queue[str] = queue.Queue()
    for name in names:
        pending.put(name)
    started: set[str] = set()
    lock = threading.Lock()

    def worker() -> None:
        while not (abort is not None and abort.is_set()):
            try:
                device = pending.get_nowait()
            except queue.Empty:
                return
            with lock:
                started.add(device)
            done.put(_guarded(device, task))

    for _ in range(max(1, min(workers, len(names)))):
        threading.Thread(target=worker, daemon=True, name="isolement-device").start()
    results: dict[str, DeviceResult[T]] = {}
    while len(results) < len(names):
        try:
            result = done.get(timeout=_POLL_S)
        except queue.Empty:
            if abort is not None and abort.is_set():
                break
            continue
        results[result.device] = result
    with lock:
        running = set(started)
    for name in names:
        if name not in results:
            in_flight = name in running
            why = (
                "aborted while in flight: outcome unknown" if in_flight else "not started: aborted"
            )
            results[name] = DeviceResult(name, error=why, abandoned=in_flight)
    return {name: results[name] for name in names}
