"""The IOS emulator (lab/emulator.py) behind netmiko's unchanged cisco_ios driver and
isolement's CiscoIosDriver, and the whole cut/restore pipeline against emulated devices.

Everything listens on 127.0.0.1 only, on ports the OS picks; no lab, no root needed.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import paramiko
import pytest
from emulated import (
    Emulate,
    IsolementCli,
    LoginKey,
    Session,
    emulated,
    netmiko_connect,
    write_cli_files,
)
from isolement.lab.emulator import (
    DeviceSpec,
    Emulator,
    Faults,
    HistoryEntry,
    InterfaceSpec,
    exit_links,
    generate_key,
    generate_login_key,
)
from isolement.lab.profiles.cisco_ios import IosCli, IosDevice, Mode
from netmiko.exceptions import NetmikoAuthenticationException, ReadTimeout
from shared_captures import capture

from isolement.drivers import CutTarget, driver_for
from isolement.drivers.cisco_ios import CiscoIosDriver
from isolement.flows import containment
from isolement.flows.runtime import Runtime
from isolement.flows.transaction import transact
from isolement.model.change import ChangeSet
from isolement.model.errors import DeviceError
from isolement.model.inventory import load_inventory
from isolement.model.playbook import load_playbook
from isolement.model.state import CutMethod

R1 = DeviceSpec(
    "R1",
    [
        InterfaceSpec("GigabitEthernet0/0", address="192.0.2.1/24"),
        InterfaceSpec("GigabitEthernet0/1", address="198.51.100.1/30"),
        InterfaceSpec("GigabitEthernet0/2", shutdown=True),
        InterfaceSpec("Loopback0", address="10.255.255.1/32"),
    ],
)


@pytest.fixture
def emulator(emulate: Emulate, tmp_path: Path) -> tuple[Emulator, Path]:
    return emulate([R1], username=None), tmp_path / "known_hosts"


def connect(emu: Emulator, known_hosts: Path, key_file: Path, name: str = "R1") -> Any:
    return netmiko_connect("cisco_ios", emu, name, key_file, known_hosts, username="admin")


# --- the CLI on its own (no SSH) ------------------------------------------------------------


def cli() -> IosCli:
    return IosCli(IosDevice(R1, generate_key()))


def test_prompts_follow_the_mode() -> None:
    c = cli()
    assert c.prompt() == "R1#"
    assert c.execute("conf t") == ["Enter configuration commands, one per line.  End with CNTL/Z."]
    assert c.prompt() == "R1(config)#"
    assert c.execute("int gi0/1") == []
    assert (c.prompt(), c.interface) == ("R1(config-if)#", "GigabitEthernet0/1")
    c.execute("exit")
    assert c.mode is Mode.CONFIG
    c.execute("interface GigabitEthernet 0/0")
    assert c.interface == "GigabitEthernet0/0"
    c.execute("end")
    assert c.prompt() == "R1#"
    c.execute("disable")
    assert c.prompt() == "R1>"
    assert c.execute("configure terminal")[-2] == "% Invalid input detected at '^' marker."
    c.execute("enable")
    assert c.prompt() == "R1#"


def test_show_ip_interface_brief_is_ios_column_layout() -> None:
    lines = cli().execute("sh ip int br")
    # A real ISR4321 capture (../shared/captures, tests/data/cisco_ios/SOURCES.md).
    recorded = capture("cisco_ios/pynet_isr4k_rashmi.raw").splitlines()
    assert lines[0] == recorded[0]
    assert lines[1] == (
        "GigabitEthernet0/0     192.0.2.1       YES NVRAM  up                    up"
    )
    assert lines[3] == (
        "GigabitEthernet0/2     unassigned      YES unset  administratively down down"
    )
    # Each column starts where IOS starts it, so a real parser reads it.
    assert all(line.index("YES") == recorded[1].index("YES") for line in lines[1:])
    state = CiscoIosDriver.parse_interface_brief("\n".join(lines))
    assert state.interfaces == {
        "GigabitEthernet0/0": True,
        "GigabitEthernet0/1": True,
        "GigabitEthernet0/2": False,
        "Loopback0": True,
    }


def test_show_version_reads_as_ios_with_the_device_hostname() -> None:
    """What Ansible's cisco.ios reads on connecting; ntc-templates' IOS template is the proof
    that a real parser reads the layout."""
    from ntc_templates.parse import parse_output

    (row,) = parse_output(
        platform="cisco_ios", command="show version", data="\n".join(cli().execute("sh ver"))
    )
    assert row["version"] == "15.9(3)M4"
    assert row["hostname"] == "R1"
    assert row["hardware"] == ["IOSv"]
    assert row["running_image"] == "/vios-adventerprisek9-m"


def test_invalid_input_puts_the_caret_under_the_refused_word() -> None:
    c = cli()
    assert c.execute("show foo") == [
        "        ^",  # len("R1#show ") == 8
        "% Invalid input detected at '^' marker.",
        "",
    ]
    c.execute("configure terminal")
    c.execute("interface GigabitEthernet0/1")
    # The shape of tests/data/cisco_ios/config_errors_pyneng_r1.txt (there the host is R1 too).
    assert c.execute("shutdwn") == [
        "              ^",
        "% Invalid input detected at '^' marker.",
        "",
    ]
    assert c.execute("interface") == ["% Incomplete command.", ""]
    assert c.execute("e") == ['% Ambiguous command:  "e"']
    assert c.execute("do sh foo")[0] == " " * len("R1(config-if)#do sh ") + "^"
    # A physical interface the device does not have is refused at its number.
    assert c.execute("interface Gi0/9")[0] == " " * len("R1(config-if)#interface Gi") + "^"


def test_running_config_has_interface_blocks_with_shutdown_lines() -> None:
    c = cli()
    config = c.execute("show running-config")
    assert config[:3] == ["Building configuration...", "", config[2]]
    assert config[2].startswith("Current configuration : ")
    assert config[-1] == "end"
    block = config[config.index("interface GigabitEthernet0/2") :]
    assert block[: block.index("!")] == [
        "interface GigabitEthernet0/2",
        " no ip address",
        " shutdown",
        " duplex auto",
        " speed auto",
    ]
    assert " shutdown" not in c.execute("show running-config interface Gi0/0")
    for line in ("configure terminal", "interface Gi0/0", "shutdown", "end"):
        c.execute(line)
    assert " shutdown" in c.execute("show running-config interface Gi0/0")


# --- netmiko and isolement's driver over SSH -------------------------------------------------


def test_netmiko_logs_in_with_a_verified_host_key(
    emulator: tuple[Emulator, Path], login_key: LoginKey
) -> None:
    emu, known_hosts = emulator
    assert known_hosts.read_text().startswith(f"[127.0.0.1]:{emu.ports['R1']} ssh-ed25519 ")
    conn = connect(emu, known_hosts, login_key.path)
    try:
        assert conn.find_prompt() == "R1#"
        assert conn.base_prompt == "R1"
    finally:
        conn.disconnect()
    assert emu.device("R1").logins == 1
    # netmiko's own preparation went through the emulated CLI.
    typed = [h.line for h in emu.device("R1").history]
    assert "terminal width 511" in typed
    assert "terminal length 0" in typed


def test_each_device_keeps_its_own_state(login_key: LoginKey, tmp_path: Path) -> None:
    r2 = DeviceSpec("R2", [InterfaceSpec("GigabitEthernet0/0"), "GigabitEthernet0/1"])
    with Emulator([R1, r2], login_key.key, host_key_per_device=True) as emu:
        assert emu.device("R1").host_key.asbytes() != emu.device("R2").host_key.asbytes()
        conn = connect(emu, emu.write_known_hosts(tmp_path / "kh"), login_key.path, "R2")
        try:
            assert conn.find_prompt() == "R2#"
            conn.send_config_set(["interface GigabitEthernet0/0", "shutdown", "description cut"])
        finally:
            conn.disconnect()
        assert emu.device("R2").admin_up() == {
            "GigabitEthernet0/0": False,
            "GigabitEthernet0/1": True,
        }
        assert emu.device("R2").description("GigabitEthernet0/0") == "cut"
        assert emu.device("R1").shutdown_interfaces() == {"GigabitEthernet0/2"}
        assert emu.device("R1").logins == 0


def test_an_unknown_host_key_is_refused(
    emulator: tuple[Emulator, Path], login_key: LoginKey, tmp_path: Path
) -> None:
    emu, _ = emulator
    wrong = tmp_path / "wrong_known_hosts"
    wrong.write_text(f"[127.0.0.1]:{emu.ports['R1']} ssh-ed25519 {generate_key().get_base64()}\n")
    with pytest.raises(paramiko.SSHException):
        connect(emu, wrong, login_key.path)
    assert emu.device("R1").logins == 0


def test_another_login_key_is_refused(emulator: tuple[Emulator, Path], tmp_path: Path) -> None:
    emu, known_hosts = emulator
    stranger = tmp_path / "stranger"
    generate_login_key(stranger)
    with pytest.raises(NetmikoAuthenticationException):
        connect(emu, known_hosts, stranger)
    assert emu.device("R1").logins == 0


def test_driver_cut_and_restore_round_trip(
    emulator: tuple[Emulator, Path], login_key: LoginKey
) -> None:
    emu, known_hosts = emulator
    device = emu.device("R1")
    driver = driver_for("cisco_ios")
    target = [CutTarget("wan", "GigabitEthernet0/1", CutMethod.SHUTDOWN)]
    session = Session(connect(emu, known_hosts, login_key.path))
    try:
        before = driver.read_state(session)
        assert before.interfaces == device.admin_up()
        assert before.interfaces["GigabitEthernet0/1"] is True

        output = transact(driver, session, "R1", driver.render_cut(target))
        assert "R1(config-if)#shutdown" in output
        cut = driver.read_state(session)
        assert cut.is_cut("GigabitEthernet0/1", CutMethod.SHUTDOWN)
        assert device.shutdown_interfaces() == {"GigabitEthernet0/1", "GigabitEthernet0/2"}

        transact(driver, session, "R1", driver.render_restore(target, cut))
        after = driver.read_state(session)
        assert after == before
        assert device.shutdown_interfaces() == {"GigabitEthernet0/2"}
        assert " shutdown" not in driver_snapshot_block(session, "GigabitEthernet0/1")
    finally:
        session.close()


def driver_snapshot_block(session: Session, interface: str) -> list[str]:
    config = driver_for("cisco_ios").snapshot(session).splitlines()
    start = config.index(f"interface {interface}")
    return config[start : config.index("!", start)]


def test_unknown_commands_are_errors_the_driver_sees(
    emulator: tuple[Emulator, Path], login_key: LoginKey
) -> None:
    emu, known_hosts = emulator
    driver = driver_for("cisco_ios")
    session = Session(connect(emu, known_hosts, login_key.path))
    try:
        output = session.send_command("show ip bogus")
        assert driver.find_error(output) == "% Invalid input detected at '^' marker."
        with pytest.raises(DeviceError, match="Invalid input"):
            transact(
                driver,
                session,
                "R1",
                ChangeSet(lines=["interface GigabitEthernet0/0", "shutdwn", "exit"]),
            )
        assert emu.device("R1").is_shutdown("GigabitEthernet0/0") is False
        # The session is still usable, back in exec mode.
        assert session.prompt() == "R1#"
    finally:
        session.close()


def test_latency_is_added_to_each_command(login_key: LoginKey, tmp_path: Path) -> None:
    with Emulator([R1], login_key.key, latency=0.3) as emu:
        conn = connect(emu, emu.write_known_hosts(tmp_path / "kh"), login_key.path)
        try:
            t0 = time.monotonic()
            conn.send_command("show ip interface brief")
            assert time.monotonic() - t0 >= 0.3
            emu.latency = 0.0
            t0 = time.monotonic()
            conn.send_command("show ip interface brief")
            assert time.monotonic() - t0 < 0.3
        finally:
            conn.disconnect()


def test_login_latency_delays_the_first_prompt_per_device(
    login_key: LoginKey, tmp_path: Path
) -> None:
    quick = DeviceSpec("R2", ["GigabitEthernet0/0"], login_latency=0.0)
    with Emulator([R1, quick], login_key.key, login_latency=1.0) as emu:
        known_hosts = emu.write_known_hosts(tmp_path / "kh")
        timings = {}
        for name in ("R1", "R2"):
            t0 = time.monotonic()
            conn = connect(emu, known_hosts, login_key.path, name)
            timings[name] = time.monotonic() - t0
            try:
                t0 = time.monotonic()
                conn.send_command("show ip interface brief")
                command_s = time.monotonic() - t0
            finally:
                conn.disconnect()
            assert command_s < 1.0  # paid once, at login, not per command
        assert timings["R1"] >= 1.0
        assert timings["R2"] < 1.0  # its own login latency overrides the emulator's


def test_slow_on_delays_that_command_only(
    emulator: tuple[Emulator, Path], login_key: LoginKey
) -> None:
    emu, known_hosts = emulator
    emu.device("R1").set_faults(slow_on="show  ip interface BRIEF", slow_s=0.6)
    conn = connect(emu, known_hosts, login_key.path)
    try:
        t0 = time.monotonic()
        conn.send_command("show running-config")
        assert time.monotonic() - t0 < 0.6
        t0 = time.monotonic()
        assert "GigabitEthernet0/0" in conn.send_command("show ip interface brief")
        assert time.monotonic() - t0 >= 0.6
    finally:
        conn.disconnect()
    with pytest.raises(ValueError, match="0 or more"):
        Faults(slow_on="show version", slow_s=-1)


def test_two_hundred_concurrent_sessions(login_key: LoginKey) -> None:
    """Raw paramiko shells (cheaper than netmiko): all 200 open at once, each answered."""
    count = 200
    specs = [DeviceSpec(f"r{i:03d}", ["GigabitEthernet0/0"]) for i in range(count)]
    with Emulator(specs, login_key.key, host_key_per_device=True) as emu:
        all_open = threading.Barrier(count, timeout=60)
        errors: list[BaseException] = []

        def session(name: str) -> None:
            client = paramiko.SSHClient()
            # This device's entry only: paramiko's load of a 200-line file costs ~13 ms each.
            key = emu.device(name).host_key
            client.get_host_keys().add(f"[127.0.0.1]:{emu.ports[name]}", key.get_name(), key)
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
            try:
                client.connect(
                    "127.0.0.1",
                    emu.ports[name],
                    username="admin",
                    key_filename=str(login_key.path),
                    look_for_keys=False,
                    allow_agent=False,
                    timeout=30,
                    banner_timeout=30,
                    auth_timeout=30,
                )
                shell = client.invoke_shell()
                shell.settimeout(30)
                data = b""
                while not data.endswith(f"{name}#".encode()):  # the session is up
                    data += shell.recv(4096)
                all_open.wait()
                shell.sendall(b"configure terminal\ninterface Gi0/0\nshutdown\nend\nexit\n")
                while chunk := shell.recv(4096):
                    data += chunk
                assert f"{name}(config-if)#shutdown".encode() in data
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)
                all_open.abort()
            finally:
                client.close()

        threads = [threading.Thread(target=session, args=(n,)) for n in emu.ports]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors[:3]
        assert emu.max_concurrent_sessions == count
        assert all(not d.admin_up()["GigabitEthernet0/0"] for d in emu.devices.values())


def test_stop_does_not_wait_for_clients_that_never_log_in(
    login_key: LoginKey,
) -> None:
    emu = Emulator([R1], login_key.key)
    emu.start()
    silent = socket.create_connection(("127.0.0.1", emu.ports["R1"]))  # never speaks SSH
    try:
        time.sleep(0.2)
        t0 = time.monotonic()
        emu.stop()
        assert time.monotonic() - t0 < 2
        assert not [t for t in threading.enumerate() if t.name.startswith("ios-emulator")]
    finally:
        silent.close()


# --- the whole pipeline: inventory, playbook, containment.cut / restore ----------------------

PIPELINE = [
    # name, site, interfaces (those already shut marked with *)
    ("dc-rtr", "dc", ["GigabitEthernet0/0", "GigabitEthernet0/1", "GigabitEthernet0/2"]),
    ("h1-rtr", "h1", ["GigabitEthernet0/0", "GigabitEthernet0/1", "GigabitEthernet0/2"]),
    # The backup link is kept shut at h2 in normal times: restore must leave it shut.
    ("h2-rtr", "h2", ["GigabitEthernet0/0", "*GigabitEthernet0/1", "GigabitEthernet0/2"]),
    ("dc-edge", "dc", ["GigabitEthernet0/0", "GigabitEthernet0/1"]),
    ("h1-edge", "h1", ["GigabitEthernet0/0", "GigabitEthernet0/1"]),
]
GI0, GI1 = "GigabitEthernet0/0", "GigabitEthernet0/1"
LINKS = {
    "wan-dc-h1": ("intersite", [("dc-rtr", GI0), ("h1-rtr", GI0)]),
    "wan-dc-h2": ("intersite", [("dc-rtr", GI1), ("h2-rtr", GI0)]),
    "wan-h1-h2": ("backup", [("h1-rtr", GI1), ("h2-rtr", GI1)]),
    "inet-dc": ("internet", [("dc-edge", GI0)]),
    "inet-h1": ("internet", [("h1-edge", GI0)]),
}
# What is shut once every link is cut: each endpoint; LAN ports and spare ports stay up.
ALL_CUT = {
    "dc-rtr": {"GigabitEthernet0/0", "GigabitEthernet0/1"},
    "h1-rtr": {"GigabitEthernet0/0", "GigabitEthernet0/1"},
    "h2-rtr": {"GigabitEthernet0/0", "GigabitEthernet0/1"},
    "dc-edge": {"GigabitEthernet0/0"},
    "h1-edge": {"GigabitEthernet0/0"},
}
AS_BEFORE = {name: set() for name, _, _ in PIPELINE} | {"h2-rtr": {"GigabitEthernet0/1"}}


def shut_everywhere(emu: Emulator) -> dict[str, set[str]]:
    return {name: d.shutdown_interfaces() for name, d in emu.devices.items()}


@pytest.fixture
def pipeline(
    emulate: Emulate, login_key: LoginKey, tmp_path: Path
) -> tuple[Emulator, Runtime, Path]:
    specs = [
        DeviceSpec(
            name,
            [InterfaceSpec(i.lstrip("*"), shutdown=i.startswith("*")) for i in interfaces],
        )
        for name, _, interfaces in PIPELINE
    ]
    emu = emulate(specs)
    _, playbook = write_cli_files(
        tmp_path,
        emu,
        login_key,
        "emulated",
        sites={name: site for name, site, _ in PIPELINE},
        links={
            name: {"kind": kind, "endpoints": [{"device": d, "interface": i} for d, i in ends]}
            for name, (kind, ends) in LINKS.items()
        },
        playbook={
            "name": "cut-everything",
            "description": "every link between sites and every internet exit",
            "cut": [{"select": {"kind": ["intersite", "backup", "internet"]}, "method": "auto"}],
        },
    )
    rt = Runtime(
        load_inventory(tmp_path / "inventory.yaml"), journal_path=tmp_path / "journal.jsonl"
    )
    return emu, rt, playbook


def test_cut_and_restore_through_the_whole_pipeline(
    pipeline: tuple[Emulator, Runtime, Path],
) -> None:
    emu, rt, playbook_path = pipeline
    playbook = load_playbook(str(playbook_path), playbook_path.parent)
    assert shut_everywhere(emu) == AS_BEFORE

    report = containment.cut(rt, playbook, {}, reason="unit test", operator="pytest")
    assert report.outcome is containment.Outcome.DONE, report
    assert shut_everywhere(emu) == ALL_CUT
    # The pre-shut backup port was already cut: nothing sent for it.
    assert {s.step.device for s in report.steps} == {name for name, _, _ in PIPELINE}
    changes = {name: d.config_changes for name, d in emu.devices.items()}
    assert changes["h2-rtr"] == 1

    again = containment.cut(rt, playbook, {}, reason="unit test, again", operator="pytest")
    assert again.outcome is containment.Outcome.NOTHING_TO_DO, again
    assert {name: d.config_changes for name, d in emu.devices.items()} == changes

    restored = containment.restore(
        rt, playbook, {}, reason="doubt lifted", operator="pytest", approved_by="pytest"
    )
    assert restored.outcome is containment.Outcome.DONE, restored
    # Exactly as before: what isolement shut is open again, the backup port stays shut.
    assert shut_everywhere(emu) == AS_BEFORE
    # Every session logged out of. The emulator sees a logout on its own threads, after the
    # client returns: on a loaded machine (the lab suite beside), give them a moment.
    deadline = time.monotonic() + 5
    while any(d.active_sessions for d in emu.devices.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert {n: d.active_sessions for n, d in emu.devices.items() if d.active_sessions} == {}


def test_a_changed_host_key_stops_the_cut_before_anything_is_sent(
    pipeline: tuple[Emulator, Runtime, Path],
) -> None:
    emu, rt, playbook_path = pipeline
    playbook = load_playbook(str(playbook_path), playbook_path.parent)
    # A device whose host key is not the one on file: pre-flight fails there.
    hosts = rt.inventory.known_hosts
    lines = hosts.read_text().splitlines()
    port = emu.ports["h1-edge"]
    lines = [
        f"[127.0.0.1]:{port} ssh-ed25519 {generate_key().get_base64()}"
        if line.startswith(f"[127.0.0.1]:{port} ")
        else line
        for line in lines
    ]
    hosts.write_text("\n".join(lines) + "\n")

    report = containment.cut(rt, playbook, {}, reason="unit test", operator="pytest")
    assert "h1-edge" in report.unreachable
    assert report.outcome is containment.Outcome.STOPPED
    assert shut_everywhere(emu) == AS_BEFORE
    assert emu.device("h1-edge").logins == 0


def test_the_cli_survives_devices_closing_their_sessions(
    login_key: LoginKey, tmp_path: Path
) -> None:
    """The real `isolement cut` / `restore` commands, in their own process, on 20 emulated
    devices, three times over. IOS closes the connection as soon as it reads `exit`, so
    netmiko's own close regularly writes to a connection the device has already reset: the
    process must get an error there (which it ignores), never be killed by SIGPIPE (-13)."""
    names = [f"r{i:02d}" for i in range(20)]
    specs = [DeviceSpec(n, [GI0, GI1]) for n in names]
    with emulated(specs, login_key, tmp_path / "known_hosts") as emu:
        base, playbook = write_cli_files(
            tmp_path,
            emu,
            login_key,
            "emulated-cli",
            links=exit_links(names, GI0),
            playbook={"name": "cut-exits", "cut": [{"select": {"kind": "internet"}}]},
            journal="journal.jsonl",
        )
        isolement = [sys.executable, "-m", "isolement", *base]
        commands = {
            "cut": ["cut", str(playbook), "--reason", "test", "--yes"],
            "restore": [
                *("restore", str(playbook), "--all"),
                *("--approved-by", "pytest", "--reason", "test", "--yes"),
            ],
        }
        for round_ in range(3):
            for name, args in commands.items():
                done = subprocess.run(
                    [*isolement, *args], check=False, capture_output=True, text=True, timeout=120
                )
                assert done.returncode == 0, (round_, name, done.returncode, done.stderr[-2000:])
                shut = {n for n in names if emu.device(n).is_shutdown(GI0)}
                assert shut == (set(names) if name == "cut" else set()), (round_, name)


# --- faults, through the real command line ----------------------------------------------------

FAULT_NAMES = [f"r{i}" for i in range(1, 6)]
FAULTY = "r3"
OTHERS = set(FAULT_NAMES) - {FAULTY}
EXIT_OK, EXIT_PARTIAL, EXIT_FAILED = 0, 3, 4


class CliEstate:
    """Five emulated routers, each with its internet exit on Gi0/0, an inventory and a playbook
    cutting every exit, and the real `isolement` command run against them in its own process
    with its own state directory (so its default journal)."""

    def __init__(self, emu: Emulator, tmp_path: Path):
        self.emu = emu
        self.inventory = tmp_path / "inventory.yaml"
        self.playbook = tmp_path / "cut-exits.yaml"
        self.cli = IsolementCli(self.inventory, tmp_path / "state")

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.cli.run(*args)

    def cut(self, *options: str) -> subprocess.CompletedProcess[str]:
        return self.run("cut", str(self.playbook), "--reason", "fault drill", "--yes", *options)

    def journal_verified(self) -> bool:
        done = self.run("journal", "verify")
        assert "intact" in done.stdout, done.stdout + done.stderr
        return done.returncode == 0

    def cut_devices(self) -> set[str]:
        return {n for n in FAULT_NAMES if self.emu.device(n).is_shutdown(GI0)}

    def config_changes(self) -> dict[str, int]:
        return {n: self.emu.device(n).config_changes for n in FAULT_NAMES}

    def history_lengths(self) -> dict[str, int]:
        return {n: len(self.emu.device(n).history) for n in FAULT_NAMES}

    def configured_since(self, name: str, start: int) -> list[HistoryEntry]:
        """The lines typed on `name` since `start` that configure: in or into config mode."""
        return [
            h
            for h in self.emu.device(name).history[start:]
            if "(config" in h.prompt or h.line.strip().startswith("conf")
        ]


@pytest.fixture
def cli_estate(emulate: Emulate, login_key: LoginKey, tmp_path: Path) -> CliEstate:
    emu = emulate([DeviceSpec(n, [GI0, GI1]) for n in FAULT_NAMES])
    write_cli_files(
        tmp_path,
        emu,
        login_key,
        "emulated-faults",
        links=exit_links(FAULT_NAMES, GI0),
        playbook={"name": "cut-exits", "cut": [{"select": {"kind": "internet"}}]},
    )
    return CliEstate(emu, tmp_path)


def failure_reported(stdout: str, device: str, reason: str) -> bool:
    """The report names the device as FAILED with exactly this reason, and its link as still
    open for it; it never says the device is ok."""
    lines = stdout.splitlines()
    heads = [
        i for i, line in enumerate(lines) if line.startswith(f"  FAILED {device}: {GI0} (inet-")
    ]
    return (
        len(heads) == 1
        and heads[0] + 1 < len(lines)
        and lines[heads[0] + 1].strip() == reason
        and f"  inet-{device}: {device}: {reason}" in lines
        and not any(line.startswith(f"  ok     {device}:") for line in lines)
    )


FAULTS = [
    pytest.param(
        {"error_on": "shutdown"},
        ["--retries", "0"],
        "device answered with an error: % Invalid input detected at '^' marker.",
        id="error-on-shutdown",
    ),
    pytest.param(
        {"drop_after_config_lines": 1},
        ["--retries", "1"],
        "connection lost: the device closed the connection before answering",
        id="drop-after-first-config-line",
    ),
    pytest.param(
        {"hang_after_login": True},
        ["--retries", "0", "--partial"],
        "logged in, then no answer within 3 s",
        id="hang-after-login-partial",
    ),
]


@pytest.mark.parametrize(("fault", "options", "reason"), FAULTS)
def test_a_faulty_device_is_reported_and_a_rerun_converges(
    cli_estate: CliEstate, fault: dict[str, Any], options: list[str], reason: str
) -> None:
    estate = cli_estate
    faulty = estate.emu.device(FAULTY)
    faulty.set_faults(**fault)

    first = estate.cut(*options)
    assert first.returncode == EXIT_PARTIAL, first.stdout + first.stderr[-2000:]
    assert estate.cut_devices() == OTHERS
    assert failure_reported(first.stdout, FAULTY, reason), first.stdout
    for name in OTHERS:
        assert f"  ok     {name}: {GI0} (inet-{name})" in first.stdout.splitlines()
    assert "CONTAINED" not in first.stdout
    assert faulty.config_changes == 0
    if "drop_after_config_lines" in fault:
        # Each attempt got as far as the first configuration line, applied; then nothing.
        config_lines = [h.line for h in faulty.history if "(config" in h.prompt]
        assert config_lines == [f"interface {GI0}"] * 2  # two attempts: --retries 1
    assert estate.journal_verified()

    faulty.clear_faults()
    changes, typed = estate.config_changes(), estate.history_lengths()
    again = estate.cut("--retries", "0")
    assert again.returncode == EXIT_OK, again.stdout + again.stderr[-2000:]
    assert estate.cut_devices() == set(FAULT_NAMES)
    assert f"  ok     {FAULTY}: {GI0} (inet-{FAULTY})" in again.stdout.splitlines()
    # Nothing sent to the devices already cut: read, never configured.
    after = estate.config_changes()
    assert {n: after[n] for n in OTHERS} == {n: changes[n] for n in OTHERS}
    assert after[FAULTY] == changes[FAULTY] + 1
    assert all(estate.configured_since(n, typed[n]) == [] for n in OTHERS)
    assert estate.journal_verified()


def test_a_device_hanging_at_pre_flight_stops_the_cut_by_default(cli_estate: CliEstate) -> None:
    """Without --partial a pre-flight failure changes nothing anywhere (exit 4), and says why."""
    estate = cli_estate
    estate.emu.device(FAULTY).set_faults(hang_after_login=True)

    first = estate.cut("--retries", "0")
    assert first.returncode == EXIT_FAILED, first.stdout + first.stderr[-2000:]
    assert estate.cut_devices() == set()
    assert set(estate.config_changes().values()) == {0}
    assert all(
        not [h for h in d.history if "(config" in h.prompt] for d in estate.emu.devices.values()
    )
    assert failure_reported(first.stdout, FAULTY, "logged in, then no answer within 3 s")
    assert "NOTHING WAS CHANGED" in first.stdout
    assert estate.journal_verified()

    estate.emu.device(FAULTY).clear_faults()
    again = estate.cut("--retries", "0")
    assert again.returncode == EXIT_OK, again.stdout + again.stderr[-2000:]
    assert estate.cut_devices() == set(FAULT_NAMES)
    assert estate.journal_verified()


def test_a_connection_dropped_after_the_shutdown_line_is_settled_by_reading_it_again(
    cli_estate: CliEstate,
) -> None:
    """The drop after the second line: `shutdown` took effect, the answer never came. With no
    retry left, the device is read again all the same (a read, not a change): the cut is seen
    in effect and reported so, with what happened (issue #10 item 12: it was called "Still
    OPEN"). The re-run reads the port shut and sends nothing."""
    estate = cli_estate
    faulty = estate.emu.device(FAULTY)
    faulty.set_faults(drop_after_config_lines=2)

    first = estate.cut("--retries", "0")
    assert first.returncode == EXIT_OK, first.stdout + first.stderr[-2000:]
    assert estate.cut_devices() == set(FAULT_NAMES)  # it did land
    lines = first.stdout.splitlines()
    assert f"  ok     {FAULTY}: {GI0} (inet-{FAULTY})" in lines
    assert any("connection lost" in line and "note:" in line for line in lines), first.stdout
    assert "Still OPEN" not in first.stdout
    applied = [
        r for r in estate.cli.records() if r["event"] == "change.applied" and r["device"] == FAULTY
    ]
    assert [r["error"] for r in applied] == [
        "connection lost: the device closed the connection before answering"
    ]
    assert estate.journal_verified()

    faulty.clear_faults()
    changes, typed = estate.config_changes(), estate.history_lengths()
    again = estate.cut("--retries", "0")
    assert again.returncode == EXIT_OK, again.stdout + again.stderr[-2000:]
    assert "nothing to do" in again.stdout
    assert estate.config_changes() == changes
    assert all(estate.configured_since(n, typed[n]) == [] for n in FAULT_NAMES)
    assert estate.journal_verified()


# --- the faults themselves, over SSH ----------------------------------------------------------


def test_faults_are_set_and_cleared_while_running(
    emulator: tuple[Emulator, Path], login_key: LoginKey
) -> None:
    emu, known_hosts = emulator
    device = emu.device("R1")
    assert device.faults == Faults()
    device.set_faults(error_on="show  IP interface brief")
    assert device.set_faults(drop_after_config_lines=3) == Faults(
        3, False, "show  IP interface brief"
    )
    conn = connect(emu, known_hosts, login_key.path)
    try:
        refused = conn.send_command("show ip interface brief")
        assert "% Invalid input detected at '^' marker." in refused.splitlines()
        device.set_faults(error_on=None)
        assert "GigabitEthernet0/0" in conn.send_command("show ip interface brief")
    finally:
        conn.disconnect()
    device.clear_faults()
    assert device.faults == Faults()
    with pytest.raises(ValueError, match="1 or more"):
        Faults(drop_after_config_lines=0)


def test_error_on_refuses_the_line_and_applies_nothing(
    emulator: tuple[Emulator, Path], login_key: LoginKey
) -> None:
    emu, known_hosts = emulator
    device = emu.device("R1")
    device.set_faults(error_on="shutdown")
    session = Session(connect(emu, known_hosts, login_key.path))
    try:
        with pytest.raises(DeviceError, match="Invalid input"):
            transact(
                driver_for("cisco_ios"),
                session,
                "R1",
                ChangeSet(lines=[f"interface {GI0}", "shutdown", "exit"]),
            )
        assert session.prompt() == "R1#"
    finally:
        session.close()
    assert device.is_shutdown(GI0) is False
    assert device.config_changes == 0


def test_drop_after_config_lines_applies_the_line_then_resets(
    emulator: tuple[Emulator, Path], login_key: LoginKey
) -> None:
    emu, known_hosts = emulator
    device = emu.device("R1")
    device.set_faults(drop_after_config_lines=2)
    conn = connect(emu, known_hosts, login_key.path)
    try:
        conn.read_timeout_override = 2.0
        with pytest.raises(ReadTimeout):  # netmiko waits out its timeout on a closed channel
            conn.send_config_set([f"interface {GI0}", "shutdown", "description never"])
        transport = conn.remote_conn.get_transport()
        assert not transport.is_active()
    finally:
        conn.read_timeout_override = 0.5
        with contextlib.suppress(Exception):
            conn.disconnect()
    # The second line took effect; the third was never read.
    assert device.is_shutdown(GI0) is True
    assert device.description(GI0) == ""
    assert [h.line for h in device.history if "(config" in h.prompt] == [
        f"interface {GI0}",
        "shutdown",
    ]


def test_hang_after_login_prints_the_prompt_then_nothing(
    emulator: tuple[Emulator, Path], login_key: LoginKey
) -> None:
    emu, _ = emulator
    device = emu.device("R1")
    device.set_faults(hang_after_login=True)
    client = paramiko.SSHClient()
    key = device.host_key
    client.get_host_keys().add(f"[127.0.0.1]:{emu.ports['R1']}", key.get_name(), key)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(
        "127.0.0.1",
        emu.ports["R1"],
        username="admin",
        key_filename=str(login_key.path),
        look_for_keys=False,
        allow_agent=False,
        timeout=10,
    )
    try:
        shell = client.invoke_shell()
        shell.settimeout(5)
        data = b""
        while not data.endswith(b"R1#"):
            data += shell.recv(4096)
        shell.sendall(b"show ip interface brief\n")
        shell.settimeout(0.5)
        with pytest.raises(TimeoutError):
            shell.recv(4096)
        assert device.logins == 1
        assert device.active_sessions == 1
        # Cleared: the next session answers; the hung one stays hung.
        device.clear_faults()
    finally:
        client.close()
    deadline = time.monotonic() + 5
    while device.active_sessions and time.monotonic() < deadline:
        time.sleep(0.05)
    assert device.active_sessions == 0
    assert device.history == []
