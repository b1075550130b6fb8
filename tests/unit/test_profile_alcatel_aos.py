"""The OmniSwitch AOS 8 emulator (lab/profiles/alcatel_aos.py) behind netmiko's own, unchanged
`alcatel_aos` driver, isolement's AlcatelAosDriver on it, and the real `isolement` command line
cutting and restoring an emulated switch.

Everything listens on 127.0.0.1 only, on ports the OS picks; no lab, no root needed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from emulated import Emulate, LoginKey, Session, netmiko_connect, write_cli_files
from isolement.lab.emulator import DeviceSpec, Emulator, InterfaceSpec, generate_key
from isolement.lab.profiles.alcatel_aos import AlcatelAosDevice, AosCli

from isolement.cli.main import main
from isolement.drivers.alcatel_aos import AlcatelAosDriver
from isolement.drivers.base import CutTarget
from isolement.flows.transaction import transact
from isolement.model.errors import DeviceError
from isolement.model.state import CutMethod

AOS_DATA = Path(__file__).resolve().parents[1] / "data" / "alcatel_aos"
NAME = "h4-sw"
SW = DeviceSpec(
    NAME,
    [
        InterfaceSpec("1/1/1"),  # WAN to the datacentre (wan-dc-h4)
        InterfaceSpec("1/1/2"),  # LAN
        InterfaceSpec("1/1/3", shutdown=True),  # backup link, disabled before any cut
        InterfaceSpec("1/1/4", link_up=False),  # nothing plugged in
    ],
    platform="alcatel_aos",
)
DRIVER = AlcatelAosDriver()


@pytest.fixture
def emu(emulate: Emulate) -> Emulator:
    return emulate([SW])


@pytest.fixture
def conn(emu: Emulator, login_key: LoginKey, tmp_path: Path) -> Iterator[Any]:
    """netmiko's own AlcatelAosSSH, as isolement.transport.session opens it (fast_cli, strict
    host keys)."""
    with netmiko_connect(
        "alcatel_aos", emu, NAME, login_key.path, tmp_path / "known_hosts"
    ) as connection:
        yield connection


class AosSession(Session):
    """The shared Session, refusing what AOS does not have: configuration mode, commit."""

    def send_config(self, commands: Sequence[str]) -> str:
        raise AssertionError("AOS has no configuration mode: nothing goes through send_config")

    def commit(self, *, confirm_minutes: int | None = None) -> str:
        raise AssertionError("AOS has no commit")


def device(emu: Emulator) -> AlcatelAosDevice:
    found = emu.device(NAME)
    assert isinstance(found, AlcatelAosDevice)
    return found


# --- the CLI on its own (no SSH) -----------------------------------------------------------------


def cli() -> AosCli:
    return AosCli(AlcatelAosDevice(SW, generate_key()))


def test_the_status_table_is_aos8_layout_and_parses_as_the_recorded_one() -> None:
    lines = cli().execute("show interfaces status")
    recorded = (AOS_DATA / "show_interfaces_status_aos8.txt").read_text().splitlines()

    assert lines[:4] == recorded[:4]  # the header, byte for byte
    # Each row's columns end where the recorded rows' end (an enabled port, a disabled one).
    assert [len(line) for line in lines[4:]] == [len(recorded[4])] * 4
    assert lines[4] == recorded[4]  # 1/1/1, enabled, link up: the recorded row itself
    assert lines[6][9:14] == recorded[13][9:14] == "  dis"  # 1/1/3 as the recorded 1/1/10
    assert DRIVER.parse_interfaces_status("\n".join(lines)).interfaces == {
        "1/1/1": True,
        "1/1/2": True,
        "1/1/3": False,
        "1/1/4": True,  # link down, admin up
    }


def test_the_snapshot_has_aos_sections_and_the_disabled_ports() -> None:
    lines = cli().execute("show configuration snapshot")
    recorded = (AOS_DATA / "show_configuration_snapshot.txt").read_text().splitlines()
    headers = [line.rstrip() for line in recorded if line.startswith("! ")]

    assert lines[0] == "! Chassis:"
    # Every section header is one AOS prints, in AOS's order.
    ours = [line for line in lines if line.startswith("! ")]
    assert [h for h in headers if h in ours] == ours
    interface = lines.index("! Interface:")
    assert lines[interface + 1 : interface + 3] == ["interfaces port 1/1/3 admin-state disable", ""]
    assert 'session prompt default "h4-sw->"' in lines


def test_refusals_put_a_caret_under_the_refused_word() -> None:
    c = cli()
    prompt = len("h4-sw-> ")
    assert c.execute("set ip routing enable") == [" " * prompt + "^", 'ERROR: Invalid entry: "set"']
    assert c.execute("show foo") == [" " * (prompt + 5) + "^", 'ERROR: Invalid entry: "foo"']
    line = "interfaces port nosuch99 admin-state disable"
    assert c.execute(line)[1] == 'ERROR: Invalid entry: "nosuch99"'
    assert c.execute(line)[0].index("^") == prompt + line.index("nosuch99")
    # A well-formed port the switch does not have, a missing keyword, an extra word.
    assert c.execute("interfaces port 1/1/9 admin-state disable")[1] == (
        'ERROR: Invalid entry: "1/1/9"'
    )
    assert c.execute("interfaces port 1/1/1")[1] == 'ERROR: Invalid entry: "1/1/1"'
    assert c.execute("whoami now")[1] == 'ERROR: Invalid entry: "now"'
    assert c.execute("interfaces port 1/1/1 admin-state down")[1] == (
        'ERROR: Invalid entry: "down"'
    )
    assert c.device.admin_up()["1/1/1"] is True  # none of it changed anything


def test_one_mode_one_prompt_and_exit_closes() -> None:
    c = cli()
    assert c.prompt() == "h4-sw-> "
    assert not c.configuring
    c.ctrl_z()
    assert c.execute("interfaces 1/1/2 admin-state disable") == []  # the older AOS 8 form
    assert c.device.admin_up()["1/1/2"] is False
    assert c.prompt() == "h4-sw-> "
    assert c.execute("write memory flash-synchro") == []
    assert c.execute("exit") == [] and c.closed


def test_only_aos8_port_names() -> None:
    for name in ("1/1/1", "2/1/49A", "1/3/12"):
        AlcatelAosDevice.check_interface_name(name)
    for name in ("1/1", "GigabitEthernet0/1", "port1", "1/1/1/1"):
        with pytest.raises(ValueError, match="not an AOS 8 port name"):
            AlcatelAosDevice.check_interface_name(name)


def test_the_sample_is_three_ports_the_third_disabled() -> None:
    spec = AlcatelAosDevice.sample("contract1")
    assert [(i.name, i.shutdown) for i in spec.interfaces if isinstance(i, InterfaceSpec)] == [
        ("1/1/1", False),
        ("1/1/2", False),
        ("1/1/3", True),
    ]
    assert spec.platform == "alcatel_aos"


# --- netmiko's own alcatel_aos driver ------------------------------------------------------------


def test_netmiko_logs_in_and_finds_the_aos_prompt(conn: Any, emu: Emulator) -> None:
    assert conn.find_prompt() == "h4-sw->"
    assert conn.base_prompt == "h4-sw-"
    assert device(emu).logins == 1


def test_netmiko_reads_and_changes_the_switch(conn: Any, emu: Emulator) -> None:
    before = conn.send_command("show configuration snapshot")
    status = conn.send_command("show interfaces status")
    assert DRIVER.parse_interfaces_status(status).interfaces["1/1/1"] is True

    assert conn.send_command("interfaces port 1/1/1 admin-state disable") == ""
    assert device(emu).admin_up()["1/1/1"] is False
    assert (
        "interfaces port 1/1/1 admin-state disable"
        in conn.send_command("show configuration snapshot").splitlines()
    )

    # netmiko's own config path works too (AOS has no config mode: NoConfig sends as typed).
    conn.send_config_set(["interfaces port 1/1/1 admin-state enable"])
    assert device(emu).admin_up()["1/1/1"] is True
    assert conn.send_command("show configuration snapshot") == before
    conn.save_config()  # `write memory flash-synchro`
    assert device(emu).history[-1].line == "write memory flash-synchro"


def test_netmiko_gets_the_aos_error_and_the_driver_recognises_it(conn: Any, emu: Emulator) -> None:
    answer = conn.send_command("interfaces port 1/1/9 admin-state disable")

    assert answer.splitlines()[-1] == 'ERROR: Invalid entry: "1/1/9"'
    assert DRIVER.find_error(answer) == 'ERROR: Invalid entry: "1/1/9"'
    assert device(emu).config_changes == 0


def test_the_driver_over_netmiko(conn: Any, emu: Emulator) -> None:
    session = AosSession(conn)
    target = CutTarget("wan-dc-h4", "1/1/1", CutMethod.SHUTDOWN)

    assert DRIVER.has_privilege(session)
    before = DRIVER.read_state(session)
    snapshot = DRIVER.snapshot(session)
    transact(DRIVER, session, NAME, DRIVER.render_cut([target], before))
    assert device(emu).admin_up() == {**before.interfaces, "1/1/1": False}
    transact(DRIVER, session, NAME, DRIVER.render_restore([target], DRIVER.read_state(session)))
    assert DRIVER.read_state(session) == before
    assert DRIVER.snapshot(session) == snapshot

    bad = CutTarget("wan-dc-h4", "nosuch99", CutMethod.SHUTDOWN)
    with pytest.raises(DeviceError, match='ERROR: Invalid entry: "nosuch99"'):
        transact(DRIVER, session, NAME, DRIVER.render_cut([bad]))


def test_the_error_on_fault_answers_as_aos_refuses(conn: Any, emu: Emulator) -> None:
    device(emu).set_faults(error_on="interfaces port 1/1/1 admin-state disable")

    answer = conn.send_command("interfaces port 1/1/1 admin-state disable")

    assert DRIVER.find_error(answer) == 'ERROR: Invalid entry: "interfaces"'
    assert device(emu).admin_up()["1/1/1"] is True


# --- the real command line, in-process -----------------------------------------------------------


@pytest.mark.usefixtures("in_process_cli")
def test_the_isolement_cli_cuts_and_restores_the_switch(
    emu: Emulator,
    login_key: LoginKey,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    links = {
        "wan-dc-h4": {"kind": "intersite", "endpoints": [{"device": NAME, "interface": "1/1/1"}]},
        # Disabled before the cut: cut finds it cut, restore leaves it disabled.
        "backup-h3-h4": {"kind": "backup", "endpoints": [{"device": NAME, "interface": "1/1/3"}]},
    }
    base, playbook = write_cli_files(
        tmp_path,
        emu,
        login_key,
        "aos-cli",
        links=links,
        playbook={"name": "cut-intersite", "cut": [{"select": {"kind": ["intersite", "backup"]}}]},
        platforms={NAME: "alcatel_aos"},
    )
    switch = device(emu)
    as_before = switch.state()
    snapshot_before = switch.configuration_snapshot()

    assert main([*base, "cut", str(playbook), "--reason", "drill", "--yes"]) == 0, (
        capsys.readouterr()
    )
    assert switch.admin_up() == {"1/1/1": False, "1/1/2": True, "1/1/3": False, "1/1/4": True}
    assert switch.blocked_interfaces() == frozenset()
    changes, typed = switch.config_changes, len(switch.history)

    # Run again: read, nothing to do, nothing sent.
    assert main([*base, "cut", str(playbook), "--reason", "drill", "--yes"]) == 0, (
        capsys.readouterr()
    )
    assert switch.config_changes == changes
    assert [h.line for h in switch.history[typed:] if h.line.startswith("interfaces")] == []

    restore = ["restore", str(playbook), "--all", "--approved-by", "pytest", "--reason", "drill"]
    assert main([*base, *restore, "--yes"]) == 0, capsys.readouterr()
    assert switch.state() == as_before
    assert switch.admin_up()["1/1/3"] is False  # it was disabled before: it stays so
    assert switch.configuration_snapshot() == snapshot_before
    sent = [h.line for h in switch.history if h.line.startswith("interfaces")]
    assert sent == [
        "interfaces port 1/1/1 admin-state disable",
        "interfaces port 1/1/1 admin-state enable",
    ]
