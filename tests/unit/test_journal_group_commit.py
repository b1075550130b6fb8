"""The journal's group commit (issue #16): many device workers record at once, each record is
chained in order and durable before `record` returns, and one fsync covers every record written
while the previous one ran. os.fsync is observed (and made slow, or made to fail) through the
journal module; the file and its chain are read back from disk."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from isolement.journal import store
from isolement.journal.store import Journal, verify_chain
from isolement.model.errors import JournalWriteError

THREADS, PER_THREAD = 12, 15


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "lab" / "journal.jsonl"


class SlowFsync:
    """os.fsync, 5 ms slower (a disk), remembering the file's size when each one began; failing
    from the `fail_from`-th call on, when given."""

    def __init__(self, fail_from: int | None = None):
        self.real = os.fsync
        self.began: list[int] = []  # file size when each successful fsync began
        self.calls = 0
        self.fail_from = fail_from
        self.lock = threading.Lock()

    def __call__(self, fd: int) -> None:
        size = os.fstat(fd).st_size
        with self.lock:
            self.calls += 1
            failing = self.fail_from is not None and self.calls >= self.fail_from
        time.sleep(0.005)
        if failing:
            raise OSError(5, "Input/output error")
        self.real(fd)
        with self.lock:
            self.began.append(size)


def run_workers(journal: Journal, work: object) -> None:
    start = threading.Barrier(THREADS)

    def worker(t: int) -> None:
        start.wait()
        work(t)  # type: ignore[operator]

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_each_record_is_durable_when_record_returns_and_fsyncs_are_shared(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fsync = SlowFsync()
    monkeypatch.setattr(store.os, "fsync", fsync)
    late: list[str] = []

    with Journal(path) as journal:

        def work(t: int) -> None:
            for n in range(PER_THREAD):
                marker = f"dev{t}-{n}"
                journal.record("test.event", device=f"dev{t}", n=n, marker=marker)
                # The record's line is on disk, and an fsync begun after it was written has
                # succeeded: its end is within what that fsync covered.
                data = path.read_bytes()
                end = data.index(b"\n", data.index(f'"{marker}"'.encode())) + 1
                with fsync.lock:
                    if not any(size >= end for size in fsync.began):
                        late.append(marker)

        run_workers(journal, work)

    assert late == []
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(records) == THREADS * PER_THREAD
    # One chain, in the order written: seq follows the file, each worker's records in its order.
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    for t in range(THREADS):
        assert [r["n"] for r in records if r["device"] == f"dev{t}"] == list(range(PER_THREAD))
    assert verify_chain(path) == (len(records), None)
    # Group commit: workers that wrote while an fsync ran shared the next one.
    assert fsync.calls < len(records)


def test_a_failed_fsync_takes_back_every_record_not_yet_durable_and_stops_the_journal(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Journal(path) as journal:
        journal.record("test.first", n=0)
    fsync = SlowFsync(fail_from=6)
    monkeypatch.setattr(store.os, "fsync", fsync)
    returned: list[int] = []
    raised: list[int] = []
    lock = threading.Lock()

    with Journal(path) as journal:

        def work(t: int) -> None:
            for n in range(PER_THREAD):
                try:
                    journal.record("test.event", device=f"dev{t}", n=n, key=t * 100 + n)
                except JournalWriteError:
                    with lock:
                        raised.append(t * 100 + n)
                    return
                with lock:
                    returned.append(t * 100 + n)

        run_workers(journal, work)
        with pytest.raises(JournalWriteError):
            journal.record("test.after", n=1)  # nothing more is accepted in this run

    monkeypatch.undo()
    assert raised  # the failure reached the writers whose records it took back
    records = [json.loads(line) for line in path.read_text().splitlines()]
    kept = [r["key"] for r in records if "key" in r]
    # Exactly the records whose `record` returned are in the file, whole, on an intact chain;
    # none of those whose `record` raised.
    assert sorted(kept) == sorted(returned)
    assert not set(kept) & set(raised)
    assert verify_chain(path) == (len(records), None)
