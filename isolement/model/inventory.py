"""The inventory: sites, devices, links, credentials references and probes, validated once.

Every cross-reference is checked when the file is loaded, so the rest of the code can trust it.
"""

from __future__ import annotations

import ipaddress
import os
import stat
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from isolement.drivers import PLATFORMS, supported_platforms
from isolement.model.errors import InputError
from isolement.model.names import Name, Text, check_name
from isolement.model.yamlfile import FieldError, load_model


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Role(StrEnum):
    SWITCH = "switch"
    ROUTER = "router"
    FIREWALL = "firewall"


class LinkKind(StrEnum):
    INTERSITE = "intersite"
    INTERNET = "internet"
    PARTNER = "partner"
    VENDOR_ACCESS = "vendor-access"
    BACKUP = "backup"
    MANAGEMENT = "management"
    # Inside one site: the uplink of a server or user segment behind an access switch.
    SEGMENT = "segment"


EnvName = Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$")]


class KeyringEntry(Strict):
    """A secret in the system keyring (the `keyring` library): its service, and the user name
    it is stored under (the credential's own when left out)."""

    service: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\s]+$")]
    username: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\s]+$")] | None = None


class Credential(Strict):
    """Where a secret lives. The inventory never holds the secret itself.

    Logging in: a key file (its passphrase, if any, from `passphrase_env`, `passphrase_keyring`
    or `passphrase_prompt`), or a password (`password_env`, `password_keyring` or
    `password_prompt`); `agent: true` also offers the keys of the running ssh-agent, and may
    stand alone. An enable/privilege secret (`secret_env`, `secret_keyring`, `secret_prompt`)
    for the platforms that have one (IOS, ASA). Resolved by isolement.transport.credentials.
    """

    username: Name
    key_file: Path | None = None
    passphrase_env: EnvName | None = None
    passphrase_keyring: KeyringEntry | None = None
    passphrase_prompt: bool = False
    password_env: EnvName | None = None
    password_keyring: KeyringEntry | None = None
    password_prompt: bool = False
    agent: bool = False
    secret_env: EnvName | None = None
    secret_keyring: KeyringEntry | None = None
    secret_prompt: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> Credential:
        password = _sources(self.password_env, self.password_keyring, self.password_prompt)
        if password > 1:
            raise ValueError("give one of password_env, password_keyring, password_prompt")
        if (self.key_file is None) == (password == 0) and not (self.agent and password == 0):
            raise ValueError(
                "give exactly one of key_file or password_env, password_keyring, "
                "password_prompt (agent: true may stand alone)"
            )
        passphrase = _sources(self.passphrase_env, self.passphrase_keyring, self.passphrase_prompt)
        if passphrase > 1:
            raise ValueError("give one of passphrase_env, passphrase_keyring, passphrase_prompt")
        if passphrase and self.key_file is None:
            raise ValueError("a passphrase is for a key_file")
        if _sources(self.secret_env, self.secret_keyring, self.secret_prompt) > 1:
            raise ValueError("give one of secret_env, secret_keyring, secret_prompt")
        return self

    def password(self) -> str | None:
        return os.environ.get(self.password_env) if self.password_env else None


def _sources(env: str | None, keyring: KeyringEntry | None, prompt: bool) -> int:
    return (env is not None) + (keyring is not None) + prompt


class JumpHost(Strict):
    """A bastion the controller's SSH sessions go through (`direct-tcpip`, as `ssh -J`): its
    address, and the credential it logs in with. Its host key is checked in the inventory's
    known-hosts file like any device's."""

    host: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.:-]*$", max_length=253)]
    port: Annotated[int, Field(ge=1, le=65535)] = 22
    credential: Name


class Site(Strict):
    description: Text = ""
    jump: Name | None = None  # the jump host of the site's devices (a device's own wins)


def _known_platform(value: str) -> str:
    if value not in PLATFORMS:
        raise ValueError(
            f"unknown platform {value!r}; supported platforms: {', '.join(supported_platforms())}"
        )
    return value


