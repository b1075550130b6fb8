"""`isolement hostkeys collect` (isolement/transport/hostkeys.py, isolement/cli/hostkeys.py)
against emulated devices on 127.0.0.1, and the host-key refusals of a connection."""

from __future__ import annotations

import io
import stat
import subprocess
import sys
from pathlib import Path

import paramiko
import pytest
from emulated import Emulate, LoginKey, write_inventory_for
from isolement.lab.emulator import DeviceSpec, Emulator, exit_links, generate_key

from isolement.cli.main import main
from isolement.drivers import driver_for
from isolement.model.errors import DeviceError
from isolement.model.inventory import Inventory, load_inventory
from isolement.transport import hostkeys
from isolement.transport import session as sessions

GI0 = "GigabitEthernet0/0"
NAMES = ("r1", "r2", "r3")


@pytest.fixture
def estate(emulate: Emulate, login_key: LoginKey, tmp_path: Path) -> tuple[Emulator, Inventory]:
    """Three devices, each with its own host key; the known-hosts file empty."""
    emu = emulate([DeviceSpec(n, [GI0]) for n in NAMES], host_key_per_device=True)
    path = write_inventory_for(tmp_path, emu, login_key, "hostkeys", links=exit_links(NAMES, GI0))
    (tmp_path / "known_hosts").unlink()
    return emu, load_inventory(path)


def name_of(emu: Emulator, device: str) -> str:
    return f"[127.0.0.1]:{emu.ports[device]}"


