"""A run killed mid-change on a device with a candidate configuration (issue #10 item 2),
through the real command line against the lab: `isolement cut` SIGKILLed once the device's
`change.intent` is journaled and its lines wait, uncommitted, in the candidate (which the
emulated device keeps across sessions, as a real one does); the next `cut` recognises them as
isolement's own from its journal, converges and says so in the journal; `restore --all` then
puts the device back exactly. The h4-fw firewall (PAN-OS) and the h5-sw switch (Junos, its
commits taking a second in the lab, lab/hospital-group.yaml) are the lab's two such devices.

SOURCES for the candidate outputs the drivers read: tests/unit/test_candidate_recovery.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from labtools import (
    HOSTS,
    INTERNET_HOST,
    ISOLEMENT,
    QUICK_COMMIT_S,
    control,
    emulated_state,
    eventually,
    journal_records,
    ping,
)


class Case(NamedTuple):
    node: str
    link: str
    interface: str
    probe: tuple[str, str]  # (site, address): real packets that cross the link


CASES = [
    Case("h4-fw", "inet-h4", "ethernet1/1", ("h4", INTERNET_HOST)),
    Case("h5-sw", "wan-dc-h5", "ge-0/0/0", ("dc", HOSTS["h5"])),
]


def _playbooks(directory: Path, link: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cut-one.yaml").write_text(
        f"name: cut-one\ncut:\n  - select: {{link: [{link}]}}\n    method: auto\n"
    )
    return directory


def _uncommitted(state: dict[str, Any]) -> bool:
    return bool(state.get("pending_changes") or state.get("uncommitted"))


def _own_lines_pending(case: Case, state: dict[str, Any]) -> bool:
    """The candidate holds isolement's change, the running configuration does not."""
    if case.node == "h4-fw":
        candidate = [r["name"] for r in state["candidate_rules"]]
        running = [r["name"] for r in state["security_rules"]]
        return any(n.startswith("isolement-") for n in candidate) and not any(
            n.startswith("isolement-") for n in running
        )
    line = f"set interfaces {case.interface} disable"
    return line in state["candidate"] and line not in state["configuration"]


def _cut(case: Case, state: dict[str, Any]) -> bool:
    if case.node == "h4-fw":
        return case.interface in state["blocked"]
    return state["admin_up"][case.interface] is False


def _kill_mid_change(state_dir: Path, playbooks: Path, node: str) -> None:
    env = {
        **os.environ,
        "ISOLEMENT_STATE_DIR": str(state_dir),
        "ISOLEMENT_ANCHOR_DIR": str(state_dir.parent / "anchors"),  # as labtools.run_cli
    }
    run = subprocess.Popen(
        [ISOLEMENT, "--playbooks", str(playbooks), "cut", "cut-one", "--reason", "x", "--yes"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        # Right after the device's intent is journaled, as soon as its lines are in the
        # candidate: the commit (a second or more) has not put them in effect yet.
        while not any(
            r["event"] == "change.intent" and r.get("device") == node
            for r in journal_records(state_dir)
        ):
            assert run.poll() is None and time.monotonic() < deadline, "no change.intent"
            time.sleep(0.01)
        while not _uncommitted(emulated_state(node)):
            assert run.poll() is None and time.monotonic() < deadline, "nothing in the candidate"
            time.sleep(0.005)
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait()


@pytest.fixture
def real_commit_time(case: Case) -> Iterator[None]:
    """The device's commit takes the time the lab gives it (its control file removed): the
    window between the candidate and the commit that this test kills the run in. The quick
    commit of the other tests is put back after."""
    control(case.node, None)
    yield
    control(case.node, {"commit_seconds": QUICK_COMMIT_S})


@pytest.mark.parametrize("case", CASES, ids=[c.node for c in CASES])
def test_a_cut_killed_before_its_commit_converges_on_the_next_run(
    cli, real_commit_time: None, state_dir: Path, tmp_path: Path, case: Case
) -> None:
    playbooks = _playbooks(tmp_path / "playbooks", case.link)
    before = emulated_state(case.node)
    assert ping(*case.probe), f"{case.probe} must answer before the cut"

    _kill_mid_change(state_dir, playbooks, case.node)

    left = emulated_state(case.node)
    assert _own_lines_pending(case, left), left
    assert not _cut(case, left)
    assert not any(
        r["event"] == "change.applied" and r.get("device") == case.node
        for r in journal_records(state_dir)
    )

    again = cli("--playbooks", str(playbooks), "cut", "cut-one", "--reason", "again", "--yes")

    assert again.returncode == 0, again.stdout + again.stderr
    assert "isolement's own uncommitted lines" in again.stdout
    now = emulated_state(case.node)
    assert _cut(case, now) and not _uncommitted(now), now
    assert not ping(*case.probe), f"{case.probe} still answers after the re-run"
    (applied,) = [
        r
        for r in journal_records(state_dir)
        if r["event"] == "change.applied" and r.get("device") == case.node
    ]
    assert "left by a run whose outcome is not journaled" in applied["recovered"]

    restored = cli(
        "--playbooks",
        str(playbooks),
        "restore",
        "cut-one",
        "--all",
        "--approved-by",
        "pytest",
        "--reason",
        "crash drill over",
        "--yes",
    )

    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "DRIFT" not in restored.stdout and "reopened by hand" not in restored.stdout
    assert emulated_state(case.node) == before
    assert eventually(lambda: ping(*case.probe)), f"{case.probe} must answer after restore"
