"""A drill with injected faults on the lab shaped like the seeds' group, its report checked
against what really happened: the devices read directly (vtysh, nft, the emulators' state), the
journal's records of what was sent, and packets of the test's own.

One lab per machine: this module stands the seed-shaped lab up once for its tests, after taking
down the quick lab the earlier modules share (hence its name: it runs last).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from labtools import ISOLEMENT, emulated_state, eventually, ping, ruleset, vtysh

pytestmark = pytest.mark.lab

ROUTERS = ["dc-rtr", "sag-rtr", "jv-rtr", "sse-rtr", "sv-rtr"]
FIREWALLS = ["pdl-fw"]
EMULATED = ["dc-vpn", "bzh-fw", "ker-sw", "ran-sw", "iro-sw", "est-sw", "vnd-sw"]
FAULTS = "device-down,session-drop,unknown-link,host-key-changed"
SSE_HOST, KER_HOST = "198.18.34.10", "198.18.20.10"


def configs() -> dict[str, str]:
    """Every device's configuration as read on the device itself, never through isolement."""
    found = {r: vtysh(r, "show running-config") for r in ROUTERS}
    found |= {f: ruleset(f) for f in FIREWALLS}
    found |= {e: json.dumps(emulated_state(e), sort_keys=True) for e in EMULATED}
    return found | {f"{e} nft": ruleset(e) for e in EMULATED}


# Seconds each device is given per command in the drill (6 by default): the frozen device's
# handshakes are waited out at every read of the drill; 3 s is still twice the slowest healthy
# answer here (a PAN-OS commit, 1.2 s).
DRILL_TIMEOUT_S = "3"


