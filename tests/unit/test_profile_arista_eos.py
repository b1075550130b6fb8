"""The EOS profile of the emulator, as netmiko's own `arista_eos` driver (AristaSSH, unchanged,
`fast_cli` as isolement uses it) and isolement's driver see it: a configuration session whose
lines wait until its commit, an abort that drops them, the missing-port warning."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from emulated import Emulate, LoginKey, Session, netmiko_connect
from isolement.lab.emulator import Emulator
from isolement.lab.profiles.arista_eos import NO_SUCH_PORT, EosDevice

from isolement.drivers.arista_eos import AristaEosDriver
from isolement.drivers.base import CutTarget
from isolement.flows.transaction import transact
from isolement.model.errors import DeviceError
from isolement.model.state import CutMethod

NAME = "dc-eos"
driver = AristaEosDriver()


@pytest.fixture
def emu(emulate: Emulate) -> Emulator:
    return emulate([EosDevice.sample(NAME)])


@pytest.fixture
def netmiko(emu: Emulator, login_key: LoginKey, tmp_path: Path) -> Iterator[Any]:
    with netmiko_connect(
        "arista_eos", emu, NAME, login_key.path, tmp_path / "known_hosts", read_timeout_override=10
    ) as connection:
        yield connection


def test_netmiko_sets_width_and_paging_and_finds_the_prompt(emu: Emulator, netmiko: Any) -> None:
    assert netmiko.find_prompt() == f"{NAME}#"
    typed = [e.line for e in emu.device(NAME).history]
    assert "terminal width 511" in typed and "terminal length 0" in typed


def test_session_lines_wait_for_the_commit(emu: Emulator, netmiko: Any) -> None:
    device = emu.device(NAME)
    prompt = r"[>#]\s*$"
    netmiko.send_command("configure session isolement-t1", expect_string=prompt)
    netmiko.send_command("interface Ethernet49", expect_string=prompt)
    assert netmiko.find_prompt() == f"{NAME}(config-s-isolem-if-Et49)#"
    netmiko.send_command("shutdown", expect_string=prompt)

    assert device.admin_up()["Ethernet49"] is True  # pending, not in effect
    assert device.state()["sessions"] == {"isolement-t1": 1}

    netmiko.send_command("commit", expect_string=prompt)

    assert device.admin_up()["Ethernet49"] is False
    assert device.state()["sessions"] == {}
    assert netmiko.find_prompt() == f"{NAME}#"


def test_the_driver_cuts_and_restores_through_a_session(emu: Emulator, netmiko: Any) -> None:
    session = Session(netmiko)
    target = CutTarget("up", "Ethernet49", CutMethod.SHUTDOWN)
    snapshot = driver.snapshot(session)

    transact(driver, session, NAME, driver.render_cut([target], None))
    cut = driver.read_state(session)
    transact(driver, session, NAME, driver.render_restore([target], cut))

    assert cut.interfaces["Ethernet49"] is False
    assert driver.read_state(session).interfaces["Ethernet49"] is True
    assert driver.snapshot(session) == snapshot


def test_a_refusal_mid_change_leaves_nothing_in_effect_and_no_session(
    emu: Emulator, netmiko: Any
) -> None:
    device = emu.device(NAME)
    before = device.state()
    targets = [
        CutTarget("up", "Ethernet49", CutMethod.SHUTDOWN),
        CutTarget("gone", "Ethernet99", CutMethod.SHUTDOWN),
    ]

    with pytest.raises(DeviceError, match="Interface does not exist"):
        transact(driver, Session(netmiko), NAME, driver.render_cut(targets, None))

    assert device.state() == before  # Ethernet49 not shut, the session aborted
    assert [e.line for e in device.history][-1] == "abort"


def test_a_port_the_switch_lacks_is_accepted_with_its_warning_and_changes_nothing(
    emu: Emulator, netmiko: Any
) -> None:
    before = emu.device(NAME).state()

    answer = netmiko.send_config_set(["interface Ethernet99", "shutdown", "exit"])

    assert NO_SUCH_PORT in answer
    assert emu.device(NAME).state() == before


def test_an_unknown_name_is_invalid_input_at_its_token(netmiko: Any) -> None:
    answer = netmiko.send_config_set(["interface nosuch99"])

    assert "% Invalid input (at token 1: 'nosuch99')" in answer
