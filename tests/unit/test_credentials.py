"""Credential sources (isolement/transport/credentials.py), against emulated devices on
127.0.0.1: a password from the environment, the keyring (its test backend) or a prompt; a key
file with a passphrase; ssh-agent; an enable secret; what validate and pre-flight say; and no
secret anywhere it could be read afterwards."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.errors
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from emulated import IsolementCli, LoginKey, write_inventory_for
from isolement.lab.emulator import DeviceSpec, Emulator, exit_links

from isolement.drivers import driver_for
from isolement.model.errors import DeviceError, InputError
from isolement.model.inventory import Inventory, load_inventory
from isolement.transport import credentials
from isolement.transport import session as sessions

GI0 = "GigabitEthernet0/0"
NAMES = ("r1", "r2")
PASSWORD = "Tr0ub4dor-unit-password"
SECRET = "Enable-unit-secret-7f3a"
PASSPHRASE = "Key-unit-passphrase-19c2"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring held in memory: keyring's own backend interface, nothing on disk."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.reads: list[tuple[str, str]] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.reads.append((service, username))
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


@pytest.fixture(autouse=True)
def fresh_run() -> Iterator[None]:
    """Each test is a run of its own: nothing read by another is remembered."""
    credentials.forget()
    yield
    credentials.forget()


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def emulator(login_key: LoginKey, tmp_path: Path, **options: object) -> Emulator:
    running = Emulator(
        [DeviceSpec(n, [GI0], options=options) for n in NAMES],
        login_key.key,
        username="isolement",
        password=PASSWORD,
    )
    running.start()
    running.write_known_hosts(tmp_path / "known_hosts")
    return running


@pytest.fixture
def emu(login_key: LoginKey, tmp_path: Path) -> Iterator[Emulator]:
    """Devices that take the login key or the password, and log in privileged."""
    running = emulator(login_key, tmp_path)
    yield running
    running.stop()


@pytest.fixture
def emu_enable(login_key: LoginKey, tmp_path: Path) -> Iterator[Emulator]:
    """The same, logging in unprivileged: `enable` asks for SECRET."""
    running = emulator(login_key, tmp_path, enable_secret=SECRET)
    yield running
    running.stop()


def inventory_with(
    emu: Emulator, login_key: LoginKey, tmp_path: Path, credential: dict[str, Any]
) -> Inventory:
    """The emulated devices' inventory, its one credential replaced by `credential`."""
    path = write_inventory_for(tmp_path, emu, login_key, "cred-test", links=exit_links(NAMES, GI0))
    data = yaml.safe_load(path.read_text())
    data["credentials"]["ops"] = {"username": "isolement", **credential}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_inventory(path)


def logs_in(inventory: Inventory, device: str = "r1") -> str:
    session = sessions.connect(inventory, device, driver_for("cisco_ios"), 10.0)
    try:
        return session.prompt()
    finally:
        session.close()


def encrypted_copy(login_key: LoginKey, path: Path, passphrase: str) -> Path:
    """The login key, in a file of its own protected by `passphrase` (OpenSSH format)."""
    private = serialization.load_ssh_private_key(login_key.path.read_bytes(), password=None)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.BestAvailableEncryption(passphrase.encode()),
    )
    path.write_bytes(pem)
    path.chmod(0o600)
    return path


# --- the sources -----------------------------------------------------------------------------


