"""The Comware profile of the emulator, as netmiko's own `hp_comware` driver (HPComwareSSH,
unchanged, `fast_cli` as isolement uses it) sees it: views as prompts, `shutdown` / `undo
shutdown`, the abbreviated brief table, Comware's refusals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from emulated import Emulate, LoginKey, netmiko_connect
from isolement.lab.emulator import Emulator
from isolement.lab.profiles.hp_comware import ComwareDevice

from isolement.drivers.hp_comware import HpComwareDriver

NAME = "dc-cw"
driver = HpComwareDriver()


@pytest.fixture
def emu(emulate: Emulate) -> Emulator:
    return emulate([ComwareDevice.sample(NAME)])


@pytest.fixture
def netmiko(emu: Emulator, login_key: LoginKey, tmp_path: Path) -> Iterator[Any]:
    with netmiko_connect(
        "hp_comware", emu, NAME, login_key.path, tmp_path / "known_hosts", read_timeout_override=10
    ) as connection:
        yield connection


def test_netmiko_finds_the_user_view_prompt_and_disables_paging(
    emu: Emulator, netmiko: Any
) -> None:
    assert netmiko.find_prompt() == f"<{NAME}>"
    assert "screen-length disable" in [e.line for e in emu.device(NAME).history]


def test_a_shutdown_in_the_interface_view_is_read_back_adm(emu: Emulator, netmiko: Any) -> None:
    answer = netmiko.send_config_set(["interface Ten-GigabitEthernet1/0/49", "shutdown", "quit"])

    assert f"[{NAME}-Ten-GigabitEthernet1/0/49]shutdown" in answer
    assert driver.find_error(answer) is None
    table = netmiko.send_command("display interface brief")
    assert "XGE1/0/49            ADM  DOWN" in table
    state = driver.parse_interface_brief(table)
    assert state.interfaces == {
        "Ten-GigabitEthernet1/0/49": False,
        "GigabitEthernet1/0/1": True,
        "GigabitEthernet1/0/2": False,
    }
    assert emu.device(NAME).admin_up() == state.interfaces


def test_undo_shutdown_and_abbreviations(emu: Emulator, netmiko: Any) -> None:
    netmiko.send_config_set(["int g1/0/2", "undo shut", "quit"])

    assert emu.device(NAME).admin_up()["GigabitEthernet1/0/2"] is True


def test_the_configuration_holds_the_shutdown_in_its_interface_block(netmiko: Any) -> None:
    config = netmiko.send_command("display current-configuration").splitlines()

    at = config.index("interface GigabitEthernet1/0/2")
    assert config[at + 1 : at + 3] == [" port link-mode route", " shutdown"]
    assert config[-1] == "return"


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        ("interface GigabitEthernet9/9/9", " % Wrong parameter found at '^' position."),
        ("shutdwn", " % Unrecognized command found at '^' position."),
        ("interface", " % Incomplete command found at '^' position."),
    ],
)
def test_refusals_change_nothing(emu: Emulator, netmiko: Any, line: str, answer: str) -> None:
    before = emu.device(NAME).state()

    output = netmiko.send_config_set([line])

    assert answer in output.splitlines()
    assert driver.find_error(output) is not None
    assert emu.device(NAME).state() == before


def test_save_force_asks_nothing(netmiko: Any) -> None:
    answer = netmiko.send_command("save force")

    assert "successfully" in answer and driver.find_error(answer) is None
