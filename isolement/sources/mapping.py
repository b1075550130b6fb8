"""How the names other tools use become isolement's: platforms, device roles and link kinds.

Each source names a platform its own way (a NetBox platform slug, an Ansible network OS, a
containerlab kind, a NAPALM driver); the tables here turn those into netmiko's names. What a
table does not know, the user's mapping file (`--mapping FILE`) can say, and it wins:

    platforms: {ios-xe: cisco_ios}        # source value -> netmiko name
    roles: {core: switch, pdu: skip}      # NetBox role slug or Ansible group -> role, or skip
    kinds: {mpls: intersite}              # circuit type, tag or label value -> link kind
    cross_site_kind: intersite            # a link between two sites that says nothing itself
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from isolement.drivers import PLATFORMS, supported_platforms
from isolement.model.inventory import LinkKind, Role
from isolement.model.yamlfile import load_model

# An Ansible network OS is a collection's module prefix ("cisco.ios.ios") or, in older
# inventories, its short name ("ios"); NAPALM drivers (Nornir's usual platform values) use the
# same short names. Both map to netmiko's names. Entries whose netmiko name has no isolement
# driver (arista_eos, vyos...) are kept on purpose: the report then says "arista_eos has no
# driver" instead of "unknown value".
NETWORK_OS: dict[str, str] = {
    "cisco.ios": "cisco_ios",
    "ios": "cisco_ios",
    "cisco.iosxr": "cisco_xr",
    "iosxr": "cisco_xr",
    "cisco.nxos": "cisco_nxos",
    "nxos": "cisco_nxos",
    "nxos_ssh": "cisco_nxos",
    "cisco.asa": "cisco_asa",
    "asa": "cisco_asa",
    "junipernetworks.junos": "juniper_junos",
    "junos": "juniper_junos",
    "arista.eos": "arista_eos",
    "eos": "arista_eos",
    "vyos.vyos": "vyos",
    "vyos": "vyos",
    "fortinet.fortios": "fortinet",
    "fortios": "fortinet",
    "paloaltonetworks.panos": "paloalto_panos",
    "panos": "paloalto_panos",
    "arubanetworks.aoscx": "aruba_aoscx",
    "aoscx": "aruba_aoscx",
    "frr.frr": "frr",
    "frr": "frr",
    "community.routeros": "mikrotik_routeros",
    "routeros": "mikrotik_routeros",
    "dellemc.os10": "dell_os10",
}

# NetBox platform slugs as the demo data and common installations spell them.
NETBOX_PLATFORMS: dict[str, str] = {
    "cisco-ios": "cisco_ios",
    "cisco-ios-xe": "cisco_ios",
    "ios-xe": "cisco_ios",
    "cisco-ios-xr": "cisco_xr",
    "cisco-nx-os": "cisco_nxos",
    "cisco-nxos": "cisco_nxos",
    "cisco-asa": "cisco_asa",
    "juniper-junos": "juniper_junos",
    "arista-eos": "arista_eos",
    "fortinet-fortios": "fortinet",
    "fortigate": "fortinet",
    "paloalto-panos": "paloalto_panos",
    "palo-alto-pan-os": "paloalto_panos",
    "pan-os": "paloalto_panos",
    "aruba-aos-cx": "aruba_aoscx",
    "aruba-aoscx": "aruba_aoscx",
    "aos-cx": "aruba_aoscx",
    "alcatel-aos": "alcatel_aos",
    "alcatel-lucent-aos": "alcatel_aos",
    "omniswitch": "alcatel_aos",
    "frrouting": "frr",
}

# NetBox role slugs (the demo data's, and the usual ones) and Ansible/Nornir group names.
ROLES: dict[str, Role] = {
    "router": Role.ROUTER,
    "routers": Role.ROUTER,
    "core-router": Role.ROUTER,
    "edge-router": Role.ROUTER,
    "wan-router": Role.ROUTER,
    "firewall": Role.FIREWALL,
    "firewalls": Role.FIREWALL,
    "switch": Role.SWITCH,
    "switches": Role.SWITCH,
    "core-switch": Role.SWITCH,
    "distribution-switch": Role.SWITCH,
    "access-switch": Role.SWITCH,
    "tor-switch": Role.SWITCH,
    "leaf": Role.SWITCH,
    "spine": Role.SWITCH,
}

# When nothing names a role, a firewall platform is a firewall.
FIREWALL_PLATFORMS = frozenset({"cisco_asa", "fortinet", "paloalto_panos"})

# NetBox circuit types (the demo data's slugs) -> the kind of the link a circuit is.
CIRCUIT_KINDS: dict[str, LinkKind] = {
    "internet": LinkKind.INTERNET,
    "internet-access": LinkKind.INTERNET,
    "dia": LinkKind.INTERNET,
    "mpls": LinkKind.INTERSITE,
    "point-to-point": LinkKind.INTERSITE,
    "dark-fiber": LinkKind.INTERSITE,
    "l2vpn": LinkKind.INTERSITE,
    "wan": LinkKind.INTERSITE,
}


class UserMapping(BaseModel):
    """The user's `--mapping FILE`: entries here override the built-in tables."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    platforms: dict[str, str] = {}
    roles: dict[str, Role | Literal["skip"]] = {}
    kinds: dict[str, LinkKind] = {}
    cross_site_kind: LinkKind = LinkKind.INTERSITE
    # Ansible/Nornir: the parent group whose child groups are sites, and the variables (Nornir:
    # keys of `data`) that name a host's site and role.
    site_groups: Annotated[str, Field(min_length=1)] = "sites"
    site_variable: Annotated[str, Field(min_length=1)] = "isolement_site"
    role_variable: Annotated[str, Field(min_length=1)] = "isolement_role"


