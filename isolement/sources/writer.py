"""The shared end of every importer: a draft inventory, what could not be mapped, and the file.

A reader (netbox, ansible, nornir, containerlab) fills a Draft with what it understood and an
Issue for every object it could not use, naming where the object came from. `build` drops what
cannot stand (a link to a device that was left out, a name that is not safe...), each with its
Issue, then validates the rest as an Inventory; `write` renders it as YAML. Nothing is dropped
without an Issue, and no secret a reader saw can reach the file: readers register the secrets
they read, and `render` refuses output that contains one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml
from pydantic import ValidationError

from isolement.model.errors import InputError
from isolement.model.inventory import Inventory, LinkKind, Role
from isolement.model.names import check_name
from isolement.model.yamlfile import FieldError, field_path
from isolement.sources.mapping import UserMapping

# A secret shorter than this could match ordinary words of the inventory by chance; such
# secrets are not searched for (they are never copied into the draft in the first place).
_MIN_SECRET = 4


@dataclass(frozen=True)
class Issue:
    """One object of a source that is not in the written inventory, or not as the source had it."""

    source: str  # the file or URL the object came from
    object: str  # "device dmi01-akron-sw01", "cable #35", "host r3"
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"source": self.source, "object": self.object, "reason": self.reason}


@dataclass
class DraftDevice:
    site: str
    role: Role
    platform: str
    host: str
    credential: str
    port: int = 22
    managed_via: list[str] = field(default_factory=list)
    source: str = ""


@dataclass
class DraftLink:
    source: str
    origin: str  # how the source names it, for messages ("circuit KKDG4923", "cable #35")
    endpoints: list[tuple[str, str]] = field(default_factory=list)  # (device, interface)
    kind: LinkKind | None = None
    description: str = ""
    protected: str | None = None  # the reason, when the source marks the link protected


@dataclass
class DraftCredential:
    username: str
    key_file: str | None = None
    password_env: str | None = None


@dataclass(frozen=True)
class Options:
    """What the user gives every importer: names, and the credential and host-key references
    for what the source does not say (a NetBox holds no login)."""

    name: str | None = None
    username: str | None = None
    password_env: str = "ISOLEMENT_PASSWORD"  # noqa: S105 - a variable name, not a secret
    key_file: str | None = None
    known_hosts: str = "known_hosts"


@dataclass
class Draft:
    """What a reader understood, before it is checked as a whole."""

    name: str
    description: str
    sources: list[str]
    known_hosts: str = "known_hosts"
    sites: dict[str, str] = field(default_factory=dict)  # name -> description
    devices: dict[str, DraftDevice] = field(default_factory=dict)
    links: dict[str, DraftLink] = field(default_factory=dict)
    credentials: dict[str, DraftCredential] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    # Written as the source has it, but worth a look before a crisis.
    warnings: list[Issue] = field(default_factory=list)
    # Values a reader saw in a password, token or vault field: never to be written.
    secrets: set[str] = field(default_factory=set)

    def skip(self, source: str, obj: str, reason: str) -> None:
        self.issues.append(Issue(source, obj, reason))

    def secret(self, value: object) -> None:
        """Remember a value read from a password, token or vault field, to refuse writing it.
        A vaulted value is a mapping ({"__ansible_vault": "$ANSIBLE_VAULT;..."})."""
        if isinstance(value, Mapping):
            for inner in value.values():
                self.secret(inner)
        elif isinstance(value, str) and len(value) >= _MIN_SECRET:
            self.secrets.add(value)

    def credential(self, username: str, key_file: str | None, password_env: str | None) -> str:
        """The name of the credential with these references, added if new."""
        wanted = DraftCredential(username, key_file, password_env)
        for name, existing in self.credentials.items():
            if existing == wanted:
                return name
        base = username if check_safe(username) else "imported"
        name, n = base, 1
        while name in self.credentials:
            n += 1
            name = f"{base}-{n}"
        self.credentials[name] = wanted
        return name


def check_safe(value: str) -> bool:
    try:
        check_name(value)
    except ValueError:
        return False
    return True


def public_url(url: str) -> str:
    """A URL as it may be shown and written: without a user or password in it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(frozen=True)
