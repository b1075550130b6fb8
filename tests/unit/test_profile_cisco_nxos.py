"""The NX-OS emulator profile (lab/profiles/cisco_nxos.py) behind netmiko's own, unchanged
`cisco_nxos` driver, isolement's CiscoNxosDriver on it, and the real command line cutting and
restoring an emulated Nexus.

Everything listens on 127.0.0.1 only, on ports the OS picks; no lab, no root needed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from emulated import Emulate, LoginKey, Session, emulated, netmiko_connect, write_cli_files
from isolement.lab.emulator import DeviceSpec, Emulator, InterfaceSpec, generate_key
from isolement.lab.profiles.cisco_nxos import NxosCli, NxosDevice
from ntc_templates.parse import parse_output

from isolement.cli import main as cli
from isolement.drivers.cisco_nxos import CiscoNxosDriver

NAME = "dc-core"
# dc-core as the lab has it: the uplink to the datacentre router, the WAN links to hospitals
# 3, 4 and 5 (layer-3 ports), and a spare port left shut.
DC_CORE = DeviceSpec(
    NAME,
    [
        InterfaceSpec("Ethernet1/1", address="198.18.1.1/30", description="to dc-rtr"),
        InterfaceSpec("Ethernet1/2", shutdown=True),
        InterfaceSpec("Ethernet1/3", address="198.18.1.5/30", description="wan-dc-h3"),
        InterfaceSpec("Ethernet1/4", address="198.18.1.9/30", description="wan-dc-h4"),
        InterfaceSpec("Ethernet1/5", address="198.18.1.13/30", description="wan-dc-h5"),
    ],
    platform="cisco_nxos",
)
WAN = ["Ethernet1/3", "Ethernet1/4", "Ethernet1/5"]


@pytest.fixture
def emulator(emulate: Emulate, tmp_path: Path) -> tuple[Emulator, Path]:
    return emulate([DC_CORE, NxosDevice.sample("sample1")]), tmp_path / "known_hosts"


def connect(emu: Emulator, known_hosts: Path, key_file: Path, name: str = NAME) -> Any:
    """netmiko's own NX-OS driver, as isolement opens it (fast_cli, host keys checked)."""
    return netmiko_connect("cisco_nxos", emu, name, key_file, known_hosts)


@pytest.fixture
def session(emulator: tuple[Emulator, Path], login_key: LoginKey) -> Iterator[Session]:
    emu, known_hosts = emulator
    s = Session(connect(emu, known_hosts, login_key.path))
    try:
        yield s
    finally:
        s.close()


# --- the CLI on its own (no SSH) ------------------------------------------------------------


def test_prompts_follow_the_mode_with_nxos_trailing_space() -> None:
    c = NxosCli(NxosDevice(DC_CORE, generate_key()))
    assert c.prompt() == "dc-core# "
    assert c.execute("conf t") == ["Enter configuration commands, one per line. End with CNTL/Z."]
    assert c.prompt() == "dc-core(config)# "
    c.execute("int eth1/3")
    assert c.prompt() == "dc-core(config-if)# "
    c.ctrl_z()
    assert c.prompt() == "dc-core# "


def test_refusals_carry_the_caret_and_no_blank_line() -> None:
    c = NxosCli(NxosDevice(DC_CORE, generate_key()))
    c.execute("configure terminal")

    assert c.execute("interface nosuch99") == [
        " " * len("dc-core(config)# interface ") + "^",
        "% Invalid interface format at '^' marker.",
    ]
    assert c.execute("shutdown") == [
        " " * len("dc-core(config)# ") + "^",
        "% Invalid command at '^' marker.",
    ]
    assert c.execute("interface") == ["% Incomplete command at '^' marker."]


def test_interface_abbreviations_resolve_to_the_configured_name() -> None:
    device = NxosDevice(DC_CORE, generate_key())
    for typed in ("Ethernet1/4", "ethernet 1/4", "eth1/4", "e1/4"):
        assert device.resolve(typed, create=False) == ("Ethernet1/4", 0)
    assert device.resolve("Ethernet1/99", create=False)[0] is None


def test_check_interface_name_refuses_names_nxos_never_has() -> None:
    NxosDevice.check_interface_name("Ethernet1/3")
    NxosDevice.check_interface_name("loopback0")
    for bad in ("GigabitEthernet0/1", "eth1/3", "Loopback0", "port1"):
        with pytest.raises(ValueError):
            NxosDevice.check_interface_name(bad)


def test_emulated_brief_table_parses_as_ntc_templates_does() -> None:
    device = NxosDevice(NxosDevice.sample("s1"), generate_key())
    text = "\n".join(device.show_interface_brief())

    rows = parse_output(platform="cisco_nxos", command="show interface brief", data=text)

    assert [row["interface"] for row in rows] == ["Eth1/1", "Eth1/2", "Eth1/3", "Eth1/4", "Lo0"]
    assert CiscoNxosDriver.parse_interface_brief(text) == {
        "Ethernet1/1": True,
        "Ethernet1/2": True,
        "Ethernet1/3": False,
        "Ethernet1/4": None,  # no cable: down, not shut; `show interface` decides
        "loopback0": True,
    }


# --- netmiko's own cisco_nxos driver ---------------------------------------------------------


