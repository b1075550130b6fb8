"""Import a containerlab topology file (*.clab.yml), so a team with real vendor images can
rehearse a containment on them.

A node's settings are merged once, containerlab's way: the node's own, then its group's
(`topology.groups`), then its kind's (`topology.kinds`), then `topology.defaults`. The kind gives
the platform and a default role; node labels `isolement.site` and `isolement.role` say the rest
(a lab has no sites of its own: without the label a node is in the site named after the lab).
The management address is `mgmt-ipv4` (or -ipv6), else the container's name, which containerlab
writes to /etc/hosts (`clab-LAB-NODE`, or the topology's `prefix`).

A link is `endpoints: ["r1:eth1", "r2:eth1"]` (or the long form with node/interface); label
`isolement.kind` gives its kind, `isolement.protected` a protected flow's reason. A link whose
other end is not a managed device (a host, a bridge, a node left out) is imported with its one
managed end when it has a kind; otherwise it is reported.

Containerlab names a VM-based node's ports eth1, eth2... inside the container, which is not
what the device's CLI calls them; such an endpoint is reported, and the topology should use
containerlab's interface aliases (the NOS's own names, containerlab 0.56 and later).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from isolement.model.errors import InputError
from isolement.model.inventory import LinkKind, Role
from isolement.model.yamlfile import read_yaml
from isolement.sources.mapping import PlatformUnknown, UserMapping, netmiko_platform
from isolement.sources.writer import Draft, DraftDevice, DraftLink, Options, check_safe


@dataclass(frozen=True)
class Kind:
    platform: str  # netmiko name; may be one isolement has no driver for
    role: Role | None  # the usual role of such a node; None: not a managed device by default
    vm_port_names: bool = False  # ethN inside the container is not the CLI's name


# Containerlab kinds (and their older vr-* spellings) -> netmiko platform and usual role.
KINDS: dict[str, Kind] = {
    "frr": Kind("frr", Role.ROUTER),
    "linux": Kind("linux", None),
    "nokia_srlinux": Kind("nokia_srl", Role.ROUTER),
    "srl": Kind("nokia_srl", Role.ROUTER),
    "nokia_sros": Kind("nokia_sros", Role.ROUTER, vm_port_names=True),
    "arista_ceos": Kind("arista_eos", Role.SWITCH),
    "ceos": Kind("arista_eos", Role.SWITCH),
    "juniper_crpd": Kind("juniper_junos", Role.ROUTER),
    "crpd": Kind("juniper_junos", Role.ROUTER),
    "juniper_vmx": Kind("juniper_junos", Role.ROUTER, vm_port_names=True),
    "vr-vmx": Kind("juniper_junos", Role.ROUTER, vm_port_names=True),
    "juniper_vjunosrouter": Kind("juniper_junos", Role.ROUTER, vm_port_names=True),
    "juniper_vjunosevolved": Kind("juniper_junos", Role.ROUTER, vm_port_names=True),
    "juniper_vjunosswitch": Kind("juniper_junos", Role.SWITCH, vm_port_names=True),
    "juniper_vqfx": Kind("juniper_junos", Role.SWITCH, vm_port_names=True),
    "vr-vqfx": Kind("juniper_junos", Role.SWITCH, vm_port_names=True),
    "juniper_vsrx": Kind("juniper_junos", Role.FIREWALL, vm_port_names=True),
    "vr-vsrx": Kind("juniper_junos", Role.FIREWALL, vm_port_names=True),
    "cisco_csr1000v": Kind("cisco_ios", Role.ROUTER, vm_port_names=True),
    "vr-csr": Kind("cisco_ios", Role.ROUTER, vm_port_names=True),
    "cisco_c8000v": Kind("cisco_ios", Role.ROUTER, vm_port_names=True),
    "cisco_cat9kv": Kind("cisco_ios", Role.SWITCH, vm_port_names=True),
    "cisco_iol": Kind("cisco_ios", Role.ROUTER, vm_port_names=True),
    "cisco_n9kv": Kind("cisco_nxos", Role.SWITCH, vm_port_names=True),
    "vr-n9kv": Kind("cisco_nxos", Role.SWITCH, vm_port_names=True),
    "cisco_xrd": Kind("cisco_xr", Role.ROUTER),
    "cisco_xrv9k": Kind("cisco_xr", Role.ROUTER, vm_port_names=True),
    "fortinet_fortigate": Kind("fortinet", Role.FIREWALL, vm_port_names=True),
    "paloalto_panos": Kind("paloalto_panos", Role.FIREWALL, vm_port_names=True),
    "vr-pan": Kind("paloalto_panos", Role.FIREWALL, vm_port_names=True),
    "aruba_aoscx": Kind("aruba_aoscx", Role.SWITCH, vm_port_names=True),
    "vr-aoscx": Kind("aruba_aoscx", Role.SWITCH, vm_port_names=True),
}
_PLATFORMS = {name: kind.platform for name, kind in KINDS.items()}
# Kinds that are plumbing, never a device to cut on.
_INFRASTRUCTURE = frozenset({"bridge", "ovs-bridge", "host", "ext-container", "k8s-kind"})
# Endpoints that are not nodes: the host's own interfaces, the management network...
_SPECIAL_NODES = frozenset({"host", "mgmt-net", "macvlan"})
_CONTAINER_PORT = re.compile(r"^eth\d+$")
_LABEL = "isolement."


def _merge(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Containerlab's inheritance: the first layer that sets a key wins, labels merge."""
    merged: dict[str, Any] = {}
    labels: dict[str, Any] = {}
    for layer in reversed(layers):
        merged.update({k: v for k, v in layer.items() if v is not None})
        labels.update(layer.get("labels") or {})
    merged["labels"] = labels
    return merged