def load_mapping(path: Path | None) -> UserMapping:
    return UserMapping() if path is None else load_model(path, UserMapping)


class PlatformUnknown(ValueError):
    """A platform value no table maps, or a netmiko name isolement has no driver for."""


def netmiko_platform(
    value: str, builtin: dict[str, str], mapping: UserMapping, *, what: str
) -> str:
    """The supported netmiko name for a source's platform value, or PlatformUnknown saying why.

    `what` names the value in the message ("NetBox platform", "ansible_network_os"...).
    """
    if value in mapping.platforms:
        name = mapping.platforms[value]
    else:
        key = value.strip().lower()
        collection = ".".join(key.split(".")[:2]) if key.count(".") >= 2 else key
        name = (
            builtin.get(key)
            or builtin.get(collection)
            # A value already in netmiko's naming ("cisco_ios", or a slug "cisco-nxos").
            or (key.replace("-", "_") if key.replace("-", "_") in PLATFORMS else "")
        )
        if not name:
            raise PlatformUnknown(
                f"{what} {value!r} is not mapped to a platform; map it under 'platforms:' in "
                f"--mapping FILE; supported platforms: {', '.join(supported_platforms())}"
            )
    if name not in PLATFORMS:
        raise PlatformUnknown(
            f"{what} {value!r} is netmiko platform {name!r}, which isolement has no driver for; "
            f"supported platforms: {', '.join(supported_platforms())}"
        )
    return name


def role_for(
    candidates: list[str], platform: str | None, mapping: UserMapping
) -> Role | Literal["skip"] | None:
    """The role named by the first candidate (role slug, group) a table knows; else a firewall
    platform's; else None."""
    for candidate in candidates:
        if candidate in mapping.roles:
            return mapping.roles[candidate]
        if candidate.lower() in ROLES:
            return ROLES[candidate.lower()]
    if platform in FIREWALL_PLATFORMS:
        return Role.FIREWALL
    return None


def kind_for(value: str, mapping: UserMapping, builtin: dict[str, LinkKind]) -> LinkKind | None:
    if value in mapping.kinds:
        return mapping.kinds[value]
    try:
        return LinkKind(value)
    except ValueError:
        return builtin.get(value.lower())
