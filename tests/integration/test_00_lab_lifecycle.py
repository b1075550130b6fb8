"""`lab up` builds a working lab and `lab down` removes exactly what it created.

Runs before the other integration modules (name order), while the session lab is not up yet.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from labtools import EMULATED, ISOLEMENT, LAB_DIR, needs_root


def machine_snapshot() -> dict[str, object]:
    def out(*command: str) -> str:
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout

    return {
        "netns": out("ip", "netns", "list"),
        "links": out("ip", "-o", "link", "show").count("\n"),
        "link_names": sorted(
            line.split(":")[1].strip() for line in out("ip", "-o", "link", "show").splitlines()
        ),
        "routes": out("ip", "-4", "route", "show"),
        "addresses": out("ip", "-4", "-o", "addr", "show"),
        "run_sshd": Path("/run/sshd").exists(),
        "lab_dir": LAB_DIR.exists(),
    }


@needs_root
def test_lab_down_removes_exactly_what_lab_up_created() -> None:
    before = machine_snapshot()
    assert not before["lab_dir"], "a lab is already up; take it down before the tests"
    up = subprocess.run([ISOLEMENT, "lab", "up"], capture_output=True, text=True, check=False)
    try:
        assert up.returncode == 0, up.stderr
        during = machine_snapshot()
        assert "iso-dc-rtr" in str(during["netns"]) and "iso-mgmt" in str(during["netns"])
        assert "blackhole 198.18.0.0/15" in str(during["routes"])
        status = subprocess.run(
            [ISOLEMENT, "lab", "status"], capture_output=True, text=True, check=False
        )
        assert status.returncode == 0 and "DEAD" not in status.stdout
        manifest = json.loads((LAB_DIR / "manifest.json").read_text())
        # zebra + staticd per FRR router, sshd per FRR router and nftables firewall, one
        # emulator per vendor device, the internet host's web server
        assert len(manifest["processes"]) == 2 * 3 + 6 + len(EMULATED) + 1
        assert status.stdout.count("running") == len(manifest["processes"])
    finally:
        down = subprocess.run(
            [ISOLEMENT, "lab", "down"], capture_output=True, text=True, check=False
        )
    assert down.returncode == 0, down.stderr
    assert machine_snapshot() == before


@needs_root
def test_lab_status_says_not_up_with_non_zero_exit() -> None:
    status = subprocess.run(
        [ISOLEMENT, "lab", "status"], capture_output=True, text=True, check=False
    )
    assert status.returncode != 0
    assert "not up" in status.stdout
