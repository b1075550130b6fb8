"""Safe under pressure, through the real command line against the real lab: management paths,
protected flows, pre-flight, partial failure, fault injection, crash safety and the lock."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from labtools import (
    HOSTS,
    INTERNET_HOST,
    ISOLEMENT,
    device_configs,
    in_netns,
    journal_records,
    lab_inventory_copy,
    lab_pid,
    ping,
    running_config,
    vtysh_config,
)

from isolement.journal.store import Journal


def tcp_open(host: str, port: int = 22) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


# --- management paths ---------------------------------------------------------------------


def test_in_band_site_is_changed_before_its_management_link_is_cut(cli, state_dir) -> None:
    done = cli("--json", "cut", "isolate-site", "--site", "h2", "--reason", "h2 hit", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    waves = {s["device"]: s["wave"] for s in report["plan"]["steps"]}
    assert waves["h2-fw"] < waves["dc-rtr"]
    records = journal_records(state_dir)
    applied = {r["device"]: r["ts"] for r in records if r["event"] == "change.applied"}
    dc_intent = next(
        r["ts"] for r in records if r["event"] == "change.intent" and r["device"] == "dc-rtr"
    )
    # The far end (h2-fw, reached through wan-dc-h2) was changed before dc-rtr cut that link.
    assert applied["h2-fw"] < dc_intent
    assert not ping("h2", INTERNET_HOST) and not ping("h2", HOSTS["dc"])
    # h2-rtr's own end of its management link is left up, so restore can reopen the link.
    assert "interface wan-dc\n shutdown" not in running_config("h2-rtr")
    restored = cli(
        "restore",
        "isolate-site",
        "--site",
        "h2",
        "--all",
        "--approved-by",
        "cell",
        "--reason",
        "doubt lifted",
        "--yes",
    )
    assert restored.returncode == 0, restored.stdout
    assert ping("h2", INTERNET_HOST) and ping("h2", HOSTS["dc"])


def test_naive_order_would_have_stranded_the_far_end(cli) -> None:
    assert tcp_open("198.18.31.2")  # h2-fw is reachable while its management link is up
    # A naive tool cuts the near end first...
    vtysh_config("dc-rtr", "interface wan-h2", "shutdown")
    try:
        # ...and h2-fw, whose internet exit still has to be cut, is now out of reach.
        assert not tcp_open("198.18.31.2")
        pre = cli("preflight", "isolate-site", "--site", "h2")
        assert pre.returncode == 4
        assert "h2-fw" in pre.stdout and "managed through wan-dc-h2, which is cut" in pre.stdout
    finally:
        vtysh_config("dc-rtr", "interface wan-h2", "no shutdown")


def test_plan_says_which_devices_become_unreachable_and_how_they_come_back(cli) -> None:
    plan = cli("plan", "cut-all")
    assert plan.returncode == 0, plan.stderr
    assert "h2-fw      UNREACHABLE  unreachable through wan-dc-h2" in plan.stdout
    assert "h2-rtr wan-dc (link wan-dc-h2): h2-rtr is managed through wan-dc-h2" in plan.stdout
    assert "Nothing was sent." in plan.stdout


# --- protected flows ------------------------------------------------------------------------


def test_protected_telephony_keeps_passing_after_cut_intersite(cli) -> None:
    assert ping("dc", HOSTS["h1"])
    done = cli("cut", "cut-intersite", "--reason", "drill", "--yes")
    assert done.returncode == 0, done.stdout
    assert ping("dc", "198.18.22.10", host="phone"), "telephony between dc and h1 was cut"
    assert not ping("dc", HOSTS["h1"])
    verify = cli("verify", "cut-intersite")
    assert verify.returncode == 8  # contained; the backup link by read-back state only
    assert "ok    telephony-dc-h1: passes (expected passes)" in verify.stdout


def test_playbook_naming_a_protected_link_is_refused_and_nothing_sent(
    cli, tmp_path: Path, state_dir
) -> None:
    playbook = tmp_path / "cut-voice.yaml"
    playbook.write_text("name: cut-voice\ncut:\n  - select: {link: voice-dc-h1}\n")
    configs = device_configs(handles=True)
    done = cli("cut", str(playbook), "--reason", "oops", "--yes")
    assert done.returncode == 2
    assert "voice-dc-h1" in done.stderr and "telephony-dc-h1" in done.stderr
    assert "field cut.0.select.link" in done.stderr
    assert journal_records(state_dir) == []
    assert device_configs(handles=True) == configs


# --- pre-flight and partial failure -----------------------------------------------------------


@pytest.fixture
def h1_fw_down():
    """h1-fw refuses SSH (its management port answers with a reset), as a device that is down."""
    in_netns("h1-fw", "nft", "add table inet fault")
    in_netns("h1-fw", "nft", "add chain inet fault input { type filter hook input priority -50; }")
    in_netns("h1-fw", "nft", "add rule inet fault input tcp dport 22 reject with tcp reset")
    yield
    in_netns("h1-fw", "nft", "delete table inet fault")


def test_preflight_failure_changes_nothing_by_default(cli, h1_fw_down, state_dir) -> None:
    configs = device_configs()
    done = cli("cut", "cut-internet", "--reason", "drill", "--yes")
    assert done.returncode == 4
    assert "NOTHING WAS CHANGED" in done.stdout and "h1-fw" in done.stdout
    assert device_configs() == configs
    assert [r for r in journal_records(state_dir) if r["event"] == "change.intent"] == []


def test_partial_cuts_what_it_can_and_names_what_is_still_open(cli, h1_fw_down) -> None:
    done = cli("cut", "cut-internet", "--reason", "drill", "--yes", "--partial", "--retries", "1")
    assert done.returncode == 3, done.stdout
    assert "Still OPEN:\n  inet-h1: h1-fw:" in done.stdout
    assert not ping("dc", INTERNET_HOST) and not ping("h2", INTERNET_HOST)
    assert ping("h1", INTERNET_HOST)
    status = cli("status", "cut-internet")
    assert "UNKNOWN  inet-h1" in status.stdout and "CUT      inet-dc" in status.stdout


def test_rerun_after_the_device_is_back_converges(cli, h1_fw_down, state_dir) -> None:
    assert (
        cli(
            "cut", "cut-internet", "--reason", "d", "--yes", "--partial", "--retries", "0"
        ).returncode
        == 3
    )
    in_netns("h1-fw", "nft", "flush table inet fault")  # the device is back
    again = cli("--json", "cut", "cut-internet", "--reason", "retry", "--yes")
    assert again.returncode == 0
    assert [s["step"]["device"] for s in json.loads(again.stdout)["steps"]] == ["h1-fw"]
    assert not ping("h1", INTERNET_HOST)


# --- fault injection --------------------------------------------------------------------------


def test_wrong_credentials_are_reported_and_nothing_changed(cli, tmp_path: Path) -> None:
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)

    def change(data) -> None:
        data["credentials"]["stranger"] = {"username": "root", "key_file": str(stranger)}
        data["devices"]["h1-fw"]["credential"] = "stranger"

    done = cli(
        "cut",
        "cut-internet",
        "--reason",
        "d",
        "--yes",
        inventory=lab_inventory_copy(tmp_path, change),
    )
    assert done.returncode == 4
    assert "h1-fw" in done.stdout and "authentication failed as root" in done.stdout
    assert ping("dc", INTERNET_HOST)


def test_wrong_host_key_is_refused(cli, tmp_path: Path, lab) -> None:
    impostor = tmp_path / "impostor"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(impostor)], check=True)
    lines = Path("/run/isolement-lab/known_hosts").read_text().splitlines()
    fake = impostor.with_suffix(".pub").read_text().split()
    known = tmp_path / "known_hosts"
    known.write_text(
        "\n".join(
            f"198.19.255.22 {fake[0]} {fake[1]}" if line.startswith("198.19.255.22 ") else line
            for line in lines
        )
        + "\n"
    )
    done = cli(
        "cut",
        "cut-internet",
        "--reason",
        "d",
        "--yes",
        inventory=lab_inventory_copy(tmp_path, lambda d: d.update(known_hosts=str(known))),
    )
    assert done.returncode == 4
    assert "h1-fw" in done.stdout and "host key" in done.stdout.lower()
    assert device_configs() == lab


def test_device_that_hangs_is_timed_out_and_the_others_are_cut(cli) -> None:
    zebra = lab_pid("h1-rtr/zebra")
    os.kill(zebra, signal.SIGSTOP)  # vtysh logs in, prints its banner, then waits forever
    try:
        started = time.monotonic()
        done = cli(
            "--timeout",
            "3",
            "cut",
            "cut-intersite",
            "--reason",
            "d",
            "--yes",
            "--partial",
            "--retries",
            "0",
        )
        elapsed = time.monotonic() - started
    finally:
        os.kill(zebra, signal.SIGCONT)
    assert done.returncode in (0, 3), done.stdout
    assert "h1-rtr" in done.stdout and "no answer within 3 s" in done.stdout
    assert elapsed < 30
    assert not ping("dc", HOSTS["h1"])  # cut at dc-rtr's end all the same
    assert "interface wan-h1\n shutdown" in running_config("dc-rtr")


def test_device_error_is_a_failure_not_a_success(cli, state_dir) -> None:
    # A chain isolement would create already exists with another priority: nft refuses.
    in_netns("h1-fw", "nft", "add table inet isolement")
    in_netns(
        "h1-fw",
        "nft",
        "add chain inet isolement forward { type filter hook forward priority 0; policy accept; }",
    )
    try:
        done = cli("cut", "cut-internet", "--reason", "d", "--yes", "--retries", "0")
    finally:
        in_netns("h1-fw", "nft", "delete table inet isolement")
    assert done.returncode == 3, done.stdout
    assert "FAILED h1-fw" in done.stdout and "Error: Could not process rule" in done.stdout
    failed = [r for r in journal_records(state_dir) if r["event"] == "change.failed"]
    assert [r["device"] for r in failed] == ["h1-fw"]
    assert not any(
        r["event"] == "change.applied" and r["device"] == "h1-fw"
        for r in journal_records(state_dir)
    )


# --- crash safety ---------------------------------------------------------------------------


def _start_cut(state_dir: Path, playbook: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "ISOLEMENT_STATE_DIR": str(state_dir),
        "ISOLEMENT_ANCHOR_DIR": str(state_dir.parent / "anchors"),  # as labtools.run_cli
    }
    return subprocess.Popen(
        [ISOLEMENT, "cut", playbook, "--reason", "killed", "--yes"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def _wait_for_event(state_dir: Path, event: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        path = state_dir / "lab-hospital-group" / "journal.jsonl"
        if path.exists() and f'"event": "{event}"' in path.read_text():
            return
        time.sleep(0.01)
    raise AssertionError(f"no {event} in the journal within {timeout} s")


def test_controller_killed_mid_run_leaves_an_intact_journal_and_rerun_converges(
    cli, state_dir: Path
) -> None:
    run = _start_cut(state_dir, "cut-all")
    _wait_for_event(state_dir, "change.intent")
    run.send_signal(signal.SIGKILL)
    run.wait()
    # Whole records only, anchored up to where the killed run began: what it wrote after is
    # said to come from a run that did not close its anchor, not called intact (exit 7).
    verify = cli("journal", "verify")
    assert verify.returncode == 7, verify.stdout
    assert "consistent, anchored up to seq" in verify.stdout
    assert "has not closed its anchor" in verify.stdout
    assert not any(r["event"] == "run.finished" for r in journal_records(state_dir))
    again = cli("cut", "cut-all", "--reason", "after the crash", "--yes")
    assert again.returncode == 0, again.stdout
    verify = cli("journal", "verify")  # the re-run's anchor covers the killed run's records
    assert verify.returncode == 0, verify.stdout
    assert "did not close it" in verify.stdout  # and the killed run stays on record
    check = cli("verify", "cut-all")
    assert check.returncode == 8, check.stdout  # contained; the backup link by state only
    # The restore knows every change the killed run may have made.
    restored = cli("restore", "cut-all", "--all", "--approved-by", "cell", "--reason", "r", "--yes")
    assert restored.returncode == 0, restored.stdout


def test_ctrl_c_finishes_in_flight_changes_and_says_what_was_done(cli, state_dir) -> None:
    run = _start_cut(state_dir, "cut-all")
    _wait_for_event(state_dir, "change.intent")
    run.send_signal(signal.SIGINT)
    out, _ = run.communicate(timeout=60)
    finished = [r for r in journal_records(state_dir) if r["event"] == "run.finished"]
    assert len(finished) == 1 and finished[0]["interrupted"] is True
    assert "interrupted" in out
    intents = {r["device"] for r in journal_records(state_dir) if r["event"] == "change.intent"}
    outcomes = {
        r["device"]
        for r in journal_records(state_dir)
        if r["event"] in ("change.applied", "change.failed")
    }
    assert intents <= outcomes, "an in-flight change was abandoned without its outcome"
    assert cli("cut", "cut-all", "--reason", "again", "--yes").returncode == 0


def test_two_runs_at_once_cannot_interleave(cli, state_dir: Path) -> None:
    with Journal(state_dir / "lab-hospital-group" / "journal.jsonl"):
        done = cli("cut", "cut-internet", "--reason", "second operator", "--yes")
    assert done.returncode == 2
    assert "another isolement run" in done.stderr
    assert ping("dc", INTERNET_HOST)


# --- a state not read in this run (issue #10, item 1) ---------------------------------------


def test_a_firewall_that_lost_its_rules_out_of_reach_is_unknown_until_reached(
    cli, tmp_path: Path
) -> None:
    """h2-fw is managed through wan-dc-h2, which cut-all cuts: once it has lost its rules (as a
    reboot does), nothing isolement can read says so. It must never be called cut; `--reach`
    reopens its management link at dc-rtr, reads and re-cuts it, and cuts the link again."""
    assert cli("cut", "cut-all", "--reason", "ransomware", "--yes").returncode == 0
    in_netns("h2-fw", "nft", "delete table inet isolement")
    assert ping("h2", INTERNET_HOST), "h2 reaches the internet again"

    status = cli("status", "cut-all")
    assert status.returncode == 6, status.stdout + status.stderr
    assert "UNKNOWN  inet-h2" in status.stdout and "last seen cut at" in status.stdout
    again = cli("cut", "cut-all", "--reason", "again", "--yes")
    assert again.returncode == 6, again.stdout
    assert "nothing to do" not in again.stdout and "--reach h2-fw" in again.stdout
    verify = cli("verify", "cut-all")  # the lab's probes see h2's traffic pass
    assert verify.returncode == 3, verify.stdout
    assert "h2-to-internet" in verify.stdout.split("Traffic still passes:")[1]
    without_probes = lab_inventory_copy(tmp_path, lambda data: data.pop("probes"))
    blind = cli("verify", "cut-all", inventory=without_probes)
    assert blind.returncode == 6, blind.stdout
    assert "NOT PROVEN" in blind.stdout and "inet-h2" in blind.stdout

    reach = cli("cut", "cut-all", "--reason", "re-cut h2-fw", "--yes", "--reach", "h2-fw")
    assert reach.returncode == 0, reach.stdout + reach.stderr
    assert "table inet isolement" in in_netns("h2-fw", "nft", "list", "ruleset")
    assert not ping("h2", INTERNET_HOST)
    assert "interface wan-h2\n shutdown" in running_config("dc-rtr"), "wan-dc-h2 left open"
    assert not tcp_open("198.18.31.2"), "h2-fw's management path is open again"
