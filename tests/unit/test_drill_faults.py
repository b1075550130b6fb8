"""`lab drill --faults`: names parsed, targets checked against the lab and its inventory, and
every refusal made before anything is touched; the inventory-side faults made in a copy."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from isolement.lab.faults import Fault, FaultName, faulty_inventory, parse_faults
from isolement.lab.topology import load_topology, topology_path

from isolement.cli import paths
from isolement.model.errors import InputError
from isolement.model.inventory import load_inventory

TOPOLOGY = load_topology(topology_path("grand-ouest"))
INVENTORY = paths.DEFAULT_INVENTORY.parent / TOPOLOGY.inventory
TRUTH = load_inventory(INVENTORY)
DEVICES, LINKS = sorted(TRUTH.devices), sorted(TRUTH.links)


def parse(*texts: str) -> list[Fault]:
    return parse_faults(list(texts), TOPOLOGY, DEVICES, LINKS)


def test_every_fault_has_a_default_target_on_the_seed_shaped_lab() -> None:
    faults = parse(",".join(f.value for f in FaultName))

    assert [f.name for f in faults] == list(FaultName)
    assert dict(TOPOLOGY.drill_faults) == {f.name.value: f.target for f in faults}


def test_a_target_given_wins_over_the_default_and_commas_and_repeats_combine() -> None:
    faults = parse("device-down=sag-rtr, slow-device", "unknown-link=wan-dc-sv")

    assert faults == [
        Fault(FaultName.DEVICE_DOWN, "sag-rtr"),
        Fault(FaultName.SLOW_DEVICE, "est-sw"),
        Fault(FaultName.UNKNOWN_LINK, "wan-dc-sv"),
    ]


def test_an_unknown_fault_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(InputError, match=r"unknown fault 'power-cut'; known: device-down, "):
        parse("power-cut")


def test_a_target_the_inventory_does_not_have_is_refused() -> None:
    with pytest.raises(InputError, match=r"device-down=nowhere: no device 'nowhere'"):
        parse("device-down=nowhere")
    with pytest.raises(InputError, match=r"unknown-link=sag-rtr: no link 'sag-rtr'"):
        parse("unknown-link=sag-rtr")


def test_an_emulator_fault_on_a_real_device_is_refused_naming_the_emulated_ones() -> None:
    with pytest.raises(InputError, match=r"session-drop=dc-rtr: only an emulated.*est-sw"):
        parse("session-drop=dc-rtr")


def test_management_lost_on_an_in_band_device_is_refused() -> None:
    with pytest.raises(InputError, match=r"sse-rtr is managed in-band"):
        parse("management-lost=sse-rtr")


def test_a_fault_given_twice_is_refused() -> None:
    with pytest.raises(InputError, match=r"device-down given twice"):
        parse("device-down", "device-down=jv-rtr")


def test_a_fault_without_a_default_on_a_lab_that_has_none_asks_for_its_target() -> None:
    quick = load_topology()
    inventory = load_inventory(paths.DEFAULT_INVENTORY)
    with pytest.raises(InputError, match=r"name its target \(device-down=DEVICE\)"):
        parse_faults(["device-down"], quick, sorted(inventory.devices), [])


def test_the_inventory_faults_are_made_in_a_copy_the_tool_can_load(tmp_path: Path) -> None:
    known = tmp_path / "lab_known_hosts"
    lines = [f"{spec.host} ssh-ed25519 AAAA{name}" for name, spec in TRUTH.devices.items()]
    known.write_text("\n".join(lines) + "\n")
    data = yaml.safe_load(INVENTORY.read_text())
    faults = parse("wrong-credentials", "host-key-changed", "unknown-link")

    changed = faulty_inventory(data, faults, tmp_path, known)
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(changed))
    seen = load_inventory(path)

    assert "fibre-jv-sse" not in seen.links and "fibre-jv-sse" in TRUTH.links
    assert all("fibre-jv-sse" not in p.crosses for p in seen.probes)
    assert seen.devices["vnd-sw"].credential != TRUTH.devices["vnd-sw"].credential
    copy = (tmp_path / "known_hosts").read_text().splitlines()
    ran = next(line for line in copy if line.startswith(TRUTH.devices["ran-sw"].host + " "))
    assert ran != f"{TRUTH.devices['ran-sw'].host} ssh-ed25519 AAAAran-sw"
    assert len(copy) == len(lines)
    assert data == yaml.safe_load(INVENTORY.read_text())  # the true one is untouched