class Built:
    inventory: Inventory
    data: dict[str, Any]  # what is written, in the inventory file's own shape
    issues: list[Issue]
    warnings: list[Issue]


def build(draft: Draft, mapping: UserMapping) -> Built:
    """Check the draft as a whole, drop (with an Issue) what cannot stand, validate the rest."""
    devices = _safe_devices(draft)
    links = _decided_links(draft, devices, mapping)
    for name, device in devices.items():
        kept = []
        for via in device.managed_via:
            if via in links:
                kept.append(via)
            else:
                draft.skip(
                    device.source,
                    f"device {name}",
                    f"managed_via names link {via!r}, which is not in the imported links; "
                    "the device is written as managed out-of-band",
                )
        device.managed_via = kept
        for via in kept:
            if links[via].endpoints == [] or {d for d, _ in links[via].endpoints} == {name}:
                draft.warnings.append(
                    Issue(
                        device.source,
                        f"device {name}",
                        f"managed in-band through link {via}, whose only end is on {name} "
                        "itself: a plan that cuts it will be refused, as it would strand the "
                        "device (written as the source has it)",
                    )
                )
    used_sites = {device.site for device in devices.values()}
    for site in sorted(set(draft.sites) - used_sites):
        draft.skip(draft.sources[0], f"site {site}", "no device of this site was imported")
    sites = {name: desc for name, desc in draft.sites.items() if name in used_sites}
    for site in sorted(used_sites - set(sites)):
        sites[site] = ""
    used_credentials = {device.credential for device in devices.values()}
    data: dict[str, Any] = {
        "name": draft.name,
        "description": draft.description,
        "known_hosts": draft.known_hosts,
        "credentials": {
            name: {
                key: value
                for key, value in (
                    ("username", cred.username),
                    ("key_file", cred.key_file),
                    ("password_env", cred.password_env),
                )
                if value is not None
            }
            for name, cred in sorted(draft.credentials.items())
            if name in used_credentials
        },
        "sites": {
            name: ({"description": desc} if desc else {}) for name, desc in sorted(sites.items())
        },
        "devices": {name: _device_data(device) for name, device in sorted(devices.items())},
        "links": {name: _link_data(link) for name, link in sorted(links.items())},
    }
    protected = {
        f"protect-{name}": {"reason": link.protected, "links": [name]}
        for name, link in sorted(links.items())
        if link.protected
    }
    if protected:
        data["protected"] = protected
    if not data["devices"]:
        raise InputError(
            "nothing to write: no device could be imported (see the list of what could not "
            "be mapped above)",
            source=draft.sources[0],
        )
    try:
        inventory = Inventory.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        cause = first.get("ctx", {}).get("error")
        where = cause.field if isinstance(cause, FieldError) else field_path(first["loc"])
        message = str(cause) if isinstance(cause, FieldError) else first["msg"]
        raise InputError(
            f"the imported inventory is not valid: {message}; nothing was written",
            source=draft.sources[0],
            field=where,
        ) from None
    return Built(inventory, data, list(draft.issues), list(draft.warnings))


def _safe_devices(draft: Draft) -> dict[str, DraftDevice]:
    devices: dict[str, DraftDevice] = {}
    for name, device in draft.devices.items():
        for what, value in (("name", name), ("site", device.site)):
            if not check_safe(value):
                draft.skip(
                    device.source,
                    f"device {name}",
                    f"its {what} {value!r} is not a safe name (letters, digits and _ . : / @ + -, "
                    "no spaces); rename it in the source",
                )
                break
        else:
            devices[name] = device
    return devices


