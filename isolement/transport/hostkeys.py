"""Host keys in peacetime: what each device presents, against the inventory's known-hosts file.

`collect` opens an SSH transport to every device (key exchange only: no login, nothing typed),
and says for each whether its key is new, already on file, or CHANGED. `write` adds the new
ones (and replaces a changed one only when told to, host by host), atomically. Nothing here
ever accepts a key by itself: the operator reviews the fingerprints first.

Fingerprints are written as `ssh-keygen -lf` prints them: `SHA256:` and the base64 of the
SHA-256 of the key's blob, without padding.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import paramiko
from paramiko.hostkeys import HostKeyEntry

from isolement.model.errors import DeviceError
from isolement.model.inventory import Inventory
from isolement.transport.known_hosts import KnownHostsIndex, host_key_name

# Key exchanges in flight at once: each is a TCP connection and a few packets.
WORKERS = 32


def fingerprint(key: paramiko.PKey) -> str:
    """`SHA256:...` as `ssh-keygen -lf` and OpenSSH's own messages print it."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def shown(key: paramiko.PKey) -> str:
    return f"{key.get_name()} {fingerprint(key)}"


def fetch(host: str, port: int, timeout: float) -> paramiko.PKey:
    """The host key a server presents: key exchange only, then the connection is closed.
    Raises OSError or paramiko.SSHException when it cannot be had."""
    sock = socket.create_connection((host, port), timeout=timeout)
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = timeout
        transport.start_client(timeout=timeout)
        return transport.get_remote_server_key()
    finally:
        transport.close()
        sock.close()


def fetch_through(inventory: Inventory, device: str, timeout: float) -> paramiko.PKey:
    """The host key a device behind a jump host presents: the jump host logged in to (its own
    key checked on file), a `direct-tcpip` channel to the device, key exchange only. Raises
    DeviceError (the jump host) or SSHException/OSError (the device)."""
    from isolement.transport.session import _through

    jump = inventory.jump_for(device)
    assert jump is not None
    client, channel = _through(inventory, device, jump, timeout)
    try:
        transport = paramiko.Transport(channel)
        try:
            transport.banner_timeout = timeout
            transport.start_client(timeout=timeout)
            return transport.get_remote_server_key()
        finally:
            transport.close()
    finally:
        client.close()


class Status(StrEnum):
    NEW = "NEW"  # not on file: written once confirmed
    KNOWN = "KNOWN"  # on file and the same: kept
    CHANGED = "CHANGED"  # on file with another key: kept unless --replace names it
    REVOKED = "REVOKED"  # on file as @revoked: never written
    FAILED = "FAILED"  # no key could be had


@dataclass
class HostKey:
    """One `[host]:port` of the inventory, the devices behind it, and what it presented."""

    name: str  # as known_hosts names it
    host: str
    port: int
    devices: list[str]
    status: Status = Status.FAILED
    key: paramiko.PKey | None = None
    on_file: list[paramiko.PKey] = field(default_factory=list)
    error: str | None = None
    replace: bool = False

    @property
    def written(self) -> bool:
        """Whether `write` puts this key in the file."""
        return self.key is not None and (
            self.status is Status.NEW or (self.status is Status.CHANGED and self.replace)
        )

    def line(self) -> str:
        assert self.key is not None
        return f"{self.name} {self.key.get_name()} {self.key.get_base64()}"


def _on_file(lines: Iterable[str]) -> tuple[list[paramiko.PKey], list[paramiko.PKey]]:
    """(keys, revoked keys) of the known_hosts lines of one host."""
    keys, revoked = [], []
    for line in lines:
        text, marker = line, None
        if line.startswith("@"):
            marker, _, text = line.partition(" ")
        try:
            entry = HostKeyEntry.from_line(text.strip())
        except (paramiko.SSHException, ValueError):
            entry = None
        if entry is None or entry.key is None:
            continue
        if marker == "@revoked":
            revoked.append(entry.key)
        elif marker is None:
            keys.append(entry.key)
    return keys, revoked


def _same(a: paramiko.PKey, b: paramiko.PKey) -> bool:
    return a.get_name() == b.get_name() and a.asbytes() == b.asbytes()


