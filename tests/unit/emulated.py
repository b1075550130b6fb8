"""Helpers for the unit tests that talk to emulated devices (lab/emulator.py) over SSH.

Everything listens on 127.0.0.1 only, on ports the OS picks; no lab, no root needed. The login
key is conftest.py's session-wide `login_key` fixture.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import paramiko
import yaml
from isolement.lab.emulator import DeviceSpec, Emulator, inventory_for
from netmiko import ConnectHandler


class LoginKey(NamedTuple):
    """The private key file isolement logs in with, and the key the emulator authorizes."""

    path: Path
    key: paramiko.PKey


@contextmanager
def emulated(
    specs: Sequence[DeviceSpec],
    login_key: LoginKey,
    known_hosts: Path | None,
    *,
    username: str | None = "isolement",
    host_key_per_device: bool = False,
    latency: float = 0.0,
) -> Iterator[Emulator]:
    """The devices running, their host keys written to `known_hosts` (unless None); stopped on
    leaving. `username=None` lets any user name log in with the key."""
    with Emulator(
        specs,
        login_key.key,
        username=username,
        host_key_per_device=host_key_per_device,
        latency=latency,
    ) as emu:
        if known_hosts is not None:
            emu.write_known_hosts(known_hosts)
        yield emu


class Emulate(Protocol):
    """conftest.py's `emulate` fixture: `emulated(specs, ...)` for the rest of the test, the host
    keys in `tmp_path/known_hosts`."""

    def __call__(
        self,
        specs: Sequence[DeviceSpec],
        *,
        username: str | None = "isolement",
        host_key_per_device: bool = False,
    ) -> Emulator: ...


def netmiko_connect(
    device_type: str,
    emu: Emulator,
    name: str,
    key_file: Path,
    known_hosts: Path,
    *,
    username: str = "isolement",
    **options: Any,
) -> Any:
    """netmiko's own driver for `device_type`, unchanged, logged in to the emulated `name` as
    isolement.transport.session opens it: key only, no agent, the host key checked against
    `known_hosts` alone, fast_cli. `options` go to netmiko as they are
    (`read_timeout_override`, ...)."""
    return ConnectHandler(
        device_type=device_type,
        host="127.0.0.1",
        port=emu.ports[name],
        username=username,
        use_keys=True,
        key_file=str(key_file),
        allow_agent=False,
        ssh_strict=True,
        system_host_keys=False,
        alt_host_keys=True,
        alt_key_file=str(known_hosts),
        conn_timeout=10,
        fast_cli=True,
        **options,
    )


class Session:
    """isolement's Session protocol (isolement/drivers/base.py) over a netmiko connection, kept
    minimal so that these tests exercise the driver and the emulator, not
    isolement.transport.session's error mapping. `commit` is netmiko's own: it raises on
    platforms without one."""

    def __init__(self, connection: Any):
        self._connection = connection

    def send_command(
        self,
        command: str,
        *,
        verify_echo: bool = True,
        expect: str | None = None,
        timeout: float | None = None,
    ) -> str:
        options: dict[str, Any] = {"cmd_verify": verify_echo, "expect_string": expect}
        if timeout is not None:
            options["read_timeout"] = timeout
        return str(self._connection.send_command(command, **options))

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


def write_inventory_for(
    directory: Path,
    emu: Emulator,
    login_key: LoginKey,
    name: str,
    *,
    links: Mapping[str, object],
    username: str = "isolement",
    sites: Mapping[str, str] | None = None,
    platforms: Mapping[str, str] | None = None,
) -> Path:
    """`directory/inventory.yaml`: every device of `emu` (see `inventory_for`), the host keys
    expected in `directory/known_hosts`."""
    inventory = inventory_for(
        name,
        emu.ports,
        username=username,
        key_file=str(login_key.path),
        links=links,
        sites=sites,
        platforms=platforms,
    )
    path = directory / "inventory.yaml"
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    return path


def write_cli_files(
    directory: Path,
    emu: Emulator,
    login_key: LoginKey,
    name: str,
    *,
    links: Mapping[str, object],
    playbook: Mapping[str, object],
    username: str = "isolement",
    sites: Mapping[str, str] | None = None,
    platforms: Mapping[str, str] | None = None,
    journal: str = "j.jsonl",
) -> tuple[list[str], Path]:
    """What an `isolement` run on every device of `emu` reads: the inventory (as
    `write_inventory_for` writes it) and the playbook, as `directory/<its name>.yaml`.

    Returns the options naming the inventory and the journal (`directory/<journal>`), and the
    playbook's path.
    """
    inventory = write_inventory_for(
        directory,
        emu,
        login_key,
        name,
        links=links,
        username=username,
        sites=sites,
        platforms=platforms,
    )
    path = directory / f"{playbook['name']}.yaml"
    path.write_text(yaml.safe_dump(dict(playbook), sort_keys=False))
    return ["--inventory", str(inventory), "--journal", str(directory / journal)], path


# The installed entry point, as an operator runs it (beside the interpreter running the tests).
ISOLEMENT_BIN = Path(sys.executable).with_name("isolement")


class IsolementCli:
    """The real `isolement` command, in its own process, on one inventory, with a state
    directory of its own (so its default journal); `timeout_s` is its `--timeout`."""

    def __init__(self, inventory: Path, state_dir: Path, *, timeout_s: float = 3.0):
        self.inventory = inventory
        # Anchored in a directory standing for another medium, so that "intact" can be said.
        self.env = {
            **os.environ,
            "ISOLEMENT_STATE_DIR": str(state_dir),
            "ISOLEMENT_ANCHOR_DIR": str(state_dir.with_name(f"{state_dir.name}-anchors")),
        }
        self.timeout_s = timeout_s
        name = yaml.safe_load(inventory.read_text())["name"]
        self.journal_path = state_dir / name / "journal.jsonl"

    def command(self, *args: str) -> list[str]:
        program = (
            [str(ISOLEMENT_BIN)] if ISOLEMENT_BIN.exists() else [sys.executable, "-m", "isolement"]
        )
        return [
            *program,
            *("--inventory", str(self.inventory), "--timeout", f"{self.timeout_s:g}"),
            *args,
        ]

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            check=False,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        """The command started, not waited for (to send it signals)."""
        return subprocess.Popen(
            self.command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=self.env,
        )

    def records(self) -> list[dict[str, Any]]:
        """The journal's records, as written (the whole lines only)."""
        if not self.journal_path.exists():
            return []
        records = []
        for line in self.journal_path.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
        return records

    def wait_for(self, check: Callable[[list[dict[str, Any]]], bool], timeout: float = 60) -> None:
        """Until `check(records)` holds, polling the journal."""
        deadline = time.monotonic() + timeout
        while not check(self.records()):
            if time.monotonic() >= deadline:
                raise AssertionError(f"the journal did not get there within {timeout:g} s")
            time.sleep(0.02)
