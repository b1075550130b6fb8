"""The append-only record of every decision and change, as JSON lines written through structlog.

A record is written whole and fsynced before `record` returns, or `record` raises
JournalWriteError and the file is cut back to the length it had: no partial line is left, and
no later record is accepted in that run (so no change is sent whose intent is not on disk).
Records from many device workers are chained and written one at a time, and made durable
together: one fsync covers every record written while the previous one ran (group commit).
Opening a journal to write verifies it first (its chain, its anchors) and refuses an altered
one unless an override is given, which is journaled. One writer per journal (flock on the
file), and one run per network (journal/lock.py). See journal/__init__.py for the modules.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from isolement.journal.anchor import Anchoring, AnchorWriter
from isolement.journal.files import (
    fsync_directory,
    private_directory,
    refuse_shared_file,
    write_all,
    write_failure,
)
from isolement.journal.lock import NetworkLock
from isolement.journal.records import (
    GENESIS,
    GENESIS_HEAD,
    Head,
    TornRecord,
    read_records,
    record_hash,
)
from isolement.journal.redaction import redact_record
from isolement.journal.verification import Verdict, Verification, verify_chain, verify_journal
from isolement.model.errors import JournalAltered, JournalError, JournalWriteError, LockedError

if TYPE_CHECKING:
    from structlog.typing import EventDict, WrappedLogger

    from isolement.model.inventory import Inventory

__all__ = [
    "GENESIS",
    "Custody",
    "Journal",
    "Network",
    "Override",
    "Repair",
    "TornRecord",
    "Written",
    "default_journal_path",
    "read_records",
    "record_hash",
    "repair",
    "verify_chain",
]


@dataclass(frozen=True)
class Network:
    """The devices a run may change, named by the management addresses the inventory reaches
    (`host:port`): the identity two runs must not share at once."""

    name: str
    addresses: tuple[str, ...]

    @classmethod
    def reached_by(cls, inventory: Inventory) -> Network:
        # As written in the inventory, case aside: no name is resolved (a lookup at 3 a.m. is
        # one more thing that can hang), so a device named by two spellings is two locks.
        return cls(
            inventory.name,
            tuple(f"{d.host.lower()}:{d.port}" for d in inventory.devices.values()),
        )


@dataclass(frozen=True)
class Written:
    """A record written to the journal (`Journal.append`), durable once `Journal.durable`
    returns for it."""

    seq: int
    event: str
    device: object = None

    @property
    def fields(self) -> dict[str, Any]:
        return {"device": self.device} if self.device is not None else {}


@dataclass(frozen=True)
class Override:
    """The crisis cell's explicit choice to act on a journal that fails verification."""

    reason: str
    accepted_by: str


@dataclass(frozen=True)
class Custody:
    """How a journal is kept as evidence: where its heads are anchored, which network its
    runs lock, and whether an altered journal is accepted (and by whom, and why)."""

    anchoring: Anchoring = field(default_factory=Anchoring)
    network: Network | None = None
    override: Override | None = None


class _JournalFile:
    """structlog's wrapped logger: writes one rendered line whole, or not at all. Making it
    durable is the journal's (`Journal._sync`), so that one fsync covers every line written
    while the previous one ran (group commit)."""

    def __init__(self, fd: int):
        self.fd = fd
        self.size = os.fstat(fd).st_size  # bytes written so far (whole lines only)
        self.torn_left = False  # a failed write could not be cut back: repair is needed

    def msg(self, line: str) -> None:
        start = self.size
        data = (line + "\n").encode()
        try:
            write_all(self.fd, data)
        except OSError:
            self.cut_back(start)
            raise
        self.size = start + len(data)

    def cut_back(self, size: int) -> None:
        """The file as it was at `size` bytes (lines not made durable are taken back)."""
        try:
            os.ftruncate(self.fd, size)
            os.fsync(self.fd)
        except OSError:
            self.torn_left = True
        self.size = size

    info = msg  # structlog's BoundLogger.msg() calls the wrapped logger's info()


