"""Device configurations kept beside the journal, redacted and content-addressed: the evidence
of what a device held before its first change, and what a restore is compared with.

A snapshot is written whole or not at all: to a temporary file, fsynced, then renamed to its
hash. A file under a hash always holds exactly what hashes to it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from isolement.journal.files import NotAPlainFile, replace_file, write_failure
from isolement.journal.redaction import redact
from isolement.model.errors import JournalError, JournalWriteError


def snapshot_dir(journal_path: Path) -> Path:
    return journal_path.parent / "snapshots"


def _holds(path: Path, digest: str) -> bool:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() == digest
    except FileNotFoundError:
        return False


def store_snapshot(journal_path: Path, text: str) -> str:
    """Keep a device's configuration, redacted; return its sha256, which the journal records
    reference. The same configuration is stored once (two identical firewalls)."""
    data = redact(text).encode()
    digest = hashlib.sha256(data).hexdigest()
    directory = snapshot_dir(journal_path)
    target = directory / f"{digest}.txt"
    then = "No change was sent to the device whose configuration this is"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if _holds(target, digest):
            return digest
        # A file that does not hold what hashes to its name (left torn by an older version) is
        # replaced, atomically, by one that does.
        replace_file(target, data)
    except NotAPlainFile as exc:
        raise JournalWriteError(
            f"a configuration snapshot could not be written: {exc}. {then}"
        ) from None
    except OSError as exc:
        raise write_failure("a configuration snapshot", target, exc, then) from None
    return digest


def load_snapshot(journal_path: Path, digest: str) -> str | None:
    path = snapshot_dir(journal_path) / f"{digest}.txt"
    if not path.exists():
        return None
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != digest:
        raise JournalError(f"snapshot {path} does not match its hash: it was altered")
    return data.decode()