def read(path: Path, draft: Draft, mapping: UserMapping, options: Options) -> None:
    document = read_yaml(path)
    source = str(path)
    if not isinstance(document, dict) or not isinstance(document.get("topology"), dict):
        raise InputError("not a containerlab topology (no 'topology' mapping)", source=source)
    draft.sources.append(source)
    lab = str(document.get("name") or path.name.split(".")[0])
    prefix = document.get("prefix", "clab")
    topology = document["topology"]
    defaults = topology.get("defaults") or {}
    kinds = topology.get("kinds") or {}
    groups = topology.get("groups") or {}
    managed: dict[str, Kind] = {}
    for name, own in sorted((topology.get("nodes") or {}).items(), key=lambda kv: str(kv[0])):
        node = own or {}
        group = groups.get(node.get("group")) or {}
        kind_name = node.get("kind") or group.get("kind") or defaults.get("kind")
        settings = _merge(node, group, kinds.get(kind_name) or {}, defaults)
        kind = _node(draft, mapping, options, source, str(name), kind_name, settings, lab, prefix)
        if kind is not None:
            managed[str(name)] = kind
    for i, link in enumerate(topology.get("links") or []):
        _link(draft, mapping, source, i, link or {}, managed)


# One early return per reason a node cannot be imported, each with its message.
def _node(  # noqa: PLR0911
    draft: Draft,
    mapping: UserMapping,
    options: Options,
    source: str,
    name: str,
    kind_name: object,
    settings: Mapping[str, Any],
    lab: str,
    prefix: object,
) -> Kind | None:
    obj = f"node {name}"
    labels = settings["labels"]
    if not kind_name:
        draft.skip(source, obj, "no kind (on the node, its group or the defaults)")
        return None
    if kind_name in _INFRASTRUCTURE:
        draft.skip(source, obj, f"kind {kind_name} is lab plumbing, not a device to cut on")
        return None
    kind = KINDS.get(str(kind_name))
    image = str(settings.get("image") or "")
    value = str(labels.get(f"{_LABEL}platform") or kind_name)
    if kind_name == "linux" and "frrouting/frr" in image:
        kind, value = KINDS["frr"], "frr"  # FRR in a plain linux container, as older labs run it
    try:
        platform = netmiko_platform(value, _PLATFORMS, mapping, what="kind")
    except PlatformUnknown as exc:
        draft.skip(source, obj, str(exc))
        return None
    role_label = labels.get(f"{_LABEL}role")
    if role_label == "skip" or (role_label is None and (kind is None or kind.role is None)):
        why = (
            "labelled isolement.role: skip"
            if role_label == "skip"
            else (
                f"kind {kind_name} is an end host by default; label it isolement.role to manage it"
            )
        )
        draft.skip(source, obj, why)
        return None
    try:
        role = Role(str(role_label)) if role_label else kind.role  # type: ignore[union-attr]
    except ValueError:
        draft.skip(
            source, obj, f"label isolement.role {role_label!r} is not router, switch or firewall"
        )
        return None
    assert role is not None
    username = options.username or labels.get(f"{_LABEL}username")
    if not username:
        draft.skip(source, obj, "no login user: give --username (a topology holds none)")
        return None
    host = settings.get("mgmt-ipv4") or settings.get("mgmt-ipv6")
    if not host:
        container = f"{lab}-{name}" if prefix == "" else f"{prefix or 'clab'}-{lab}-{name}"
        host = name if prefix == "" else container
    site = str(labels.get(f"{_LABEL}site") or lab)
    draft.sites.setdefault(site, "")
    credential = draft.credential(
        str(username),
        options.key_file,
        None if options.key_file else options.password_env,
    )
    draft.devices[name] = DraftDevice(
        site=site,
        role=role,
        platform=platform,
        host=str(host),
        credential=credential,
        source=source,
    )
    return kind or Kind(platform, role)


