"""Proof in the lab with no namespace probe at all, as in production: `verify` and a staged
reconnection prove each WAN cut with probes the devices send themselves (dc-rtr's FRR ping,
dc-core's emulated NX-OS ping answered by its namespace's real data plane), through the real
command line, and each answer is checked against the lab's own truth (a ping between hosts).

The backup link wan-h1-h2 (shut in normal times) has no probe crossing it alone: verify says it
is cut by read-back state only, and exits 8, never 0.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from labtools import HOSTS, REPO, journal_records, lab_inventory_copy, ping, pings

APPROVAL = ("--approved-by", "Dr Martin, crisis cell", "--reason", "doubt lifted", "--yes")
EXIT_OK, EXIT_STATE_ONLY = 0, 8
# (probe, device that sends it, destination host, the one link it crosses)
FROM_DEVICES = [
    ("rtr-to-h1", "dc-rtr", "h1", "wan-dc-h1"),
    ("rtr-to-h2", "dc-rtr", "h2", "wan-dc-h2"),
    ("core-to-h3", "dc-core", "h3", "wan-dc-h3"),
    ("core-to-h4", "dc-core", "h4", "wan-dc-h4"),
    ("core-to-h5", "dc-core", "h5", "wan-dc-h5"),
]


def from_devices(data: dict[str, Any]) -> None:
    """The namespace probes removed; the devices' own probes instead."""
    data["probes"] = [
        {"name": name, "from_device": device, "to": HOSTS[site], "crosses": [link]}
        for name, device, site, link in FROM_DEVICES
    ]


def playbook(tmp_path: Path) -> Path:
    book = yaml.safe_load((REPO / "playbooks" / "cut-intersite.yaml").read_text())
    book["name"] = "cut-intersite-devices"
    book["stages"] = [
        {
            "name": "clinical-h3",
            "open": {"link": "wan-dc-h3"},
            "checks": {"passes": ["core-to-h3"], "blocked": ["core-to-h4", "rtr-to-h1"]},
            "settle_s": 10,
        }
    ]
    path = tmp_path / "cut-intersite-devices.yaml"
    path.write_text(yaml.safe_dump(book))
    return path


def test_device_probes_prove_the_cut_and_a_stage_without_any_namespace_probe(
    cli, tmp_path: Path, state_dir: Path
) -> None:
    inventory = lab_inventory_copy(tmp_path, from_devices)
    book = str(playbook(tmp_path))
    # Before the cut each device's probe really passes: once cut, "blocked" is the cut's doing.
    before = json.loads(cli("--json", "verify", book, inventory=inventory).stdout)
    assert {p["name"]: p["result"] for p in before["probes"]} == {
        name: "passes" for name, *_ in FROM_DEVICES
    }, before["probes"]
    assert cli("cut", book, "--reason", "drill", "--yes", inventory=inventory).returncode == 0
    reached = pings([("dc", HOSTS[site]) for site in ("h1", "h2", "h3", "h4", "h5")])
    for site in ("h1", "h2", "h3", "h4", "h5"):
        assert not reached[("dc", HOSTS[site])], f"dc -> {site} passes"  # the truth

    done = cli("--json", "verify", book, inventory=inventory)
    assert done.returncode == EXIT_STATE_ONLY, done.stdout + done.stderr
    data = json.loads(done.stdout)
    results = {p["name"]: p["result"] for p in data["probes"]}
    assert results == dict.fromkeys(results, "blocked"), data["probes"]
    assert set(results) == {name for name, *_ in FROM_DEVICES}
    for *_, link in FROM_DEVICES:
        assert data["proof"][link] == "packets", data["proof"]
    assert data["proof"]["wan-h1-h2"] == "state"
    assert data["verdict"] == "contained-by-state"

    opened = cli("restore", book, "--stage", "clinical-h3", *APPROVAL, inventory=inventory)
    assert opened.returncode == EXIT_OK, opened.stdout + opened.stderr
    assert "Stage clinical-h3: OPEN and verified by packets." in opened.stdout
    assert ping("dc", HOSTS["h3"]) and not ping("dc", HOSTS["h4"])  # the truth agrees
    record = next(r for r in journal_records(state_dir) if r["event"] == "stage.opened")
    assert record["verified"] is True and not record.get("unproven")
