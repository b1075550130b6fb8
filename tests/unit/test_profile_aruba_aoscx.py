"""The AOS-CX profile of the emulator, as netmiko's own `aruba_aoscx` driver (ArubaCxSSH,
unchanged, `fast_cli` as isolement uses it) and the real `isolement` command line see it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import textfsm  # type: ignore[import-untyped]
from emulated import Emulate, LoginKey, netmiko_connect, write_cli_files
from isolement.lab.emulator import DeviceSpec, Emulator, InterfaceSpec, generate_key
from isolement.lab.profiles.aruba_aoscx import AoscxDevice
from ntc_templates.parse import _get_template_dir

from isolement.cli.main import main
from isolement.drivers.aruba_aoscx import ArubaAoscxDriver

NAME = "h3-sw"
# h3-sw as the lab has it: the WAN to the datacentre, the LAN, the port to the firewall; the
# firewall port is kept shut in normal times here, so a restore must leave it shut.
H3_SW = DeviceSpec(
    NAME,
    [
        InterfaceSpec("1/1/1", address="198.18.3.1/30", description="WAN to DC"),
        InterfaceSpec("1/1/2", address="198.18.30.1/24"),
        InterfaceSpec("1/1/3", shutdown=True, address="198.18.31.1/30"),
    ],
    platform="aruba_aoscx",
)


@pytest.fixture
def emu(emulate: Emulate) -> Emulator:
    return emulate([H3_SW])


@pytest.fixture
def netmiko(emu: Emulator, login_key: LoginKey, tmp_path: Path) -> Iterator[Any]:
    with netmiko_connect(
        "aruba_aoscx", emu, NAME, login_key.path, tmp_path / "known_hosts", read_timeout_override=10
    ) as connection:
        yield connection


def _device(emu: Emulator) -> AoscxDevice:
    device = emu.device(NAME)
    assert isinstance(device, AoscxDevice)
    return device


# --- netmiko's own driver ----------------------------------------------------------------------


def test_netmiko_logs_in_with_no_page_and_finds_the_manager_prompt(
    emu: Emulator, netmiko: Any
) -> None:
    assert netmiko.find_prompt() == f"{NAME}#"
    assert netmiko.base_prompt == NAME
    # What ArubaCxSSH.session_preparation sends, answered as AOS-CX does (nothing printed).
    assert "no page" in [h.line for h in _device(emu).history]
    assert not netmiko.check_config_mode()


def test_show_interface_reads_the_admin_state_as_the_driver_parses_it(
    emu: Emulator, netmiko: Any
) -> None:
    output = netmiko.send_command("show interface")

    assert "Interface 1/1/3 is down (Administratively down)\n Admin state is down" in output
    state = ArubaAoscxDriver.parse_show_interface(output)
    assert (
        state.interfaces
        == _device(emu).admin_up()
        == {
            "1/1/1": True,
            "1/1/2": True,
            "1/1/3": False,
        }
    )


def test_ntc_templates_parses_the_emulated_show_interface_like_the_recorded_ones(
    netmiko: Any,
) -> None:
    # The community template stops on any line it does not know: the emulated layout is one
    # it knows, line for line.
    template = Path(_get_template_dir()) / "aruba_aoscx_show_interface.textfsm"
    fsm = textfsm.TextFSM(io.StringIO(template.read_text()))
    rows = fsm.ParseText(netmiko.send_command("show interface"))
    header = [str(name) for name in fsm.header]
    parsed = [dict(zip(header, row, strict=True)) for row in rows]

    assert [(r["INTERFACE"], r["LINK_ADMIN"], r["IP_ADDRESS"]) for r in parsed] == [
        ("1/1/1", "up", "198.18.3.1/30"),
        ("1/1/2", "up", "198.18.30.1/24"),
        ("1/1/3", "down", "198.18.31.1/30"),
    ]


def test_send_config_set_shuts_the_port_and_leaves_configuration_mode(
    emu: Emulator, netmiko: Any
) -> None:
    output = netmiko.send_config_set(["interface 1/1/1", "shutdown", "exit"])

    assert ArubaAoscxDriver().find_error(output) is None
    assert _device(emu).admin_up()["1/1/1"] is False
    assert not netmiko.check_config_mode()
    assert netmiko.find_prompt() == f"{NAME}#"
    # No commit on AOS-CX: in effect as typed, and in the running configuration.
    config = netmiko.send_command("show running-config")
    assert "interface 1/1/1\n    description WAN to DC\n    ip address 198.18.3.1/30" in config


def test_running_config_says_no_shutdown_on_enabled_ports_only(netmiko: Any) -> None:
    config = netmiko.send_command("show running-config")

    assert config.startswith("Current configuration:\n!\n!Version ArubaOS-CX ")
    assert "interface 1/1/2\n    no shutdown\n    ip address 198.18.30.1/24" in config
    assert "interface 1/1/3\n    ip address 198.18.31.1/30" in config
    assert "\n    shutdown" not in config  # shut is the default: never printed


def test_an_unknown_port_gets_aoscx_s_refusal_and_nothing_changes(
    emu: Emulator, netmiko: Any
) -> None:
    before = _device(emu).state()

    output = netmiko.send_config_set(["interface 1/1/99", "shutdown", "exit"])

    assert "Invalid input: 1/1/99" in output
    assert "Invalid input: shutdown" in output  # typed at (config)#, where it does not exist
    assert ArubaAoscxDriver().find_error(output) is not None
    assert _device(emu).state() == before


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("show interfaces-bogus", "Invalid input: interfaces-bogus"),
        ("show bogus", "Invalid input: bogus"),
        ("configure terminal extra", "Invalid input: extra"),
    ],
)
def test_unknown_commands_get_invalid_input(netmiko: Any, command: str, answer: str) -> None:
    assert netmiko.send_command(command).strip() == answer


def test_an_unfinished_command_is_incomplete(netmiko: Any) -> None:
    output = netmiko.send_config_set(["interface"])

    assert "% Command incomplete." in output


def test_the_operator_context_has_no_privilege(netmiko: Any) -> None:
    netmiko.send_command("disable", expect_string=r">")

    assert netmiko.find_prompt() == f"{NAME}>"
    netmiko.send_command("enable", expect_string=r"#")
    assert netmiko.find_prompt() == f"{NAME}#"


# --- the device's own rules ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["GigabitEthernet0/1", "1/1", "lag 1", "vlan10", "eth0"])
def test_names_a_cx_switch_never_has_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="AOS-CX port name"):
        AoscxDevice.check_interface_name(name)


def test_the_sample_is_a_typical_switch() -> None:
    device = AoscxDevice(AoscxDevice.sample("s1"), generate_key())

    assert device.admin_up() == {"1/1/1": True, "1/1/2": True, "1/1/3": False}
    assert device.blocked_interfaces() == frozenset()


# --- the real command line --------------------------------------------------------------------


@pytest.mark.usefixtures("in_process_cli")
def test_isolement_cuts_and_restores_an_aoscx_switch(
    emu: Emulator, login_key: LoginKey, tmp_path: Path
) -> None:
    device = _device(emu)
    common, playbook = write_cli_files(
        tmp_path,
        emu,
        login_key,
        "emulated-aoscx",
        sites={NAME: "h3"},
        platforms={NAME: "aruba_aoscx"},
        links={
            "wan-dc-h3": {
                "kind": "intersite",
                "endpoints": [{"device": NAME, "interface": "1/1/1"}],
            },
            "fw-h3": {"kind": "backup", "endpoints": [{"device": NAME, "interface": "1/1/3"}]},
        },
        playbook={"name": "cut-h3", "cut": [{"select": {"kind": ["intersite", "backup"]}}]},
        journal="journal.jsonl",
    )
    cut = [*common, "cut", str(playbook), "--reason", "test", "--yes"]
    before = device.state()

    assert main(cut) == 0
    assert device.admin_up() == {"1/1/1": False, "1/1/2": True, "1/1/3": False}
    assert device.state()["blocked"] == []

    changes, typed = device.config_changes, len(device.history)
    assert main(cut) == 0
    # Read, found cut, nothing sent: no configuration line, not even `configure terminal`.
    assert device.config_changes == changes
    assert not [h for h in device.history[typed:] if h.line.startswith("conf")]

    restore = [*common, "restore", str(playbook), "--all"]
    assert main([*restore, "--approved-by", "pytest", "--reason", "test", "--yes"]) == 0
    # Exactly as before: the WAN open again, the firewall port shut before the cut still shut.
    assert device.state() == before
    assert device.admin_up() == {"1/1/1": True, "1/1/2": True, "1/1/3": False}