def _endpoints(link: Mapping[str, Any]) -> list[tuple[str, str]] | None:
    ends = []
    for end in link.get("endpoints") or []:
        if isinstance(end, str) and ":" in end:
            node, _, interface = end.partition(":")
            ends.append((node, interface))
        elif isinstance(end, Mapping) and end.get("node") and end.get("interface"):
            ends.append((str(end["node"]), str(end["interface"])))
        else:
            return None
    return ends


def _link(
    draft: Draft,
    mapping: UserMapping,
    source: str,
    index: int,
    link: Mapping[str, Any],
    managed: Mapping[str, Kind],
) -> None:
    ends = _endpoints(link)
    labels = link.get("labels") or {}
    described = " - ".join(f"{n}:{i}" for n, i in ends or [])
    obj = f"links[{index}] ({described})" if described else f"links[{index}]"
    if not ends:
        draft.skip(source, obj, "its endpoints are not 'node:interface'")
        return
    kind: LinkKind | None = None
    if labels.get(f"{_LABEL}kind"):
        try:
            kind = LinkKind(str(labels[f"{_LABEL}kind"]))
        except ValueError:
            draft.skip(
                source,
                obj,
                f"label isolement.kind {labels[f'{_LABEL}kind']!r} is not a kind; kinds: "
                f"{', '.join(k.value for k in LinkKind)}",
            )
            return
    ours = [(n, i) for n, i in ends if n in managed]
    for node, interface in ours:
        if managed[node].vm_port_names and _CONTAINER_PORT.match(interface):
            draft.skip(
                source,
                obj,
                f"{node}:{interface} is the container's name for a port of a VM-based node; the "
                "device's CLI names it otherwise: write the link with containerlab's interface "
                "alias (the NOS's own name) so the cut acts on the right port",
            )
            return
    if len(ours) < len(ends):
        others = [n for n, _ in ends if n not in managed]
        if kind is None or not ours:
            draft.skip(
                source,
                obj,
                f"its end on {', '.join(others)} is not a managed device, and the link has no "
                "isolement.kind label saying what the managed end's link is",
            )
            return
    name = str(labels.get(f"{_LABEL}name") or "--".join(f"{n}-{i}" for n, i in ends))
    if name in draft.links:
        draft.skip(source, obj, f"a link named {name} already exists")
        return
    draft.links[name] = DraftLink(
        source=source,
        origin=obj,
        endpoints=ours,
        kind=kind,
        description=f"containerlab link {described}",
        protected=str(labels[f"{_LABEL}protected"]) if labels.get(f"{_LABEL}protected") else None,
    )
    if not check_safe(name):
        return  # build() reports the unsafe name


__all__ = ["KINDS", "read"]
