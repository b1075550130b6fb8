"""CiscoXeDriver on real IOS-XE answers: the names IOS-XE abbreviates in `show ip interface
brief` (genieparser's ISR 4000 capture, ../shared/captures), and the volatile header of its
`show running-config` (a real ISR4321's, tests/data/cisco_xe/SOURCES.md). No device."""

from __future__ import annotations

from pathlib import Path

import pytest
from netmiko.cisco.cisco_ios import CiscoIosSSH
from netmiko.ssh_dispatcher import CLASS_MAPPER
from shared_captures import capture

from isolement.drivers import driver_for
from isolement.drivers.cisco_ios import CiscoIosDriver
from isolement.drivers.cisco_xe import CiscoXeDriver

DATA = Path(__file__).resolve().parents[1] / "data" / "cisco_xe"
ISR4321_CONFIG = (DATA / "show_running_config_isr4321.txt").read_text()

driver = CiscoXeDriver()


class _Recorded:
    """A session that answers one command with a recorded output."""

    def __init__(self, answers: dict[str, str]):
        self.answers = answers

    def send_command(self, command: str, **_: object) -> str:
        return self.answers[command]


def test_the_platform_is_netmikos_cisco_xe_on_its_ios_class() -> None:
    assert isinstance(driver_for("cisco_xe"), CiscoXeDriver)
    assert CiscoXeDriver.facts.netmiko_device_type == "cisco_xe"
    assert CLASS_MAPPER["cisco_xe"] is CiscoIosSSH


def test_the_abbreviated_names_of_a_real_isr4000_read_in_the_configurations_spelling() -> None:
    state = driver.parse_interface_brief(capture("cisco_ios/genie_iosxe_golden.raw"))

    # `Te0/0/4 ... up`, `Te0/0/5 ... down` (no link, not shut), `Tw0/1/0 ... up`.
    assert state.interfaces["TenGigabitEthernet0/0/4"] is True
    assert state.interfaces["TenGigabitEthernet0/0/5"] is True
    assert state.interfaces["TwoGigabitEthernet0/1/0"] is True
    assert state.interfaces["ucse1/0/0"] is False
    assert not [name for name in state.interfaces if name.startswith(("Te0", "Tw0"))]


@pytest.mark.parametrize(
    ("typed", "full"),
    [
        ("Te0/0/4", "TenGigabitEthernet0/0/4"),
        ("TenGigabitEthernet0/0/4", "TenGigabitEthernet0/0/4"),
        ("Tw0/1/0", "TwoGigabitEthernet0/1/0"),
        ("Fo1/0/1", "FortyGigabitEthernet1/0/1"),
        ("Hu1/0/1", "HundredGigE1/0/1"),
        ("HundredGigE1/0/1", "HundredGigE1/0/1"),
    ],
)
def test_either_spelling_is_the_configurations_one(typed: str, full: str) -> None:
    assert driver.interface_name(typed) == full


def test_the_ios_parsing_is_reused_not_copied() -> None:
    assert CiscoXeDriver.parse_interface_brief is CiscoIosDriver.parse_interface_brief
    assert CiscoXeDriver.interface_name is CiscoIosDriver.interface_name


def test_the_snapshot_leaves_out_the_time_of_the_last_change() -> None:
    assert "! Last configuration change at 16:36:11 UTC Mon Feb 25 2019\n" in ISR4321_CONFIG
    session = _Recorded({"show running-config": ISR4321_CONFIG})

    snapshot = driver.snapshot(session)  # type: ignore[arg-type]

    assert "Last configuration change" not in snapshot
    # Nothing else is left out: the rest of the configuration is compared line for line.
    assert snapshot.splitlines() == [
        line for line in ISR4321_CONFIG.splitlines() if "Last configuration change" not in line
    ]
    assert " shutdown" in snapshot.splitlines()


def test_two_snapshots_of_one_configuration_changed_then_put_back_compare_equal() -> None:
    later = ISR4321_CONFIG.replace("16:36:11 UTC Mon Feb 25 2019", "03:12:40 UTC Tue Feb 26 2019")
    before = driver.snapshot(_Recorded({"show running-config": ISR4321_CONFIG}))  # type: ignore[arg-type]
    after = driver.snapshot(_Recorded({"show running-config": later}))  # type: ignore[arg-type]

    assert before == after


def test_a_real_change_still_shows_in_the_snapshot() -> None:
    reopened = ISR4321_CONFIG.replace(
        "interface GigabitEthernet0/0/1\n no ip address\n shutdown\n",
        "interface GigabitEthernet0/0/1\n no ip address\n",
    )
    before = driver.snapshot(_Recorded({"show running-config": ISR4321_CONFIG}))  # type: ignore[arg-type]
    after = driver.snapshot(_Recorded({"show running-config": reopened}))  # type: ignore[arg-type]

    assert before != after
