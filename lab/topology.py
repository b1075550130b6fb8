"""A lab topology as data: nodes, veth links with their addresses, routes, initial shutdowns."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from isolement.model.errors import InputError
from isolement.model.names import Name
from isolement.model.yamlfile import load_model

from .emulator import profile_for

LAB_RANGE = ipaddress.ip_network("198.18.0.0/15")
TOPOLOGIES = Path(__file__).resolve().parent
DEFAULT_TOPOLOGY = TOPOLOGIES / "hospital-group.yaml"


class NodeKind(StrEnum):
    FRR = "frr"  # FRRouting (zebra + staticd), vtysh behind sshd
    NFTABLES = "nftables"  # a Linux firewall, bash + nft behind sshd
    HOST = "host"  # an end host: probes start or end here
    # A vendor platform's SSH emulator (lab/profiles/) running in the node's namespace: what its
    # CLI changes (an interface shut, a deny policy in effect) is applied to the namespace's real
    # links and packet filter by lab/node.py.
    EMULATED = "emulated"


class Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: NodeKind
    mgmt: ipaddress.IPv4Address | None = None
    # Managed in-band: no leg on the management bridge; sshd listens on `mgmt`, an address the
    # node holds on a data interface or on its loopback.
    inband: bool = False
    loopback: ipaddress.IPv4Interface | None = None
    # A TCP port this host serves (a small web server), for TCP probes and bubble stages.
    serves: int | None = None
    # Emulated nodes: the platform (a profile in lab/profiles/), each kernel interface's name on
    # that platform (`out0: port1`), and the profile's start options (policies, VDOMs, ...).
    platform: str | None = None
    interfaces: dict[Name, str] = {}
    options: dict[str, object] = {}
    # Load the lab's base firewall ruleset (outbound only, NAT): always for nftables nodes.
    firewall: bool = False

    @model_validator(mode="after")
    def _emulated_has_a_platform(self) -> Node:
        if (self.kind is NodeKind.EMULATED) != (self.platform is not None):
            raise ValueError("an emulated node, and only one, names its platform")
        if self.kind is NodeKind.EMULATED and self.mgmt is None:
            raise ValueError("an emulated node needs its management address")
        if self.platform is not None:
            profile_for(self.platform)  # ValueError naming the platforms the emulator knows
        return self

    def vendor_name(self, ifname: str) -> str:
        """The interface's name on the node's platform (its kernel name if not emulated)."""
        return self.interfaces.get(ifname, ifname)


class Port(BaseModel):
    model_config = ConfigDict(frozen=True)

    node: str
    ifname: str
    address: ipaddress.IPv4Interface

    @classmethod
    def parse(cls, text: str) -> Port:
        where, address = text.split()
        node, ifname = where.split(":")
        return cls(node=node, ifname=ifname, address=ipaddress.IPv4Interface(address))


class Route(BaseModel):
    model_config = ConfigDict(frozen=True)

    prefix: ipaddress.IPv4Network
    via: ipaddress.IPv4Address
    distance: int | None = None

    @classmethod
    def parse(cls, text: str) -> Route:
        words = text.split()
        prefix = "0.0.0.0/0" if words[0] == "default" else words[0]
        distance = int(words[4]) if len(words) == 5 and words[3] == "distance" else None
        return cls(
            prefix=ipaddress.IPv4Network(prefix),
            via=ipaddress.IPv4Address(words[2]),
            distance=distance,
        )


class Mgmt(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    subnet: ipaddress.IPv4Network
    controller: ipaddress.IPv4Address


class Topology(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    # The inventory describing this lab to isolement: a file of the package's inventories/.
    inventory: str = "lab.yaml"
    mgmt: Mgmt
    nodes: dict[Name, Node]
    links: list[tuple[Port, Port]]
    routes: dict[Name, list[Route]] = {}
    controller_routes: list[Route] = []
    shutdown: dict[Name, list[Name]] = {}
    firewall_ruleset: str = ""
    # `lab drill --faults NAME`: the device (or link) each fault hits when none is named.
    drill_faults: dict[str, Name] = {}

    @field_validator("links", mode="before")
    @classmethod
    def _parse_links(cls, value: object) -> object:
        if isinstance(value, list):
            return [
                tuple(Port.parse(p) if isinstance(p, str) else p for p in pair) for pair in value
            ]
        return value

    @field_validator("controller_routes", mode="before")
    @classmethod
    def _parse_controller_routes(cls, value: object) -> object:
        if isinstance(value, list):
            return [Route.parse(r) if isinstance(r, str) else r for r in value]
        return value

    @field_validator("routes", mode="before")
    @classmethod
    def _parse_routes(cls, value: object) -> object:
        if isinstance(value, dict):
            return {
                node: [Route.parse(r) if isinstance(r, str) else r for r in routes]
                for node, routes in value.items()
            }
        return value

    @model_validator(mode="after")
    def _stays_in_lab_range(self) -> Topology:
        # The lab must never route out of the machine: every address is in the benchmark range.
        if not self.mgmt.subnet.subnet_of(LAB_RANGE):  # type: ignore[arg-type]
            raise ValueError(f"mgmt subnet {self.mgmt.subnet} is outside {LAB_RANGE}")
        for pair in self.links:
            for port in pair:
                if port.node not in self.nodes:
                    raise ValueError(f"link endpoint {port.node}:{port.ifname}: unknown node")
                if port.address not in LAB_RANGE:
                    raise ValueError(
                        f"{port.node}:{port.ifname} {port.address} is outside {LAB_RANGE}"
                    )
                if len(port.ifname) > 15:
                    raise ValueError(f"{port.node}:{port.ifname}: interface names are 15 chars")
        for name, spec in self.nodes.items():
            unknown = set(spec.interfaces) - {p.ifname for p in self.ports(name)}
            if unknown:
                raise ValueError(f"{name}: interfaces {sorted(unknown)} are on no link")
        for route in self.controller_routes:
            if not route.prefix.subnet_of(LAB_RANGE) or route.via not in self.mgmt.subnet:  # type: ignore[arg-type]
                raise ValueError(
                    f"controller route {route.prefix} via {route.via} must stay in "
                    f"{LAB_RANGE} and go through the management network"
                )
        for node, node_routes in self.routes.items():
            if node not in self.nodes:
                raise ValueError(f"routes: unknown node {node}")
            for route in node_routes:
                if route.via not in LAB_RANGE:
                    raise ValueError(f"routes.{node}: gateway {route.via} outside {LAB_RANGE}")
        return self

    def ports(self, node: str) -> list[Port]:
        return [p for pair in self.links for p in pair if p.node == node]

    def managed(self) -> dict[str, Node]:
        return {n: node for n, node in self.nodes.items() if node.kind is not NodeKind.HOST}


def load_topology(path: Path = DEFAULT_TOPOLOGY) -> Topology:
    return load_model(path, Topology)


def available_topologies() -> list[str]:
    return sorted(p.stem for p in TOPOLOGIES.glob("*.yaml"))


def topology_path(name: str | None) -> Path:
    """The topology file named `name` (a file of lab/), or the quick default lab's."""
    if name is None:
        return DEFAULT_TOPOLOGY
    path = TOPOLOGIES / f"{name}.yaml"
    if name not in available_topologies():
        raise InputError(
            f"no lab topology named {name!r}; available: {', '.join(available_topologies())}"
        )
    return path
