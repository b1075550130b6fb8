"""Bubbles on the emulated firewalls (#12 §2), through the real command line and checked with
real packets: a reconnection stage lets one web flow per hospital through the internet cut of
its FortiGate (h3), PAN-OS (h4) and ASA (h5); the flow passes while the stage is open, nothing
else does, and nothing passes once it is closed; the full restore leaves each firewall exactly
as it was before the cut."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import yaml
from labtools import (
    HOSTS,
    INTERNET_HOST,
    at_once,
    emulated_state,
    journal_records,
    ping,
    ruleset,
    web,
)

APPROVAL = ("--approved-by", "Dr Martin, crisis cell", "--reason", "doubt lifted", "--yes")

FIREWALLS = {"h3": "h3-fw", "h4": "h4-fw", "h5": "h5-fw"}
PLAYBOOK = {
    "name": "firewall-bubbles",
    "description": "Internet exits of hospitals 3 to 5 cut, then one web service let through",
    "cut": [{"select": {"link": ["inet-h3", "inet-h4", "inet-h5"]}, "method": "deny"}],
    "stages": [
        {
            "name": "web-portal",
            "description": "Each hospital reaches the internet host's web server, nothing else",
            "allow": [
                {
                    "via": f"inet-{site}",
                    "flows": [
                        {
                            "protocol": "tcp",
                            "source": f"{HOSTS[site].rsplit('.', 1)[0]}.0/24",
                            "destination": f"{INTERNET_HOST}/32",
                            "port": 80,
                        }
                    ],
                }
                for site in FIREWALLS
            ],
            "checks": {
                "passes": [f"{site}-web" for site in FIREWALLS],
                "blocked": [f"{site}-to-internet" for site in FIREWALLS],
            },
        }
    ],
}


def anything_out() -> dict[str, bool]:
    """Each hospital's web flow and ping to the internet host, sent side by side: which pass."""
    return at_once(
        {f"{site} web": partial(web, site) for site in FIREWALLS}
        | {f"{site} ping": partial(ping, site, INTERNET_HOST) for site in FIREWALLS}
    )


def firewalls_now() -> dict[str, object]:
    """Each firewall's own running state (its emulator's, not isolement's reading of it) and
    the nftables ruleset its namespace's data plane holds."""
    return {fw: (emulated_state(fw), ruleset(fw)) for fw in FIREWALLS.values()}


def test_a_bubble_opens_and_closes_on_each_firewall_with_real_packets_and_restores_exactly(
    cli, tmp_path: Path, state_dir: Path
) -> None:
    book = tmp_path / "firewall-bubbles.yaml"
    book.write_text(yaml.safe_dump(PLAYBOOK, sort_keys=False))
    before = firewalls_now()
    assert all(web(site) for site in FIREWALLS), "the lab's web flows pass before the cut"

    cut = cli("cut", str(book), "--reason", "ransomware", "--yes")
    assert cut.returncode == 0, cut.stdout + cut.stderr
    passing = anything_out()
    assert not any(passing.values()), passing

    opened = cli("restore", str(book), "--stage", "web-portal", *APPROVAL)
    assert opened.returncode == 0, opened.stdout + opened.stderr
    # Real packets: the chosen flow passes each firewall, its ping still does not.
    passing = anything_out()
    for site, fw in FIREWALLS.items():
        assert passing[f"{site} web"], f"the bubble on {fw} lets no web flow through"
        assert not passing[f"{site} ping"], f"the bubble on {fw} lets ICMP through"
        state = emulated_state(fw)
        assert state["bubbles"], f"{fw} holds no bubble of its own"
        assert state["blocked"], f"{fw}'s deny went with the bubble"
    record = [r for r in journal_records(state_dir) if r["event"] == "stage.opened"][-1]
    assert record["verified"] is True
    assert record["checks"] == {
        **{f"{site}-web": "passes" for site in FIREWALLS},
        **{f"{site}-to-internet": "blocked" for site in FIREWALLS},
    }

    closed = cli("restore", str(book), "--close", "web-portal", "--reason", "relapse", "--yes")
    assert closed.returncode == 0, closed.stdout + closed.stderr
    passing = anything_out()
    assert not any(passing.values()), passing
    assert not any("bubbles" in emulated_state(fw) for fw in FIREWALLS.values())

    done = cli("restore", str(book), "--all", *APPROVAL)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("configuration identical to before the cut") == len(FIREWALLS)
    assert firewalls_now() == before
    assert all(web(site) and ping(site, INTERNET_HOST) for site in FIREWALLS)
