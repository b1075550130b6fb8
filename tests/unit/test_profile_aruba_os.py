"""The AOS-S profile of the emulator, as netmiko's own `aruba_osswitch` driver (HPProcurveSSH,
unchanged, `fast_cli` as isolement uses it) sees it: the banner and its key press, the one-line
port disable, the refusals and the logout question."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from emulated import Emulate, LoginKey, netmiko_connect
from isolement.lab.emulator import Emulator, generate_key
from isolement.lab.profiles.aruba_os import BANNER, LOGOUT_QUESTION, AossDevice

from isolement.drivers.aruba_os import ArubaOsDriver

NAME = "dc-aoss"
driver = ArubaOsDriver()


@pytest.fixture
def emu(emulate: Emulate) -> Emulator:
    return emulate([AossDevice.sample(NAME)])


@pytest.fixture
def netmiko(emu: Emulator, login_key: LoginKey, tmp_path: Path) -> Iterator[Any]:
    with netmiko_connect(
        "aruba_osswitch",
        emu,
        NAME,
        login_key.path,
        tmp_path / "known_hosts",
        read_timeout_override=10,
    ) as connection:
        yield connection


def test_netmiko_gets_past_the_banner_and_finds_the_manager_prompt(
    emu: Emulator, netmiko: Any
) -> None:
    assert BANNER.endswith("Press any key to continue") and "Copyright" in BANNER
    assert netmiko.find_prompt() == f"{NAME}#"
    typed = [entry.line for entry in emu.device(NAME).history]
    assert "no page" in typed and "terminal width 511" in typed


def test_a_port_disabled_in_one_line_is_read_back_disabled(emu: Emulator, netmiko: Any) -> None:
    answer = netmiko.send_config_set(["interface 25 disable"])

    assert driver.find_error(answer) is None
    assert emu.device(NAME).admin_up() == {"25": False, "1": True, "2": False}
    state = driver.parse_interfaces_brief(netmiko.send_command("show interfaces brief"))
    assert state.interfaces == {"25": False, "1": True, "2": False}
    config = netmiko.send_command("show running-config").splitlines()
    at = config.index("interface 25")
    assert config[at : at + 4] == ["interface 25", '   name "UPLINK-CORE"', "   disable", "   exit"]


def test_the_port_context_disables_and_enables_too(emu: Emulator, netmiko: Any) -> None:
    netmiko.send_config_set(["interface 1", "disable", "exit"])
    assert emu.device(NAME).admin_up()["1"] is False

    netmiko.send_config_set(["interface 1", "enable", "exit"])
    assert emu.device(NAME).admin_up()["1"] is True


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        ("interface 99 disable", "Module not present for port or invalid port: 99"),
        ("interfac 25 shut", "Invalid input: shut"),
        ("interface", "Incomplete input: interface"),
    ],
)
def test_refusals_are_worded_as_aos_s_words_them_and_change_nothing(
    emu: Emulator, netmiko: Any, line: str, answer: str
) -> None:
    before = emu.device(NAME).state()

    output = netmiko.send_config_set([line])

    assert answer in output
    assert driver.find_error(output) is not None
    assert emu.device(NAME).state() == before


def test_logout_asks_its_question_and_a_yes_ends_the_session() -> None:
    cli = AossDevice(AossDevice.sample(NAME), generate_key()).cli()
    assert cli.prompt() == BANNER  # the first prompt is the banner, the next the real one
    assert cli.prompt() == f"{NAME}# "

    cli.execute("logout")
    assert cli.prompt() == LOGOUT_QUESTION and not cli.closed
    cli.execute("y")

    assert cli.closed


def test_a_no_keeps_the_session(emu: Emulator) -> None:
    cli = emu.device(NAME).cli()
    cli.prompt()
    cli.execute("logout")
    cli.execute("n")

    assert not cli.closed and cli.prompt() == f"{NAME}# "


def test_netmikos_logout_is_typed_and_the_session_ends(
    emu: Emulator, login_key: LoginKey, tmp_path: Path
) -> None:
    connection = netmiko_connect(
        "aruba_osswitch", emu, NAME, login_key.path, tmp_path / "known_hosts"
    )
    connection.disconnect()

    # Whether its `y` arrives before netmiko closes the connection is a race: not checked.
    assert "logout" in [e.line for e in emu.device(NAME).history]
