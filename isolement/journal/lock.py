"""One run at a time per network, machine-wide: a lock per management address.

A journal's own lock (flock on its file) keeps two runs from interleaving in one journal; it
does nothing for two runs with two state directories (root's and a user's) that reach the same
devices. So a run that writes also locks every management address its inventory reaches
(`host:port`, as written in the inventory: no name is resolved), in a directory every user of
the machine shares: ISOLEMENT_LOCK_DIR, by default /run/lock/isolement (sticky and
world-writable like /run/lock, so that no user can remove another's lock file). The inventory's
name is not part of the lock: two inventories with one name may be two networks, and a copy of
an inventory under another name is the same one.

Locks are flock(2) locks, released by the kernel when the process ends, however it ends. Each
lock file also says who holds it (user, PID, since when, which inventory and journal), for the
refusal's message; that text is informative, the flock is the truth.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import getpass
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from isolement.model.errors import LockedError

DEFAULT_DIRECTORY = Path("/run/lock/isolement")
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


def lock_directory() -> Path:
    explicit = os.environ.get("ISOLEMENT_LOCK_DIR")
    return Path(explicit) if explicit else DEFAULT_DIRECTORY


def _lock_name(address: str) -> str:
    # Readable, and unique even when two addresses differ only in characters replaced.
    tag = hashlib.sha256(address.encode()).hexdigest()[:8]
    return f"{_UNSAFE.sub('_', address)[:80]}-{tag}.lock"


def _holder() -> dict[str, object]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid {os.geteuid()}"
    return {
        "user": user,
        "sudo_user": os.environ.get("SUDO_USER", ""),
        "pid": os.getpid(),
        "since": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }


def _describe_holder(fd: int) -> str:
    try:
        data = os.pread(fd, 4096, 0).decode("utf-8", errors="replace")
        holder = json.loads(data)
        via = f", through sudo by {holder['sudo_user']}" if holder.get("sudo_user") else ""
        return (
            f"held by {holder['user']} (pid {holder['pid']}) since {holder['since']}{via}, "
            f"for {holder.get('what', '?')}"
        )
    except (OSError, ValueError, KeyError, TypeError):
        return "held by another run (it has not said who yet)"


class NetworkLock:
    """Hold the lock of every address, or none: the first one held by another run refuses."""

    def __init__(self, addresses: Iterable[str], *, what: str, directory: Path | None = None):
        # Sorted, so that two runs contending for the same addresses meet on the same first
        # one: one of them gets everything, the other is refused, never both half.
        self.addresses = sorted(set(addresses))
        self.what = what
        self.directory = directory or lock_directory()
        self._held: list[int] = []
        self._who = b""  # the holder's record, as written in each lock file

    def __enter__(self) -> NetworkLock:
        if not self.addresses:
            return self
        self._prepare_directory()
        # Rendered once for every address: the same holder, and 5000 lookups of the user and
        # JSON renderings were a tenth of a 5000-device plan's second.
        self._who = json.dumps({**_holder(), "what": self.what}).encode()
        try:
            for address in self.addresses:
                self._held.append(self._take(address))
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._release()

    def _prepare_directory(self) -> None:
        try:
            os.mkdir(self.directory, 0o1777)
        except FileExistsError:
            pass
        except OSError as exc:
            raise self._unusable(exc.strerror or str(exc)) from None
        else:
            # mkdir's mode is cut by the umask; every user must be able to add a lock file.
            with contextlib.suppress(OSError):
                os.chmod(self.directory, 0o1777)  # noqa: S103 (like /run/lock)
        st = os.lstat(self.directory)
        if not stat.S_ISDIR(st.st_mode):
            raise self._unusable("not a directory (a symlink?)")
        if st.st_mode & stat.S_IWOTH and not st.st_mode & stat.S_ISVTX:
            raise self._unusable(
                "writable by every user without the sticky bit: anyone could remove another "
                f"run's lock (chmod 1777 {self.directory})"
            )

    def _unusable(self, why: str) -> LockedError:
        return LockedError(
            f"cannot lock the devices in {self.directory}: {why}. Every user's runs must share "
            "one lock directory (ISOLEMENT_LOCK_DIR, default /run/lock/isolement)"
        )

    def _take(self, address: str) -> int:
        path = self.directory / _lock_name(address)
        flags = os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            try:
                fd = os.open(path, os.O_RDWR | flags, 0o666)
            except PermissionError:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise LockedError(
                    f"{path} is not a plain file (a symlink?): refusing to use it as the lock "
                    f"of {address}; remove it"
                ) from None
            raise self._unusable(f"{path}: {exc.strerror}") from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise LockedError(f"{path} is not a plain file: refusing to use it as a lock")
            if st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) != 0o666:
                os.fchmod(fd, 0o666)  # created under a umask: let the next user's run in
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LockedError(
                    f"another isolement run is changing the devices at {address}: "
                    f"{_describe_holder(fd)}. Wait for it to finish: two runs must not change "
                    "the same devices at once"
                ) from None
            self._say_who(fd)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _say_who(self, fd: int) -> None:
        with contextlib.suppress(OSError):  # read-only lock file: the flock alone holds
            os.ftruncate(fd, 0)
            os.pwrite(fd, self._who, 0)

    def _release(self) -> None:
        while self._held:
            fd = self._held.pop()
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # nobody holds it now: no stale name for the next refusal
            os.close(fd)
