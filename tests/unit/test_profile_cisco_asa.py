"""The Cisco ASA emulator profile (lab/profiles/cisco_asa.py) behind netmiko's own, unchanged
`cisco_asa` driver, and the real isolement command line cutting and restoring through it.

Everything listens on 127.0.0.1 only, on ports the OS picks; no lab, no root needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from emulated import Emulate, LoginKey, netmiko_connect, write_cli_files
from isolement.lab.emulator import DeviceSpec, Emulator, InterfaceSpec, generate_key
from isolement.lab.profiles.cisco_asa import AsaCli, AsaDevice

from isolement.cli import main as cli
from isolement.drivers.cisco_asa import DENY, CiscoAsaDriver

NAME = "h5-fw"
GI0, GI1, GI2 = "GigabitEthernet0/0", "GigabitEthernet0/1", "GigabitEthernet0/2"
# h5-fw as the lab has it: outside to the ISP, inside to the site, the inside may go out.
H5 = DeviceSpec(
    NAME,
    [
        InterfaceSpec(GI0, address="198.18.5.1/30"),
        InterfaceSpec(GI1, address="198.18.5.5/30"),
        InterfaceSpec(GI2, shutdown=True),
    ],
    platform="cisco_asa",
    options={"nameifs": {GI0: "outside", GI1: "inside"}, "permits": [[GI1, GI0]]},
)
DRIVER = CiscoAsaDriver()


@pytest.fixture
def emu(emulate: Emulate) -> Emulator:
    return emulate([H5])


def netmiko(emu: Emulator, tmp_path: Path, key_file: Path) -> Any:
    """netmiko's own cisco_asa driver, as isolement opens it (fast_cli, host key checked)."""
    return netmiko_connect("cisco_asa", emu, NAME, key_file, tmp_path / "known_hosts")


def device() -> AsaDevice:
    return AsaDevice(H5, generate_key())


def typed(asa: AsaCli, *lines: str) -> list[str]:
    output: list[str] = []
    for line in lines:
        output += asa.execute(line)
    return output


# --- netmiko's own driver ---------------------------------------------------------------------


def test_netmiko_logs_in_reads_and_configures(
    emu: Emulator, tmp_path: Path, login_key: LoginKey
) -> None:
    connection = netmiko(emu, tmp_path, login_key.path)
    try:
        assert connection.find_prompt() == f"{NAME}#"
        assert "Current privilege level : 15" in connection.send_command("show curpriv")
        assert DRIVER.parse_nameif(connection.send_command("show nameif")) == {
            GI0: "outside",
            GI1: "inside",
        }
        output = connection.send_config_set(
            [f"access-list inside_access_in line 1 {DENY}", "interface gi0/2", "no shutdown"]
        )
        assert DRIVER.find_error(output) is None
        assert connection.find_prompt() == f"{NAME}#"
    finally:
        connection.disconnect()

    asa = emu.device(NAME)
    assert asa.admin_up()[GI2] is True
    # The deny is in effect on the way in; with no `out` ACL, traffic still leaves by inside.
    assert asa.state()["access_lists"] == {"inside_access_in": [DENY, "extended permit ip any any"]}
    assert asa.blocked_interfaces() == frozenset()
    # What netmiko's session preparation typed, each line answered as an ASA answers it.
    lines = [entry.line for entry in asa.history]
    assert lines[:6] == [
        "show curpriv",
        "login",
        "terminal pager 0",
        "configure terminal",
        "terminal width 511",
        "end",
    ]


def test_netmiko_gets_the_asas_refusal_for_a_bad_line(
    emu: Emulator, tmp_path: Path, login_key: LoginKey
) -> None:
    before = emu.device(NAME).state()
    connection = netmiko(emu, tmp_path, login_key.path)
    try:
        output = connection.send_config_set(["access-group foo in interface nosuch99"])
    finally:
        connection.disconnect()

    assert DRIVER.find_error(output) == "ERROR: % Invalid input detected at '^' marker."
    assert emu.device(NAME).state() == before


# --- the CLI on its own: layouts, errors, the policy in effect ----------------------------------


def test_show_outputs_parse_as_the_recorded_ones_do() -> None:
    asa = device().cli()

    state = DRIVER.parse_state(
        "\n".join(asa.execute("show interface ip brief")),
        "\n".join(asa.execute("show nameif")),
        "\n".join(asa.execute("show running-config access-group")),
        "\n".join(asa.execute("sh run access-list")),
    )

    assert state.interfaces == {GI0: True, GI1: True, GI2: False}
    assert state.contexts == {GI0: "outside", GI1: "inside"}
    assert state.nameifs[GI1].acls == {"in": "inside_access_in"}
    assert state.denies == {}


