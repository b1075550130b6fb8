"""The real command line against the real lab: cut, verify, idempotence, restore, with packets."""

from __future__ import annotations

import json
from pathlib import Path

from labtools import (
    HOSTS,
    INTERNET_HOST,
    device_configs,
    eventually,
    journal_records,
    ping,
    pings,
    running_config,
    vtysh_config,
)


def test_cut_intersite_stops_packets_between_sites_but_not_inside_them(cli) -> None:
    assert ping("dc", HOSTS["h1"]) and ping("h1", HOSTS["h2"])  # the lab works before
    done = cli("cut", "cut-intersite", "--reason", "ransomware at h1", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    pairs = [("dc", "h1"), ("dc", "h2"), ("h1", "h2"), ("h1", "dc"), ("h2", "dc")]
    reached = pings([(a, HOSTS[b]) for a, b in pairs])
    for a, b in pairs:
        assert not reached[(a, HOSTS[b])], f"{a} still reaches {b} after cut-intersite"
    assert ping("dc", "198.18.11.2"), "inside a site, packets must still pass"
    assert ping("h1", "198.18.21.2")
    assert ping("h2", INTERNET_HOST), "cut-intersite must leave the internet exits up"
    verify = cli("verify", "cut-intersite")
    # No lab probe crosses the backup link alone: its cut is known by read-back state only.
    assert verify.returncode == 8, verify.stdout
    assert "  wan-dc-h1: proven by packets: dc-to-h1 blocked" in verify.stdout
    assert "  wan-h1-h2: read-back state only" in verify.stdout
    assert "CONTAINED BY READ-BACK STATE ONLY" in verify.stdout


def test_cut_internet_stops_every_site_reaching_the_internet_host(cli) -> None:
    assert all(ping(site, INTERNET_HOST) for site in HOSTS)
    done = cli("cut", "cut-internet", "--reason", "exfiltration suspected", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    reached = pings([(site, INTERNET_HOST) for site in HOSTS])
    for site in HOSTS:
        assert not reached[(site, INTERNET_HOST)], f"{site} still reaches the internet host"
    assert ping("dc", HOSTS["h1"]), "cut-internet must leave the links between sites up"
    assert (
        "drop" in device_configs()["h1-fw"] and "table inet isolement" in device_configs()["h1-fw"]
    )


def test_second_cut_sends_no_configuration(cli, state_dir: Path) -> None:
    assert cli("cut", "cut-all", "--reason", "first", "--yes").returncode == 0
    # Handles change whenever a rule is added again; the running configs would show any edit.
    configs = device_configs(handles=True)
    records_before = len(journal_records(state_dir))
    # h2-fw, now out of reach behind the cut WAN link, cannot be read: the playbooks that target
    # it are "unknown, last seen cut", never "nothing to do" (exit 6); cut-intersite's links are
    # each cut at an end that can be read.
    expected = {"cut-all": (6, "unknown"), "cut-intersite": (0, "nothing-to-do")}
    expected["cut-internet"] = (6, "unknown")
    for playbook, (code, outcome) in expected.items():
        again = cli("--json", "cut", playbook, "--reason", "second", "--yes")
        assert again.returncode == code, again.stdout + again.stderr
        report = json.loads(again.stdout)
        assert report["outcome"] == outcome
        assert report["steps"] == []
        assert set(report["unknown"]) == ({"inet-h2"} if code else set())
    new = journal_records(state_dir)[records_before:]
    assert [r["event"] for r in new if str(r["event"]).startswith("change.")] == []
    assert device_configs(handles=True) == configs


def test_restore_all_puts_back_exact_config_and_every_probe(cli, lab) -> None:
    paths = [(a, addr) for a in HOSTS for addr in [*HOSTS.values(), INTERNET_HOST]]
    probes_before = pings(paths)
    assert "interface wan-h1\n shutdown" in lab["h2-rtr"]  # the port shut before any cut
    # Internet first: once the WAN is cut, h2's in-band devices cannot be reached any more.
    for playbook in ("cut-internet", "cut-intersite"):
        assert cli("cut", playbook, "--reason", "drill", "--yes").returncode == 0
    assert device_configs() != lab
    for playbook in ("cut-intersite", "cut-internet"):
        done = cli(
            "restore",
            playbook,
            "--all",
            "--approved-by",
            "Dr Martin, crisis cell",
            "--reason",
            "doubt lifted",
            "--yes",
        )
        assert done.returncode == 0, done.stdout + done.stderr
    assert device_configs() == lab
    assert "interface wan-h1\n shutdown" in running_config("h2-rtr"), "pre-shut port reopened"
    assert eventually(lambda: pings(paths) == probes_before)


def test_isolate_site_cuts_one_site_and_leaves_the_others_talking(cli) -> None:
    done = cli("cut", "isolate-site", "--site", "h2", "--reason", "h2 infected", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    reached = pings([("h2", HOSTS["dc"]), ("h2", INTERNET_HOST), ("h1", HOSTS["h2"])])
    assert not reached[("h2", HOSTS["dc"])] and not reached[("h2", INTERNET_HOST)]
    assert not reached[("h1", HOSTS["h2"])]
    assert ping("dc", HOSTS["h1"]) and ping("h1", INTERNET_HOST)
    assert cli("verify", "isolate-site", "--site", "h2").returncode == 8  # the backup: state only


def test_verify_fails_and_names_the_link_reopened_by_hand(cli) -> None:
    assert cli("cut", "cut-intersite", "--reason", "drill", "--yes").returncode == 0
    # Someone reopens both ends of one WAN link by hand, behind isolement's back.
    vtysh_config("dc-rtr", "interface wan-h1", "no shutdown")
    vtysh_config("h1-rtr", "interface wan-dc", "no shutdown")
    assert eventually(lambda: ping("dc", HOSTS["h1"])), "the link reopened by hand carries traffic"
    verify = cli("verify", "cut-intersite")
    assert verify.returncode == 3
    assert "NOT CONTAINED: still open: wan-dc-h1" in verify.stdout
    assert "dc-to-h1" in verify.stdout.split("Traffic still passes:")[1]


def test_journal_records_who_why_commands_and_states(cli, state_dir: Path) -> None:
    assert (
        cli(
            "cut", "cut-intersite", "--reason", "ransomware at h1", "--operator", "alice", "--yes"
        ).returncode
        == 0
    )
    records = journal_records(state_dir)
    started = next(r for r in records if r["event"] == "run.started")
    assert started["operator"] == "alice" and started["reason"] == "ransomware at h1"
    applied = {r["device"]: r for r in records if r["event"] == "change.applied"}
    # h2-rtr has nothing to do: its backup port was shut before, and its own WAN end is kept
    # open because it is managed through it (the link is cut at dc-rtr).
    assert set(applied) == {"dc-rtr", "h1-rtr", "dc-core", "h3-sw", "h4-sw", "h5-sw"}
    dc = applied["dc-rtr"]
    assert "shutdown" in dc["commands"]
    assert dc["before"]["wan-h1"]["admin_up"] is True
    assert dc["after"]["wan-h1"]["admin_up"] is False
    assert str(dc["ts"]).endswith("Z")
    assert cli("journal", "verify").returncode == 0
