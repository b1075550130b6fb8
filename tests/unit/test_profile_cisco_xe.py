"""The IOS-XE profile of the emulator, as netmiko's own `cisco_xe` driver (its IOS class,
unchanged, `fast_cli` as isolement uses it) sees it: the abbreviated names of `show ip interface
brief`, the header of `show running-config` that every change rewrites."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from emulated import Emulate, LoginKey, netmiko_connect
from isolement.lab.emulator import Emulator
from isolement.lab.profiles.cisco_xe import XeDevice

from isolement.drivers.cisco_xe import CiscoXeDriver

NAME = "dc-xe"


@pytest.fixture
def emu(emulate: Emulate) -> Emulator:
    return emulate([XeDevice.sample(NAME)])


@pytest.fixture
def netmiko(emu: Emulator, login_key: LoginKey, tmp_path: Path) -> Iterator[Any]:
    with netmiko_connect(
        "cisco_xe", emu, NAME, login_key.path, tmp_path / "known_hosts", read_timeout_override=10
    ) as connection:
        yield connection


def test_netmiko_logs_in_and_finds_the_privileged_prompt(netmiko: Any) -> None:
    assert netmiko.find_prompt() == f"{NAME}#"


def test_a_name_longer_than_the_column_is_printed_abbreviated(netmiko: Any) -> None:
    rows = netmiko.send_command("show ip interface brief").splitlines()

    assert rows[1].split()[:2] == ["Te1/1/1", "198.18.0.1"]
    assert rows[2].split()[0] == "GigabitEthernet1/0/1"
    # The driver reads it back in the configuration's spelling.
    state = CiscoXeDriver.parse_interface_brief("\n".join(rows))
    assert state.interfaces == {
        "TenGigabitEthernet1/1/1": True,
        "GigabitEthernet1/0/1": True,
        "GigabitEthernet1/0/2": False,
    }


def test_a_change_rewrites_the_last_change_line_and_a_save_adds_the_nvram_one(
    emu: Emulator, netmiko: Any
) -> None:
    def header() -> list[str]:
        config = netmiko.send_command("show running-config").splitlines()
        return [line for line in config if line.startswith("! ")]

    assert [line.split(" at ")[0] for line in header()] == ["! Last configuration change"]

    netmiko.send_config_set(["interface TenGigabitEthernet1/1/1", "shutdown", "exit"])
    netmiko.save_config()

    assert [line.split(" at ")[0] for line in header()] == [
        "! Last configuration change",
        "! NVRAM config last updated",
    ]
    assert emu.device(NAME).admin_up()["TenGigabitEthernet1/1/1"] is False


def test_the_header_is_no_difference_between_startup_and_running(netmiko: Any) -> None:
    netmiko.send_config_set(["interface GigabitEthernet1/0/1", "description x", "exit"])
    netmiko.send_config_set(["interface GigabitEthernet1/0/1", "no description", "exit"])

    answer = netmiko.send_command(
        "show archive config differences nvram:startup-config system:running-config"
    )

    assert "No changes were found" in answer
