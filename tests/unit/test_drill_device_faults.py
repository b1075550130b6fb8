"""The device-side drill faults as an emulated device carries them: a session dropped once at
its first configuration line (the next session works), and the lab node's control file that a
drill writes to make a running device slow or drop a session, and removes to stop."""

from __future__ import annotations

import json
from pathlib import Path

import paramiko
from emulated import Emulate, LoginKey, netmiko_connect
from isolement.lab.emulator import DeviceSpec, InterfaceSpec
from isolement.lab.node import FAULTS_FILE, ControlFile

R1 = DeviceSpec("R1", [InterfaceSpec("GigabitEthernet0/1", address="198.51.100.1/30")])


def test_drop_once_drops_the_first_session_to_configure_and_then_clears(
    emulate: Emulate, login_key: LoginKey, tmp_path: Path
) -> None:
    emu = emulate([R1], username=None)
    device = emu.device("R1")
    device.set_faults(drop_after_config_lines=1, drop_once=True)
    known_hosts = tmp_path / "known_hosts"

    assert _typed_until_dropped(emu.ports["R1"], login_key.path, known_hosts)
    assert device.faults.drop_after_config_lines is None and not device.faults.drop_once

    again = netmiko_connect("cisco_ios", emu, "R1", login_key.path, known_hosts, username="admin")
    try:
        again.send_config_set(["interface GigabitEthernet0/1", "shutdown"])
    finally:
        again.disconnect()
    assert device.admin_up()["GigabitEthernet0/1"] is False


def _typed_until_dropped(port: int, key: Path, known_hosts: Path) -> bool:
    """Type `conf t` and a configuration line in a raw shell; whether the device then closes
    the connection without an answer."""
    client = paramiko.SSHClient()
    client.load_host_keys(str(known_hosts))
    client.connect(
        "127.0.0.1", port, username="admin", key_filename=str(key), allow_agent=False, timeout=5
    )
    try:
        shell = client.invoke_shell()
        shell.settimeout(5)
        shell.send(b"configure terminal\rinterface GigabitEthernet0/1\r")
        while chunk := shell.recv(4096):
            del chunk  # the echo and prompts; the end of the stream is the drop
        return True
    except TimeoutError:
        return False
    finally:
        client.close()


def test_the_control_file_sets_latency_and_faults_and_its_removal_clears_them(
    emulate: Emulate, tmp_path: Path
) -> None:
    device = emulate([R1], username=None).device("R1")
    path = tmp_path / FAULTS_FILE
    controls = ControlFile(path, device)
    latency = device.latency

    path.write_text(json.dumps({"latency": 1.5, "drop_after_config_lines": 1}))
    controls.poll()
    assert device.latency == 1.5 and device.faults.drop_after_config_lines == 1

    path.unlink()
    controls.poll()
    assert device.latency == latency and device.faults.drop_after_config_lines is None


PANOS = DeviceSpec(
    "FW1",
    [InterfaceSpec("ethernet1/1", address="198.51.100.5/30")],
    platform="paloalto_panos",
    options={"zones": {"ethernet1/1": "untrust"}, "commit_seconds": 0.7},
)


def test_the_control_file_sets_a_commits_time_and_its_removal_puts_the_specs_back(
    emulate: Emulate, tmp_path: Path, capsys
) -> None:
    device = emulate([PANOS], username=None).device("FW1")
    plain = emulate([R1], username=None).device("R1")
    path = tmp_path / FAULTS_FILE
    controls, others = ControlFile(path, device), ControlFile(tmp_path / "other.json", plain)

    path.write_text(json.dumps({"commit_seconds": 0.05}))
    controls.poll()
    assert device.commit_seconds == 0.05  # type: ignore[attr-defined]
    assert capsys.readouterr().out == "FW1: control file in effect\n"
    controls.poll()  # unchanged: not read again, not said again
    assert capsys.readouterr().out == ""

    path.unlink()
    controls.poll()
    assert device.commit_seconds == 0.7  # type: ignore[attr-defined]
    (tmp_path / "other.json").write_text(json.dumps({"commit_seconds": 0.05}))
    others.poll()  # a platform without the option: nothing to set
    assert not hasattr(plain, "commit_seconds")
