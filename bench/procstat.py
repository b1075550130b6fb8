"""Run one command as a user would and measure all of it: wall time, CPU time (user + system)
of every process it starts, and the peak memory they hold together. Linux only, no psutil.

CPU comes from getrusage(RUSAGE_CHILDREN), which counts every descendant once it is reaped.
A tool that leaves daemons behind (Ansible's persistent `ansible-connection` processes) would
escape that, so this process becomes a child subreaper: those daemons are re-parented to it,
waited for, and reaped, and their CPU is counted too. Memory is sampled from /proc every
`SAMPLE_S`: the resident set sizes (VmRSS) of every process carrying the run's environment
mark, added up (shared pages counted once per process, as `ps` would), and never less than
the largest high-water mark (VmHWM) seen of one process, which also catches a peak between
two samples. Not ru_maxrss: a child's starts at its parent's size (the pages it had at fork,
before exec), so it would report this process's own size for a small tool.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import resource
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MARK_VARIABLE = "ISOLEMENT_BENCH_RUN"
SAMPLE_S = 0.1
_SIZE = re.compile(r"^(VmRSS|VmHWM):\s+(\d+) kB", re.M)
# How long the processes a tool left behind may take to end on their own once it has exited.
LINGER_S = 60.0
_PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> None:
    """Orphaned descendants come back to this process (so their CPU can be counted)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


@dataclass
class Measured:
    command: list[str]
    exit: int | None  # None: killed at the time limit
    wall_s: float
    cpu_s: float
    peak_mb: float
    stdout: str
    stderr: str
    lingered: int = 0  # processes still running LINGER_S after the tool exited (then killed)

    @property
    def timed_out(self) -> bool:
        return self.exit is None


class _Sampler(threading.Thread):
    """Finds the run's processes by their environment mark and adds up their RSS."""

    def __init__(self, mark: str):
        super().__init__(name="bench-sampler", daemon=True)
        self._needle = f"{MARK_VARIABLE}={mark}\0".encode()
        self._known: dict[int, bool] = {}
        # A process that was there before the run is never one of its own; a newer one without
        # the mark may be a child between fork and exec (its parent's environment still): it
        # is looked at again on the next sample.
        self._before = {int(entry) for entry in os.listdir("/proc") if entry.isdigit()}
        self._lock = threading.Lock()  # the sampler and the waiting thread both look
        self._done = threading.Event()
        self.peak_mb = 0.0

    def marked(self) -> list[int]:
        with self._lock:
            return self._marked()

    def _marked(self) -> list[int]:
        pids = {int(entry) for entry in os.listdir("/proc") if entry.isdigit()}
        for gone in set(self._known) - pids:
            del self._known[gone]
        for pid in pids - set(self._known):
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                continue  # gone already, or a zombie
            if self._needle in environ or pid in self._before:
                self._known[pid] = self._needle in environ
        return [pid for pid, mine in self._known.items() if mine and pid in pids]

    def sample(self) -> None:
        total = 0.0
        for pid in self.marked():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            sizes = dict(_SIZE.findall(status))  # kB; a zombie has none
            total += int(sizes.get("VmRSS", 0)) / 1024
            self.peak_mb = max(self.peak_mb, int(sizes.get("VmHWM", 0)) / 1024)
        self.peak_mb = max(self.peak_mb, total)

    def run(self) -> None:
        while not self._done.wait(SAMPLE_S):
            self.sample()

    def stop(self) -> None:
        self._done.set()
        self.join()


def _reap(pids: Sequence[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # a daemon re-parented to us, if it has ended


def _kill(pids: Sequence[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # processes this run started, by their PID


def run(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 600.0,
) -> Measured:
    """Run `command` to its end (killed after `timeout` seconds), and what it cost. Call
    `become_subreaper` once before, or the CPU of daemons it leaves behind is not counted."""
    mark = uuid.uuid4().hex
    environment = {**(os.environ if env is None else env), MARK_VARIABLE: mark}
    sampler = _Sampler(mark)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(
            list(command),
            env=environment,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,  # its own process group, to end it all at the time limit
        )
        sampler.start()
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)  # the group of our own child
            _kill(sampler.marked())

        timer = threading.Timer(timeout, expire)
        timer.start()
        try:
            _, status = os.waitpid(child.pid, 0)
        finally:
            timer.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)
        lingered = 0
        deadline = time.perf_counter() + LINGER_S
        while left := sampler.marked():
            _reap(left)
            if expired.is_set() or time.perf_counter() > deadline:
                lingered = len(left)
                _kill(left)
                time.sleep(0.2)
                _reap(left)
                break
            time.sleep(0.05)
        wall = time.perf_counter() - start
        sampler.stop()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(
        command=list(command),
        exit=None if expired.is_set() else child.returncode,
        wall_s=wall,
        cpu_s=cpu,
        peak_mb=sampler.peak_mb,
        stdout=stdout,
        stderr=stderr,
        lingered=lingered,
    )
