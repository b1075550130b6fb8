"""Anchors: the journal's head kept outside the controller, so that removing or rewriting
records is detected.

Every run that writes the journal appends two lines to an anchor file in the anchor directory
(ISOLEMENT_ANCHOR_DIR: another disk, removable media, a share on another machine): `open`
with the head it found, before its first record, and `close` with the head it left. With an
Ed25519 key (ISOLEMENT_ANCHOR_KEY, made by `isolement journal keygen`), each line is signed,
so a line added on the anchor medium by someone without the key is detected. The anchor file
is named after the journal's path; each line also holds that path, the time, the user, the
PID and the host.

What an anchor cannot do: an anchor file removed or cut short on its own medium is not
detected from itself (a head kept elsewhere is: the one a run prints on its last line, given
back with `journal verify --head SEQ:HASH`).
"""

from __future__ import annotations

import base64
import binascii
import getpass
import hashlib
import json
import os
import secrets
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from isolement.journal import keys
from isolement.journal.files import fsync_directory, write_all, write_failure
from isolement.journal.records import Head, parse_record
from isolement.model.errors import InputError, JournalError

ANCHOR_FORMAT = "isolement-anchor/1"
Mark = Literal["open", "close"]


@dataclass(frozen=True)
class Anchoring:
    """Where heads are anchored, and with which key. `location` is a directory (the anchor
    file is found by the journal's path) or, to verify a copy elsewhere, one anchor file."""

    location: Path | None = None
    signing_key: Path | None = None
    public_key: Path | None = None

    @property
    def enabled(self) -> bool:
        return self.location is not None

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Anchoring:
        env = os.environ if environ is None else environ

        def path(name: str) -> Path | None:
            value = env.get(name)
            return Path(value) if value else None

        return cls(
            path("ISOLEMENT_ANCHOR_DIR"),
            path("ISOLEMENT_ANCHOR_KEY"),
            path("ISOLEMENT_ANCHOR_PUBLIC_KEY"),
        )

    def anchor_file(self, journal: Path) -> Path:
        assert self.location is not None
        if self.location.is_file():
            return self.location
        resolved = journal.resolve()
        tag = hashlib.sha256(str(resolved).encode()).hexdigest()[:16]
        return self.location / f"{resolved.parent.name}-{tag}.anchors.jsonl"

    def _private_key(self) -> Ed25519PrivateKey | None:
        if self.signing_key is None:
            return None
        try:
            return keys.load_private_key(self.signing_key)
        except InputError as exc:
            raise JournalError(
                f"the anchor key cannot be used: {exc} (it is read at the end of every run, so "
                "it has no passphrase: keep it on removable media instead)"
            ) from None

    def verifying_key(self) -> Ed25519PublicKey | None:
        """The key anchors must be signed with: the public key given, or the signing key's."""
        try:
            if self.public_key is not None:
                return keys.load_public_key(self.public_key)
        except InputError as exc:
            raise JournalError(f"the anchors' public key cannot be used: {exc}") from None
        private = self._private_key()
        return private.public_key() if private is not None else None


def _canonical(entry: dict[str, Any]) -> bytes:
    body = {k: v for k, v in entry.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.geteuid()}"


@dataclass
class AnchorWriter:
    """The anchor lines of one writing session of one journal."""

    anchoring: Anchoring
    journal: Path
    session: str = field(default_factory=lambda: secrets.token_hex(6))

    def write(self, mark: Mark, head: Head) -> Path:
        """Append one signed (when a key is given) anchor line, durably; return the file."""
        entry: dict[str, Any] = {
            "format": ANCHOR_FORMAT,
            "journal": str(self.journal.resolve()),
            "mark": mark,
            "seq": head.seq,
            "hash": head.hash,
            "session": self.session,
            "ts": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "user": _user(),
            "pid": os.getpid(),
            "host": socket.gethostname(),
        }
        key = self.anchoring._private_key()
        if key is not None:
            entry["key"] = keys.fingerprint(key.public_key())
            entry["signature"] = base64.b64encode(key.sign(_canonical(entry))).decode("ascii")
        path = self.anchoring.anchor_file(self.journal)
        line = (json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n").encode()
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            created = not path.exists()
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = os.open(path, flags, 0o600)
            try:
                write_all(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                fsync_directory(path.parent)
        except OSError as exc:
            raise write_failure(
                "the journal's anchor",
                path,
                exc,
                "Plug the anchor medium back in, or run "
                "without ISOLEMENT_ANCHOR_DIR and keep the head each run prints",
            ) from None
        return path


@dataclass(frozen=True)
class Anchor:
    """One anchor line: the journal had this head when a session opened or closed it."""

    line: int
    mark: str
    head: Head
    session: str
    ts: str
    user: str
    pid: int
    host: str

    def who(self) -> str:
        return f"{self.user}, pid {self.pid} on {self.host}, at {self.ts}"


@dataclass(frozen=True)
class Anchors:
    """What an anchor file says about one journal: its lines, and any line that cannot be
    trusted (unreadable, unsigned when a key is known, signed by another key, forged)."""

    source: Path
    lines: list[Anchor]
    problems: list[str]
    signed_by: str | None  # fingerprint of the key every line was checked against


def read_anchors(anchoring: Anchoring, journal: Path) -> Anchors | None:
    """The anchors of `journal`, or None when no anchoring is configured."""
    if anchoring.location is None:
        return None
    path = anchoring.anchor_file(journal)
    explicit = anchoring.location.is_file()
    key = anchoring.verifying_key()
    expected = keys.fingerprint(key) if key is not None else None
    lines: list[Anchor] = []
    problems: list[str] = []
    try:
        text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    except OSError as exc:
        raise JournalError(f"the anchors in {path} cannot be read: {exc.strerror}") from None
    for number, raw in enumerate(text.splitlines(), 1):
        entry = parse_record(raw)
        where = f"{path} line {number}"
        if isinstance(entry, str) or entry.get("format") != ANCHOR_FORMAT:
            problems.append(
                f"{where} is not an anchor ({entry if isinstance(entry, str) else 'format'})"
            )
            continue
        if not explicit and entry.get("journal") != str(journal.resolve()):
            continue  # another journal's line in a shared file: not ours to judge
        if key is not None:
            problem = _signature_problem(entry, key, expected)
            if problem:
                problems.append(f"{where}: {problem}")
                continue
        try:
            lines.append(
                Anchor(
                    number,
                    str(entry["mark"]),
                    Head(int(entry["seq"]), str(entry["hash"])),
                    str(entry.get("session", "")),
                    str(entry.get("ts", "?")),
                    str(entry.get("user", "?")),
                    int(entry.get("pid", 0)),
                    str(entry.get("host", "?")),
                )
            )
        except (KeyError, TypeError, ValueError):
            problems.append(f"{where}: an anchor without a readable seq, hash or mark")
    return Anchors(path, lines, problems, expected)


def _signature_problem(
    entry: dict[str, Any], key: Ed25519PublicKey, expected: str | None
) -> str | None:
    if "signature" not in entry:
        return "not signed, although anchors are signed with key " + str(expected)
    if entry.get("key") != expected:
        return f"signed with another key ({entry.get('key')}), not {expected}: forged"
    try:
        key.verify(base64.b64decode(str(entry["signature"]), validate=True), _canonical(entry))
    except (InvalidSignature, binascii.Error, ValueError):
        return "its signature does not verify: the line was changed or forged"
    return None
