"""Each lab topology and the inventory that describes it to isolement agree: every managed node
is a device at its management address, on its platform; every link endpoint is a real port of
that node; every link between two managed nodes of different sites is in the inventory (a path
left out would stay open after a cut); every probe starts in a namespace of the lab and aims at
an address the lab holds."""

from __future__ import annotations

import pytest
from isolement.lab.topology import (
    NodeKind,
    Topology,
    available_topologies,
    load_topology,
    topology_path,
)

from isolement.cli import paths
from isolement.model.errors import InputError
from isolement.model.inventory import Inventory, load_inventory

_PLATFORM_OF_KIND = {NodeKind.FRR: "frr", NodeKind.NFTABLES: "linux"}


def _pair(name: str) -> tuple[Topology, Inventory]:
    topo = load_topology(topology_path(name))
    return topo, load_inventory(paths.DEFAULT_INVENTORY.parent / topo.inventory)


@pytest.mark.parametrize("name", available_topologies())
def test_every_managed_node_is_a_device_at_its_management_address(name: str) -> None:
    topo, inventory = _pair(name)

    assert set(inventory.devices) == set(topo.managed())
    for device, spec in inventory.devices.items():
        node = topo.nodes[device]
        assert spec.host == str(node.mgmt), device
        assert spec.platform == _PLATFORM_OF_KIND.get(node.kind, node.platform), device
        # In-band in the lab (no leg on the management bridge) exactly when in-band in the
        # inventory: the plan's manageability is the lab's.
        assert bool(spec.managed_via) == node.inband, device


@pytest.mark.parametrize("name", available_topologies())
def test_every_link_endpoint_is_a_port_of_its_node_and_two_ends_are_one_cable(name: str) -> None:
    topo, inventory = _pair(name)
    cables = {frozenset({(a.node, a.ifname), (b.node, b.ifname)}) for a, b in topo.links}

    for link_name, link in inventory.links.items():
        ends = set()
        for endpoint in link.endpoints:
            node = topo.nodes[endpoint.device]
            kernel = {node.vendor_name(p.ifname): p.ifname for p in topo.ports(endpoint.device)}
            assert endpoint.interface in kernel, f"{link_name}: {endpoint.interface}"
            ends.add((endpoint.device, kernel[endpoint.interface]))
        if len(ends) == 2:
            assert frozenset(ends) in cables, link_name


@pytest.mark.parametrize("name", available_topologies())
def test_every_cable_between_two_sites_is_in_the_inventory(name: str) -> None:
    topo, inventory = _pair(name)
    declared = {
        frozenset((e.device, _kernel(topo, e.device, e.interface)) for e in link.endpoints)
        for link in inventory.links.values()
    }
    for a, b in topo.links:
        devices = inventory.devices
        if a.node in devices and b.node in devices and devices[a.node].site != devices[b.node].site:
            assert frozenset({(a.node, a.ifname), (b.node, b.ifname)}) in declared, (
                f"{a.node}:{a.ifname} - {b.node}:{b.ifname} is in no inventory link"
            )


def _kernel(topo: Topology, device: str, interface: str) -> str:
    node = topo.nodes[device]
    return next(p.ifname for p in topo.ports(device) if node.vendor_name(p.ifname) == interface)


@pytest.mark.parametrize("name", available_topologies())
def test_every_probe_starts_in_the_lab_and_aims_at_a_lab_address(name: str) -> None:
    topo, inventory = _pair(name)
    addresses = {str(p.address.ip) for pair in topo.links for p in pair}

    for probe in inventory.probes:
        if probe.from_netns is not None:
            assert probe.from_netns.removeprefix("iso-") in topo.nodes, probe.name
        assert str(probe.to) in addresses, probe.name


def test_the_seed_shaped_lab_has_nine_establishments_in_two_regions_and_a_datacentre() -> None:
    topo, inventory = _pair("grand-ouest")
    regions = {s: spec.description.split(" - ")[0] for s, spec in inventory.sites.items()}

    assert len(inventory.sites) == 10 and "dc" in inventory.sites
    assert sorted(set(regions.values()) - {regions["dc"]}) == ["Bretagne", "Pays de la Loire"]
    in_band = [d for d, spec in inventory.devices.items() if spec.managed_via]
    assert len({inventory.devices[d].site for d in in_band}) >= 2
    kinds = {node.kind for node in topo.nodes.values()}
    assert {NodeKind.FRR, NodeKind.NFTABLES, NodeKind.EMULATED} <= kinds
    # A partner link to cut and, on the same device, the shared services that stay reachable.
    protected = {link for flow in inventory.protected.values() for link in flow.links}
    assert "partner-chsn" not in protected and "shared-cite" in protected
    assert {e.device for e in inventory.links["partner-chsn"].endpoints} == {"est-sw"}
    assert {e.device for e in inventory.links["shared-cite"].endpoints} == {"est-sw"}


def test_an_unknown_topology_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(InputError, match=r"no lab topology named 'paris'.*grand-ouest"):
        topology_path("paris")
