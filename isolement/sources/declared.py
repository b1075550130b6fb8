"""Hosts from inventories that hold no cabling (Ansible, Nornir), and the variables that say
what isolement needs to know about them.

Such an inventory knows each host's address, port, login and platform, and its groups. What it
cannot know — the site, the role, the links a cut acts on — a team writes as host or group
variables beside the others, so the inventory it already maintains stays the one source:

    isolement_site: paris                   # or: the host is in a child group of 'sites'
    isolement_role: router                  # or: a group named routers, switches, firewalls
    isolement_managed_via: [wan-paris-lyon] # in-band management through these links
    isolement_links:                        # the interfaces a cut acts on
      - {link: wan-paris-lyon, interface: GigabitEthernet0/0/0, kind: intersite}
      - {link: inet-paris, interface: GigabitEthernet0/0/1, kind: internet,
         protected: "SAMU lines"}       # optional: a protected flow, with its reason

Two hosts naming the same link are its two ends. A link without `kind` that joins two sites
takes the mapping's `cross_site_kind`; otherwise it is reported, not guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from isolement.model.inventory import LinkKind
from isolement.sources.mapping import PlatformUnknown, UserMapping, netmiko_platform, role_for
from isolement.sources.writer import Draft, DraftDevice, DraftLink, Options

# `{{ lookup('env', 'NET_PASSWORD') }}`: the password is already in an environment variable,
# and that variable is what the inventory should name.
_ENV_LOOKUP = re.compile(
    r"""^\{\{\s*lookup\(\s*['"]env['"]\s*,\s*['"]([A-Z_][A-Z0-9_]*)['"]\s*\)\s*\}\}$"""
)
KINDS = ", ".join(kind.value for kind in LinkKind)
_ADDRESS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:-]*$")


@dataclass
class HostFacts:
    """One host as its inventory has it, with inheritance already merged."""

    name: str
    source: str
    address: str | None
    port: int | None
    username: str | None
    key_file: str | None
    password: object  # the source's value: a string, a vault mapping... never written
    platform: str | None
    platform_what: str  # what the source calls the platform ("ansible_network_os"...)
    platform_table: dict[str, str]
    groups: list[str]  # most specific first
    site_groups: list[str]  # the host's groups that are sites
    variables: Mapping[str, Any] = field(default_factory=dict)


# One early return per reason a host cannot be imported, each with its message.
def add_host(  # noqa: PLR0911
    draft: Draft, mapping: UserMapping, options: Options, facts: HostFacts
) -> None:
    """Add one host and the links it declares, or say why it cannot be."""
    obj = f"host {facts.name}"
    draft.secret(facts.password)
    if not facts.platform:
        draft.skip(facts.source, obj, f"no platform: set {facts.platform_what}")
        return
    try:
        platform = netmiko_platform(
            facts.platform, facts.platform_table, mapping, what=facts.platform_what
        )
    except PlatformUnknown as exc:
        draft.skip(facts.source, obj, str(exc))
        return
    site = _named(facts.variables.get(mapping.site_variable)) or next(iter(facts.site_groups), None)
    if site is None:
        draft.skip(
            facts.source,
            obj,
            f"no site: set {mapping.site_variable}, or put the host in a child group of "
            f"{mapping.site_groups!r}",
        )
        return
    declared_role = _named(facts.variables.get(mapping.role_variable))
    candidates = [declared_role] if declared_role else facts.groups
    role = role_for(candidates, platform, mapping)
    if role == "skip":
        draft.skip(facts.source, obj, "skipped by the mapping's roles")
        return
    if role is None:
        draft.skip(
            facts.source,
            obj,
            f"no role: set {mapping.role_variable} (router, switch, firewall), or put the host "
            "in a group named routers, switches or firewalls",
        )
        return
    address = facts.address or facts.name
    if not _ADDRESS.fullmatch(address):
        draft.skip(facts.source, obj, f"its address {address!r} is not a host name or IP")
        return
    username = facts.username or options.username
    if not username:
        draft.skip(facts.source, obj, "no login user in the inventory: give --username")
        return
    credential = draft.credential(
        username, *_secret_reference(facts.key_file, facts.password, options)
    )
    draft.sites.setdefault(site, "")
    draft.devices[facts.name] = DraftDevice(
        site=site,
        role=role,
        platform=platform,
        host=address,
        port=facts.port or 22,
        credential=credential,
        managed_via=[str(v) for v in _as_list(facts.variables.get("isolement_managed_via"))],
        source=facts.source,
    )
    _add_links(draft, facts)


def _named(value: object) -> str | None:
    """A site or role variable's value; nornir_netbox stores the NetBox object ({slug, name})."""
    if isinstance(value, Mapping):
        value = value.get("slug") or value.get("name")
    return str(value) if value else None


def _secret_reference(
    key_file: str | None, password: object, options: Options
) -> tuple[str | None, str | None]:
    """(key_file, password_env) for a host: its key file, else the environment variable its
    password already comes from, else the user's reference."""
    if key_file:
        return key_file, None
    if isinstance(password, str):
        match = _ENV_LOOKUP.match(password.strip())
        if match:
            return None, match.group(1)
    if options.key_file and password is None:
        return options.key_file, None
    return None, options.password_env


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _add_links(draft: Draft, facts: HostFacts) -> None:
    for i, entry in enumerate(_as_list(facts.variables.get("isolement_links"))):
        obj = f"host {facts.name} isolement_links[{i}]"
        if not isinstance(entry, Mapping) or not entry.get("link") or not entry.get("interface"):
            draft.skip(facts.source, obj, "each entry needs 'link' and 'interface'")
            continue
        name, interface = str(entry["link"]), str(entry["interface"])
        kind: LinkKind | None = None
        if entry.get("kind"):
            try:
                kind = LinkKind(str(entry["kind"]))
            except ValueError:
                draft.skip(
                    facts.source,
                    obj,
                    f"unknown kind {entry['kind']!r}; kinds: {KINDS}",
                )
                continue
        link = draft.links.get(name)
        if link is None:
            link = draft.links[name] = DraftLink(source=facts.source, origin=name)
        if kind is not None:
            if link.kind is not None and link.kind is not kind:
                draft.skip(
                    facts.source,
                    obj,
                    f"link {name} is {link.kind.value} at its other end and {kind.value} here; "
                    f"kept as {link.kind.value}",
                )
            else:
                link.kind = kind
        if entry.get("description") and check_safe_text(str(entry["description"])):
            link.description = link.description or str(entry["description"])
        if entry.get("protected"):
            link.protected = str(entry["protected"])
        link.endpoints.append((facts.name, interface))


def check_safe_text(value: str) -> bool:
    return "\n" not in value and "\r" not in value and len(value) <= 500