def test_password_from_the_environment(
    emu: Emulator, login_key: LoginKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISOLEMENT_UNIT_PW", PASSWORD)
    inventory = inventory_with(emu, login_key, tmp_path, {"password_env": "ISOLEMENT_UNIT_PW"})
    assert logs_in(inventory) == "r1#"


def test_a_wrong_password_is_refused(
    emu: Emulator, login_key: LoginKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISOLEMENT_UNIT_PW", "not-the-password")
    inventory = inventory_with(emu, login_key, tmp_path, {"password_env": "ISOLEMENT_UNIT_PW"})
    with pytest.raises(DeviceError, match="authentication failed as isolement") as caught:
        logs_in(inventory)
    assert "not-the-password" not in str(caught.value)
    assert emu.device("r1").logins == 0


def test_password_from_the_keyring(
    emu: Emulator, login_key: LoginKey, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.set_password("isolement-unit", "isolement", PASSWORD)
    inventory = inventory_with(
        emu, login_key, tmp_path, {"password_keyring": {"service": "isolement-unit"}}
    )
    credentials.prepare(inventory, NAMES)
    assert logs_in(inventory, "r1") == "r1#"
    assert logs_in(inventory, "r2") == "r2#"
    # Read once for the run, under the credential's user name (no `username:` given).
    assert memory_keyring.reads == [("isolement-unit", "isolement")]


def test_a_keyring_without_the_entry_is_named_before_anything_is_sent(
    emu: Emulator, login_key: LoginKey, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    inventory = inventory_with(
        emu,
        login_key,
        tmp_path,
        {"password_keyring": {"service": "isolement-unit", "username": "netops"}},
    )
    with pytest.raises(InputError) as caught:
        credentials.prepare(inventory, NAMES)
    assert caught.value.field == "credentials.ops.password_keyring"
    message = str(caught.value)
    assert "no password for service isolement-unit, user netops" in message
    assert "needed by r1, r2" in message
    assert "keyring set isolement-unit netops" in message
    assert all(emu.device(n).logins == 0 for n in NAMES)


def test_a_keyring_that_cannot_be_read_is_named(
    emu: Emulator, login_key: LoginKey, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    def locked(service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("the collection is locked")

    memory_keyring.get_password = locked  # type: ignore[method-assign]
    inventory = inventory_with(
        emu, login_key, tmp_path, {"password_keyring": {"service": "isolement-unit"}}
    )
    with pytest.raises(InputError) as caught:
        credentials.prepare(inventory, NAMES)
    assert caught.value.field == "credentials.ops.password_keyring"
    assert "the system keyring cannot be read (KeyringLocked: the collection is locked)" in str(
        caught.value
    )
    assert emu.device("r1").logins == 0


def test_a_prompt_is_asked_once_per_credential_per_run(
    emu: Emulator, login_key: LoginKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return PASSWORD

    monkeypatch.setattr(credentials, "ask", ask)
    monkeypatch.setattr(credentials, "interactive", lambda: True)
    inventory = inventory_with(emu, login_key, tmp_path, {"password_prompt": True})
    credentials.prepare(inventory, NAMES)
    assert logs_in(inventory, "r1") == "r1#"
    assert logs_in(inventory, "r2") == "r2#"
    assert asked == ["Password for credential ops (user isolement): "]


def test_the_prompt_uses_getpass_which_does_not_echo() -> None:
    import getpass

    assert credentials.ask is getpass.getpass


def test_a_prompt_without_a_terminal_is_refused_with_what_to_do(
    emu: Emulator, login_key: LoginKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(credentials, "ask", lambda prompt: pytest.fail("asked without a tty"))
    monkeypatch.setattr(credentials, "interactive", lambda: False)
    inventory = inventory_with(emu, login_key, tmp_path, {"password_prompt": True})
    with pytest.raises(InputError) as caught:
        credentials.prepare(inventory, NAMES)
    assert caught.value.field == "credentials.ops.password_prompt"
    assert "standard input is not a terminal" in str(caught.value)
    assert "password_env or password_keyring" in str(caught.value)
    assert all(emu.device(n).logins == 0 for n in NAMES)


@pytest.mark.parametrize("source", ["env", "keyring", "prompt"])
def test_a_key_file_with_a_passphrase(
    emu: Emulator,
    login_key: LoginKey,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    memory_keyring: MemoryKeyring,
    source: str,
) -> None:
    key = encrypted_copy(login_key, tmp_path / "id_encrypted", PASSPHRASE)
    monkeypatch.setenv("ISOLEMENT_UNIT_PASSPHRASE", PASSPHRASE)
    memory_keyring.set_password("isolement-key", "isolement", PASSPHRASE)
    monkeypatch.setattr(credentials, "ask", lambda prompt: PASSPHRASE)
    monkeypatch.setattr(credentials, "interactive", lambda: True)
    given: dict[str, Any] = {
        "env": {"passphrase_env": "ISOLEMENT_UNIT_PASSPHRASE"},
        "keyring": {"passphrase_keyring": {"service": "isolement-key"}},
        "prompt": {"passphrase_prompt": True},
    }[source]
    inventory = inventory_with(emu, login_key, tmp_path, {"key_file": str(key), **given})
    credentials.prepare(inventory, NAMES)
    assert logs_in(inventory) == "r1#"


def test_validate_names_an_encrypted_key_without_a_passphrase(
    emu: Emulator, login_key: LoginKey, tmp_path: Path
) -> None:
    key = encrypted_copy(login_key, tmp_path / "id_encrypted", PASSPHRASE)
    inventory = inventory_with(emu, login_key, tmp_path, {"key_file": str(key)})
    (found,) = credentials.resolutions(inventory)
    assert found.state == "NOT resolvable now"
    assert found.problems == [
        f"key_file: {key} is protected by a passphrase and the credential gives none "
        "(passphrase_env, passphrase_keyring or passphrase_prompt)"
    ]


@pytest.fixture
def agent(login_key: LoginKey, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A real ssh-agent of this test's own, holding the login key; its environment."""
    socket_path = tmp_path / "agent.sock"
    started = subprocess.run(
        ["ssh-agent", "-s", "-a", str(socket_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(re.search(r"SSH_AGENT_PID=(\d+)", started.stdout).group(1))  # type: ignore[union-attr]
    env = {"SSH_AUTH_SOCK": str(socket_path)}
    try:
        yield env
    finally:
        os.kill(pid, signal.SIGTERM)


def test_ssh_agent(
    emu: Emulator,
    login_key: LoginKey,
    tmp_path: Path,
    agent: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSH_AUTH_SOCK", agent["SSH_AUTH_SOCK"])
    inventory = inventory_with(emu, login_key, tmp_path, {"agent": True})
    # An empty agent: named before anything is sent.
    (found,) = credentials.resolutions(inventory)
    assert found.problems == ["agent: ssh-agent holds no key (add one with ssh-add)"]
    with pytest.raises(InputError, match="ssh-agent holds no key"):
        credentials.prepare(inventory, NAMES)
    assert emu.device("r1").logins == 0

    subprocess.run(
        ["ssh-add", str(login_key.path)],
        env={**os.environ, **agent},
        check=True,
        capture_output=True,
    )
    assert credentials.resolutions(inventory)[0].state == "resolvable now"
    credentials.prepare(inventory, NAMES)
    assert logs_in(inventory) == "r1#"


def test_no_agent_is_offered_unless_the_inventory_says_so(
    emu: Emulator,
    login_key: LoginKey,
    tmp_path: Path,
    agent: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The agent holds the right key, but the credential names a password that is wrong: the
    login fails rather than falling back on keys the inventory never mentioned."""
    subprocess.run(
        ["ssh-add", str(login_key.path)],
        env={**os.environ, **agent},
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("SSH_AUTH_SOCK", agent["SSH_AUTH_SOCK"])
    monkeypatch.setenv("ISOLEMENT_UNIT_PW", "wrong")
    inventory = inventory_with(emu, login_key, tmp_path, {"password_env": "ISOLEMENT_UNIT_PW"})
    with pytest.raises(DeviceError, match="authentication failed"):
        logs_in(inventory)


def test_an_enable_secret_reaches_the_enable_level(
    emu_enable: Emulator, login_key: LoginKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISOLEMENT_UNIT_SECRET", SECRET)
    given = {"key_file": str(login_key.path), "secret_env": "ISOLEMENT_UNIT_SECRET"}
    inventory = inventory_with(emu_enable, login_key, tmp_path, given)
    assert logs_in(inventory) == "r1#"
    typed = [(h.prompt, h.line) for h in emu_enable.device("r1").history]
    assert ("r1>", "enable") in typed


def test_without_the_secret_the_login_stays_unprivileged(
    emu_enable: Emulator, login_key: LoginKey, tmp_path: Path
) -> None:
    inventory = inventory_with(emu_enable, login_key, tmp_path, {"key_file": str(login_key.path)})
    assert logs_in(inventory) == "r1>"


def test_a_wrong_enable_secret_is_named_and_not_shown(
    emu_enable: Emulator, login_key: LoginKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISOLEMENT_UNIT_SECRET", "wrong-secret-5d1")
    given = {"key_file": str(login_key.path), "secret_env": "ISOLEMENT_UNIT_SECRET"}
    inventory = inventory_with(emu_enable, login_key, tmp_path, given)
    with pytest.raises(DeviceError) as caught:
        sessions.connect(inventory, "r1", driver_for("cisco_ios"), 3.0)
    assert "`enable` with the credential's secret did not reach privileged mode" in str(
        caught.value
    )
    assert "wrong-secret-5d1" not in str(caught.value)


def test_validate_says_which_credential_each_device_uses(
    emu: Emulator, login_key: LoginKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ISOLEMENT_UNIT_SECRET", raising=False)
    inventory = inventory_with(
        emu,
        login_key,
        tmp_path,
        {"password_prompt": True, "secret_env": "ISOLEMENT_UNIT_SECRET"},
    )
    (found,) = credentials.resolutions(inventory)
    assert found.devices == ["r1", "r2"]
    assert found.description == (
        "user isolement, password: asked on the terminal at the start of a run; "
        "enable secret: environment variable ISOLEMENT_UNIT_SECRET"
    )
    assert found.state == "NOT resolvable now"
    assert found.problems == [
        "secret_env: environment variable ISOLEMENT_UNIT_SECRET is not set (the enable secret "
        "of credential ops, needed by r1, r2)"
    ]
    monkeypatch.setenv("ISOLEMENT_UNIT_SECRET", SECRET)
    (found,) = credentials.resolutions(inventory)
    assert (found.state, found.asked) == ("asked at the start of a run", ["password"])


# --- nowhere to be read afterwards -----------------------------------------------------------


def test_no_secret_in_journal_logs_argv_or_terminal(
    emu_enable: Emulator, login_key: LoginKey, tmp_path: Path
) -> None:
    """A real cut and restore (the CLI in its own process) logging in with a password, then
    `enable` with a secret: neither is in the journal, the state directory, stdout or stderr."""
    emu = emu_enable
    inventory_with(
        emu,
        login_key,
        tmp_path,
        {"password_env": "ISOLEMENT_UNIT_PW", "secret_env": "ISOLEMENT_UNIT_SECRET"},
    )
    (tmp_path / "playbooks").mkdir()
    playbook = tmp_path / "playbooks" / "cut-exits.yaml"
    playbook.write_text(
        yaml.safe_dump({"name": "cut-exits", "cut": [{"select": {"kind": "internet"}}]})
    )
    cli = IsolementCli(tmp_path / "inventory.yaml", tmp_path / "state", timeout_s=10)
    cli.env |= {"ISOLEMENT_UNIT_PW": PASSWORD, "ISOLEMENT_UNIT_SECRET": SECRET}
    outputs = []
    for command, shut in (
        (["--playbooks", str(playbook.parent), "validate"], False),
        (["cut", str(playbook), "--reason", "drill", "--yes"], True),
        (["journal", "show"], True),
        (["restore", str(playbook), "--all", "--approved-by", "pytest"], False),
    ):
        if command[0] == "restore":
            command += ["--reason", "drill", "--yes"]
        done = cli.run(*command)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        outputs += [done.stdout, done.stderr]
        assert PASSWORD not in " ".join(cli.command(*command))
        # The cut and the restore were really made, logged in with the password.
        assert {emu.device(n).is_shutdown(GI0) for n in NAMES} == {shut}, command
    assert cli.records()
    assert ("r1>", "enable") in [(h.prompt, h.line) for h in emu.device("r1").history]
    stored = [p for p in (tmp_path / "state").rglob("*") if p.is_file()]
    assert cli.journal_path in stored
    for secret in (PASSWORD, SECRET):
        for text in outputs:
            assert secret not in text
        for path in stored:
            assert secret.encode() not in path.read_bytes(), path


def test_a_cut_whose_secret_cannot_be_read_is_refused_before_anything_is_sent(
    emu: Emulator, login_key: LoginKey, tmp_path: Path
) -> None:
    inventory_with(emu, login_key, tmp_path, {"password_keyring": {"service": "isolement-none"}})
    (tmp_path / "playbooks").mkdir()
    playbook = tmp_path / "playbooks" / "cut-exits.yaml"
    playbook.write_text(
        yaml.safe_dump({"name": "cut-exits", "cut": [{"select": {"kind": "internet"}}]})
    )
    cli = IsolementCli(tmp_path / "inventory.yaml", tmp_path / "state", timeout_s=10)
    # A keyring backend that holds nothing, whatever this machine has.
    cli.env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    done = cli.run("cut", str(playbook), "--reason", "drill", "--yes")
    assert done.returncode == 2, done.stderr
    assert "field credentials.ops.password_keyring" in done.stderr
    assert "no password for service isolement-none, user isolement" in done.stderr
    assert "needed by r1, r2" in done.stderr
    assert all(emu.device(n).logins == 0 for n in NAMES)
