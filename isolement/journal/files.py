"""Bytes on disk, durably: every write checked to its last byte and fsynced, every failure
said in words, and the journal's directory private."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path

from isolement.model.errors import JournalError, JournalWriteError


def write_all(fd: int, data: bytes) -> None:
    """Write every byte or raise OSError: os.write may write fewer bytes than asked (a disk
    that fills up mid-write, a file-size limit) and says so only by its return value."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]


def fsync_directory(path: Path) -> None:
    """Make a file's creation, rename or removal in `path` itself durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_failure(what: str, path: Path, exc: OSError, then: str = "") -> JournalWriteError:
    """The error a tired engineer reads when `what` could not be written to `path`."""
    cause = exc.strerror or str(exc)
    code = errno.errorcode.get(exc.errno or 0, "")
    hint = {
        errno.ENOSPC: "the disk is full: free space or move the state directory "
        "(ISOLEMENT_STATE_DIR)",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.EFBIG: "the file size limit is reached (ulimit -f)",
        errno.EROFS: "the filesystem is read-only: use a writable state directory "
        "(ISOLEMENT_STATE_DIR or --journal)",
        errno.EACCES: "permission denied: use a state directory this user may write "
        "(ISOLEMENT_STATE_DIR or --journal)",
        errno.EPERM: "not permitted (an immutable file or directory? see lsattr)",
    }.get(exc.errno or 0, "")
    message = f"{what} could not be written to {path}: {cause}" + (f" ({code})" if code else "")
    if hint:
        message += f"; {hint}"
    if then:
        message += f". {then}"
    return JournalWriteError(message)


def private_directory(path: Path) -> None:
    """Make `path` (0700) if it is missing; refuse one every user may write to, where anyone on
    the machine could replace the journal or its snapshots."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = path.stat()
    except OSError as exc:
        raise write_failure("the journal's directory", path, exc) from None
    if not stat.S_ISDIR(st.st_mode):
        raise JournalError(f"{path} is not a directory: the journal cannot be kept there")
    if st.st_mode & stat.S_IWOTH:
        raise JournalError(
            f"{path} is writable by every user (mode {stat.S_IMODE(st.st_mode):04o}): anyone on "
            f"this machine could replace the journal or its snapshots. Make it private first "
            f"(chmod 700 {path}), or use another state directory"
        )


def refuse_shared_file(fd: int, path: Path) -> None:
    """Refuse a journal file that is not a plain file, or that every user may write to."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise JournalError(f"{path} is not a plain file: refusing to use it as the journal")
    if st.st_mode & stat.S_IWOTH:
        raise JournalError(
            f"{path} is writable by every user (mode {stat.S_IMODE(st.st_mode):04o}): anyone "
            f"could have changed it. Check it (isolement journal verify), then chmod 600 {path}"
        )


class NotAPlainFile(ValueError):
    """The place to write holds a symbolic link, a directory, a device or a pipe."""


def replace_file(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write `data` as `path`, a plain file with `mode`, atomically and durably, never through a
    symbolic link: a link at `path` (to the journal, to /etc/passwd) is refused, not followed, and
    so is anything that is not a plain file. The bytes go to a new file beside it (O_EXCL,
    O_NOFOLLOW) that is then renamed over `path`: a reader sees the old file or the new one,
    and a link swapped in meanwhile is replaced, its target untouched. Raises NotAPlainFile, or
    OSError when the file cannot be written."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        pass
    else:
        if stat.S_ISLNK(st.st_mode):
            raise NotAPlainFile(
                f"{path} is a symbolic link (to {os.readlink(path)}): refusing to write through "
                "it; remove the link or write elsewhere"
            )
        if not stat.S_ISREG(st.st_mode):
            raise NotAPlainFile(f"{path} is not a plain file: refusing to write over it")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(
        temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode
    )
    try:
        try:
            os.fchmod(fd, mode)  # whatever the umask
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    fsync_directory(path.parent)
