"""Where each credential's secrets come from, and reading them once per run.

A credential (model/inventory.py `Credential`) logs in with a key file or a password, and
ssh-agent's keys when `agent: true`; a key file may need a passphrase; a platform with an
enable level may need a secret. Each secret comes from an environment variable, the system
keyring (the `keyring` library, whatever backend the machine has) or a prompt on the terminal.

Secrets are read at most once per credential per run (this process) and kept in memory only:
never in argv, the journal, a log or the terminal. A prompt is asked before any session opens
(pre-flight calls `prepare`), one after the other, never echoed; without a terminal it is
refused with a message saying what to use instead.
"""

from __future__ import annotations

import getpass
import os
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from isolement.model.errors import InputError
from isolement.model.inventory import Credential, Inventory, KeyringEntry


class Role(StrEnum):
    PASSWORD = "password"  # noqa: S105 - the name of a role, not a secret
    PASSPHRASE = "passphrase"  # noqa: S105
    SECRET = "secret"  # noqa: S105

    @property
    def spoken(self) -> str:
        return {"password": "password", "passphrase": "key passphrase", "secret": "enable secret"}[
            self.value
        ]


@dataclass(frozen=True)
class Source:
    """Where one secret of a credential comes from."""

    role: Role
    env: str | None = None
    keyring: KeyringEntry | None = None
    prompt: bool = False

    @property
    def field(self) -> str:
        kind = "env" if self.env else "keyring" if self.keyring else "prompt"
        return f"{self.role.value}_{kind}"

    def keyring_user(self, credential: Credential) -> str:
        assert self.keyring is not None
        return self.keyring.username or credential.username

    def describe(self, credential: Credential) -> str:
        if self.env:
            return f"environment variable {self.env}"
        if self.keyring:
            return f"keyring service {self.keyring.service}, user {self.keyring_user(credential)}"
        return "asked on the terminal at the start of a run"


def sources(credential: Credential) -> list[Source]:
    """The secrets this credential needs, in the order a run reads them."""
    found = []
    for role in Role:
        env = getattr(credential, f"{role.value}_env")
        keyring_entry = getattr(credential, f"{role.value}_keyring")
        prompt = getattr(credential, f"{role.value}_prompt")
        if env or keyring_entry or prompt:
            found.append(Source(role, env, keyring_entry, prompt))
    return found


def source_of(credential: Credential, role: Role) -> Source | None:
    return next((s for s in sources(credential) if s.role is role), None)


def describe(credential: Credential) -> str:
    """How this credential logs in, for `validate`: `ops: key file /k (passphrase from ...)`."""
    parts = []
    passphrase = source_of(credential, Role.PASSPHRASE)
    if credential.key_file:
        text = f"key file {credential.key_file}"
        if passphrase:
            text += f" (passphrase: {passphrase.describe(credential)})"
        parts.append(text)
    password = source_of(credential, Role.PASSWORD)
    if password:
        parts.append(f"password: {password.describe(credential)}")
    if credential.agent:
        parts.append("ssh-agent")
    text = f"user {credential.username}, " + " or ".join(parts)
    secret = source_of(credential, Role.SECRET)
    if secret:
        text += f"; enable secret: {secret.describe(credential)}"
    return text


# --- reading secrets -------------------------------------------------------------------------

# Seams for the tests: how a prompt is asked, and whether there is a terminal to ask on.
ask: Callable[[str], str] = getpass.getpass


def interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _from_keyring(entry: KeyringEntry, user: str) -> str | None:
    """The keyring's secret, None when it holds none; InputError when the keyring cannot be
    read at all (no backend on this machine, locked, ...)."""
    import keyring  # its backends' discovery, 0.1 s: only for a credential that names it

    try:
        return keyring.get_password(entry.service, user)
    except Exception as exc:  # noqa: BLE001 - a backend may raise its own (D-Bus, locked...)
        raise InputError(
            f"the system keyring cannot be read ({type(exc).__name__}: {exc}); check that a "
            "keyring backend is available and unlocked (`keyring --list-backends`)"
        ) from None


