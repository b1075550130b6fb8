"""Staged reconnection through the real command line, checked with real packets after each
stage: what passes, and what is still blocked."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import yaml
from labtools import HOSTS, INTERNET_HOST, REPO, at_once, journal_records, ping, pings, web

APPROVAL = ("--approved-by", "Dr Martin, crisis cell", "--reason", "doubt lifted", "--yes")


def test_stages_open_one_by_one_and_each_lets_through_exactly_its_paths(cli, state_dir) -> None:
    assert cli("cut", "cut-all", "--reason", "ransomware", "--yes").returncode == 0
    assert not any(
        at_once({"ping": lambda: ping("dc", HOSTS["h1"]), "web": lambda: web("h1")}).values()
    )

    assert cli("restore", "cut-all", "--stage", "clinical-h1", *APPROVAL).returncode == 0
    assert ping("dc", HOSTS["h1"])
    assert not any(pings([("dc", HOSTS["h2"]), ("h1", INTERNET_HOST)]).values())

    assert cli("restore", "cut-all", "--stage", "clinical-h2", *APPROVAL).returncode == 0
    assert ping("dc", HOSTS["h2"]) and ping("h1", HOSTS["h2"])
    assert not any(pings([("dc", INTERNET_HOST), ("h2", INTERNET_HOST)]).values())

    # Hospitals 3 to 5: NX-OS at the datacentre, AOS-CX, OmniSwitch and Junos at the sites.
    assert not ping("dc", HOSTS["h3"])
    assert cli("restore", "cut-all", "--stage", "clinical-h3-h5", *APPROVAL).returncode == 0
    assert all(ping("dc", HOSTS[site]) for site in ("h3", "h4", "h5"))
    assert not any(pings([(site, INTERNET_HOST) for site in ("h3", "h4", "h5")]).values())

    # The bubble: one flow between hospital 1 and the internet host passes, another does not.
    assert cli("restore", "cut-all", "--stage", "health-portal", *APPROVAL).returncode == 0
    sites = ("h1", "h3", "h4", "h5")
    passing = at_once(
        {f"{site} web": partial(web, site) for site in (*sites, "dc", "h2")}
        | {f"{site} ping": partial(ping, site, INTERNET_HOST) for site in sites}
    )
    assert passing["h1 web"]
    assert not passing["h1 ping"]
    assert not passing["dc web"] and not passing["h2 web"]
    # The same through the FortiGate, the PAN-OS and the ASA.
    assert all(passing[f"{s} web"] and not passing[f"{s} ping"] for s in ("h3", "h4", "h5"))

    assert cli("restore", "cut-all", "--stage", "internet", *APPROVAL).returncode == 0
    assert all(ping(site, INTERNET_HOST) for site in HOSTS)

    opened = [r for r in journal_records(state_dir) if r["event"] == "stage.opened"]
    assert [r["stage"] for r in opened] == [
        "clinical-h1",
        "clinical-h2",
        "clinical-h3-h5",
        "health-portal",
        "internet",
    ]
    assert all(
        r["approved_by"] == "Dr Martin, crisis cell"
        and r["reason"] == "doubt lifted"
        and r["verified"] is True
        for r in opened
    )
    sites = ("h1", "h3", "h4", "h5")
    assert opened[3]["checks"] == {
        **{f"{site}-web": "passes" for site in sites},
        **{f"{site}-to-internet": "blocked" for site in sites},
    }


def test_opening_a_stage_out_of_order_is_refused_naming_it(cli, state_dir) -> None:
    assert cli("cut", "cut-all", "--reason", "r", "--yes").returncode == 0
    before = len(journal_records(state_dir))
    done = cli("restore", "cut-all", "--stage", "health-portal", *APPROVAL)
    assert done.returncode == 2
    assert "comes after stage clinical-h1, which is not open and verified" in done.stderr
    assert journal_records(state_dir)[before:] == []
    assert not web("h1")


def test_a_stage_whose_check_fails_is_closed_again(cli, tmp_path: Path, state_dir) -> None:
    book = yaml.safe_load((REPO / "playbooks" / "cut-all.yaml").read_text())
    book["name"] = "cut-all-wrong-check"
    # Reopening dc-h1 cannot make dc-to-h2 pass: this stage's check must fail.
    book["stages"][0]["checks"] = {"passes": ["dc-to-h1", "dc-to-h2"]}
    book["stages"][0]["hold_s"] = 0
    book["stages"][0]["settle_s"] = 2  # dc-to-h2 cannot come back: no need to wait longer
    path = tmp_path / "cut-all-wrong-check.yaml"
    path.write_text(yaml.safe_dump(book))
    assert cli("cut", str(path), "--reason", "r", "--yes").returncode == 0
    done = cli("restore", str(path), "--stage", "clinical-h1", *APPROVAL)
    assert done.returncode == 4
    assert "NOT OPENED: dc-to-h2 blocked (expected passes)" in done.stdout
    assert not ping("dc", HOSTS["h1"]), "the stage was left open after its check failed"
    closed = [r for r in journal_records(state_dir) if r["event"] == "stage.closed"]
    assert closed and closed[-1]["reason"].startswith("automatic: stage clinical-h1 failed")
    status = cli("status", str(path))
    assert "1. clinical-h1      closed" in status.stdout


def test_closing_a_stage_closes_it_and_the_later_ones_at_once(cli) -> None:
    assert cli("cut", "cut-all", "--reason", "r", "--yes").returncode == 0
    for stage in ("clinical-h1", "clinical-h2"):
        assert cli("restore", "cut-all", "--stage", stage, *APPROVAL).returncode == 0
    done = cli("restore", "cut-all", "--close", "clinical-h1", "--reason", "relapse", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not any(pings([("dc", HOSTS["h1"]), ("dc", HOSTS["h2"])]).values())
    status = cli("status", "cut-all").stdout
    assert "1. clinical-h1      closed" in status and "2. clinical-h2      closed" in status


def test_reopening_an_open_stage_changes_nothing_and_cut_closes_every_stage(cli, state_dir) -> None:
    assert cli("cut", "cut-all", "--reason", "r", "--yes").returncode == 0
    assert cli("restore", "cut-all", "--stage", "clinical-h1", *APPROVAL).returncode == 0
    before = len(journal_records(state_dir))
    again = cli("restore", "cut-all", "--stage", "clinical-h1", *APPROVAL)
    assert again.returncode == 0
    assert not [r for r in journal_records(state_dir)[before:] if r["event"] == "change.intent"]
    relapse = cli("--json", "cut", "cut-all", "--reason", "relapse", "--yes")
    # Every path cut again; h2-fw, behind its cut management link, is unknown (exit 6).
    assert relapse.returncode == 6, relapse.stdout + relapse.stderr
    assert set(json.loads(relapse.stdout)["unknown"]) == {"inet-h2"}
    assert not ping("dc", HOSTS["h1"])
    assert "1. clinical-h1      closed" in cli("status", "cut-all").stdout
