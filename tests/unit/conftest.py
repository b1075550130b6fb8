"""Shared fixtures for the unit tests: the shipped files, temp inventories, hand-built states,
and what the tests of emulated devices share (their helpers are in emulated.py)."""

from __future__ import annotations

import contextlib
import copy
import io
import signal
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from emulated import Emulate, LoginKey, emulated
from isolement.lab.emulator import DeviceSpec, Emulator, generate_login_key

from isolement.cli import paths
from isolement.model.inventory import Inventory, load_inventory
from isolement.model.plan import Plan
from isolement.model.state import CutMethod, DeviceState

REPO_ROOT = paths.REPO_ROOT
LAB_INVENTORY = paths.DEFAULT_INVENTORY
PLAYBOOKS = paths.PLAYBOOKS
BAD_DATA = REPO_ROOT / "tests" / "data" / "bad"

# Interfaces each lab device reports, as `lab/hospital-group.yaml` builds them: the link
# endpoints of inventories/lab.yaml plus the interfaces no playbook touches (site h2 has no
# out-of-band mgmt0: it is managed in-band through wan-dc-h2).
LAB_INTERFACES: dict[str, list[str]] = {
    "dc-rtr": ["lo", "mgmt0", "lan0", "fw0", "phones", "voice-h1", "wan-h1", "wan-h2"],
    "h1-rtr": ["lo", "mgmt0", "lan0", "fw0", "phones", "voice-dc", "wan-dc", "wan-h2"],
    "h2-rtr": ["lo", "lan0", "fw0", "wan-dc", "wan-h1"],
    "dc-fw": ["lo", "mgmt0", "in0", "out0"],
    "h1-fw": ["lo", "mgmt0", "in0", "out0"],
    "h2-fw": ["lo", "in0", "out0"],
    "dc-core": ["Ethernet1/1", "Ethernet1/3", "Ethernet1/4", "Ethernet1/5"],
    "h3-sw": ["1/1/1", "1/1/2", "1/1/3"],
    "h3-fw": ["port1", "port2"],
    "h4-sw": ["1/1/1", "1/1/2", "1/1/3"],
    "h4-fw": ["ethernet1/1", "ethernet1/2"],
    "h5-sw": ["ge-0/0/0", "ge-0/0/1", "ge-0/0/2"],
    "h5-fw": ["GigabitEthernet0/0", "GigabitEthernet0/1"],
}


def base_inventory(host: str = "127.0.0.1", port: int = 22) -> dict[str, Any]:
    """A small valid inventory (two sites, two routers, a firewall, a protected telephony link).

    Paths are relative, so they resolve against the directory the file is written to.
    """
    device = {"role": "router", "platform": "frr", "host": host, "port": port, "credential": "ops"}
    return {
        "name": "unit-test",
        "description": "inventory written by the unit tests",
        "known_hosts": "known_hosts",
        "credentials": {"ops": {"username": "ops", "key_file": "keys/id_ed25519"}},
        "sites": {"dc": {"description": "datacentre"}, "h1": {}},
        "devices": {
            "dc-rtr": {**device, "site": "dc"},
            "h1-rtr": {**device, "site": "h1"},
            "dc-fw": {**device, "site": "dc", "role": "firewall", "platform": "linux"},
        },
        "links": {
            "wan-dc-h1": {
                "kind": "intersite",
                "endpoints": [
                    {"device": "dc-rtr", "interface": "wan-h1"},
                    {"device": "h1-rtr", "interface": "wan-dc"},
                ],
            },
            "voice-dc-h1": {
                "kind": "intersite",
                "description": "telephony trunk",
                "endpoints": [
                    {"device": "dc-rtr", "interface": "voice-h1"},
                    {"device": "h1-rtr", "interface": "voice-dc"},
                ],
            },
            "inet-dc": {
                "kind": "internet",
                "endpoints": [{"device": "dc-fw", "interface": "out0"}],
            },
        },
        # As in the lab: the shipped playbooks name this link in their keep list.
        "protected": {"telephony": {"reason": "SAMU lines", "links": ["voice-dc-h1"]}},
    }


InventoryWriter = Callable[..., Path]


