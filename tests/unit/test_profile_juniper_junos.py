"""The Junos profile of the emulator: its CLI on its own, netmiko's own `juniper_junos` driver
(unchanged, fast_cli as isolement uses it) against it, the driver's commit sequence on it, and
the real `isolement` command line cutting and restoring an emulated EX switch."""

from __future__ import annotations

import io
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import paramiko
import pytest
import yaml
from isolement.lab.emulator import (
    DeviceSpec,
    Emulator,
    InterfaceSpec,
    generate_key,
    generate_login_key,
    inventory_for,
)
from isolement.lab.profiles.juniper_junos import JunosCli, JunosDevice
from netmiko import ConnectHandler
from netmiko.exceptions import ReadTimeout

from isolement.cli import main
from isolement.drivers.base import CutTarget
from isolement.drivers.juniper_junos import JuniperJunosDriver
from isolement.errors import DeviceError
from isolement.state import CutMethod

NAME = "h5-sw"
DRIVER = JuniperJunosDriver()
WAN = CutTarget("wan-dc-h5", "ge-0/0/0", CutMethod.SHUTDOWN)
# The lines of a change, not of netmiko's session preparation (`set cli ...`).
CHANGES = ("set interfaces", "delete interfaces", "commit")


def spec(**options: object) -> DeviceSpec:
    sample = JunosDevice.sample(NAME)
    return DeviceSpec(NAME, sample.interfaces, platform="juniper_junos", options=options)


@pytest.fixture(autouse=True)
def sigpipe_ignored() -> Iterator[None]:
    """See tests/unit/test_emulator.py: `isolement.cli.main()` sets SIGPIPE to SIG_DFL."""
    previous = signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGPIPE, previous)


@pytest.fixture(scope="module")
def login_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, paramiko.PKey]:
    path = tmp_path_factory.mktemp("keys") / "id_ed25519"
    return path, generate_login_key(path)


@pytest.fixture
def emu(login_key: tuple[Path, paramiko.PKey], tmp_path: Path) -> Iterator[Emulator]:
    # A `commit confirmed` minute of 0.3 s, so that a rollback can be watched.
    with Emulator([spec(minute_s=0.3)], login_key[1], username="isolement") as emulator:
        emulator.write_known_hosts(tmp_path / "known_hosts")
        yield emulator


def connect(emu: Emulator, tmp_path: Path, key: Path) -> Any:
    return ConnectHandler(
        device_type="juniper_junos",
        host="127.0.0.1",
        port=emu.ports[NAME],
        username="isolement",
        use_keys=True,
        key_file=str(key),
        allow_agent=False,
        ssh_strict=True,
        system_host_keys=False,
        alt_host_keys=True,
        alt_key_file=str(tmp_path / "known_hosts"),
        fast_cli=True,
        # A dropped connection is seen in seconds, not after netmiko's default wait.
        read_timeout_override=3,
    )


@pytest.fixture
def conn(emu: Emulator, tmp_path: Path, login_key: tuple[Path, paramiko.PKey]) -> Iterator[Any]:
    connection = connect(emu, tmp_path, login_key[0])
    try:
        yield connection
    finally:
        connection.disconnect()


def device(emu: Emulator) -> JunosDevice:
    found = emu.device(NAME)
    assert isinstance(found, JunosDevice)
    return found


