"""The lab's description: emulated vendor nodes are checked when the topology loads, and the
nftables text their data plane loads is what it claims to be."""

from __future__ import annotations

import ast
import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from isolement.lab.emulator import Bubble
from isolement.lab.node import nft_blocking
from isolement.lab.topology import DEFAULT_TOPOLOGY, NodeKind, Topology, load_topology
from pydantic import ValidationError

BASE: dict[str, Any] = yaml.safe_load(DEFAULT_TOPOLOGY.read_text())


def topology(change: Any) -> Topology:
    data = copy.deepcopy(BASE)
    change(data)
    return Topology.model_validate(data)


def test_the_default_lab_has_one_emulated_node_per_vendor_platform() -> None:
    topo = load_topology()
    platforms = sorted(
        str(node.platform) for node in topo.nodes.values() if node.kind is NodeKind.EMULATED
    )
    assert platforms == [
        "alcatel_aos",
        "arista_eos",
        "aruba_aoscx",
        "aruba_os",
        "cisco_asa",
        "cisco_nxos",
        "cisco_xe",
        "fortinet",
        "hp_comware",
        "juniper_junos",
        "paloalto_panos",
    ]


def test_an_emulated_node_maps_every_kernel_interface_it_names_to_a_link() -> None:
    topo = load_topology()
    for name, node in topo.nodes.items():
        if node.kind is NodeKind.EMULATED:
            assert set(node.interfaces) == {p.ifname for p in topo.ports(name)}, name


def test_an_emulated_node_without_a_platform_is_refused() -> None:
    with pytest.raises(ValidationError, match="names its platform"):
        topology(lambda d: d["nodes"]["h3-fw"].pop("platform"))


def test_an_emulated_platform_without_a_profile_is_refused_naming_the_known_ones() -> None:
    def change(d: dict[str, Any]) -> None:
        d["nodes"]["h3-fw"]["platform"] = "checkpoint"

    with pytest.raises(
        ValidationError,
        match=r"no emulator profile for platform 'checkpoint'.*"
        r"fortinet",
    ):
        topology(change)


def test_an_interface_mapping_for_a_port_on_no_link_is_refused() -> None:
    def change(d: dict[str, Any]) -> None:
        d["nodes"]["h3-fw"]["interfaces"]["dmz0"] = "port3"

    with pytest.raises(ValidationError, match=r"h3-fw: interfaces \['dmz0'\] are on no link"):
        topology(change)


def test_nft_blocking_drops_both_directions_of_each_interface_before_the_lab_filter() -> None:
    text = nft_blocking(["out0", "in0"])

    assert 'iifname "in0" drop' in text and 'oifname "in0" drop' in text
    assert 'iifname "out0" drop' in text and 'oifname "out0" drop' in text
    assert "hook forward priority -50" in text  # before the lab's own filter (0)
    # Replaces the table whole, existing or not, in one transaction.
    assert text.startswith("add table inet emulated\ndelete table inet emulated\n")


def test_nft_blocking_nothing_leaves_an_empty_chain() -> None:
    text = nft_blocking([])

    assert "drop" not in text
    assert "policy accept" in text


def test_the_profiles_and_the_device_model_never_import_the_emulator_back() -> None:
    """One direction only (#11): lab/device.py <- lab/profiles/ <- lab/emulator.py."""
    lab = Path(__file__).resolve().parents[2] / "lab"
    below = [lab / "device.py", *sorted((lab / "profiles").glob("*.py"))]
    back = []
    for path in below:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("emulator"):
                back.append(f"{path.relative_to(lab)} line {node.lineno}")
    assert back == []


def test_nft_blocking_accepts_a_bubbles_flow_and_its_replies_before_the_drops() -> None:
    bubble = Bubble("out0", "tcp", "198.18.10.0/24", "198.18.250.10/32", 443)

    lines = nft_blocking(["out0"], [bubble]).splitlines()

    there = "ip saddr 198.18.10.0/24 ip daddr 198.18.250.10/32 tcp dport 443 accept"
    back = "ip saddr 198.18.250.10/32 ip daddr 198.18.10.0/24 tcp sport 443 ct state"
    accepts = [i for i, line in enumerate(lines) if "accept" in line and "policy" not in line]
    drops = [i for i, line in enumerate(lines) if line.strip().endswith("drop")]
    assert any(there in line and 'iifname "out0"' in line for line in lines)
    assert any(there in line and 'oifname "out0"' in line for line in lines)
    # The far side opens nothing of its own: only replies come back.
    assert all("established,related" in line for line in lines if back in line)
    assert len(accepts) == 4 and max(accepts) < min(drops)


def test_nft_blocking_an_icmp_bubble_matches_the_protocol_and_no_port() -> None:
    text = nft_blocking(["out0"], [Bubble("out0", "icmp", "198.18.10.0/24", "198.18.250.10/32")])

    assert "ip protocol icmp accept" in text
    assert "dport" not in text


def test_the_lab_inventory_and_the_topology_agree_on_every_emulated_node() -> None:
    """Each emulated node is the inventory's device of that name: same platform, managed at its
    management address, and every link end the inventory names on it is a port it has."""
    from isolement.cli.paths import REPO_ROOT
    from isolement.model.inventory import load_inventory

    topo = load_topology()
    inventory = load_inventory(REPO_ROOT / "inventories" / "lab.yaml")
    emulated = {n: node for n, node in topo.nodes.items() if node.kind is NodeKind.EMULATED}
    for name, node in emulated.items():
        device = inventory.devices[name]
        assert (device.platform, str(device.host)) == (node.platform, str(node.mgmt)), name
    for link_name, link in inventory.links.items():
        for end in link.endpoints:
            if end.device in emulated:
                assert end.interface in emulated[end.device].interfaces.values(), link_name