def collect(
    inventory: Inventory, *options: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    code = main(["--inventory", str(inventory.source), "hostkeys", "collect", *options])
    out, err = capsys.readouterr()
    return code, out + err


def test_fingerprint_is_the_one_ssh_keygen_prints(tmp_path: Path) -> None:
    key = generate_key()
    public = tmp_path / "key.pub"
    public.write_text(f"{key.get_name()} {key.get_base64()}\n")
    printed = subprocess.run(
        ["ssh-keygen", "-lf", str(public)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert hostkeys.fingerprint(key) == printed[1]
    assert printed[1].startswith("SHA256:") and not printed[1].endswith("=")


def test_collect_shows_then_writes_with_yes(
    estate: tuple[Emulator, Inventory], capsys: pytest.CaptureFixture[str], in_process_cli: None
) -> None:
    emu, inventory = estate
    code, text = collect(inventory, "--yes", capsys=capsys)
    assert code == 0, text
    for device in NAMES:
        key = emu.device(device).host_key
        assert f"NEW      {name_of(emu, device)}  ssh-ed25519 {hostkeys.fingerprint(key)}" in text
    assert f"wrote 3 key(s) to {inventory.known_hosts}" in text
    # As OpenSSH writes them: `[host]:port` for a port other than 22; 0644; no login made.
    lines = inventory.known_hosts.read_text().splitlines()
    assert sorted(lines) == sorted(
        f"{name_of(emu, d)} ssh-ed25519 {emu.device(d).host_key.get_base64()}" for d in NAMES
    )
    assert stat.S_IMODE(inventory.known_hosts.stat().st_mode) == 0o644
    assert all(emu.device(d).logins == 0 for d in NAMES)
    # Now a session logs in against the file written.
    session = sessions.connect(inventory, "r2", driver_for("cisco_ios"), 10.0)
    session.close()

    # Again: every key KNOWN, nothing written.
    code, text = collect(inventory, "--yes", capsys=capsys)
    assert code == 0
    assert text.count("KNOWN") == 3
    assert "nothing to write" in text
    assert inventory.known_hosts.read_text().splitlines() == lines


def test_nothing_is_written_without_confirmation(
    estate: tuple[Emulator, Inventory],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    in_process_cli: None,
) -> None:
    _, inventory = estate
    # No terminal, no --yes: refused, listed first.
    code, text = collect(inventory, capsys=capsys)
    assert code == 2
    assert "NEW" in text and "without --yes when no one is at the terminal" in text
    assert not inventory.known_hosts.exists()

    # At a terminal, answered no.
    monkeypatch.setattr(sys, "stdin", _Tty("n\n"))
    code, text = collect(inventory, capsys=capsys)
    assert code == 3
    assert "not confirmed: the known-hosts file was not changed" in text
    assert not inventory.known_hosts.exists()

    monkeypatch.setattr(sys, "stdin", _Tty("y\n"))
    code, text = collect(inventory, capsys=capsys)
    assert code == 0, text
    assert len(inventory.known_hosts.read_text().splitlines()) == 3


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_changed_key_is_shown_and_kept_unless_replaced(
    estate: tuple[Emulator, Inventory], capsys: pytest.CaptureFixture[str], in_process_cli: None
) -> None:
    emu, inventory = estate
    stale = generate_key()
    name = name_of(emu, "r1")
    inventory.known_hosts.write_text(
        f"# kept as it is\n{name} ssh-ed25519 {stale.get_base64()}\n"
        f"[127.0.0.1]:1 ssh-ed25519 {stale.get_base64()}\n"
    )
    code, text = collect(inventory, "--yes", capsys=capsys)
    assert code == 3
    presented = hostkeys.fingerprint(emu.device("r1").host_key)
    assert f"CHANGED  {name}  ssh-ed25519 {presented}" in text
    assert f"on file: ssh-ed25519 {hostkeys.fingerprint(stale)}" in text
    assert (
        "NOT replaced: check the new fingerprint on the device's console, then run again "
        f"with --replace {name}" in text
    )
    on_file = inventory.known_hosts.read_text()
    assert f"{name} ssh-ed25519 {stale.get_base64()}" in on_file  # kept
    assert emu.device("r1").host_key.get_base64() not in on_file
    assert emu.device("r2").host_key.get_base64() in on_file  # the new ones written

    code, text = collect(inventory, "--yes", "--replace", name, capsys=capsys)
    assert code == 0, text
    lines = inventory.known_hosts.read_text().splitlines()
    assert lines[0] == "# kept as it is"
    assert f"[127.0.0.1]:1 ssh-ed25519 {stale.get_base64()}" in lines  # another host's line
    assert f"{name} ssh-ed25519 {stale.get_base64()}" not in lines
    assert f"{name} ssh-ed25519 {emu.device('r1').host_key.get_base64()}" in lines


def test_replace_must_name_a_host_of_the_inventory(
    estate: tuple[Emulator, Inventory], capsys: pytest.CaptureFixture[str], in_process_cli: None
) -> None:
    _, inventory = estate
    code, text = collect(inventory, "--yes", "--replace", "[127.0.0.1]:1", capsys=capsys)
    assert code == 2
    assert "--replace [127.0.0.1]:1: no device of the inventory is [127.0.0.1]:1" in text
    assert not inventory.known_hosts.exists()


def test_a_device_that_does_not_answer_is_listed(
    estate: tuple[Emulator, Inventory], capsys: pytest.CaptureFixture[str], in_process_cli: None
) -> None:
    emu, inventory = estate
    emu.stop()
    code, text = collect(inventory, "--yes", "--device", "r1", capsys=capsys)
    assert code == 3
    assert f"FAILED   {name_of(emu, 'r1')}  (r1): could not be read:" in text


# --- what a connection says when the key is not the one on file --------------------------------


def test_a_mismatch_names_file_host_port_both_fingerprints_and_what_to_do(
    estate: tuple[Emulator, Inventory],
) -> None:
    emu, inventory = estate
    stale = generate_key()
    name = name_of(emu, "r1")
    inventory.known_hosts.write_text(f"{name} ssh-ed25519 {stale.get_base64()}\n")
    with pytest.raises(DeviceError) as caught:
        sessions.connect(inventory, "r1", driver_for("cisco_ios"), 10.0)
    message = str(caught.value)
    presented = hostkeys.fingerprint(emu.device("r1").host_key)
    assert f"HOST KEY MISMATCH for 127.0.0.1 port {emu.ports['r1']}" in message
    assert f"({name} in {inventory.known_hosts})" in message
    assert f"expected ssh-ed25519 {hostkeys.fingerprint(stale)}" in message
    assert f"presented ssh-ed25519 {presented}" in message
    assert f"isolement hostkeys collect --replace {name}" in message
    assert emu.device("r1").logins == 0


def test_an_unknown_host_names_file_host_port_its_fingerprint_and_what_to_do(
    estate: tuple[Emulator, Inventory],
) -> None:
    emu, inventory = estate
    inventory.known_hosts.write_text("")
    with pytest.raises(DeviceError) as caught:
        sessions.connect(inventory, "r2", driver_for("cisco_ios"), 10.0)
    message = str(caught.value)
    presented = hostkeys.fingerprint(emu.device("r2").host_key)
    assert (
        f"host key of 127.0.0.1 port {emu.ports['r2']} ({name_of(emu, 'r2')}) not found in "
        f"known_hosts file {inventory.known_hosts}" in message
    )
    assert f"it presents ssh-ed25519 {presented}" in message
    assert "isolement hostkeys collect" in message
    assert emu.device("r2").logins == 0


def test_no_accept_any_key_policy_anywhere() -> None:
    root = Path(__file__).resolve().parents[2]
    for path in [*(root / "isolement").rglob("*.py")]:
        text = path.read_text()
        for policy in ("AutoAddPolicy", "WarningPolicy", "MissingHostKeyPolicy"):
            assert policy not in text, path
    assert paramiko.RejectPolicy  # the one policy paramiko's client uses behind netmiko here