class _Secrets:
    """The secrets read so far in this run, by (credential, role)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # also serialises prompts: one question at a time
        self._values: dict[tuple[str, Role], str] = {}

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def get(self, inventory: Inventory, name: str, role: Role, needed_by: Iterable[str]) -> str:
        with self._lock:
            known = self._values.get((name, role))
            if known is not None:
                return known
            value = _read(inventory, name, role, needed_by)
            self._values[(name, role)] = value
            return value


def _refuse(inventory: Inventory, name: str, source: Source, message: str) -> InputError:
    return InputError(
        message, source=str(inventory.source), field=f"credentials.{name}.{source.field}"
    )


def _read(inventory: Inventory, name: str, role: Role, needed_by: Iterable[str]) -> str:
    credential = inventory.credentials[name]
    source = source_of(credential, role)
    if source is None:
        raise KeyError(role)
    devices = ", ".join(sorted(needed_by)) or "this run"
    if source.env:
        value = os.environ.get(source.env)
        if value is None:
            raise _refuse(
                inventory,
                name,
                source,
                f"environment variable {source.env} is not set (the {role.spoken} of credential "
                f"{name}, needed by {devices})",
            )
        return value
    if source.keyring:
        user = source.keyring_user(credential)
        try:
            found = _from_keyring(source.keyring, user)
        except InputError as exc:
            raise _refuse(inventory, name, source, str(exc)) from None
        if found is None:
            raise _refuse(
                inventory,
                name,
                source,
                f"the keyring holds no {role.spoken} for service {source.keyring.service}, user "
                f"{user} (credential {name}, needed by {devices}); store it with `keyring set "
                f"{source.keyring.service} {user}`",
            )
        return found
    if not interactive():
        raise _refuse(
            inventory,
            name,
            source,
            f"the {role.spoken} of credential {name} (needed by {devices}) is asked on the "
            "terminal, and standard input is not a terminal; run from a terminal, or give it "
            f"as {role.value}_env or {role.value}_keyring for a run without one",
        )
    value = ask(f"{role.spoken.capitalize()} for credential {name} (user {credential.username}): ")
    if not value:
        raise _refuse(inventory, name, source, f"no {role.spoken} given for credential {name}")
    return value


_secrets = _Secrets()


def forget() -> None:
    """Drop every secret read so far (tests; a long-lived process between runs)."""
    _secrets.clear()


def secret(inventory: Inventory, name: str, role: Role, device: str | None = None) -> str | None:
    """The secret `role` of credential `name`, read now if it was not yet; None when the
    credential has no such secret. InputError when it cannot be read."""
    if source_of(inventory.credentials[name], role) is None:
        return None
    return _secrets.get(inventory, name, role, [device] if device else [])


def prepare(inventory: Inventory, devices: Iterable[str]) -> None:
    """Read every secret these devices need, prompting where the inventory says so, before any
    session opens: a missing one is named (credential, field, devices) with nothing sent."""
    users = _users(inventory, devices)
    for name in sorted(users):
        for source in sources(inventory.credentials[name]):
            _secrets.get(inventory, name, source.role, users[name])
        _check_agent(inventory, name, users[name])


def _users(inventory: Inventory, devices: Iterable[str]) -> dict[str, list[str]]:
    """Credential -> the devices whose sessions need it: their own, and their jump host's."""
    users: dict[str, list[str]] = {}
    for device in sorted(devices):
        users.setdefault(inventory.devices[device].credential, []).append(device)
        jump = inventory.jump_for(device)
        if jump is not None and device not in users.setdefault(jump.credential, []):
            users[jump.credential].append(device)
    return users


def _check_agent(inventory: Inventory, name: str, devices: list[str]) -> None:
    credential = inventory.credentials[name]
    if agent_only(credential):
        problem = agent_problem()
        if problem:
            raise InputError(
                f"{problem} (credential {name} logs in with ssh-agent only, needed by "
                f"{', '.join(devices)})",
                source=str(inventory.source),
                field=f"credentials.{name}.agent",
            )