def test_netmiko_logs_in_with_what_its_session_preparation_sends(
    emulator: tuple[Emulator, Path], login_key: LoginKey
) -> None:
    emu, known_hosts = emulator
    connection = connect(emu, known_hosts, login_key.path)
    try:
        assert connection.find_prompt() == "dc-core#"
        assert connection.base_prompt == "dc-core"
        assert not connection.check_config_mode()
    finally:
        connection.disconnect()

    typed = [h.line for h in emu.device(NAME).history]
    assert typed[:2] == ["terminal width 511", "terminal length 0"]


def test_netmiko_configures_saves_and_leaves_config_mode(
    emulator: tuple[Emulator, Path], login_key: LoginKey
) -> None:
    emu, known_hosts = emulator
    connection = connect(emu, known_hosts, login_key.path)
    try:
        output = connection.send_config_set(["interface Ethernet1/4", "shutdown"])
        assert "dc-core(config-if)#" in output
        assert not connection.check_config_mode()
        assert "Copy complete." in connection.save_config()
    finally:
        connection.disconnect()

    assert emu.device(NAME).admin_up()["Ethernet1/4"] is False


def test_device_errors_are_nxos_wording_and_change_nothing(
    emulator: tuple[Emulator, Path], session: Session
) -> None:
    emu, _ = emulator
    driver = CiscoNxosDriver()
    before = emu.device(NAME).state()

    output = session.send_config(["interface Ethernet1/99", "shutdown"])
    refused = session.send_command("show interfaces brief")

    assert driver.find_error(output) == (
        "% Invalid interface format at '^' marker.; % Invalid command at '^' marker."
    )
    assert "% Invalid command at '^' marker." in refused
    assert emu.device(NAME).state() == before


def test_driver_reads_the_brief_table_only_when_it_tells_everything(
    emulator: tuple[Emulator, Path], session: Session
) -> None:
    emu, _ = emulator

    state = CiscoNxosDriver().read_state(session)

    assert state.interfaces == emu.device(NAME).admin_up()
    assert [h.line for h in emu.device(NAME).history if h.line.startswith("show")] == [
        "show interface brief"
    ]


def test_driver_reads_show_interface_for_a_port_with_no_cable(
    emulator: tuple[Emulator, Path], login_key: LoginKey
) -> None:
    emu, known_hosts = emulator
    s = Session(connect(emu, known_hosts, login_key.path, "sample1"))
    try:
        state = CiscoNxosDriver().read_state(s)
    finally:
        s.close()

    assert state.interfaces == emu.device("sample1").admin_up()
    assert state.interfaces["Ethernet1/4"] is True
    shows = [h.line for h in emu.device("sample1").history if h.line.startswith("show")]
    assert shows == ["show interface brief", "show interface"]


def test_snapshot_drops_the_header_lines_that_change_on_their_own(
    emulator: tuple[Emulator, Path], session: Session
) -> None:
    driver = CiscoNxosDriver()
    raw_before = session.send_command("show running-config")
    before = driver.snapshot(session)
    time.sleep(1.1)  # `!Time:` moves on
    session.send_config(["interface Ethernet1/3", "shutdown", "no shutdown"])

    raw_after = session.send_command("show running-config")

    assert raw_after != raw_before
    assert "!Time:" in raw_before
    assert driver.snapshot(session) == before
    assert "!Command: show running-config" in before


# --- the real command line -----------------------------------------------------------------


@pytest.mark.usefixtures("in_process_cli")
def test_the_cli_cuts_restores_and_sends_nothing_the_second_time(
    login_key: LoginKey, tmp_path: Path
) -> None:
    with emulated([DC_CORE], login_key, tmp_path / "known_hosts") as emu:
        links = {
            f"wan-dc-h{n}": {
                "kind": "intersite",
                "endpoints": [{"device": NAME, "interface": f"Ethernet1/{n}"}],
            }
            for n in (3, 4, 5)
        }
        base, playbook = write_cli_files(
            tmp_path,
            emu,
            login_key,
            "emulated-nxos",
            links=links,
            playbook={"name": "cut-wan", "cut": [{"select": {"kind": "intersite"}}]},
            platforms={NAME: "cisco_nxos"},
            journal="journal.jsonl",
        )
        device = emu.device(NAME)
        before = device.state()

        assert cli.main([*base, "cut", str(playbook), "--reason", "drill", "--yes"]) == 0
        assert device.admin_up() == {
            "Ethernet1/1": True,
            "Ethernet1/2": False,
            **{name: False for name in WAN},
        }
        assert device.blocked_interfaces() == frozenset()  # cut by shutdown, no filter

        changes = device.config_changes
        configured = sum(1 for h in device.history if "(config" in h.prompt)
        assert cli.main([*base, "cut", str(playbook), "--reason", "again", "--yes"]) == 0
        assert device.config_changes == changes
        assert sum(1 for h in device.history if "(config" in h.prompt) == configured

        restore = ["restore", str(playbook), "--all", "--approved-by", "pytest"]
        assert cli.main([*base, *restore, "--reason", "doubt lifted", "--yes"]) == 0
        assert device.state() == before
        assert device.admin_up()["Ethernet1/2"] is False  # shut before: left shut
