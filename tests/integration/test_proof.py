"""Proof in the lab without the namespace probes: every probe is sent from the controller (the
root namespace, where isolement runs), and each answer is checked against the truth.

The controller reaches the lab's data plane only where lab/hospital-group.yaml routes it: site
h2's addresses (198.18.30.0/23, its in-band management) through dc-rtr and the wan-dc-h2 link.
The rest of 198.18.0.0/15 is a blackhole on the host, so those probes cannot run: verify and the
stages must say "not proven" for them, honestly, and never count them as passing or blocked.
(Device-sourced probes carry the packet proof for those links in the lab.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from labtools import HOSTS, REPO, journal_records, lab_inventory_copy, ping

APPROVAL = ("--approved-by", "Dr Martin, crisis cell", "--reason", "doubt lifted", "--yes")
EXIT_OK, EXIT_STATE_ONLY = 0, 8


def from_controller(data: dict[str, Any]) -> None:
    """Each of the lab's namespace probes, sent from the controller instead."""
    data["probes"] = [
        {
            "name": f"ctl-{p['name']}",
            "from_controller": True,
            "to": p["to"],
            **({"port": p["port"]} if "port" in p else {}),
            "crosses": p.get("crosses", []),
        }
        for p in data["probes"]
    ]


def playbook(tmp_path: Path) -> Path:
    book = yaml.safe_load((REPO / "playbooks" / "cut-intersite.yaml").read_text())
    book["name"] = "cut-intersite-proof"
    book["stages"] = [
        # The controller's probe to h2 crosses wan-dc-h2: this stage is proven by packets.
        {
            "name": "clinical-h2",
            "open": {"link": "wan-dc-h2"},
            "checks": {"passes": ["ctl-dc-to-h2"]},
            "settle_s": 10,
        },
        # The controller has no route to h1: this stage's check cannot run.
        {
            "name": "clinical-h1",
            "open": {"link": "wan-dc-h1"},
            "checks": {"passes": ["ctl-dc-to-h1"]},
            "settle_s": 0,
        },
    ]
    path = tmp_path / "cut-intersite-proof.yaml"
    path.write_text(yaml.safe_dump(book))
    return path


def test_controller_probes_prove_what_they_reach_and_say_not_proven_elsewhere(
    cli, tmp_path: Path, state_dir: Path
) -> None:
    inventory = lab_inventory_copy(tmp_path, from_controller)
    book = str(playbook(tmp_path))
    assert cli("cut", book, "--reason", "drill", "--yes", inventory=inventory).returncode == 0
    assert not ping("dc", HOSTS["h2"]) and not ping("dc", HOSTS["h1"])  # the truth

    done = cli("--json", "verify", book, inventory=inventory)
    assert done.returncode == EXIT_STATE_ONLY, done.stdout + done.stderr
    data = json.loads(done.stdout)
    results = {p["name"]: p for p in data["probes"]}
    # The one path the controller has into the data plane: really sent, really blocked.
    assert results["ctl-dc-to-h2"]["result"] == "blocked", results["ctl-dc-to-h2"]
    assert data["proof"]["wan-dc-h2"] == "packets"
    # Everything else is behind the host's blackhole: not sent, so proven only by state.
    assert results["ctl-dc-to-h1"]["result"] == "unavailable"
    assert "blackhole" in results["ctl-dc-to-h1"]["detail"]
    assert data["proof"]["wan-dc-h1"] == "state"
    assert data["verdict"] == "contained-by-state"
    text = cli("verify", book, inventory=inventory).stdout
    assert "  wan-dc-h2: proven by packets: ctl-dc-to-h2 blocked" in text
    assert "  wan-dc-h1: read-back state only" in text
    assert "CONTAINED BY READ-BACK STATE ONLY" in text

    first = cli("restore", book, "--stage", "clinical-h2", *APPROVAL, inventory=inventory)
    assert first.returncode == EXIT_OK, first.stdout + first.stderr
    assert "Stage clinical-h2: OPEN and verified by packets." in first.stdout
    assert ping("dc", HOSTS["h2"])  # the truth: h2 is back

    second = cli("restore", book, "--stage", "clinical-h1", *APPROVAL, inventory=inventory)
    assert second.returncode == EXIT_STATE_ONLY, second.stdout + second.stderr
    assert "Stage clinical-h1: opened, not proven (checks that could not run: ctl-dc-to-h1)" in (
        second.stdout
    )
    assert ping("dc", HOSTS["h1"])  # opened indeed, and left open: not closed for a blind check
    opened = {r["stage"]: r for r in journal_records(state_dir) if r["event"] == "stage.opened"}
    assert opened["clinical-h2"]["verified"] is True
    assert opened["clinical-h1"]["verified"] is False
    assert "ctl-dc-to-h1" in opened["clinical-h1"]["unproven"]
    assert not any(r["event"] == "stage.closed" for r in journal_records(state_dir))