def agent_only(credential: Credential) -> bool:
    """Whether ssh-agent is this credential's only way in."""
    no_password = source_of(credential, Role.PASSWORD) is None
    return credential.agent and credential.key_file is None and no_password


def agent_problem() -> str | None:
    """Why ssh-agent cannot log anyone in now, or None."""
    if not os.environ.get("SSH_AUTH_SOCK"):
        return "no ssh-agent: SSH_AUTH_SOCK is not set"
    import paramiko  # as in _key_problem: only once a credential needs it

    try:
        agent = paramiko.Agent()
        try:
            keys = agent.get_keys()
        finally:
            agent.close()
    except (paramiko.SSHException, OSError) as exc:
        return f"ssh-agent at SSH_AUTH_SOCK cannot be read: {exc}"
    return None if keys else "ssh-agent holds no key (add one with ssh-add)"


# --- what validate says ----------------------------------------------------------------------


@dataclass(frozen=True)
class Resolution:
    """Whether one credential can be resolved now, without asking anything."""

    name: str
    description: str
    devices: list[str]
    problems: list[str]  # empty: everything it needs can be read now
    asked: list[str]  # the secrets a run will ask on the terminal

    @property
    def state(self) -> str:
        if self.problems:
            return "NOT resolvable now"
        return "asked at the start of a run" if self.asked else "resolvable now"


def resolutions(inventory: Inventory) -> list[Resolution]:
    """Every credential the inventory's devices use, and whether it can be resolved now. No
    prompt, no network: the environment, the keyring, the key file and the local ssh-agent."""
    users = _users(inventory, inventory.devices)
    found = []
    for name in sorted(users):
        credential = inventory.credentials[name]
        problems: list[str] = []
        asked: list[str] = []
        readable: dict[Role, str] = {}
        for source in sources(credential):
            if source.prompt:
                asked.append(source.role.spoken)
                continue
            try:
                readable[source.role] = _read(inventory, name, source.role, users[name])
            except InputError as exc:
                problems.append(f"{source.field}: {_message(exc)}")
        if credential.key_file is not None:
            problem = _key_problem(credential.key_file, readable.get(Role.PASSPHRASE), credential)
            if problem:
                problems.append(f"key_file: {problem}")
        if (
            credential.agent
            and credential.key_file is None
            and not source_of(credential, Role.PASSWORD)
        ):
            problem = agent_problem()
            if problem:
                problems.append(f"agent: {problem}")
        found.append(Resolution(name, describe(credential), users[name], problems, asked))
    return found


def _message(exc: InputError) -> str:
    """The message without the `file, field X:` prefix (said once per credential)."""
    text = str(exc)
    prefix = ", ".join(p for p in (exc.source, f"field {exc.field}" if exc.field else None) if p)
    return text.removeprefix(f"{prefix}: ") if prefix else text


def _key_problem(path: Path, passphrase: str | None, credential: Credential) -> str | None:
    """Why the key file cannot be opened now with what the credential gives, or None. (Whether
    it exists, is a file, its permissions: validate's own key-file checks.)"""
    problem = None
    if not path.is_file():
        pass  # missing, a directory...: validate's own key-file checks say it
    elif passphrase is not None or source_of(credential, Role.PASSPHRASE) is None:
        # (A passphrase asked at the start of a run cannot be tried now.)
        import paramiko  # a third of a second to import: paid only when a key is checked

        try:
            paramiko.PKey.from_path(path, passphrase)
        except (paramiko.PasswordRequiredException, TypeError):
            # (cryptography's OpenSSH-format loader says it with a TypeError, through paramiko.)
            problem = (
                f"{path} is protected by a passphrase and the credential gives none "
                "(passphrase_env, passphrase_keyring or passphrase_prompt)"
            )
        except (paramiko.SSHException, ValueError) as exc:
            problem = (
                f"{path} cannot be opened with the passphrase given ({exc})"
                if passphrase is not None
                else f"{path} is not a private key paramiko can read ({exc})"
            )
        except OSError as exc:
            problem = f"{path} cannot be read ({exc.strerror})"
    return problem
