"""Where the journal lives: a directory anyone can write to is refused, and one that cannot be
written gives a clear error and exit code, never a traceback (#10 item 11, the journal's part).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from emulated import LoginKey
from journal_estate import Estate, running_estate

from isolement.journal.store import Journal
from isolement.model.errors import JournalError, JournalWriteError

EXIT_JOURNAL = 5
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="mount and chattr need root")


def logins(estate: Estate) -> int:
    assert estate.emu is not None
    return sum(estate.emu.device(n).logins for n in ("dc-rtr", "h2-rtr"))


def test_world_writable_journal_directory_is_refused_and_left_alone(tmp_path: Path) -> None:
    directory = tmp_path / "state" / "lab"
    directory.mkdir(parents=True)
    directory.chmod(0o777)
    with pytest.raises(JournalError, match="writable by every user") as caught:
        Journal(directory / "journal.jsonl").__enter__()
    assert f"chmod 700 {directory}" in str(caught.value)
    assert not (directory / "journal.jsonl").exists()


def test_world_writable_journal_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state" / "journal.jsonl"
    with Journal(path) as journal:
        journal.record("test.event")
    path.chmod(0o666)
    with pytest.raises(JournalError, match="writable by every user"):
        Journal(path).__enter__()


def test_cut_with_a_world_writable_state_directory_is_refused_before_any_device(
    tmp_path: Path, login_key: LoginKey
) -> None:
    with running_estate(tmp_path, login_key) as estate:
        (estate.state_dir / "evidence-estate").mkdir(parents=True)
        (estate.state_dir / "evidence-estate").chmod(0o777)
        done = estate.cut()
        assert done.code == EXIT_JOURNAL, done.text
        assert "writable by every user" in done.err and "Traceback" not in done.text
        assert logins(estate) == 0


@contextmanager
def read_only_filesystem(where: Path) -> Iterator[Path]:
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)


@root_only
def test_read_only_state_directory_gives_a_clear_error(tmp_path: Path, login_key: LoginKey) -> None:
    with (
        read_only_filesystem(tmp_path / "ro") as state,
        running_estate(tmp_path / "files", login_key) as estate,
    ):
        estate.env["ISOLEMENT_STATE_DIR"] = str(state)
        done = estate.cut()
        assert done.code == EXIT_JOURNAL, done.text
        assert "Traceback" not in done.text
        assert "could not be written" in done.err and "Read-only file system" in done.err
        assert str(state) in done.err
        assert logins(estate) == 0


@root_only
def test_immutable_journal_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state" / "journal.jsonl"
    with Journal(path) as journal:
        journal.record("test.event")
    subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        with pytest.raises(JournalWriteError, match="could not be written") as caught:
            Journal(path).__enter__()
        assert "Operation not permitted" in str(caught.value)
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)
