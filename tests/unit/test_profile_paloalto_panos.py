"""The PAN-OS emulator profile behind netmiko's own, unchanged `paloalto_panos` driver (login,
reads, the candidate configuration, commit, errors), its data plane (first match, permits
included), and the real isolement command line cutting and restoring an emulated firewall.

netmiko's PAN-OS driver reads for two seconds of silence to tell configuration mode from
operational mode, four times per configuration session: the tests keep such sessions few.
Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from emulated import Emulate, LoginKey, Session, netmiko_connect, write_cli_files
from isolement.lab.emulator import DeviceSpec, Emulator, InterfaceSpec, generate_key
from isolement.lab.profiles.paloalto_panos import PanosDevice
from ntc_templates.parse import parse_output

from isolement.cli.main import main
from isolement.drivers.paloalto_panos import PaloAltoPanosDriver
from isolement.model.state import CutMethod

NAME = "h4-fw"
VOLATILE = re.compile(r' (?:admin|dirtyId|time)="[^"]*"')
# The lab's h4-fw: the ISP on ethernet1/1 (untrust), the site on ethernet1/2 (trust), traffic
# from the site to the internet allowed; a DMZ port shut.
H4_FW = DeviceSpec(
    NAME,
    [
        InterfaceSpec("ethernet1/1", address="198.18.40.1/30"),
        InterfaceSpec("ethernet1/2", address="198.18.41.1/24"),
        InterfaceSpec("ethernet1/3", shutdown=True),
    ],
    platform="paloalto_panos",
    options={
        "zones": {"ethernet1/1": "untrust", "ethernet1/2": "trust", "ethernet1/3": "dmz"},
        "permits": [["ethernet1/2", "ethernet1/1"]],
        "commit_seconds": 0.3,
    },
)


@pytest.fixture
def emu(emulate: Emulate) -> Emulator:
    return emulate([H4_FW])


def firewall(emu: Emulator) -> PanosDevice:
    device = emu.device(NAME)
    assert isinstance(device, PanosDevice)
    return device


def running_rules(device: PanosDevice) -> list[str]:
    """The names of the security rules in effect, in order."""
    rules = device.extra_state()["security_rules"]
    assert isinstance(rules, list)
    return [str(rule["name"]) for rule in rules]


def netmiko(emu: Emulator, login_key: LoginKey, tmp_path: Path) -> Any:
    return netmiko_connect("paloalto_panos", emu, NAME, login_key.path, tmp_path / "known_hosts")


# --- netmiko's own driver ------------------------------------------------------------------------


def test_netmiko_logs_in_and_reads_in_the_recorded_layouts(
    emu: Emulator, login_key: LoginKey, tmp_path: Path
) -> None:
    connection = netmiko(emu, login_key, tmp_path)
    try:
        assert connection.base_prompt == f"admin@{NAME}"
        assert connection.find_prompt() == f"admin@{NAME}>"
        info = parse_output(
            "paloalto_panos", "show system info", connection.send_command("show system info")
        )
        assert info[0]["hostname"] == NAME
        state = PaloAltoPanosDriver.parse_state(
            connection.send_command("show interface all"),
            connection.send_command("show running security-policy"),
        )
        assert state.interfaces == {"ethernet1/1": True, "ethernet1/2": True, "ethernet1/3": False}
        assert state.contexts["ethernet1/1"] == "untrust"
        policy = parse_output(
            "paloalto_panos",
            "show running security-policy",
            connection.send_command("show running security-policy"),
        )
        assert [(r["from"], r["to"], r["action"]) for r in policy] == [
            ("trust", "untrust", "allow"),
            ("any", "any", "allow"),
            ("any", "any", "deny"),
        ]
        assert connection.send_command("check pending-changes") == "no"
        assert connection.send_command("bogus") == "Unknown command: bogus"
        assert connection.send_command("show bogus") == "Invalid syntax."
        assert "<config " in connection.send_command("show config running")
    finally:
        connection.disconnect()


def test_netmiko_changes_the_candidate_and_only_its_commit_puts_it_in_effect(
    emu: Emulator, login_key: LoginKey, tmp_path: Path
) -> None:
    device = firewall(emu)
    connection = netmiko(emu, login_key, tmp_path)
    try:
        refused = connection.send_config_set(
            [
                "set rulebase security rules cut-in from untrust to any action deny",
                "set rulebase security rules cut-out from any to untrust action deny",
                "move rulebase security rules cut-in top",
                "move rulebase security rules cut-out top",
                "set rulebase security rules bad from nosuch to any action deny",
                "commit",
                "set rulebase security rules cut-in action maybe",
                "move rulebase security rules nosuch top",
                "frobnicate",
                "check pending-changes",
                "delete rulebase security rules bad",
            ],
            exit_config_mode=False,
        )
        # The candidate is not in effect; a commit naming an unknown zone is refused whole.
        assert device.blocked_interfaces() == frozenset()
        assert running_rules(device) == ["trust-to-untrust"]
        assert "Validation Error:" in refused
        assert "rules -> bad -> from 'nosuch' is not a valid reference" in refused
        assert "Commit failed" in refused
        assert refused.count("Invalid syntax.") == 2
        assert "Unknown command: frobnicate" in refused
        assert "\nyes\n" in refused

        committed = connection.commit()  # netmiko's own: waits for 100%, then checks the marker

        assert "Configuration committed successfully" in committed
        assert device.blocked_interfaces() == frozenset({"ethernet1/1"})
        assert device.extra_state()["pending_changes"] is False
    finally:
        connection.disconnect()


# --- the data plane ------------------------------------------------------------------------------


def run_commit(device: PanosDevice, *rules: list[str]) -> list[str]:
    for words in rules:
        assert device.set_rule(words[0], words[1:]) == []
    return device.commit()


def test_a_deny_after_the_permit_blocks_nothing_and_only_both_directions_block() -> None:
    device = PanosDevice(H4_FW, generate_key())

    # Appended below the permit trust -> untrust: the permit still matches first.
    run_commit(
        device,
        ["late-in", "from", "untrust", "to", "any", "action", "deny"],
        ["late-out", "from", "any", "to", "untrust", "action", "deny"],
    )
    assert device.blocked_interfaces() == frozenset()

    # One direction only, first: traffic from the site still goes out.
    assert device.move_rule("late-in", ["top"]) == []
    device.commit()
    assert device.blocked_interfaces() == frozenset()

    assert device.move_rule("late-out", ["top"]) == []
    assert device.pending()
    assert "Configuration committed successfully" in device.commit()
    assert device.blocked_interfaces() == frozenset({"ethernet1/1"})  # never the trust side
    assert device.commit() == ["There are no changes to commit."]


@pytest.mark.parametrize(
    "name", ["GigabitEthernet0/1", "eth0", "ethernet1", "ha1-a", "ethernet1/1/1", "mgmt"]
)
def test_names_pan_os_never_gives_a_layer_3_interface_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a PAN-OS"):
        PanosDevice.check_interface_name(name)


# --- the real command line -----------------------------------------------------------------------


@pytest.mark.usefixtures("in_process_cli")
def test_the_isolement_cli_cuts_and_restores_the_firewall(
    emu: Emulator, login_key: LoginKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    links = {
        "inet-h4": {"kind": "internet", "endpoints": [{"device": NAME, "interface": "ethernet1/1"}]}
    }
    base, playbook = write_cli_files(
        tmp_path,
        emu,
        login_key,
        "panos-cli",
        links=links,
        playbook={"name": "cut-internet", "cut": [{"select": {"kind": "internet"}}]},
        platforms={NAME: "paloalto_panos"},
    )
    device = firewall(emu)
    before = device.state()
    config_before = device.show_config_running()

    assert main([*base, "cut", str(playbook), "--reason", "drill", "--yes"]) == 0, (
        capsys.readouterr()
    )
    assert device.blocked_interfaces() == frozenset({"ethernet1/1"})
    assert device.admin_up() == {"ethernet1/1": True, "ethernet1/2": True, "ethernet1/3": False}
    assert running_rules(device) == [
        "isolement-ethernet1_1-inet-h4-out",
        "isolement-ethernet1_1-inet-h4-in",
        "trust-to-untrust",
    ]
    assert device.state()["pending_changes"] is False
    typed = len(device.history)

    # Run again: read, nothing to do, nothing sent.
    assert main([*base, "cut", str(playbook), "--reason", "drill", "--yes"]) == 0, (
        capsys.readouterr()
    )
    assert [h.line for h in device.history[typed:] if "#" in h.prompt] == []

    restore = ["restore", str(playbook), "--all", "--approved-by", "pytest", "--reason", "drill"]
    assert main([*base, *restore, "--yes"]) == 0, capsys.readouterr()
    report = capsys.readouterr().out
    assert "configuration identical to before the cut" in report, report
    assert device.state() == before
    assert device.blocked_interfaces() == frozenset()
    # The same configuration, but for who changed it and when (PAN-OS stamps changed nodes).
    after = device.show_config_running()
    assert after != config_before
    assert [VOLATILE.sub("", line) for line in after] == config_before


# --- a firewall managed by Panorama (#12 §4) -----------------------------------------------------

PRE_RULE = {"name": "panorama-allow-untrust", "from": "untrust", "to": "any", "action": "allow"}


def _cut_internet(emu: Emulator, login_key: LoginKey, tmp_path: Path) -> tuple[list[str], Path]:
    links = {
        "inet-h4": {"kind": "internet", "endpoints": [{"device": NAME, "interface": "ethernet1/1"}]}
    }
    return write_cli_files(
        tmp_path,
        emu,
        login_key,
        "panos-panorama",
        links=links,
        playbook={"name": "cut-internet", "cut": [{"select": {"kind": "internet"}}]},
        platforms={NAME: "paloalto_panos"},
    )


@pytest.mark.usefixtures("in_process_cli")
def test_a_deny_below_a_panorama_allow_pre_rule_is_reported_not_in_effect(
    emulate: Emulate, login_key: LoginKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = DeviceSpec(
        NAME,
        H4_FW.interfaces,
        platform="paloalto_panos",
        options={**H4_FW.options, "panorama_pre_rules": [PRE_RULE]},
    )
    emu = emulate([spec])
    base, playbook = _cut_internet(emu, login_key, tmp_path)

    code = main([*base, "cut", str(playbook), "--reason", "drill", "--yes"])
    out = capsys.readouterr().out

    device = firewall(emu)
    # The deny rules went in, at the top of the local rulebase, below the pre-rule: the
    # emulated data plane lets the zone's traffic through.
    assert running_rules(device)[:2] == [
        "isolement-ethernet1_1-inet-h4-out",
        "isolement-ethernet1_1-inet-h4-in",
    ]
    assert device.blocked_interfaces() == frozenset()
    assert code != 0, out
    assert "panorama-allow-untrust" in out, out
    # The real driver's read-back says so, with the reason, and names the manager.
    connection = netmiko(emu, login_key, tmp_path)
    try:
        state = PaloAltoPanosDriver().read_state(Session(connection))
    finally:
        connection.disconnect()
    assert state.facts == {"managed_by": "Panorama"}
    assert not state.is_cut("ethernet1/1", CutMethod.DENY)
    assert "panorama-allow-untrust" in state.shadowed["ethernet1/1"]
    assert "NOT in effect" in state.describe("ethernet1/1")["not_in_effect"]  # type: ignore[operator]
    # `status` reads it open, and says why.
    assert main([*base, "status", str(playbook)]) != 0
    status = capsys.readouterr().out
    assert "panorama-allow-untrust" in status, status
    # The restore deletes the ineffective deny rules all the same.
    restore = ["restore", str(playbook), "--all", "--approved-by", "pytest", "--reason", "drill"]
    assert main([*base, *restore, "--yes"]) == 0, capsys.readouterr()
    assert running_rules(device) == ["trust-to-untrust"]


@pytest.mark.usefixtures("in_process_cli")
def test_without_panorama_the_same_cut_is_in_effect(
    emu: Emulator, login_key: LoginKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, playbook = _cut_internet(emu, login_key, tmp_path)

    assert main([*base, "cut", str(playbook), "--reason", "drill", "--yes"]) == 0, (
        capsys.readouterr()
    )

    connection = netmiko(emu, login_key, tmp_path)
    try:
        state = PaloAltoPanosDriver().read_state(Session(connection))
    finally:
        connection.disconnect()
    assert state.facts == {}
    assert state.shadowed == {}
    assert state.is_cut("ethernet1/1", CutMethod.DENY)
    assert firewall(emu).blocked_interfaces() == frozenset({"ethernet1/1"})


@pytest.mark.usefixtures("in_process_cli")
def test_the_plan_warns_that_panorama_may_overwrite_the_local_cut(
    emulate: Emulate, login_key: LoginKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = DeviceSpec(
        NAME,
        H4_FW.interfaces,
        platform="paloalto_panos",
        options={**H4_FW.options, "panorama": True},
    )
    emu = emulate([spec])
    base, playbook = _cut_internet(emu, login_key, tmp_path)

    assert main([*base, "plan", str(playbook)]) == 0
    out = capsys.readouterr().out

    assert (
        f"warning: {NAME} is managed by Panorama: a central push may overwrite the local cut; "
        "re-check with `isolement verify` after each push"
    ) in out, out
    assert firewall(emu).state()["pending_changes"] is False