def run(*args: str, state_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ISOLEMENT_DRILL_TIMEOUT_S=DRILL_TIMEOUT_S)
    if state_dir is not None:
        env["ISOLEMENT_STATE_DIR"] = str(state_dir)
    return subprocess.run(
        [ISOLEMENT, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture(scope="module")
def grand_ouest() -> Iterator[dict[str, str]]:
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    assert run("lab", "down").returncode == 0  # the quick lab, if an earlier module left it up
    up = run("lab", "up", "--topology", "grand-ouest")
    assert up.returncode == 0, up.stderr
    try:
        yield configs()
    finally:
        down = run("lab", "down")
        assert down.returncode == 0, down.stderr


def test_the_fibre_the_fault_hides_is_a_real_path(grand_ouest: dict[str, str]) -> None:
    """With both their WAN links shut at the datacentre, as a cut leaves them, Jules Verne and
    its SMR centre still reach each other: through the fibre."""
    wans = ["interface wan-jv", "shutdown", "interface wan-sse", "shutdown"]
    vtysh("dc-rtr", "configure terminal", *wans)
    try:
        assert not ping("dc", SSE_HOST)
        assert eventually(lambda: ping("jv", SSE_HOST))
    finally:
        vtysh("dc-rtr", "configure terminal", *[w.replace("shutdown", "no shutdown") for w in wans])
    assert eventually(lambda: ping("dc", "198.18.32.10") and ping("dc", SSE_HOST))
    assert configs() == grand_ouest


@pytest.fixture(scope="module")
def drilled(grand_ouest: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Any:
    state = tmp_path_factory.mktemp("drill-state")
    done = run(
        "lab", "drill", "cut-all", "--topology", "grand-ouest", "--faults", FAULTS, state_dir=state
    )
    [directory] = sorted((state / "drills").iterdir())
    report = json.loads((directory / "drill.json").read_text())
    journal = [json.loads(line) for line in (directory / "journal.jsonl").read_text().splitlines()]
    return done, report, journal, directory, state


def _first_cut(journal: list[dict[str, Any]]) -> list[dict[str, Any]]:
    runs = [r["run"] for r in journal if r["event"] == "run.started" and r["direction"] == "cut"]
    return [r for r in journal if r.get("run") == runs[0]]


def test_the_drill_passes_and_leaves_every_device_as_it_was(
    grand_ouest: dict[str, str], drilled: Any
) -> None:
    done, report, _, _, _ = drilled

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "DRILL PASSED" in done.stdout
    [playbook] = report["playbooks"]
    assert all(playbook["checks"].values()), playbook["checks"]
    assert configs() == grand_ouest
    assert ping("jv", SSE_HOST) and ping("dc", KER_HOST)


def test_a_device_down_is_not_touched_and_its_link_is_cut_at_the_other_end(drilled: Any) -> None:
    _, report, journal, _, _ = drilled
    fault = next(f for f in report["playbooks"][0]["faults"] if f["fault"] == "device-down=ker-sw")
    first = _first_cut(journal)

    assert "pre-flight" in fault["tool"] and "nothing sent to it" in fault["tool"]
    assert f"did not finish within {DRILL_TIMEOUT_S} s" in fault["tool"]  # frozen: timed out
    assert not [r for r in first if r["event"] == "change.intent" and r["device"] == "ker-sw"]
    sag = [r for r in first if r["event"] == "change.applied" and r["device"] == "sag-rtr"]
    assert any(c["link"] == "wan-sag-ker" for r in sag for c in r["changes"])


def test_a_host_key_changed_refuses_the_device(drilled: Any) -> None:
    _, report, journal, _, _ = drilled
    fault = next(f for f in report["playbooks"][0]["faults"] if f["fault"].startswith("host-key"))

    assert fault["fault"] == "host-key-changed=ran-sw"
    assert "HOST KEY MISMATCH" in fault["tool"]
    first = _first_cut(journal)
    assert not [r for r in first if r["event"] == "change.intent" and r["device"] == "ran-sw"]


def test_a_session_dropped_mid_change_is_retried_and_the_report_says_so(drilled: Any) -> None:
    _, report, journal, _, _ = drilled
    first = _first_cut(journal)
    intents = [r for r in first if r["event"] == "change.intent" and r["device"] == "iro-sw"]
    outcomes = [
        r["event"] for r in first if r.get("device") == "iro-sw" and r["event"] != "change.intent"
    ]
    clocked = {d["device"]: d for d in report["playbooks"][0]["clock"]["devices"]}

    assert len(intents) >= 2  # sent, dropped, sent again
    assert outcomes[-1] == "change.applied"
    assert clocked["iro-sw"]["attempts"] == intents[-1]["attempt"] >= 2


def test_the_unknown_link_is_found_by_packets_and_closed_by_the_team(drilled: Any) -> None:
    done, report, _, _, _ = drilled
    [playbook] = report["playbooks"]
    fault = next(f for f in playbook["faults"] if f["fault"] == "unknown-link=fibre-jv-sse")

    assert "traffic still passes: jv-to-sse" in fault["tool"]
    assert "jv-sse-fibre (crosses fibre-jv-sse)" in fault["tool"]  # the drill's own packets
    assert "STILL OPEN: jv-sse-fibre" in done.stdout
    assert playbook["clock"]["cut_runs"] == 2  # the team's second run closed it


def test_the_clock_times_containment_each_device_wave_and_stage(drilled: Any) -> None:
    _, report, journal, directory, state = drilled
    clock = report["playbooks"][0]["clock"]
    applied = {r["device"] for r in _first_cut(journal) if r["event"] == "change.applied"}

    assert clock["contain_s"] > max(d["seconds"] for d in clock["devices"]) > 0
    assert {d["device"] for d in clock["devices"]} >= applied
    assert [w["wave"] for w in clock["waves"]] == list(range(1, len(clock["waves"]) + 1))
    assert [s["stage"] for s in clock["stages"]] == [
        "clinical-pdl",
        "clinical-bzh",
        "rehabilitation",
        "partners",
        "internet",
    ]
    assert all(s["outcome"] == "verified" and s["seconds"] > 0 for s in clock["stages"])
    for name in ("drill.md", "report.md", "report.html", "report.json", "report.csv"):
        assert (directory / name).stat().st_size > 0, name
    history = run("lab", "drill", "--history", state_dir=state)
    assert history.returncode == 0 and directory.name in history.stdout