class Device(Strict):
    site: Name
    role: Role
    platform: Annotated[Name, AfterValidator(_known_platform)]
    host: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.:-]*$", max_length=253)]
    port: Annotated[int, Field(ge=1, le=65535)] = 22
    credential: Name
    # In-band management: the links the controller's sessions to this device cross. Empty means
    # out-of-band (a management network no playbook cuts).
    managed_via: list[Name] = []
    jump: Name | None = None  # reached through this jump host (default: its site's, if any)


class Endpoint(Strict):
    device: Name
    interface: Name


class Link(Strict):
    kind: LinkKind
    description: Text = ""
    endpoints: Annotated[list[Endpoint], Field(min_length=1, max_length=2)]

    def sites(self, inventory: Inventory) -> set[str]:
        return {inventory.devices[e.device].site for e in self.endpoints}


class Protected(Strict):
    """A flow no playbook may cut (telephony, emergency, SAMU...), and the links it uses."""

    reason: Text
    links: Annotated[list[Name], Field(min_length=1)]


class Controller(Strict):
    """Where the machine running isolement sits, for the plan's management impact."""

    site: Name
    description: Text = ""


def _probe_source(value: str) -> str:
    """An address, or an interface name as the device or the controller spells it."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return check_name(value)


class Probe(Strict):
    """A reachability check with real packets, and the links its path crosses.

    It is sent from exactly one place: a lab namespace (`from_netns`), the machine running
    isolement (`from_controller`), or a managed device through its own CLI (`from_device`).
    `source` is the address or interface the packets leave from (controller or device), so a
    probe can stand for a site's users rather than for the management network.
    """

    name: Name
    from_netns: Name | None = None
    from_controller: bool = False
    from_device: Name | None = None
    source: Annotated[str, AfterValidator(_probe_source)] | None = None
    to: ipaddress.IPv4Address
    port: Annotated[int, Field(ge=1, le=65535)] | None = None  # TCP connect; None: ping
    crosses: list[Name] = []

    @model_validator(mode="after")
    def _one_origin(self) -> Probe:
        origins = [self.from_netns is not None, self.from_controller, self.from_device is not None]
        if sum(origins) != 1:
            raise ValueError(
                "a probe is sent from exactly one of from_netns, from_controller, from_device"
            )
        if self.source is not None and self.from_netns is not None:
            raise ValueError("source applies to from_controller and from_device probes")
        return self

    @property
    def origin(self) -> str:
        """Where the packets leave from, as shown to the operator."""
        if self.from_netns is not None:
            return f"netns {self.from_netns}"
        where = f"device {self.from_device}" if self.from_device is not None else "controller"
        return f"{where} (source {self.source})" if self.source else where


class Inventory(Strict):
    name: Name
    description: Text = ""
    known_hosts: Path
    credentials: dict[Name, Credential]
    jump_hosts: dict[Name, JumpHost] = {}
    sites: dict[Name, Site]
    devices: dict[Name, Device]
    links: dict[Name, Link]
    controller: Controller | None = None
    protected: dict[Name, Protected] = {}
    probes: list[Probe] = []
    # Set by the loader: where the file came from, for messages and relative paths.
    source: Path = Path("<memory>")

    @model_validator(mode="before")
    @classmethod
    def _device_spelling(cls, data: Any) -> Any:
        """Endpoint interfaces in the spelling the device's state uses (`Te0/0/4` on IOS-XE is
        `TenGigabitEthernet0/0/4`), so an inventory may use either and a port named twice in two
        spellings is seen as one."""
        if not isinstance(data, dict):
            return data
        devices, links = data.get("devices"), data.get("links")
        if not isinstance(devices, dict) or not isinstance(links, dict):
            return data
        spelled = {}
        for name, link in links.items():
            ends = link.get("endpoints") if isinstance(link, dict) else None
            spelled[name] = (
                {**link, "endpoints": [_spelled(end, devices) for end in ends]}
                if isinstance(ends, list)
                else link
            )
        return {**data, "links": spelled}

    @model_validator(mode="after")
    def _cross_references(self) -> Inventory:
        for name, device in self.devices.items():
            if device.site not in self.sites:
                raise FieldError(f"devices.{name}.site", f"unknown site {device.site!r}")
            if device.credential not in self.credentials:
                raise FieldError(
                    f"devices.{name}.credential", f"unknown credential {device.credential!r}"
                )
        seen_ports: dict[tuple[str, str], str] = {}
        for name, link in self.links.items():
            for i, end in enumerate(link.endpoints):
                field = f"links.{name}.endpoints.{i}"
                if end.device not in self.devices:
                    raise FieldError(f"{field}.device", f"unknown device {end.device!r}")
                key = (end.device, end.interface)
                if key in seen_ports:
                    raise FieldError(
                        f"{field}.interface",
                        f"{end.device} {end.interface} is already an endpoint of link "
                        f"{seen_ports[key]}",
                    )
                seen_ports[key] = name
        for name, device in self.devices.items():
            for i, via in enumerate(device.managed_via):
                if via not in self.links:
                    raise FieldError(f"devices.{name}.managed_via.{i}", f"unknown link {via!r}")
        for name, flow in self.protected.items():
            for i, link_name in enumerate(flow.links):
                if link_name not in self.links:
                    raise FieldError(f"protected.{name}.links.{i}", f"unknown link {link_name!r}")
        if self.controller and self.controller.site not in self.sites:
            raise FieldError("controller.site", f"unknown site {self.controller.site!r}")
        probe_names: set[str] = set()
        for i, probe in enumerate(self.probes):
            if probe.name in probe_names:
                raise FieldError(f"probes.{i}.name", f"duplicate probe name {probe.name!r}")
            probe_names.add(probe.name)
            if probe.from_device is not None and probe.from_device not in self.devices:
                raise FieldError(f"probes.{i}.from_device", f"unknown device {probe.from_device!r}")
            for crossed in probe.crosses:
                if crossed not in self.links:
                    raise FieldError(f"probes.{i}.crosses", f"unknown link {crossed!r}")
        return self

    @model_validator(mode="after")
    def _jump_references(self) -> Inventory:
        for name, jump in self.jump_hosts.items():
            if jump.credential not in self.credentials:
                raise FieldError(
                    f"jump_hosts.{name}.credential", f"unknown credential {jump.credential!r}"
                )
        for kind, holders in (("sites", self.sites), ("devices", self.devices)):
            for name, holder in holders.items():
                if holder.jump is not None and holder.jump not in self.jump_hosts:
                    raise FieldError(f"{kind}.{name}.jump", f"unknown jump host {holder.jump!r}")
        return self

    def jump_for(self, device: str) -> JumpHost | None:
        """The jump host a session to this device goes through, or None (directly)."""
        spec = self.devices[device]
        name = spec.jump if spec.jump is not None else self.sites[spec.site].jump
        return self.jump_hosts[name] if name is not None else None

    def protecting(self, link: str) -> list[str]:
        """The protected flows that use this link."""
        return [name for name, flow in self.protected.items() if link in flow.links]


def _spelled(end: Any, devices: dict[Any, Any]) -> Any:
    if not isinstance(end, dict) or not isinstance(end.get("interface"), str):
        return end
    device = devices.get(end.get("device"))
    platform = device.get("platform") if isinstance(device, dict) else None
    if not isinstance(platform, str) or platform not in PLATFORMS:
        return end  # reported by the field's own validation
    return {**end, "interface": PLATFORMS[platform].interface_name(end["interface"])}


def load_inventory(path: Path) -> Inventory:
    inventory = load_model(path, Inventory)
    base = path.resolve().parent

    def absolute(p: Path) -> Path:
        return p if p.is_absolute() else base / p

    credentials = {
        name: cred.model_copy(
            update={"key_file": absolute(cred.key_file) if cred.key_file else None}
        )
        for name, cred in inventory.credentials.items()
    }
    return inventory.model_copy(
        update={
            "known_hosts": absolute(inventory.known_hosts),
            "credentials": credentials,
            "source": path,
        }
    )


# Far above any private key (an RSA 16384-bit key is about 12 KiB): a bigger "key" is not one.
_MAX_KEY_BYTES = 1024 * 1024


def _key_file_problem(path: Path) -> str | None:
    """Why ssh could not log in with this private key file, or None. As OpenSSH does, a key
    other users may read or write is refused ("UNPROTECTED PRIVATE KEY FILE"): anyone on the
    machine could have copied it."""
    try:
        st = path.stat()  # through a link, as ssh follows one
    except FileNotFoundError:
        return f"key file {path} does not exist"
    except OSError as exc:
        return f"key file {path} cannot be read: {exc.strerror or exc}"
    if not stat.S_ISREG(st.st_mode):
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "a device or a pipe"
        return f"key file {path} is {kind}, not a private key file"
    if st.st_mode & 0o077:
        return (
            f"UNPROTECTED PRIVATE KEY FILE {path}: its permissions "
            f"{stat.S_IMODE(st.st_mode):04o} let other users read or change it, so ssh would "
            f"refuse it and isolement does: chmod 600 {path}"
        )
    if st.st_size > _MAX_KEY_BYTES:
        return f"key file {path} is {st.st_size} bytes: not a private key"
    return _unreadable_key(path)


def _unreadable_key(path: Path) -> str | None:
    """Why paramiko (what netmiko logs in with) cannot load this key, or None."""
    import paramiko  # only when credentials are checked, not for every load

    try:
        paramiko.PKey.from_path(path)
    except paramiko.PasswordRequiredException:
        return None  # encrypted: its passphrase is for ssh-agent; it is not read here
    except OSError as exc:
        return f"key file {path} cannot be read: {exc.strerror or exc}"
    except (paramiko.SSHException, ValueError, TypeError) as exc:
        if isinstance(exc, TypeError) and "password" in str(exc):
            return None  # cryptography's word for an encrypted OpenSSH key
        why = " ".join(str(exc).split()) or type(exc).__name__
        return f"key file {path} is not a private key ssh can use ({why})"
    return None


def credential_problems(inventory: Inventory, devices: Iterable[str]) -> list[tuple[str, str]]:
    """(field, problem) for every credential these devices need that cannot be used now, and
    for the known-hosts file, in the inventory's order."""
    users: dict[str, list[str]] = {}
    for name in sorted(devices):
        users.setdefault(inventory.devices[name].credential, []).append(name)
    problems: list[tuple[str, str]] = []
    for cred_name in sorted(users):
        cred = inventory.credentials[cred_name]
        names = users[cred_name]
        needed = f"needed by {', '.join(names[:3])}" + (
            f" and {len(names) - 3} more" if len(names) > 3 else ""
        )
        where = f"credentials.{cred_name}"
        if cred.password_env:
            value = cred.password()
            if not value:
                state = "is not set" if value is None else "is empty"
                problems.append(
                    (
                        f"{where}.password_env",
                        f"environment variable {cred.password_env} {state} ({needed})",
                    )
                )
        if cred.key_file:
            problem = _key_file_problem(cred.key_file)
            if problem:
                problems.append((f"{where}.key_file", f"{problem} ({needed})"))
    if not inventory.known_hosts.is_file():
        problems.append(
            (
                "known_hosts",
                f"known-hosts file {inventory.known_hosts} does not exist: host keys must be "
                "verified (for the lab, run 'isolement lab up' first)",
            )
        )
    return problems


def check_credentials(inventory: Inventory, devices: Iterable[str] | None = None) -> None:
    """Refuse before any session opens if a secret the run needs (every device's, by default)
    is not where it should be or cannot be used; name every problem."""
    problems = credential_problems(inventory, inventory.devices if devices is None else devices)
    source = str(inventory.source)
    if len(problems) == 1:
        field, message = problems[0]
        raise InputError(message, source=source, field=field)
    if problems:
        listed = "\n".join(f"  field {field}: {message}" for field, message in problems)
        raise InputError(f"{len(problems)} problems with credentials:\n{listed}", source=source)
