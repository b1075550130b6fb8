"""One run at a time per network, whatever state directory or user runs it (#10 item 5).

The lock is per management address the inventory reaches, machine-wide (ISOLEMENT_LOCK_DIR,
by default /run/lock/isolement), and a refusal says who holds it: user, PID, since when.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from emulated import LoginKey
from isolement.lab.emulator import Emulator
from journal_estate import SPECS, Estate, write_estate

EXIT_INPUT = 2
REPO = Path(__file__).resolve().parents[2]
# Another user cannot run root's virtualenv interpreter (under /root); the lock needs nothing
# but the standard library and the repository (the current directory).
SYSTEM_PYTHON = Path("/usr/bin/python3")


def start_cut(estate: Estate) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "isolement", "--inventory", str(estate.inventory)),
            *("cut", str(estate.playbook), "--reason", "first", "--yes"),
        ],
        env={**os.environ, **estate.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def wait_for(path: Path, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.02)
    raise AssertionError(f"{text} did not appear in {path}")


def test_two_cuts_from_two_state_directories_do_not_both_change_the_devices(
    tmp_path: Path, login_key: LoginKey
) -> None:
    # Slow devices, so that the first run is still changing them when the second starts.
    with Emulator(SPECS, login_key.key, username="isolement", latency=0.15) as emu:
        first = write_estate(tmp_path / "root", emu, login_key)
        second = write_estate(tmp_path / "home", emu, login_key)
        assert first.state_dir != second.state_dir
        running = start_cut(first)
        try:
            wait_for(first.journal, '"run.started"')
            logins = sum(emu.device(n).logins for n in ("dc-rtr", "h2-rtr"))
            done = second.cut()
            assert sum(emu.device(n).logins for n in ("dc-rtr", "h2-rtr")) == logins
        finally:
            out, err = running.communicate(timeout=120)
        assert running.returncode == 0, out + err
        assert done.code == EXIT_INPUT, done.text
        user = os.environ.get("USER") or "root"
        assert re.search(
            rf"held by {user} \(pid {running.pid}\) since \d{{4}}-\d\d-\d\dT[\d:]+Z", done.err
        ), done.err
        assert "127.0.0.1:" in done.err  # which device it is about
        assert not second.journal.exists() or '"change.intent"' not in second.journal.read_text()
        # Each device was changed by one run only.
        assert emu.device("dc-rtr").config_changes == 2  # inet-dc and wan-dc-h2
        assert emu.device("h2-rtr").config_changes == 1  # its end of wan-dc-h2


def lock_script(address: str, hold: bool) -> str:
    """Take the lock of `address` in the machine-wide directory (and hold it if asked)."""
    return textwrap.dedent(
        f"""
        import sys, time
        from isolement.journal.lock import NetworkLock
        from isolement.model.errors import LockedError
        try:
            with NetworkLock(["{address}"], what="test"):
                print("taken", flush=True)
                if {hold}:
                    time.sleep(30)
        except LockedError as exc:
            print("refused:", exc, flush=True)
        """
    )


@pytest.mark.skipif(
    os.geteuid() != 0 or not SYSTEM_PYTHON.exists(), reason="needs root to run a second user"
)
def test_another_user_is_refused_with_who_holds_the_lock_then_may_take_it() -> None:
    # The real machine-wide directory, and an address no inventory uses (a port per test run).
    address = f"198.18.0.1:{os.getpid()}"
    holder = subprocess.Popen(
        [sys.executable, "-c", lock_script(address, hold=True)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "taken"
        other = subprocess.run(
            [str(SYSTEM_PYTHON), "-c", lock_script(address, hold=False)],
            user=65534,
            group=65534,
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
            check=False,
        )
        assert other.stdout.startswith("refused:"), other.stdout + other.stderr
        assert f"held by root (pid {holder.pid})" in other.stdout
        assert address in other.stdout
    finally:
        holder.kill()
        holder.wait()
    again = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", lock_script(address, hold=False)],
        user=65534,
        group=65534,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert again.stdout.strip() == "taken", again.stdout + again.stderr


def test_lock_directory_is_shared_by_every_user_and_sticky(tmp_path: Path) -> None:
    from isolement.journal.lock import NetworkLock

    lock_dir = tmp_path / "locks"
    with NetworkLock(["198.18.0.1:22"], what="test", directory=lock_dir):
        mode = lock_dir.stat().st_mode & 0o7777
        assert mode == 0o1777, oct(mode)
        files = list(lock_dir.iterdir())
        assert files and all(f.stat().st_mode & 0o666 == 0o666 for f in files)


def test_a_symlink_planted_as_a_lock_file_is_not_followed(tmp_path: Path) -> None:
    from isolement.journal.lock import NetworkLock
    from isolement.model.errors import LockedError

    lock_dir = tmp_path / "locks"
    with NetworkLock(["198.18.0.1:22"], what="test", directory=lock_dir):
        pass
    target = tmp_path / "precious"
    target.write_text("keep me")
    for planted in lock_dir.iterdir():
        planted.unlink()
        planted.symlink_to(target)
    with (
        pytest.raises(LockedError, match="not a plain file"),
        NetworkLock(["198.18.0.1:22"], what="test", directory=lock_dir),
    ):
        pass
    assert target.read_text() == "keep me"
