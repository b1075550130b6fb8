"""known_hosts files as paramiko reads them, indexed once per process: the lines for one host,
hashed names included, and the per-connection subset handed to paramiko. Apart from the session
so that commands that open none (validate, plan --offline, hostkeys' listing) do not import
paramiko: it is imported only to check a hashed name."""

from __future__ import annotations

import atexit
import hashlib
import hmac
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path


def host_key_name(host: str, port: int) -> str:
    """The name paramiko looks a server up by in known_hosts: `host` on port 22, else
    `[host]:port`."""
    return host if port == 22 else f"[{host}]:{port}"


@dataclass
class KnownHostsIndex:
    """The lines of one known_hosts file, by the host names they name. Each line is kept as
    paramiko reads it (stripped), with its position, so a subset keeps the file's order."""

    plain: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    hashed: list[tuple[str, int, str]] = field(default_factory=list)  # (|1|salt|hash, n, line)

    @classmethod
    def parse(cls, text: str) -> KnownHostsIndex:
        index = cls()
        # Universal newlines, as paramiko's text-mode read splits them.
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for number, raw in enumerate(lines):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            # paramiko's own split (HostKeyEntry.from_line): names, key type, key.
            fields = re.split(" |\t", line)
            # paramiko cannot read a marker line (@revoked, @cert-authority) and refuses the
            # whole file for it; the host it names is still refused (its subset holds the line),
            # never trusted without the revocation being seen.
            marker = fields[0].startswith("@") and len(fields) > 1
            names = (fields[1] if marker else fields[0]).split(",")
            for name in dict.fromkeys(names):
                if name.startswith("|1|"):
                    index.hashed.append((name, number, line))
                else:
                    index.plain.setdefault(name, []).append((number, line))
        return index

    def lines_for(self, name: str) -> list[str]:
        """The lines paramiko's lookup of `name` would match, hashed names included."""
        found = dict(self.plain.get(name, []))
        if not name.startswith("|1|"):
            for hashed, number, line in self.hashed:
                if number not in found and _hash_matches(name, hashed):
                    found[number] = line
        return [found[n] for n in sorted(found)]


def _hash_matches(name: str, hashed: str) -> bool:
    """Whether `name` hashes to `hashed` (`|1|salt|hash`, OpenSSH's HashKnownHosts form). A
    malformed entry matches nothing: it can only make a host refused, never trusted."""
    from paramiko.hostkeys import HostKeys

    try:
        return hmac.compare_digest(HostKeys.hash_host(name, hashed).encode(), hashed.encode())
    except (ValueError, AssertionError, IndexError):
        return False


class KnownHosts:
    """known_hosts files indexed once per process, and the per-connection subsets handed to
    paramiko, in a private directory (0700, files 0600) removed when the process exits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # path -> (digest of the content, index). The file is read at each connection (a few
        # microseconds) and parsed again only when its content changed: a key replaced by one
        # of the same length within the same mtime tick is never missed, as a stat would.
        self._indexes: dict[Path, tuple[bytes, KnownHostsIndex]] = {}
        self._directory: Path | None = None
        self._owner = 0  # the pid that made the directory (a forked child makes its own)

    def index(self, path: Path) -> KnownHostsIndex:
        try:
            content = path.read_bytes()
        except OSError:
            return KnownHostsIndex()  # no file: nothing is trusted, every host refused
        digest = hashlib.blake2b(content, digest_size=32).digest()
        with self._lock:
            cached = self._indexes.get(path)
            if cached is None or cached[0] != digest:
                text = content.decode("utf-8", errors="replace")
                cached = (digest, KnownHostsIndex.parse(text))
                self._indexes[path] = cached
            return cached[1]

    def _private_directory(self) -> Path:
        with self._lock:
            if self._directory is None or self._owner != os.getpid():
                directory = Path(tempfile.mkdtemp(prefix="isolement-known-hosts-"))  # 0700
                atexit.register(shutil.rmtree, directory, ignore_errors=True)
                self._directory, self._owner = directory, os.getpid()
            return self._directory

    @contextmanager
    def subset(self, path: Path, host: str, port: int) -> Iterator[Path]:
        """A file of the lines of `path` for this host and port only (empty if it has none:
        paramiko then refuses the host), removed on leaving."""
        lines = self.index(path).lines_for(host_key_name(host, port))
        fd, name = tempfile.mkstemp(dir=self._private_directory(), suffix=".known_hosts")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write("".join(line + "\n" for line in lines))
            yield Path(name)
        finally:
            with suppress(OSError):
                os.unlink(name)


known_hosts = KnownHosts()
