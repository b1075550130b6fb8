"""The FortiOS emulator profile: netmiko's own `fortinet` driver logs in, reads and configures
it unchanged; its policy in effect decides what is blocked; the real `isolement` command line
cuts and restores a FortiGate through it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from emulated import LoginKey, Session, emulated, netmiko_connect, write_cli_files
from isolement.lab.emulator import DeviceSpec, Emulator, InterfaceSpec, exit_links, generate_key
from isolement.lab.profiles.fortinet import FortinetCli, FortinetDevice

from isolement.cli import main as cli
from isolement.drivers.base import CutTarget
from isolement.drivers.fortinet import FortinetDriver
from isolement.flows.transaction import transact
from isolement.model.state import CutMethod

DATA = Path(__file__).resolve().parents[1] / "data" / "fortinet"
DRIVER = FortinetDriver()
PLAIN = DeviceSpec(
    "fw2",
    [InterfaceSpec("port1", address="198.18.1.1/30"), InterfaceSpec("port2")],
    platform="fortinet",
    options={"permits": [["port2", "port1"]]},
)


@pytest.fixture(scope="module")
def known_hosts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fortinet") / "known_hosts"


@pytest.fixture(scope="module")
def emu(login_key: LoginKey, known_hosts: Path) -> Iterator[Emulator]:
    specs = [FortinetDevice.sample("fw1"), PLAIN]
    with emulated(specs, login_key, known_hosts, username="ops") as emu:
        yield emu


def connect(emu: Emulator, name: str, login_key: LoginKey, known_hosts: Path) -> Any:
    """netmiko's own `fortinet` driver, as isolement's session opens it (fast_cli, host key
    checked)."""
    return netmiko_connect(
        "fortinet", emu, name, login_key.path, known_hosts, username="ops", read_timeout_override=10
    )


# --- netmiko's own driver ---------------------------------------------------------------------


@pytest.mark.parametrize(("name", "vdoms"), [("fw1", True), ("fw2", False)])
def test_netmikos_fortinet_driver_logs_in_detects_vdoms_and_puts_paging_back(
    emu: Emulator, login_key: LoginKey, known_hosts: Path, name: str, vdoms: bool
) -> None:
    device = emu.device(name)
    assert isinstance(device, FortinetDevice)

    connection = connect(emu, name, login_key, known_hosts)
    try:
        assert connection.find_prompt() == f"{name} #"
        assert connection._vdoms is vdoms
        assert connection._os_version == "v7_or_later"
        assert device.console_output == "standard"  # netmiko turned paging off
    finally:
        connection.disconnect()

    assert device.console_output == "more"  # and back on when it left
    sent = [h.line for h in device.history]
    assert ("config global" in sent) is vdoms


def test_the_status_answers_the_way_the_recorded_ones_do_for_netmikos_checks() -> None:
    """netmiko reads VDOM mode and version with these patterns (fortinet_ssh.py)."""
    vdom = re.compile(r"Virtual domain configuration: (multiple|enable|split-task)")
    version = re.compile(r"^Version\s*:\s+.*v[78]\..*$", re.M)
    recorded = (DATA / "get_system_status_6.2_vdom_multiple.txt").read_text()
    emulated = FortinetDevice(FortinetDevice.sample("fw9"), generate_key())
    lines = "\n".join(emulated.system_status())

    assert vdom.search(recorded) and vdom.search(lines)
    assert version.search(lines)


def test_netmiko_reads_configures_and_gets_fortios_errors(
    emu: Emulator, login_key: LoginKey, known_hosts: Path
) -> None:
    device = emu.device("fw2")
    connection = connect(emu, "fw2", login_key, known_hosts)
    try:
        state = DRIVER.parse_config(connection.send_command("show"))
        assert state.interfaces == {"port1": True, "port2": True}
        assert state.policies == {"": ["1"]}

        refused = connection.send_config_set(
            ["config firewall policy", "edit 5", 'set srcintf "nosuch99"', "next", "end"]
        )
        assert "entry not found in datasource" in refused
        assert "value parse error before 'nosuch99'" in refused
        assert "Attribute 'srcintf' MUST be set." in refused
        unknown = connection.send_command("config firewall polcy", expect_string=r"[#$]")
        assert "command parse error before 'polcy'" in unknown
        assert "Command fail. Return code -61" in unknown
        assert device.extra_state()["policies"] == {"root": [_permit(1, "port2", "port1")]}

        cut = DRIVER.render_cut(
            [_target("inet-fw2", "port1")], DRIVER.parse_config(connection.send_command("show"))
        )
        assert transact(DRIVER, Session(connection), "fw2", cut)
        assert device.blocked_interfaces() == {"port1", "port2"}
        after = DRIVER.parse_config(connection.send_command("show"))
        assert after.policies[""][2] == "1" and set(after.denies) == {"port1"}
        transact(
            DRIVER,
            Session(connection),
            "fw2",
            DRIVER.render_restore([_target("inet-fw2", "port1")], after),
        )
        assert device.blocked_interfaces() == frozenset()
    finally:
        connection.disconnect()


# --- the policy in effect, without a network ---------------------------------------------------


def fresh() -> tuple[FortinetDevice, FortinetCli]:
    device = FortinetDevice(FortinetDevice.sample("fw3"), generate_key())
    return device, device.cli()


def typed(session: FortinetCli, *lines: str) -> list[str]:
    return [out for line in lines for out in session.execute(line)]


DENY_FROM_PORT1 = [
    "edit 9",
    'set srcintf "port1"',
    'set dstintf "any"',
    'set srcaddr "all"',
    'set dstaddr "all"',
    'set schedule "always"',
    'set service "ALL"',
    "next",
]
DENY_TO_PORT1 = [line.replace("edit 9", "edit 10") for line in DENY_FROM_PORT1]
DENY_TO_PORT1[1:3] = ['set srcintf "any"', 'set dstintf "port1"']


def test_a_deny_appended_after_the_permit_blocks_nothing_until_moved_first() -> None:
    device, session = fresh()
    typed(session, "config vdom", "edit hospital", "config firewall policy")

    typed(session, *DENY_FROM_PORT1, *DENY_TO_PORT1)
    appended = device.blocked_interfaces()
    typed(session, "move 9 before 1", "move 10 before 1", "end", "end")

    assert "port1" not in appended
    assert {"port1", "port2"} <= device.blocked_interfaces()
    assert [p["id"] for p in device.extra_state()["policies"]["hospital"]] == [9, 10, 1]  # type: ignore[index]


def test_an_entry_takes_effect_on_next_and_abort_drops_it() -> None:
    device, session = fresh()
    typed(session, "config vdom", "edit hospital", "config firewall policy")

    typed(session, *DENY_FROM_PORT1[:-1])
    drafted = device.extra_state()
    typed(session, "abort")

    assert drafted == device.extra_state()
    assert len(device.policies["hospital"]) == 1


def test_vdom_mode_keeps_interfaces_in_global_and_policies_in_their_vdom() -> None:
    _device, session = fresh()

    top = typed(session, "config firewall policy")
    assert top[:2] == ["command parse error before 'policy'", "Command fail. Return code -61"]
    assert typed(session, "get system console")[0] == "command parse error before 'console'"
    assert typed(session, "config vdom", "edit hospital")[1] == "current vf=hospital:1"
    assert session.prompt() == "fw3 (hospital) # "
    typed(session, "end", "config global", "config system interface", 'edit "port3"')
    assert session.prompt() == "fw3 (port3) # "


def test_the_configuration_shows_in_the_layout_the_driver_reads() -> None:
    _device, session = fresh()

    text = "\n".join(typed(session, "show"))
    state = DRIVER.parse_config(text)

    assert text.startswith("#config-version=FGVM64-7.2.5-FW-build1517-230606:opmode=0:vdom=1")
    assert state.interfaces == {"port1": True, "port2": True, "port3": False}
    assert state.contexts == {"port1": "hospital", "port2": "hospital", "port3": "root"}
    assert state.policies == {"root": [], "hospital": ["1"]}
    # A deny policy shows without `set action`, its default, as FortiOS does.
    typed(session, "config vdom", "edit hospital", "config firewall policy", *DENY_FROM_PORT1)
    shown = typed(session, "show")
    assert shown.count("        set action accept") == 1
    assert "        set action deny" not in shown


@pytest.mark.parametrize("name", ["port1", "wan1", "internal7", "port1.100"])
def test_fortios_interface_names_are_accepted(name: str) -> None:
    FortinetDevice.check_interface_name(name)


@pytest.mark.parametrize("name", ["GigabitEthernet0/0", "any", "a-name-far-too-long"])
def test_names_fortios_would_never_give_an_interface_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="FortiOS"):
        FortinetDevice.check_interface_name(name)


# --- the real command line --------------------------------------------------------------------


@pytest.mark.usefixtures("in_process_cli")
def test_the_isolement_command_line_cuts_and_restores_a_fortigate(
    login_key: LoginKey, tmp_path: Path
) -> None:
    specs = [FortinetDevice.sample("h3-fw")]
    with emulated(specs, login_key, tmp_path / "known_hosts", username="ops") as emu:
        device = emu.device("h3-fw")
        before = device.state()
        run, playbook = write_cli_files(
            tmp_path,
            emu,
            login_key,
            "emulated-fortigate",
            username="ops",
            links=exit_links(["h3-fw"], "port1"),
            playbook={"name": "cut-exits", "cut": [{"select": {"kind": "internet"}}]},
            platforms={"h3-fw": "fortinet"},
            journal="journal.jsonl",
        )
        cut = [*run, "cut", str(playbook), "--reason", "test", "--yes"]

        assert cli.main(cut) == 0
        assert device.admin_up() == before["admin_up"]
        assert "port1" in device.blocked_interfaces()
        hospital = device.state()["policies"]["hospital"]  # type: ignore[index]
        assert [p["comments"] for p in hospital] == [
            "isolement port1 inet-h3-fw",
            "isolement port1 inet-h3-fw",
            "",
        ]

        typed_before = len(device.history)
        assert cli.main(cut) == 0
        again = [h.line for h in device.history[typed_before:]]
        assert not [line for line in again if "firewall policy" in line or "interface" in line]

        restore = [*run, "restore", str(playbook), "--all"]
        assert cli.main([*restore, "--approved-by", "pytest", "--reason", "test", "--yes"]) == 0
        assert device.state() == before


# --- helpers ----------------------------------------------------------------------------------


def _permit(number: int, source: str, destination: str) -> dict[str, object]:
    return {
        "id": number,
        "name": f"{source}-to-{destination}",
        "srcintf": [source],
        "dstintf": [destination],
        "action": "accept",
        "status": "enable",
        "comments": "",
    }


def _target(link: str, interface: str) -> CutTarget:
    return CutTarget(link, interface, CutMethod.DENY)


@pytest.mark.parametrize("vdoms", [True, False], ids=["vdoms", "no-vdoms"])
def test_a_fortigate_registered_to_a_fortimanager_reads_as_managed_by_it(vdoms: bool) -> None:
    sample = FortinetDevice.sample("fw4") if vdoms else PLAIN
    spec = DeviceSpec(
        sample.name,
        sample.interfaces,
        platform="fortinet",
        options={**sample.options, "fortimanager": True},
    )
    managed = FortinetDevice(spec, generate_key())

    text = "\n".join(typed(managed.cli(), "show"))

    assert DRIVER.parse_config(text).facts == {"managed_by": "FortiManager"}
    plain = FortinetDevice(sample, generate_key())
    assert DRIVER.parse_config("\n".join(typed(plain.cli(), "show"))).facts == {}


def test_the_preflight_and_the_plan_warn_that_a_fortimanager_may_overwrite_the_cut(
    login_key: LoginKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = FortinetDevice.sample("h3-fw")
    spec = DeviceSpec(
        sample.name,
        sample.interfaces,
        platform="fortinet",
        options={**sample.options, "fortimanager": True},
    )
    with emulated([spec], login_key, tmp_path / "known_hosts", username="ops") as emu:
        run, playbook = write_cli_files(
            tmp_path,
            emu,
            login_key,
            "emulated-fortigate",
            username="ops",
            links=exit_links(["h3-fw"], "port1"),
            playbook={"name": "cut-exits", "cut": [{"select": {"kind": "internet"}}]},
            platforms={"h3-fw": "fortinet"},
            journal="journal.jsonl",
        )
        warning = (
            "warning: h3-fw is managed by FortiManager: a central push may overwrite the local "
            "cut; re-check with `isolement verify` after each push"
        )

        assert cli.main([*run, "preflight", str(playbook)]) == 0
        assert warning in capsys.readouterr().out
        assert cli.main([*run, "plan", str(playbook)]) == 0
        assert warning in capsys.readouterr().out
        # Nothing was changed: only the policy in place at start.
        hospital = emu.device("h3-fw").state()["policies"]["hospital"]  # type: ignore[index]
        assert [p["comments"] for p in hospital] == [""]