@pytest.fixture(autouse=True)
def sigpipe_ignored() -> Iterator[None]:
    """Python's own setting: a write to a connection the peer has reset raises an error.

    `isolement.cli.main()` sets SIGPIPE to SIG_DFL for the whole process, and some unit tests
    call it in-process: with that left over, the first write racing a peer's close (netmiko's
    channel close after IOS has closed the session on `exit`) kills the pytest process. The
    subprocess test `test_the_cli_survives_devices_closing_their_sessions` in test_emulator.py
    checks the real CLI for that.
    """
    previous = signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGPIPE, previous)


@pytest.fixture(scope="session")
def login_key(tmp_path_factory: pytest.TempPathFactory) -> LoginKey:
    """The key isolement logs in to emulated devices with: its file, and the key they accept."""
    path = tmp_path_factory.mktemp("keys") / "id_ed25519"
    return LoginKey(path, generate_login_key(path))


@pytest.fixture
def emulate(login_key: LoginKey, tmp_path: Path) -> Iterator[Emulate]:
    """Start emulated devices for the rest of the test (see emulated.Emulate)."""
    with contextlib.ExitStack() as running:

        def start(
            specs: Sequence[DeviceSpec],
            *,
            username: str | None = "isolement",
            host_key_per_device: bool = False,
        ) -> Emulator:
            return running.enter_context(
                emulated(
                    specs,
                    login_key,
                    tmp_path / "known_hosts",
                    username=username,
                    host_key_per_device=host_key_per_device,
                )
            )

        yield start


@pytest.fixture
def in_process_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """For `isolement.cli.main()` run in this process: its state in `tmp_path/state`, nothing on
    stdin."""
    monkeypatch.setenv("ISOLEMENT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


@pytest.fixture
def write_inventory(tmp_path: Path) -> InventoryWriter:
    """Write an inventory into a fresh directory next to an existing known_hosts and key file
    (a usable Ed25519 key, mode 0600).

    Call with `data` (a dict, default `base_inventory()`), or `text` (raw YAML, written as is).
    """
    counter = iter(range(1_000_000))

    def write(
        data: Mapping[str, Any] | None = None,
        *,
        text: str | None = None,
        name: str = "inventory.yaml",
    ) -> Path:
        directory = tmp_path / f"inv{next(counter)}"
        (directory / "keys").mkdir(parents=True)
        (directory / "known_hosts").write_text("")
        # A real private key, owner-only: the run and `validate` check both (#10 item 11).
        generate_login_key(directory / "keys" / "id_ed25519")
        path = directory / name
        if text is None:
            text = yaml.safe_dump(copy.deepcopy(dict(data or base_inventory())), sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def lab_inventory() -> Inventory:
    return load_inventory(LAB_INVENTORY)


# What the lab's firewalls report besides their interfaces: the FortiGate's VDOM, the PAN-OS
# zones, the ASA's nameifs and the ACL bound to its inside (lab/hospital-group.yaml).
LAB_CONTEXTS: dict[str, dict[str, str]] = {
    "h3-fw": {"port1": "hospital", "port2": "hospital"},
    "h4-fw": {"ethernet1/1": "untrust", "ethernet1/2": "trust"},
    "h5-fw": {"GigabitEthernet0/0": "outside", "GigabitEthernet0/1": "inside in=inside_access_in"},
}


def lab_state(
    shut: Mapping[str, set[str]] | None = None,
    denied: Mapping[str, Mapping[str, list[str]]] | None = None,
) -> dict[str, DeviceState]:
    """Every lab device, every interface administratively up unless named in `shut`; `denied`
    gives, per firewall, isolement's deny rules already present per interface."""
    shut = shut or {}
    denied = denied or {}
    return {
        device: DeviceState(
            interfaces={name: name not in shut.get(device, set()) for name in names},
            denies=dict(denied.get(device, {})),
            contexts=LAB_CONTEXTS.get(device, {}),
        )
        for device, names in LAB_INTERFACES.items()
    }


def applied(observed: Mapping[str, DeviceState], plan: Plan) -> dict[str, DeviceState]:
    """The device states once every step of a cut plan has taken effect (a stand-in device)."""
    result = dict(observed)
    for step in plan.steps:
        state = result[step.device]
        interfaces = dict(state.interfaces)
        denies = {k: list(v) for k, v in state.denies.items()}
        for n, change in enumerate(step.changes):
            if change.method is CutMethod.SHUTDOWN:
                interfaces[change.interface] = False
            else:
                denies.setdefault(change.interface, []).append(f"forward/{100 + n}")
        result[step.device] = state.model_copy(update={"interfaces": interfaces, "denies": denies})
    return result