class Session:
    """isolement's Session protocol over a netmiko connection, kept minimal (see
    tests/unit/test_emulator.py)."""

    def __init__(self, connection: Any):
        self._connection = connection

    def send_command(self, command: str, *, verify_echo: bool = True) -> str:
        return str(self._connection.send_command(command, cmd_verify=verify_echo))

    def send_config(self, commands: Sequence[str]) -> str:
        return str(self._connection.send_config_set(list(commands)))

    def commit(self, *, confirm_minutes: int | None = None) -> str:
        if confirm_minutes is None:
            return str(self._connection.commit())
        return str(self._connection.commit(confirm=True, confirm_delay=confirm_minutes))

    def prompt(self) -> str:
        return str(self._connection.find_prompt())

    def close(self) -> None:
        self._connection.disconnect()


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
    conn: Any, emu: Emulator, tmp_path: Path, login_key: tuple[Path, paramiko.PKey]
) -> None:
    before = device(emu).state()
    # A colleague's session leaves an uncommitted change in the shared candidate.
    conn.send_config_set(["set interfaces ge-0/0/1 description maintenance"])
    other = Session(connect(emu, tmp_path, login_key[0]))
    try:
        with pytest.raises(DeviceError, match=r"not isolement's.*description maintenance"):
            DRIVER.apply(other, NAME, DRIVER.cut_commands([WAN]))
    finally:
        other.close()

    assert device(emu).state() == {**before, "uncommitted": True}
    assert "description maintenance" in "\n".join(device(emu).compare())


def test_a_cut_cut_off_before_its_commit_is_redone_cleanly(
    emu: Emulator, tmp_path: Path, login_key: tuple[Path, paramiko.PKey]
) -> None:
    # Lines typed in configuration mode: `show | compare`, `exit configuration-mode`, then the
    # `set`: the connection dies once it is in the candidate.
    device(emu).set_faults(drop_after_config_lines=3)
    first = Session(connect(emu, tmp_path, login_key[0]))
    # netmiko waits for an answer that never comes (isolement's session maps this to "connection
    # lost"; this minimal one does not).
    with pytest.raises(ReadTimeout):
        DRIVER.apply(first, NAME, DRIVER.cut_commands([WAN]))
    device(emu).clear_faults()
    assert device(emu).extra_state()["uncommitted"] is True

    retry = Session(connect(emu, tmp_path, login_key[0]))
    try:
        DRIVER.apply(retry, NAME, DRIVER.cut_commands([WAN]))
    finally:
        retry.close()

    assert device(emu).admin_up()["ge-0/0/0"] is False
    assert device(emu).extra_state()["uncommitted"] is False


def test_the_error_on_fault_answers_as_junos_refuses(conn: Any, emu: Emulator) -> None:
    device(emu).set_faults(error_on="set interfaces ge-0/0/0 disable")

    with pytest.raises(DeviceError, match="unknown command"):
        DRIVER.apply(Session(conn), NAME, DRIVER.cut_commands([WAN]))

    assert device(emu).admin_up()["ge-0/0/0"] is True
    assert device(emu).extra_state()["uncommitted"] is False


# --- the real command line, in-process ----------------------------------------------------------


def test_the_isolement_cli_cuts_and_restores_the_switch(
    login_key: tuple[Path, paramiko.PKey],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ISOLEMENT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    interfaces = [
        InterfaceSpec("ge-0/0/0", address="198.18.5.1/30"),
        InterfaceSpec("ge-0/0/1", address="198.18.5.5/30"),
        InterfaceSpec("ge-0/0/2", shutdown=True),
    ]
    with Emulator(
        [DeviceSpec(NAME, interfaces, platform="juniper_junos")], login_key[1], username="isolement"
    ) as emu:
        emu.write_known_hosts(tmp_path / "known_hosts")
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
        inventory = inventory_for(
            "junos-cli",
            emu.ports,
            username="isolement",
            key_file=str(login_key[0]),
            links=links,
            platforms={NAME: "juniper_junos"},
        )
        (tmp_path / "inventory.yaml").write_text(yaml.safe_dump(inventory, sort_keys=False))
        playbook = tmp_path / "cut-intersite.yaml"
        playbook.write_text(
            yaml.safe_dump(
                {"name": "cut-intersite", "cut": [{"select": {"kind": ["intersite", "backup"]}}]}
            )
        )
        base = [
            "--inventory",
            str(tmp_path / "inventory.yaml"),
            "--journal",
            str(tmp_path / "j.jsonl"),
        ]
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
