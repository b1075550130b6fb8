"""The Junos profile of the emulator: its CLI on its own, netmiko's own `juniper_junos` driver
(unchanged, fast_cli as isolement uses it) against it, the driver's commit sequence on it, and
the real `isolement` command line cutting and restoring an emulated EX switch."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from emulated import Emulate, LoginKey, Session, emulated, netmiko_connect, write_cli_files
from isolement.lab.emulator import DeviceSpec, Emulator, InterfaceSpec, generate_key
from isolement.lab.profiles.juniper_junos import JunosCli, JunosDevice
from netmiko.exceptions import ReadTimeout

from isolement.cli.main import main
from isolement.drivers.base import CutTarget
from isolement.drivers.juniper_junos import JuniperJunosDriver
from isolement.flows.transaction import transact
from isolement.model.errors import DeviceError
from isolement.model.state import CutMethod

NAME = "h5-sw"
DRIVER = JuniperJunosDriver()
WAN = CutTarget("wan-dc-h5", "ge-0/0/0", CutMethod.SHUTDOWN)
# The lines of a change, not of netmiko's session preparation (`set cli ...`).
CHANGES = ("set interfaces", "delete interfaces", "commit")


def spec(**options: object) -> DeviceSpec:
    sample = JunosDevice.sample(NAME)
    return DeviceSpec(NAME, sample.interfaces, platform="juniper_junos", options=options)


@pytest.fixture
def emu(emulate: Emulate) -> Emulator:
    # A `commit confirmed` minute of 0.3 s, so that a rollback can be watched.
    return emulate([spec(minute_s=0.3)])


def connect(emu: Emulator, tmp_path: Path, key: Path) -> Any:
    # A dropped connection is seen in seconds, not after netmiko's default wait.
    known_hosts = tmp_path / "known_hosts"
    return netmiko_connect("juniper_junos", emu, NAME, key, known_hosts, read_timeout_override=3)


@pytest.fixture
def conn(emu: Emulator, tmp_path: Path, login_key: LoginKey) -> Iterator[Any]:
    with connect(emu, tmp_path, login_key.path) as connection:
        yield connection


def device(emu: Emulator) -> JunosDevice:
    found = emu.device(NAME)
    assert isinstance(found, JunosDevice)
    return found


def wait_for(condition: Any, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


# --- the CLI on its own (no SSH) ----------------------------------------------------------------


HOST_KEY = generate_key()


def cli(**options: object) -> JunosCli:
    return JunosDevice(spec(**options), HOST_KEY).cli()


def test_prompts_follow_the_mode() -> None:
    shell = cli()
    assert shell.prompt().endswith("\r\nisolement@h5-sw> ")

    assert shell.execute("configure") == ["Entering configuration mode"]
    assert shell.prompt() == "\r\n[edit]\r\nisolement@h5-sw# "
    assert shell.configuring

    assert shell.execute("exit configuration-mode") == ["Exiting configuration mode"]
    assert not shell.configuring


def test_netmiko_session_preparation_is_answered() -> None:
    shell = cli()

    assert shell.execute("set cli screen-width 511") == ["Screen width set to 511"]
    assert shell.execute("set cli complete-on-space off") == ["Disabling complete-on-space"]
    assert shell.execute("set cli screen-length 0") == ["Screen length set to 0"]


def test_terse_reads_as_the_recorded_layouts_do() -> None:
    shell = cli()
    terse = shell.execute("show interfaces terse")

    assert terse[0] == "Interface               Admin Link Proto    Local                 Remote"
    assert terse[1:5] == [
        "ge-0/0/0                up    up",
        "ge-0/0/0.0              up    up   inet     198.18.0.1/30",
        "ge-0/0/1                up    up",
        "ge-0/0/1.0              up    up   inet     198.18.0.5/30",
    ]
    # The recorded EX switch's disabled port: Admin down, its unit up and link down.
    assert terse[5:7] == [
        "ge-0/0/2                down  down",
        "ge-0/0/2.0              up    down inet",
    ]
    state = DRIVER.parse_terse("\n".join(terse))
    assert {
        n: up for n, up in state.interfaces.items() if n.startswith("ge-") and "." not in n
    } == (shell.device.admin_up())


def test_refusals_are_junos_own() -> None:
    shell = cli()
    assert shell.execute("shoe")[-1] == "unknown command."
    assert shell.execute("configure")
    assert shell.execute("set interfaces nosuch99 disable")[-1] == (
        "invalid interface type in 'nosuch99'."
    )
    refused = shell.execute("set interfaces ge-0/0/0 shutdown")
    assert refused[0].endswith("^") and refused[1] == "syntax error."
    # The caret sits under the word refused.
    assert len(refused[0]) - 1 == len("isolement@h5-sw# set interfaces ge-0/0/0 ")
    assert shell.execute("set interfaces ge-0/0/0")[-1] == "missing argument."
    assert shell.execute("delete interfaces ge-0/0/1 disable") == ["warning: statement not found"]
    assert not shell.device.modified()


def test_the_candidate_is_shown_compared_and_only_committed_takes_effect() -> None:
    shell = cli()
    shell.execute("configure")
    shell.execute("set interfaces ge-0/0/0 disable")
    shell.execute("set interfaces ge-0/0/1 unit 0 disable")

    assert shell.execute("show | compare") == [
        "[edit interfaces ge-0/0/0]",
        "+   disable;",
        "[edit interfaces ge-0/0/1 unit 0]",
        "+   disable;",
    ]
    assert shell.device.admin_up()["ge-0/0/0"] is True  # the candidate is not in effect

    assert shell.execute("commit") == ["commit complete"]
    assert shell.device.admin_up()["ge-0/0/0"] is False
    assert "ge-0/0/1.0              down  up   inet     198.18.0.5/30" in shell.execute(
        "run show interfaces terse"
    )
    assert shell.execute("show | compare") == []


def test_leaving_with_uncommitted_changes_asks_and_keeps_them() -> None:
    shell = cli()
    shell.execute("configure")
    shell.execute("set interfaces ge-0/0/0 disable")

    assert shell.execute("exit configuration-mode") == [
        "The configuration has been changed but not committed"
    ]
    assert shell.prompt() == "Exit with uncommitted changes? [yes,no] (yes) "
    assert shell.execute("yes") == ["Exiting configuration mode"]
    # The candidate is shared: the next `configure` says so.
    assert shell.execute("configure") == [
        "Entering configuration mode",
        "The configuration has been changed but not committed",
    ]
    assert shell.execute("rollback 0") == ["load complete"]
    assert not shell.device.modified()


def test_a_commit_confirmed_not_confirmed_rolls_back_by_itself() -> None:
    shell = cli(minute_s=0.2)
    switch = shell.device
    shell.execute("configure")
    shell.execute("delete interfaces ge-0/0/2 disable")

    assert shell.execute("commit confirmed 1") == [
        "configuration check succeeds",
        "commit confirmed will be automatically rolled back in 1 minutes unless confirmed",
        "commit complete",
    ]
    assert switch.admin_up()["ge-0/0/2"] is True
    assert "# commit confirmed will be rolled back in 1 minutes\r\n[edit]" in shell.prompt()

    assert wait_for(lambda: switch.admin_up()["ge-0/0/2"] is False)
    assert switch.extra_state()["commit_confirmed_pending"] is False
    assert not switch.modified()
    assert "# commit confirmed" not in shell.prompt()


def test_a_plain_commit_confirms() -> None:
    shell = cli(minute_s=0.2)
    shell.execute("configure")
    shell.execute("delete interfaces ge-0/0/2 disable")
    shell.execute("commit confirmed 1")

    assert shell.execute("commit") == ["commit complete"]
    time.sleep(0.4)
    assert shell.device.admin_up()["ge-0/0/2"] is True


# --- netmiko's own driver, unchanged ------------------------------------------------------------


def test_netmiko_logs_in_reads_configures_and_commits(conn: Any, emu: Emulator) -> None:
    assert conn.find_prompt() == "isolement@h5-sw>"
    assert "ge-0/0/2                down  down" in conn.send_command("show interfaces terse")

    sent = conn.send_config_set(["set interfaces ge-0/0/0 disable"])
    assert "Exit with uncommitted changes?" in sent  # answered by netmiko: the change stays
    assert device(emu).admin_up()["ge-0/0/0"] is True

    assert "commit complete" in conn.commit()
    assert device(emu).admin_up()["ge-0/0/0"] is False
    # commit() leaves netmiko in configuration mode, where `show configuration` is not a command.
    assert "syntax error." in conn.send_command("show configuration | display set")
    conn.exit_config_mode()
    assert "set interfaces ge-0/0/0 disable" in conn.send_command(
        "show configuration | display set"
    )


def test_netmiko_commit_confirmed_and_the_rollback(conn: Any, emu: Emulator) -> None:
    conn.send_config_set(["delete interfaces ge-0/0/2 disable"])

    output = conn.commit(confirm=True, confirm_delay=1)

    assert "commit confirmed will be automatically rolled back in 1 minutes" in output
    assert device(emu).admin_up()["ge-0/0/2"] is True
    assert wait_for(lambda: device(emu).admin_up()["ge-0/0/2"] is False)


def test_netmiko_sees_the_junos_error_for_a_bad_interface(conn: Any, emu: Emulator) -> None:
    output = conn.send_config_set(["set interfaces nosuch99 disable"])

    assert DRIVER.find_error(output) == "invalid interface type in 'nosuch99'."
    assert device(emu).extra_state()["uncommitted"] is False


def test_the_driver_refuses_to_commit_someone_elses_change(
    conn: Any, emu: Emulator, tmp_path: Path, login_key: LoginKey
) -> None:
    before = device(emu).state()
    # A colleague's session leaves an uncommitted change in the shared candidate.
    conn.send_config_set(["set interfaces ge-0/0/1 description maintenance"])
    other = Session(connect(emu, tmp_path, login_key.path))
    try:
        with pytest.raises(DeviceError, match=r"not isolement's.*description maintenance"):
            transact(DRIVER, other, NAME, DRIVER.render_cut([WAN]))
    finally:
        other.close()

    after = device(emu).state()
    assert {**after, "candidate": None} == {**before, "uncommitted": True, "candidate": None}
    assert "description maintenance" in "\n".join(device(emu).compare())


def test_a_cut_cut_off_before_its_commit_is_redone_cleanly(
    emu: Emulator, tmp_path: Path, login_key: LoginKey
) -> None:
    # Lines typed in configuration mode: `show | compare`, `exit configuration-mode`, then the
    # `set`: the connection dies once it is in the candidate.
    device(emu).set_faults(drop_after_config_lines=3)
    first = Session(connect(emu, tmp_path, login_key.path))
    # netmiko waits for an answer that never comes (isolement's session maps this to "connection
    # lost"; this minimal one does not).
    with pytest.raises(ReadTimeout):
        transact(DRIVER, first, NAME, DRIVER.render_cut([WAN]))
    device(emu).clear_faults()
    assert device(emu).extra_state()["uncommitted"] is True

    retry = Session(connect(emu, tmp_path, login_key.path))
    try:
        # The lines of the attempt cut off are isolement's own, as its journal says.
        assert DRIVER.recover_candidate(retry, NAME, DRIVER.render_cut([WAN]).lines)
        transact(DRIVER, retry, NAME, DRIVER.render_cut([WAN]))
    finally:
        retry.close()

    assert device(emu).admin_up()["ge-0/0/0"] is False
    assert device(emu).extra_state()["uncommitted"] is False


def test_the_error_on_fault_answers_as_junos_refuses(conn: Any, emu: Emulator) -> None:
    device(emu).set_faults(error_on="set interfaces ge-0/0/0 disable")

    with pytest.raises(DeviceError, match="unknown command"):
        transact(DRIVER, Session(conn), NAME, DRIVER.render_cut([WAN]))

    assert device(emu).admin_up()["ge-0/0/0"] is True
    assert device(emu).extra_state()["uncommitted"] is False


# --- the real command line, in-process ----------------------------------------------------------


@pytest.mark.usefixtures("in_process_cli")
def test_the_isolement_cli_cuts_and_restores_the_switch(
    login_key: LoginKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    interfaces = [
        InterfaceSpec("ge-0/0/0", address="198.18.5.1/30"),
        InterfaceSpec("ge-0/0/1", address="198.18.5.5/30"),
        InterfaceSpec("ge-0/0/2", shutdown=True),
    ]
    junos = DeviceSpec(NAME, interfaces, platform="juniper_junos")
    with emulated([junos], login_key, tmp_path / "known_hosts") as emu:
        links = {
            "wan-dc-h5": {
                "kind": "intersite",
                "endpoints": [{"device": NAME, "interface": "ge-0/0/0"}],
            },
            # Disabled before the cut: cut finds it cut, restore leaves it disabled.
            "backup-h5": {
                "kind": "backup",
                "endpoints": [{"device": NAME, "interface": "ge-0/0/2"}],
            },
        }
        base, playbook = write_cli_files(
            tmp_path,
            emu,
            login_key,
            "junos-cli",
            links=links,
            playbook={
                "name": "cut-intersite",
                "cut": [{"select": {"kind": ["intersite", "backup"]}}],
            },
            platforms={NAME: "juniper_junos"},
        )
        switch = device(emu)
        as_before = switch.state()
        cut = [*base, "cut", str(playbook), "--reason", "drill", "--yes"]

        assert main(cut) == 0, capsys.readouterr()
        assert switch.admin_up() == {"ge-0/0/0": False, "ge-0/0/1": True, "ge-0/0/2": False}
        assert switch.blocked_interfaces() == frozenset()
        assert switch.state()["commit_confirmed_pending"] is False  # a cut never auto-reverts
        changes, typed = switch.config_changes, len(switch.history)

        # Run again: read, nothing to do, nothing sent.
        assert main(cut) == 0, capsys.readouterr()
        assert switch.config_changes == changes
        again = [h.line for h in switch.history[typed:]]
        assert not [line for line in again if line.startswith(CHANGES)]

        restore = ["restore", str(playbook), "--all", "--approved-by", "pytest", "--reason", "ok"]
        assert main([*base, *restore, "--yes"]) == 0, capsys.readouterr()
        assert switch.state() == as_before
        assert switch.admin_up()["ge-0/0/2"] is False  # disabled before: it stays so
        sent = [h.line for h in switch.history if h.line.startswith(CHANGES)]
        assert sent == [
            "set interfaces ge-0/0/0 disable",
            "commit",
            "delete interfaces ge-0/0/0 disable",
            "commit confirmed 5",
            "commit",
        ]
