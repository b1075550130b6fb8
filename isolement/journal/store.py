"""The append-only record of every decision and change, as JSON lines written through structlog.

Each record carries the hash of the one before it, so an edit, a removal, a reordering or a
truncation is detected by `verify`. Each record is flushed and fsynced before the next step, so
a crash leaves a journal that says what may have happened. One writer at a time (flock).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from structlog.typing import EventDict, WrappedLogger

from isolement.model.errors import JournalError, LockedError

GENESIS = "0" * 64

# Configuration lines that carry secrets in device output; the value is replaced.
# Everything after the keyword goes: IOS puts an encryption type first (`secret 5 $1$...`).
_SECRET_LINE = re.compile(
    r"(?im)^(.*?\b(?:password|secret|community|pre-shared-key|key|token)\s+)\S.*$"
)
_SECRET_KEYS = re.compile(r"(?i)(password|secret|token|passphrase|private_key)")


def redact(value: Any) -> Any:
    """Mask anything that looks like a secret, in nested records and in device output."""
    if isinstance(value, str):
        return _SECRET_LINE.sub(r"\1<redacted>", value)
    if isinstance(value, dict):
        return {
            k: ("<redacted>" if _SECRET_KEYS.search(k) else redact(v)) for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


def _record_hash(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class _Chain:
    seq: int
    last_hash: str


class _JournalFile:
    """structlog's wrapped logger: writes one rendered line and makes it durable."""

    def __init__(self, fd: int):
        self.fd = fd

    def msg(self, line: str) -> None:
        os.write(self.fd, (line + "\n").encode())
        os.fsync(self.fd)

    info = msg  # structlog's BoundLogger.msg() calls the wrapped logger's info()


class Journal:
    """Append-only journal bound to one file. Use as a context manager to hold the lock."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._chain: _Chain | None = None

    def __enter__(self) -> Journal:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockedError(
                f"another isolement run is writing {self.path}; wait for it to finish "
                "(two runs on one inventory must not interleave)"
            ) from None
        records = list(read_records(self.path))
        if records and isinstance(records[-1], TornRecord):
            os.close(fd)
            raise JournalError(
                f"{self.path}: the last line is torn (a run was killed while writing it): "
                f"{records[-1].text[:80]!r}. Keep this file as evidence, then run "
                "'isolement journal verify' and move it aside before the next run."
            )
        last = records[-1] if records else None
        self._chain = (
            _Chain(seq=last["seq"], last_hash=last["hash"])
            if isinstance(last, dict)
            else _Chain(seq=0, last_hash=GENESIS)
        )
        self._fd = fd
        self._log = structlog.wrap_logger(
            _JournalFile(fd),
            processors=[
                structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
                self._redact,
                self._link,
                structlog.processors.JSONRenderer(sort_keys=True, ensure_ascii=False),
            ],
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None

    @staticmethod
    def _redact(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
        # Through JSON first, so the hash is computed on exactly what will be read back.
        plain = json.loads(json.dumps(event, default=str))
        return redact(plain)  # type: ignore[no-any-return]

    def _link(self, _: WrappedLogger, __: str, event: EventDict) -> EventDict:
        assert self._chain is not None
        self._chain.seq += 1
        event["seq"] = self._chain.seq
        event["prev"] = self._chain.last_hash
        event["hash"] = _record_hash(dict(event))
        self._chain.last_hash = event["hash"]
        return event

    def record(self, event: str, **fields: Any) -> None:
        """Append one record, durably. Safe to call from several device workers at once."""
        if self._fd is None:
            raise JournalError("journal is not open for writing")
        with self._lock:
            self._log.msg(event, **fields)


@dataclass(frozen=True)
class TornRecord:
    line_number: int
    text: str


def read_records(path: Path) -> Iterator[dict[str, Any] | TornRecord]:
    """Every record in order; a line that is not whole JSON comes back as a TornRecord."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError
            except ValueError:
                yield TornRecord(number, line.rstrip("\n"))
                continue
            yield record


def verify_chain(path: Path) -> tuple[int, str | None]:
    """(number of good records, description of the first bad one or None if intact)."""
    prev = GENESIS
    good = 0
    for number, record in enumerate(read_records(path), 1):
        if isinstance(record, TornRecord):
            return good, f"line {number}: not a whole record (torn or edited): {record.text[:60]!r}"
        body: dict[str, Any] = dict(record)
        claimed = body.pop("hash", None)
        if body.get("prev") != prev:
            return (
                good,
                f"line {number} (seq {record.get('seq')}): does not follow the record "
                "before it (a record was removed, reordered or inserted)",
            )
        if claimed != _record_hash(body):
            return good, f"line {number} (seq {record.get('seq')}): content was altered"
        if record.get("seq") != number:
            return good, f"line {number}: sequence number {record.get('seq')} is out of order"
        prev = claimed
        good += 1
    return good, None


def default_journal_path(state_dir: Path, inventory_name: str) -> Path:
    return state_dir / inventory_name / "journal.jsonl"


def snapshot_dir(journal_path: Path) -> Path:
    return journal_path.parent / "snapshots"


def store_snapshot(journal_path: Path, text: str) -> str:
    """Keep a device's configuration, redacted, beside the journal; return its sha256, which
    the journal records reference. Content-addressed: the same configuration is stored once."""
    redacted = redact(text)
    digest = hashlib.sha256(redacted.encode()).hexdigest()
    directory = snapshot_dir(journal_path)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / f"{digest}.txt"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return digest  # the same configuration, stored already (two identical firewalls)
    try:
        os.write(fd, redacted.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return digest


def load_snapshot(journal_path: Path, digest: str) -> str | None:
    path = snapshot_dir(journal_path) / f"{digest}.txt"
    if not path.exists():
        return None
    text = path.read_text()
    if hashlib.sha256(text.encode()).hexdigest() != digest:
        raise JournalError(f"snapshot {path} does not match its hash: it was altered")
    return text