class Journal:
    """Append-only journal bound to one file. Use as a context manager to hold the locks."""

    def __init__(self, path: Path, *, custody: Custody | None = None, _repair: bool = False):
        self.path = path
        self.custody = custody or Custody()
        # Order: `_lock` chains and writes a record (short: no fsync); `_sync_lock` is held for
        # one fsync at a time, which makes durable every line written before it began.
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._fd: int | None = None
        self._head = GENESIS_HEAD
        self._pending = GENESIS_HEAD
        self._durable = GENESIS_HEAD  # the last record an fsync covered
        self._durable_size = 0
        self._failure: str | None = None  # no record is accepted any more
        self._sync_failure: str | None = None  # records written since _durable are not durable
        self._exit = contextlib.ExitStack()
        self._anchor: AnchorWriter | None = None
        self._repair = _repair
        self.verification: Verification | None = None
        self.anchor_problem: str | None = None
        self.moved_aside: tuple[Path, int, str, int] | None = None

    @property
    def head(self) -> Head:
        return self._head

    def __enter__(self) -> Journal:
        try:
            self._open()
        except BaseException:
            self._close()
            raise
        return self

    def _open(self) -> None:
        private_directory(self.path.parent)
        network = self.custody.network
        if network is not None:
            self._exit.enter_context(
                NetworkLock(
                    network.addresses, what=f"inventory {network.name}, journal {self.path}"
                )
            )
        created = not self.path.exists()
        try:
            fd = os.open(
                self.path,
                os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                0o600,
            )
        except OSError as exc:
            raise write_failure("the journal", self.path, exc, "Nothing was sent") from None
        self._exit.callback(os.close, fd)
        refuse_shared_file(fd, self.path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError(
                f"another isolement run is writing {self.path}; wait for it to finish "
                "(two runs on one inventory must not interleave)"
            ) from None
        if created:
            with contextlib.suppress(OSError):
                fsync_directory(self.path.parent)
        if self._repair:
            self._move_torn_tail_aside(fd)
        found = self._admit()
        self._head = self._pending = self._durable = found.last or GENESIS_HEAD
        self._fd = fd
        self._file = _JournalFile(fd)
        self._durable_size = self._file.size
        import structlog  # with rich and asyncio, 0.07 s: for the commands that write only

        self._log = structlog.wrap_logger(
            self._file,
            processors=[
                structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
                self._redact,
                self._link,
                structlog.processors.JSONRenderer(sort_keys=True, ensure_ascii=False),
            ],
        )
        if self.custody.anchoring.enabled:
            self._anchor = AnchorWriter(self.custody.anchoring, self.path)
            self._anchor.write("open", self._head)
        override = self.custody.override
        if found.fails and override is not None:
            self.record(
                "journal.override",
                accepted_by=override.accepted_by,
                reason=override.reason,
                verdict=found.verdict,
                problem=found.problem,
                verified=found.as_dict(),
            )

    def _admit(self) -> Verification:
        """Verify the journal; refuse one that fails, unless the crisis cell overrides."""
        found = verify_journal(self.path, self.custody.anchoring)
        self.verification = found
        if found.verdict is Verdict.TORN:
            raise JournalAltered(
                f"{self.path} fails verification: {found.problem}. Nothing was sent. Keep the "
                "file as evidence, then run 'isolement journal repair': it moves the torn tail "
                "aside and keeps every whole record"
            )
        if found.fails and self.custody.override is None:
            raise JournalAltered(
                f"the journal fails verification: {found.describe()}\nNothing was sent: "
                "nothing acts on an altered journal. Keep it as evidence (isolement journal "
                "verify, show). To act on it as it is, in a crisis, re-run with "
                "--accept-altered-journal REASON: who accepted it and why is journaled first"
            )
        return found

    def _move_torn_tail_aside(self, fd: int) -> None:
        """For `repair`: cut a write that did not finish off the end, into a file of its own."""
        found = verify_journal(self.path, self.custody.anchoring)
        if found.verdict is not Verdict.TORN:
            if found.fails:
                raise JournalAltered(
                    f"{self.path}: {found.problem}: that is not a torn tail (a write cut short "
                    "is the last line, without its newline): the journal was changed. Nothing "
                    "was repaired; keep it as evidence"
                )
            return
        data = self.path.read_bytes()
        keep = data.rfind(b"\n") + 1
        torn = data[keep:]
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"{self.path.name}.torn-{stamp}")
        try:
            out = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                write_all(out, torn)
                os.fsync(out)
            finally:
                os.close(out)
            fsync_directory(aside.parent)
            os.ftruncate(fd, keep)
            os.fsync(fd)
        except OSError as exc:
            raise write_failure(
                "the torn tail", aside, exc, "The journal was not changed"
            ) from None
        line = data[:keep].count(b"\n") + 1
        self.moved_aside = (aside, len(torn), hashlib.sha256(torn).hexdigest(), line)

    def __exit__(self, *exc: object) -> None:
        self._close()

    def _close(self) -> None:
        if self._anchor is not None and self._fd is not None:
            try:
                self._anchor.write("close", self._head)
            except JournalError as error:
                # The run has acted already: say it, and leave its end unanchored (the next
                # verification says so too) rather than hide what it did behind an error.
                self.anchor_problem = str(error)
                import structlog

                # An operational log, on stderr: the journal is the record, stdout the result.
                structlog.wrap_logger(structlog.PrintLogger(sys.stderr)).warning(
                    "journal head not anchored", problem=str(error)
                )
        with self._sync_lock:  # an fsync in progress ends before its file is closed
            self._fd = None
        self._exit.close()  # closing the file releases its flock; then the network's locks

    @staticmethod
    def _redact(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
        # Through JSON first, so the hash is computed on exactly what will be read back.
        plain = json.loads(json.dumps(event, default=str))
        return redact_record(plain)

    def _link(self, _: WrappedLogger, __: str, event: EventDict) -> EventDict:
        event["seq"] = self._head.seq + 1
        event["prev"] = self._head.hash
        event["hash"] = record_hash(dict(event))
        self._pending = Head(event["seq"], event["hash"])
        return event

    def record(self, event: str, **fields: Any) -> None:
        """Append one record, durably, or raise JournalWriteError having written nothing.
        Safe to call from several device workers at once: each record is chained and written
        in turn, and returns once an fsync begun after its write has succeeded, one fsync
        covering every record written meanwhile (group commit), so a worker never waits for
        the lock while another's fsync runs."""
        self.durable(self.append(event, **fields))

    def append(self, event: str, **fields: Any) -> Written:
        """The first half of `record`: the record chained and written, not yet durable. Nothing
        may act on it until `durable` returns (an intent is not journaled before that)."""
        if self._fd is None:
            raise JournalError("journal is not open for writing")
        with self._lock:
            if self._failure is not None:
                raise JournalWriteError(self._failure)
            try:
                self._log.msg(event, **fields)
            except OSError as exc:
                # What was written before this record stays, and is made durable by its writers.
                error = self._write_failure(event, fields, exc)
                self._failure = str(error)
                raise error from None
            self._head = self._pending
            return Written(self._head.seq, event, fields.get("device"))

    def durable(self, written: Written) -> None:
        """The second half of `record`: return once that record is on disk, or raise
        JournalWriteError (every record not yet durable is then taken back)."""
        self._sync(written)

    def _sync(self, written: Written) -> None:
        """Return once `written` is durable: an fsync already covered it, or this one does."""
        with self._sync_lock:
            if self._durable.seq >= written.seq:
                return
            if self._sync_failure is not None:
                raise JournalWriteError(self._sync_failure)
            with self._lock:
                covered, size, fd = self._head, self._file.size, self._fd
            if fd is None:  # closed meanwhile (an aborted run not waiting for its workers)
                raise JournalError("journal closed before this record was made durable")
            try:
                os.fsync(fd)
            except OSError as exc:
                with self._lock:
                    # Every record not yet durable is taken back; each of their writers raises.
                    self._file.cut_back(self._durable_size)
                    self._head = self._pending = self._durable
                    error = self._write_failure(written.event, written.fields, exc)
                    self._failure = self._sync_failure = str(error)
                raise error from None
            self._durable, self._durable_size = covered, size

    def _write_failure(self, event: str, fields: dict[str, Any], exc: OSError) -> JournalWriteError:
        torn = self._file.torn_left
        device = f" for {fields['device']}" if "device" in fields else ""
        return write_failure(
            f"the journal record {event}{device}",
            self.path,
            exc,
            (
                "Its last line may be torn: run 'isolement journal repair'"
                if torn
                else "Every record before it is whole on disk"
            )
            + "; nothing more is sent in this run. Once the journal can be written "
            "again, re-run: it reads each device and converges",
        )


@dataclass(frozen=True)
class Repair:
    """What `repair` did: the torn tail moved aside (None when there was none)."""

    moved_to: Path | None
    torn_bytes: int = 0
    line: int = 0


def repair(path: Path, *, custody: Custody, operator: str, reason: str = "") -> Repair:
    """Move a torn last line (a write that did not finish) aside, keep every whole record where
    it is, and journal that it was done. Anything else wrong is refused, not repaired."""
    with Journal(path, custody=custody, _repair=True) as journal:
        if journal.moved_aside is None:
            return Repair(None)
        aside, size, digest, line = journal.moved_aside
        journal.record(
            "journal.repaired",
            moved_to=str(aside),
            torn_bytes=size,
            torn_sha256=digest,
            line=line,
            operator=operator,
            reason=reason,
        )
        return Repair(aside, size, line)


def default_journal_path(state_dir: Path, inventory_name: str) -> Path:
    return state_dir / inventory_name / "journal.jsonl"
