"""An emulated firewall restarted mid-containment (#12 §3), on the real lab: the ASA of hospital 5
(h5-fw) gets SIGHUP, which makes its lab process reboot it from what it last saved (`write
memory`), and its namespace's data plane follows. With persistence (the playbook's default) the
cut was saved and holds, as real packets show; without it the cut is gone: `verify` says
REOPENED with a non-zero exit, and `cut` closes it again."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from labtools import (
    INTERNET_HOST,
    LAB_DIR,
    emulated_state,
    eventually,
    journal_records,
    lab_pid,
    ping,
)

EXIT_OK, EXIT_PARTIAL = 0, 3
FIREWALL, INTERFACE, LINK = "h5-fw", "GigabitEthernet0/0", "inet-h5"


def playbook(directory: Path, *, persist: bool) -> Path:
    path = directory / f"cut-{LINK}.yaml"
    path.write_text(
        f"name: cut-{LINK}\ncut:\n  - select: {{link: [{LINK}]}}\n    method: deny\n"
        f"persist: {str(persist).lower()}\n"
    )
    return path


def restart_firewall() -> None:
    """The ASA reboots: its running configuration becomes its startup one. Returns once its
    lab process says the restart is in effect (its data plane applied)."""
    log = LAB_DIR / FIREWALL / "node.log"
    done = f"{FIREWALL}: restarted from its saved configuration"
    restarts = log.read_text().count(done)
    os.kill(lab_pid(f"{FIREWALL}/cisco_asa"), signal.SIGHUP)
    assert eventually(lambda: log.read_text().count(done) > restarts, timeout=10)


def test_a_saved_cut_holds_across_the_asas_restart(cli, tmp_path: Path, state_dir: Path) -> None:
    book = playbook(tmp_path, persist=True)
    cut = cli("cut", str(book), "--reason", "ransomware at h5", "--yes")
    assert cut.returncode == EXIT_OK, cut.stdout + cut.stderr
    saved = {
        r["device"]: r.get("saved")
        for r in journal_records(state_dir)
        if r["event"] == "change.applied"
    }
    assert saved == {FIREWALL: "saved: write memory"}, saved

    restart_firewall()

    assert INTERFACE in emulated_state(FIREWALL)["blocked"]
    assert not ping("h5", INTERNET_HOST), "h5 reaches the internet after the ASA's restart"
    verify = cli("verify", str(book))
    assert verify.returncode == EXIT_OK, verify.stdout + verify.stderr
    assert f"{LINK}: proven by packets" in verify.stdout, verify.stdout
    assert "reopened" not in verify.stdout.lower(), verify.stdout


def test_a_cut_never_saved_is_reopened_by_the_asas_restart_and_cut_again(
    cli, tmp_path: Path
) -> None:
    book = playbook(tmp_path, persist=False)
    cut = cli("cut", str(book), "--reason", "ransomware at h5", "--yes")
    assert cut.returncode == EXIT_OK, cut.stdout + cut.stderr
    assert not ping("h5", INTERNET_HOST)

    restart_firewall()

    # Real packets: the path is open again.
    assert eventually(lambda: ping("h5", INTERNET_HOST), timeout=10), "h5 still blocked"
    assert INTERFACE not in emulated_state(FIREWALL)["blocked"]
    verify = cli("verify", str(book))
    assert verify.returncode == EXIT_PARTIAL, verify.stdout + verify.stderr
    assert f"REOPENED {LINK}" in verify.stdout, verify.stdout

    again = cli("cut", str(book), "--reason", "reopened by a restart", "--yes")
    assert again.returncode == EXIT_OK, again.stdout + again.stderr
    assert eventually(lambda: not ping("h5", INTERNET_HOST), timeout=10)