def _decided_links(
    draft: Draft, devices: dict[str, DraftDevice], mapping: UserMapping
) -> dict[str, DraftLink]:
    links: dict[str, DraftLink] = {}
    taken: dict[tuple[str, str], str] = {}
    for name, link in draft.links.items():
        obj = f"link {name} ({link.origin})" if link.origin != name else f"link {name}"
        problem = _link_problem(name, link, devices, taken)
        if problem:
            draft.skip(link.source, obj, problem)
            continue
        if link.kind is None:
            sites = {devices[device].site for device, _ in link.endpoints}
            if len(sites) == 2:
                link.kind = mapping.cross_site_kind
            else:
                draft.skip(
                    link.source,
                    obj,
                    "its kind could not be decided: nothing in the source gives one (tag or "
                    "custom field 'isolement_kind', circuit type, label 'isolement.kind', "
                    "'kind' in isolement_links) and it does not join two sites; "
                    f"kinds: {', '.join(k.value for k in LinkKind)}",
                )
                continue
        for end in link.endpoints:
            taken[end] = name
        links[name] = link
    return links


def _link_problem(  # noqa: PLR0911 - one return per reason, each with its message
    name: str,
    link: DraftLink,
    devices: dict[str, DraftDevice],
    taken: dict[tuple[str, str], str],
) -> str | None:
    if not check_safe(name):
        return f"its name {name!r} is not a safe name; give it a name of letters and digits"
    if not link.endpoints:
        return "no end of it is on an imported device interface"
    if len(link.endpoints) > 2:
        ends = ", ".join(f"{d} {i}" for d, i in link.endpoints)
        return f"it has {len(link.endpoints)} ends ({ends}); a link has one or two"
    for device, interface in link.endpoints:
        if device not in devices:
            return f"its end {device} {interface} is on a device that was not imported"
        if not check_safe(interface):
            return f"interface {interface!r} of {device} is not a safe name"
        if (device, interface) in taken:
            return f"{device} {interface} is already an end of link {taken[(device, interface)]}"
    return None


def _device_data(device: DraftDevice) -> dict[str, Any]:
    data: dict[str, Any] = {
        "site": device.site,
        "role": device.role.value,
        "platform": device.platform,
        "host": device.host,
    }
    if device.port != 22:
        data["port"] = device.port
    data["credential"] = device.credential
    if device.managed_via:
        data["managed_via"] = list(device.managed_via)
    return data


def _link_data(link: DraftLink) -> dict[str, Any]:
    assert link.kind is not None  # decided by _decided_links
    data: dict[str, Any] = {"kind": link.kind.value}
    if link.description:
        data["description"] = link.description
    data["endpoints"] = [{"device": d, "interface": i} for d, i in link.endpoints]
    return data


def render(built: Built, draft: Draft, command: str) -> str:
    """The inventory file's text: a header saying where it came from, then the YAML."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = [
        f"# Imported by `isolement inventory import {command}` on {now} from:",
        *(f"#   {source}" for source in draft.sources),
        "# Check it, then: isolement --inventory THIS_FILE validate",
    ]
    if built.issues:
        header.append(
            f"# {len(built.issues)} objects of the source could not be mapped and are not here: "
            "the import listed them (and --json gives them)."
        )
    text = (
        "\n".join(header)
        + "\n"
        + yaml.safe_dump(built.data, sort_keys=False, allow_unicode=True, width=100)
    )
    check_no_secret(text, draft, "the inventory")
    return text


def check_no_secret(text: str, draft: Draft, what: str) -> None:
    usernames = {cred.username for cred in draft.credentials.values()}
    for secret in draft.secrets:
        if secret in text and secret not in usernames:
            raise InputError(
                f"refusing to write {what}: it would contain a password or token read from the "
                "source (a bug, or a secret reused as a name); nothing was written",
                source=draft.sources[0],
            )


def write(path: Path, text: str, *, force: bool) -> None:
    """Write atomically; refuse to replace a file unless told to."""
    if path.exists() and not force:
        raise InputError(
            "already exists; give --force to replace it (nothing was written)", source=str(path)
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def issues_text(issues: list[Issue], heading: str = "could not be mapped") -> str:
    """What could not be mapped (or is worth a look), source by source, object by object."""
    if not issues:
        return ""
    lines = [f"{heading} ({len(issues)}):"]
    by_source: dict[str, list[Issue]] = {}
    for issue in issues:
        by_source.setdefault(issue.source, []).append(issue)
    for source, items in by_source.items():
        lines.append(f"  {source}")
        lines.extend(f"    {issue.object}: {issue.reason}" for issue in items)
    return "\n".join(lines)