def test_a_refused_line_has_the_caret_under_the_word_and_no_blank_line() -> None:
    asa = device().cli()
    typed(asa, "configure terminal")

    answer = asa.execute("access-group foo in interface nosuch99")

    prompt = f"{NAME}(config)# "
    assert answer == [
        " " * (len(prompt) + 30) + "^",
        "ERROR: % Invalid input detected at '^' marker.",
    ]
    assert asa.execute("show") == ["ERROR: % Incomplete command"]


def test_a_deny_appended_after_a_permit_blocks_nothing() -> None:
    asa_device = device()
    asa = asa_device.cli()
    typed(
        asa,
        "configure terminal",
        f"access-list inside_access_in {DENY}",
        f"access-list isolement-out-inside {DENY}",
        "access-group isolement-out-inside out interface inside",
    )

    # Out: denied. In: the permit already there matches first.
    assert asa_device.blocked_interfaces() == frozenset()

    typed(asa, f"access-list inside_access_in line 1 {DENY}")

    assert asa_device.blocked_interfaces() == {GI1}


def test_removing_a_binding_and_clearing_an_acl_restore_the_policy() -> None:
    asa_device = device()
    before = asa_device.state()
    asa = asa_device.cli()
    typed(
        asa,
        "conf t",
        "access-list x line 1 remark isolement GigabitEthernet0/0 inet-h5",
        f"access-list x line 2 {DENY}",
        "access-group x in interface outside",
    )
    assert asa_device.state() != before

    assert (
        typed(asa, "no access-group x in interface outside", "clear configure access-list x") == []
    )
    assert asa_device.state() == before


def test_global_commands_leave_interface_mode_and_ctrl_z_ends_configuration() -> None:
    asa = device().cli()
    typed(asa, "configure terminal", "interface GigabitEthernet0/2")
    assert asa.prompt() == f"{NAME}(config-if)# "

    typed(asa, f"access-list a {DENY}")
    assert asa.prompt() == f"{NAME}(config)# "

    asa.ctrl_z()
    assert asa.prompt() == f"{NAME}# "


@pytest.mark.parametrize("name", ["eth0", "nosuch99", "GigabitEthernet"])
def test_names_an_asa_never_has_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not an ASA interface name"):
        AsaDevice.check_interface_name(name)


def test_a_permit_between_interfaces_without_nameif_is_refused() -> None:
    spec = DeviceSpec(NAME, [GI0, GI1], platform="cisco_asa", options={"permits": [[GI1, GI0]]})

    with pytest.raises(ValueError, match="nameif"):
        AsaDevice(spec, generate_key())


# --- the real command line --------------------------------------------------------------------


@pytest.mark.usefixtures("in_process_cli")
def test_the_command_line_cuts_then_restores_the_asa_exactly(
    emu: Emulator, tmp_path: Path, login_key: LoginKey
) -> None:
    base, playbook = write_cli_files(
        tmp_path,
        emu,
        login_key,
        "asa-unit",
        links={"inet-h5": {"kind": "internet", "endpoints": [{"device": NAME, "interface": GI0}]}},
        playbook={
            "name": "cut-internet",
            "cut": [{"select": {"kind": "internet"}, "method": "auto"}],
        },
        platforms={NAME: "cisco_asa"},
    )
    cut = [*base, "cut", str(playbook), "--reason", "unit", "--yes"]
    asa = emu.device(NAME)
    before = asa.state()

    assert cli.main(cut) == 0
    assert asa.admin_up() == before["admin_up"]
    assert asa.blocked_interfaces() == {GI0}
    acls = asa.state()["access_lists"]
    assert isinstance(acls, dict)
    assert acls["isolement-in-outside"] == ["remark isolement GigabitEthernet0/0 inet-h5", DENY]

    changes, typed_lines = asa.config_changes, len(asa.history)
    assert cli.main(cut) == 0  # already cut: nothing to do
    assert asa.config_changes == changes
    # Only netmiko's own session preparation (`terminal width 511`, `end`) was typed there.
    configured = {h.line for h in asa.history[typed_lines:] if "(config" in h.prompt}
    assert configured == {"terminal width 511", "end"}

    restore = [*base, "restore", str(playbook), "--all"]
    assert cli.main([*restore, "--approved-by", "pytest", "--reason", "unit", "--yes"]) == 0
    assert asa.state() == before
    assert asa.blocked_interfaces() == frozenset()