def collect(
    inventory: Inventory,
    *,
    devices: Sequence[str] | None = None,
    replace: Iterable[str] = (),
    timeout: float = 10.0,
) -> list[HostKey]:
    """What each device presents now, compared with the inventory's known-hosts file.
    `replace` names the hosts (`[host]:port`, `host` on port 22, or a device) whose CHANGED key
    may be replaced."""
    chosen = sorted(devices if devices is not None else inventory.devices)
    # The jump hosts first: a device behind one is reached through it, its key on file.
    jumps: dict[str, HostKey] = {}
    for device in chosen:
        jump = inventory.jump_for(device)
        if jump is not None:
            name = host_key_name(jump.host, jump.port)
            label = next(f"jump host {j}" for j, v in inventory.jump_hosts.items() if v == jump)
            entry = jumps.setdefault(name, HostKey(name, jump.host, jump.port, []))
            if label not in entry.devices:
                entry.devices.append(label)
    by_name: dict[str, HostKey] = {}
    behind: dict[str, str] = {}  # host key name -> a device to reach it through its jump host
    for device in chosen:
        spec = inventory.devices[device]
        name = host_key_name(spec.host, spec.port)
        by_name.setdefault(name, HostKey(name, spec.host, spec.port, [])).devices.append(device)
        if inventory.jump_for(device) is not None:
            behind.setdefault(name, device)
    try:
        text = inventory.known_hosts.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        text = ""
    index = KnownHostsIndex.parse(text)
    wanted = set(replace)

    def look(entry: HostKey) -> HostKey:
        entry.on_file, revoked = _on_file(index.lines_for(entry.name))
        entry.replace = entry.name in wanted or bool(wanted & set(entry.devices))
        try:
            through = behind.get(entry.name)
            jump = inventory.jump_for(through) if through is not None else None
            jump_entry = jumps.get(host_key_name(jump.host, jump.port)) if jump else None
            if jump_entry is not None and jump_entry.status is not Status.KNOWN:
                entry.status = Status.FAILED
                entry.error = (
                    f"reached through {jump_entry.devices[0]} ({jump_entry.name}), whose key "
                    "is not on file yet: once it is written, run again"
                )
                return entry
            if through is None:
                entry.key = fetch(entry.host, entry.port, timeout)
            else:
                entry.key = fetch_through(inventory, through, timeout)
        except DeviceError as exc:
            entry.status, entry.error = Status.FAILED, exc.reason
            return entry
        except (OSError, paramiko.SSHException, EOFError) as exc:
            entry.status, entry.error = Status.FAILED, str(exc) or type(exc).__name__
            return entry
        if any(_same(entry.key, k) for k in revoked):
            entry.status = Status.REVOKED
        elif any(_same(entry.key, k) for k in entry.on_file):
            entry.status = Status.KNOWN
        elif entry.on_file:
            entry.status = Status.CHANGED
        else:
            entry.status = Status.NEW
        return entry

    with ThreadPoolExecutor(max_workers=min(WORKERS, max(1, len(by_name)))) as pool:
        first = list(pool.map(look, jumps.values()))
        return first + list(pool.map(look, [e for n, e in by_name.items() if n not in jumps]))


def write(path: Path, keys: Sequence[HostKey]) -> int:
    """Add the new keys (and the changed ones to replace, their old lines removed) to the
    known-hosts file, atomically, mode 0644. Every other line is kept as it was. Returns how
    many keys were written."""
    chosen = [k for k in keys if k.written]
    if not chosen:
        return 0
    try:
        old = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        old = []
    dropped = {k.name for k in chosen if k.status is Status.CHANGED}
    kept = [line for line in (_without(line, dropped) for line in old) if line is not None]
    text = "".join(line + "\n" for line in [*kept, *(k.line() for k in chosen)])
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), 0o644)  # public keys: readable, as ssh's own file is
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return len(chosen)


def _without(line: str, names: set[str]) -> str | None:
    """The line with these host names taken out (None: nothing left of it). A hashed name is
    compared by its hash; a marker line (@revoked) is always kept."""
    stripped = line.strip()
    if not names or not stripped or stripped.startswith(("#", "@")):
        return line
    fields = stripped.split(None, 1)
    hosts = fields[0].split(",")
    left = [
        h
        for h in hosts
        if h not in names and not any(_hashed_is(h, n) for n in names if h.startswith("|1|"))
    ]
    if len(left) == len(hosts):
        return line
    return f"{','.join(left)} {fields[1]}" if left and len(fields) > 1 else None


def _hashed_is(hashed: str, name: str) -> bool:
    return KnownHostsIndex.parse(f"{hashed} x y").lines_for(name) != []
