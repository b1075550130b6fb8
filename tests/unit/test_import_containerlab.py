"""`isolement inventory import containerlab` on containerlab's frr01 lab (with isolement's
labels added) and its srlceos01 documentation example (tests/data/import/containerlab)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from isolement.cli.main import main
from isolement.drivers import supported_platforms

DATA = Path(__file__).resolve().parents[1] / "data" / "import" / "containerlab"


def run(
    topology: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any], str, Path]:
    out = tmp_path / "clab.yaml"
    code = main(
        ["--json", "inventory", "import", "containerlab", str(topology), "--output", str(out),
         "--username", "root", *extra]
    )  # fmt: skip
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else {}, captured.err, out


def test_frr_nodes_links_and_mgmt_addresses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _, out = run(DATA / "frr01.clab.yml", tmp_path, capsys)
    inv = yaml.safe_load(out.read_text())
    assert code == 3
    assert inv["devices"]["router1"] == {
        "site": "site1", "role": "router", "platform": "frr", "host": "172.20.20.11",
        "credential": "root",
    }  # fmt: skip
    # No mgmt-ipv4: the container name containerlab writes to /etc/hosts.
    assert inv["devices"]["router3"]["host"] == "clab-frr01-router3"
    links = inv["links"]
    assert links["router1-eth1--router2-eth1"] == {
        "kind": "intersite",
        "description": "containerlab link router1:eth1 - router2:eth1",
        "endpoints": [
            {"device": "router1", "interface": "eth1"},
            {"device": "router2", "interface": "eth1"},
        ],
    }
    assert links["backup-2-3"]["kind"] == "backup"
    # The isp end host is not managed: its links keep their one managed end.
    assert links["inet-site1"]["endpoints"] == [{"device": "router1", "interface": "eth4"}]
    assert inv["protected"]["protect-inet-site3"]["reason"] == "Regional health data exchange"


def test_end_hosts_and_their_unlabelled_links_are_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, document, _, out = run(DATA / "frr01.clab.yml", tmp_path, capsys)
    unmapped = {item["object"]: item["reason"] for item in document["unmapped"]}
    assert set(unmapped) == {
        "node PC1", "node PC2", "node PC3", "node isp",
        "links[3] (PC1:eth1 - router1:eth3)", "links[4] (PC2:eth1 - router2:eth3)",
        "links[5] (PC3:eth1 - router3:eth3)",
    }  # fmt: skip
    assert "no isolement.kind label" in unmapped["links[3] (PC1:eth1 - router1:eth3)"]
    assert main(["--inventory", str(out), "validate", "--no-credentials"]) == 0


def test_kinds_without_driver_are_listed_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err, out = run(DATA / "srlceos01.clab.yml", tmp_path, capsys)
    assert code == 2
    supported = "which isolement has no driver for; supported platforms: " + ", ".join(
        supported_platforms()
    )
    assert f"node srl: kind 'nokia_srlinux' is netmiko platform 'nokia_srl', {supported}" in err
    assert f"node ceos: kind 'arista_ceos' is netmiko platform 'arista_eos', {supported}" in err
    assert "nothing to write: no device could be imported" in err
    assert not out.exists()


def test_a_vm_port_named_by_the_container_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    topology = tmp_path / "vm.clab.yml"
    topology.write_text(
        "name: vm\ntopology:\n  nodes:\n"
        "    fw: {kind: fortinet_fortigate, labels: {isolement.site: a}}\n"
        "    r: {kind: frr, labels: {isolement.site: b}}\n"
        "  links:\n"
        "    - endpoints: ['fw:eth1', 'r:eth1']\n"
        "    - endpoints: ['fw:port3', 'r:eth2']\n"
    )
    _, document, _, out = run(topology, tmp_path, capsys)
    unmapped = {item["object"]: item["reason"] for item in document["unmapped"]}
    assert "interface alias" in unmapped["links[0] (fw:eth1 - r:eth1)"]
    assert yaml.safe_load(out.read_text())["links"] == {
        "fw-port3--r-eth2": {
            "kind": "intersite",
            "description": "containerlab link fw:port3 - r:eth2",
            "endpoints": [
                {"device": "fw", "interface": "port3"},
                {"device": "r", "interface": "eth2"},
            ],
        }
    }
