"""Sessions through a jump host (inventory `jump_hosts`, a site's or a device's `jump`):
`direct-tcpip` through an emulated bastion on 127.0.0.1, its host key checked like a device's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from emulated import LoginKey, write_inventory_for
from isolement.lab.emulator import DeviceSpec, Emulator, exit_links, generate_key, known_hosts_line

from isolement.drivers import driver_for
from isolement.model.errors import DeviceError
from isolement.model.inventory import Inventory, load_inventory
from isolement.transport import credentials
from isolement.transport import session as sessions

GI0 = "GigabitEthernet0/0"
NAMES = ("r1", "r2")


class Estate:
    def __init__(self, devices: Emulator, bastion: Emulator, inventory: Inventory):
        self.devices = devices
        self.bastion = bastion
        self.inventory = inventory


def estate_with(
    login_key: LoginKey, tmp_path: Path, *, forwarding: bool = True, **jump: Any
) -> Iterator[Estate]:
    credentials.forget()
    with (
        Emulator(
            [DeviceSpec(n, [GI0]) for n in NAMES], login_key.key, username="isolement"
        ) as devices,
        Emulator(
            [DeviceSpec("bastion", [GI0])],
            login_key.key,
            username="isolement",
            forwarding=forwarding,
        ) as bastion,
    ):
        path = write_inventory_for(
            tmp_path, devices, login_key, "jump", links=exit_links(NAMES, GI0)
        )
        data = yaml.safe_load(path.read_text())
        data["jump_hosts"] = {
            "bastion": {"host": "127.0.0.1", "port": bastion.ports["bastion"], "credential": "ops"}
        }
        data["sites"]["dc"]["jump"] = "bastion"
        data.update(jump)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        (tmp_path / "known_hosts").write_text(
            "".join(
                line + "\n" for line in [*devices.known_hosts_lines(), *bastion.known_hosts_lines()]
            )
        )
        yield Estate(devices, bastion, load_inventory(path))


@pytest.fixture
def estate(login_key: LoginKey, tmp_path: Path) -> Iterator[Estate]:
    yield from estate_with(login_key, tmp_path)


def connect(inventory: Inventory, device: str = "r1") -> sessions.NetmikoSession:
    return sessions.connect(inventory, device, driver_for("cisco_ios"), 5.0)


def test_a_session_goes_through_the_sites_jump_host(estate: Estate) -> None:
    assert estate.inventory.jump_for("r1") == estate.inventory.jump_hosts["bastion"]
    session = connect(estate.inventory)
    try:
        assert session.prompt() == "r1#"
    finally:
        session.close()
    assert estate.devices.device("r1").logins == 1
    # The bastion served no shell: only the channel to r1.
    assert estate.bastion.device("bastion").logins == 0

    # With the bastion gone, r1 (still up) cannot be reached: the session went through it.
    estate.bastion.stop()
    with pytest.raises(DeviceError, match=r"cannot connect to jump host 127\.0\.0\.1 port \d+"):
        connect(estate.inventory)
    assert estate.devices.device("r1").logins == 1


def test_the_jump_hosts_key_is_checked_like_a_devices(estate: Estate) -> None:
    port = estate.bastion.ports["bastion"]
    known = estate.inventory.known_hosts
    lines = [x for x in known.read_text().splitlines() if not x.startswith(f"[127.0.0.1]:{port} ")]
    known.write_text("".join(x + "\n" for x in [*lines, known_hosts_line(port, generate_key())]))
    with pytest.raises(DeviceError) as caught:
        connect(estate.inventory)
    assert f"HOST KEY MISMATCH for 127.0.0.1 port {port}" in str(caught.value)
    assert "the jump host presented ssh-ed25519 SHA256:" in str(caught.value)
    assert estate.devices.device("r1").logins == 0


def test_a_jump_host_that_refuses_to_forward_is_named(login_key: LoginKey, tmp_path: Path) -> None:
    for estate in estate_with(login_key, tmp_path, forwarding=False):
        with pytest.raises(
            DeviceError,
            match=r"jump host 127\.0\.0\.1 port \d+ refused to open a channel to 127\.0\.0\.1:\d+",
        ):
            connect(estate.inventory)
        assert estate.devices.device("r1").logins == 0


def test_a_devices_own_jump_wins_over_its_sites(login_key: LoginKey, tmp_path: Path) -> None:
    for estate in estate_with(login_key, tmp_path):
        data = yaml.safe_load(estate.inventory.source.read_text())
        data["jump_hosts"]["other"] = {"host": "127.0.0.1", "port": 1, "credential": "ops"}
        data["devices"]["r2"]["jump"] = "other"
        estate.inventory.source.write_text(yaml.safe_dump(data, sort_keys=False))
        inventory = load_inventory(estate.inventory.source)
        assert inventory.jump_for("r1") == inventory.jump_hosts["bastion"]
        assert inventory.jump_for("r2") == inventory.jump_hosts["other"]


def test_an_unknown_jump_host_is_refused_at_load(login_key: LoginKey, tmp_path: Path) -> None:
    from isolement.model.errors import InputError

    for estate in estate_with(login_key, tmp_path):
        data = yaml.safe_load(estate.inventory.source.read_text())
        data["sites"]["dc"]["jump"] = "nowhere"
        estate.inventory.source.write_text(yaml.safe_dump(data, sort_keys=False))
        with pytest.raises(InputError) as caught:
            load_inventory(estate.inventory.source)
        assert caught.value.field == "sites.dc.jump"
        assert "unknown jump host 'nowhere'" in str(caught.value)


def test_hostkeys_collect_reaches_devices_through_their_jump_host(
    login_key: LoginKey, tmp_path: Path
) -> None:
    from isolement.transport import hostkeys
    from isolement.transport.hostkeys import Status

    for estate in estate_with(login_key, tmp_path):
        inventory = estate.inventory
        bastion = f"[127.0.0.1]:{estate.bastion.ports['bastion']}"
        # Nothing on file: the jump host is NEW, the devices behind it wait for its key.
        inventory.known_hosts.write_text("")
        found = {k.name: k for k in hostkeys.collect(inventory)}
        assert found[bastion].status is Status.NEW
        assert found[bastion].devices == ["jump host bastion"]
        r1 = found[f"[127.0.0.1]:{estate.devices.ports['r1']}"]
        assert r1.status is Status.FAILED
        assert r1.error == (
            f"reached through jump host bastion ({bastion}), whose key is not on file yet: "
            "once it is written, run again"
        )
        assert hostkeys.write(inventory.known_hosts, list(found.values())) == 1

        # Its key on file: the devices' keys are read through it.
        found = {k.name: k for k in hostkeys.collect(inventory)}
        assert found[bastion].status is Status.KNOWN
        for device in NAMES:
            key = found[f"[127.0.0.1]:{estate.devices.ports[device]}"]
            assert key.status is Status.NEW, key.error
            assert key.key is not None
            assert key.key.asbytes() == estate.devices.device(device).host_key.asbytes()
        assert all(estate.devices.device(n).logins == 0 for n in NAMES)
