"""The inventory model: what loads, what is refused, and how the refusal names file and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import BAD_DATA, LAB_INVENTORY, InventoryWriter, base_inventory

from isolement.drivers import supported_platforms
from isolement.model.errors import InputError
from isolement.model.inventory import LinkKind, Role, check_credentials, load_inventory


def refusal(path: Path) -> InputError:
    with pytest.raises(InputError) as caught:
        load_inventory(path)
    error = caught.value
    assert error.source == str(path)
    assert str(path) in str(error)
    return error


# --- what loads ------------------------------------------------------------------------------


def test_shipped_lab_inventory_loads_with_every_cross_reference() -> None:
    raw = yaml.safe_load(LAB_INVENTORY.read_text())
    inventory = load_inventory(LAB_INVENTORY)

    assert inventory.name == raw["name"]
    assert inventory.source == LAB_INVENTORY
    assert set(inventory.devices) == set(raw["devices"])
    assert set(inventory.links) == set(raw["links"])
    assert set(inventory.sites) == set(raw["sites"])
    for name, device in inventory.devices.items():
        assert device.site in inventory.sites, name
        assert device.credential in inventory.credentials, name
        assert device.platform in supported_platforms(), name
        assert device.port == raw["devices"][name].get("port", 22)
    assert inventory.devices["dc-fw"].role is Role.FIREWALL
    assert inventory.links["wan-h1-h2"].kind is LinkKind.BACKUP
    assert inventory.links["wan-dc-h1"].sites(inventory) == {"dc", "h1"}
    assert len(inventory.probes) == len(raw["probes"])


def test_relative_key_file_and_known_hosts_resolve_against_the_inventory_directory(
    write_inventory: InventoryWriter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_inventory()
    # Loaded from elsewhere, through a relative path: resolution must not depend on the cwd.
    monkeypatch.chdir(tmp_path)
    inventory = load_inventory(path.relative_to(tmp_path))

    directory = path.parent.resolve()
    assert inventory.known_hosts == directory / "known_hosts"
    assert inventory.credentials["ops"].key_file == directory / "keys" / "id_ed25519"
    assert inventory.known_hosts.is_absolute()


def test_absolute_key_file_is_kept_as_written(write_inventory: InventoryWriter, tmp_path: Path):
    key = tmp_path / "elsewhere" / "id_rsa"
    data = base_inventory()
    data["credentials"]["ops"]["key_file"] = str(key)
    inventory = load_inventory(write_inventory(data))
    assert inventory.credentials["ops"].key_file == key


# --- what is refused, and where it says the problem is -------------------------------------


def test_unknown_platform_is_refused_listing_the_supported_platforms(
    write_inventory: InventoryWriter,
) -> None:
    data = base_inventory()
    data["devices"]["dc-rtr"]["platform"] = "junos"
    error = refusal(write_inventory(data))

    assert error.field == "devices.dc-rtr.platform"
    assert "junos" in str(error)
    for platform in supported_platforms():
        assert platform in str(error)


@pytest.mark.parametrize(
    ("mutate", "field", "named"),
    [
        (
            lambda d: d["devices"]["h1-rtr"].update(site="h9"),
            "devices.h1-rtr.site",
            "h9",
        ),
        (
            lambda d: d["devices"]["h1-rtr"].update(credential="vault"),
            "devices.h1-rtr.credential",
            "vault",
        ),
        (
            lambda d: d["links"]["wan-dc-h1"]["endpoints"][0].update(device="ghost-rtr"),
            "links.wan-dc-h1.endpoints.0.device",
            "ghost-rtr",
        ),
        (
            lambda d: d["links"]["wan-dc-h1"]["endpoints"][1].update(device="ghost-rtr"),
            "links.wan-dc-h1.endpoints.1.device",
            "ghost-rtr",
        ),
        (
            lambda d: d["devices"]["h1-rtr"].update(managed_via=["wan-dc-h1", "wan-nowhere"]),
            "devices.h1-rtr.managed_via.1",
            "wan-nowhere",
        ),
        (
            lambda d: d["protected"]["telephony"].update(links=["voice-dc-h9"]),
            "protected.telephony.links.0",
            "voice-dc-h9",
        ),
        (
            lambda d: d.update(controller={"site": "h9"}),
            "controller.site",
            "h9",
        ),
    ],
    ids=[
        "site",
        "credential",
        "endpoint-0-device",
        "endpoint-1-device",
        "managed-via",
        "protected-link",
        "controller-site",
    ],
)
def test_unknown_reference_is_refused_naming_the_field(
    write_inventory: InventoryWriter, mutate: Any, field: str, named: str
) -> None:
    data = base_inventory()
    mutate(data)
    error = refusal(write_inventory(data))

    assert error.field == field
    assert f"field {field}" in str(error)
    assert repr(named) in str(error)


def test_duplicate_device_name_is_refused(write_inventory: InventoryWriter) -> None:
    text = yaml.safe_dump(base_inventory(), sort_keys=False)
    # A second definition of dc-rtr, added under `devices:` after the first one.
    text = text.replace(
        "devices:\n",
        "devices:\n  dc-rtr:\n    site: h1\n    role: switch\n    platform: frr\n"
        "    host: 10.0.0.1\n    credential: ops\n",
        1,
    )
    assert text.count("  dc-rtr:\n") == 2
    error = refusal(write_inventory(text=text))
    assert "duplicate key 'dc-rtr'" in str(error)
    assert "line" in str(error)


def test_same_interface_in_two_links_is_refused(write_inventory: InventoryWriter) -> None:
    data = base_inventory()
    data["links"]["again"] = {
        "kind": "backup",
        "endpoints": [{"device": "dc-rtr", "interface": "wan-h1"}],
    }
    error = refusal(write_inventory(data))
    assert error.field == "links.again.endpoints.0.interface"
    assert "wan-dc-h1" in str(error)


@pytest.mark.parametrize(
    "credential",
    [
        {"username": "ops", "key_file": "keys/id_ed25519", "password_env": "OPS_PASSWORD"},
        {"username": "ops"},
    ],
    ids=["both", "neither"],
)
def test_credential_needs_exactly_one_of_key_file_or_password_env(
    write_inventory: InventoryWriter, credential: dict[str, str]
) -> None:
    data = base_inventory()
    data["credentials"]["ops"] = credential
    error = refusal(write_inventory(data))
    assert error.field == "credentials.ops"
    assert "exactly one of key_file or password_env" in str(error)


def test_password_in_clear_is_refused_and_not_repeated(write_inventory: InventoryWriter) -> None:
    data = base_inventory()
    data["credentials"]["ops"]["password"] = "Hunter2-secret"
    error = refusal(write_inventory(data))
    assert error.field == "credentials.ops.password"
    assert "Extra inputs are not permitted" in str(error)
    # The refusal itself must not print the secret it refuses.
    assert "Hunter2-secret" not in str(error)


@pytest.mark.parametrize(
    "interface",
    ["wan0\nreload", "wan0 reload", "wan0;reload", "wan0'", 'wan0"', "wan0\r", ""],
    ids=[
        "newline",
        "space",
        "semicolon",
        "single-quote",
        "double-quote",
        "carriage-return",
        "empty",
    ],
)
def test_interface_name_that_could_inject_cli_is_refused(
    write_inventory: InventoryWriter, interface: str
) -> None:
    data = base_inventory()
    data["links"]["inet-dc"]["endpoints"][0]["interface"] = interface
    error = refusal(write_inventory(data))
    assert error.field == "links.inet-dc.endpoints.0.interface"
    assert "not a safe name" in str(error)


def test_safe_interface_names_are_accepted(write_inventory: InventoryWriter) -> None:
    data = base_inventory()
    data["links"]["inet-dc"]["endpoints"][0]["interface"] = "GigabitEthernet0/0/1.100"
    inventory = load_inventory(write_inventory(data))
    assert inventory.links["inet-dc"].endpoints[0].interface == "GigabitEthernet0/0/1.100"


def test_description_with_line_break_is_refused(write_inventory: InventoryWriter) -> None:
    data = base_inventory()
    data["links"]["inet-dc"]["description"] = "exit\nshutdown"
    error = refusal(write_inventory(data))
    assert error.field == "links.inet-dc.description"


@pytest.mark.parametrize("host", ["-oProxyCommand=x", "10.0.0.1 ; reboot", "a\nb"])
def test_host_that_is_not_an_address_or_name_is_refused(
    write_inventory: InventoryWriter, host: str
) -> None:
    data = base_inventory()
    data["devices"]["dc-rtr"]["host"] = host
    error = refusal(write_inventory(data))
    assert error.field == "devices.dc-rtr.host"


def test_malformed_yaml_is_refused_naming_the_file(write_inventory: InventoryWriter) -> None:
    path = write_inventory(text="name: x\ndevices: {dc-rtr: [unclosed\n")
    error = refusal(path)
    assert "malformed YAML" in str(error)


def test_yaml_that_is_not_a_mapping_is_refused(write_inventory: InventoryWriter) -> None:
    error = refusal(write_inventory(text="- just\n- a list\n"))
    assert "mapping" in str(error)


def test_missing_inventory_file_is_refused_naming_it(tmp_path: Path) -> None:
    error = refusal(tmp_path / "nope.yaml")
    assert "not found" in str(error)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("malformed.yaml", "malformed YAML"),
        ("duplicate-device.yaml", "duplicate key 'dc-rtr'"),
        ("unknown-platform.yaml", "field devices.dc-rtr.platform"),
        ("unknown-link-device.yaml", "field links.wan-dc-h1.endpoints.1.device"),
        ("injected-interface.yaml", "field links.inet-dc.endpoints.0.interface"),
        ("password-in-clear.yaml", "field credentials.ops.password"),
    ],
)
def test_bad_inventory_files_are_refused(name: str, expected: str) -> None:
    error = refusal(BAD_DATA / name)
    assert expected in str(error)


# --- check_credentials: the secrets a run needs are where the inventory says ---------------


def test_check_credentials_passes_when_everything_is_there(
    write_inventory: InventoryWriter,
) -> None:
    inventory = load_inventory(write_inventory())
    check_credentials(inventory, set(inventory.devices))


def test_check_credentials_missing_env_var(
    write_inventory: InventoryWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = base_inventory()
    data["credentials"]["pw"] = {"username": "ops", "password_env": "ISOLEMENT_TEST_PW"}
    data["devices"]["h1-rtr"]["credential"] = "pw"
    path = write_inventory(data)
    inventory = load_inventory(path)
    monkeypatch.delenv("ISOLEMENT_TEST_PW", raising=False)

    with pytest.raises(InputError) as caught:
        check_credentials(inventory, {"dc-rtr", "h1-rtr"})
    assert caught.value.source == str(path)
    assert caught.value.field == "credentials.pw.password_env"
    assert "ISOLEMENT_TEST_PW" in str(caught.value)
    assert "h1-rtr" in str(caught.value)

    # Only the devices the run needs are checked.
    check_credentials(inventory, {"dc-rtr"})
    monkeypatch.setenv("ISOLEMENT_TEST_PW", "s3cret")
    check_credentials(inventory, {"dc-rtr", "h1-rtr"})


def test_check_credentials_missing_key_file(write_inventory: InventoryWriter) -> None:
    path = write_inventory()
    inventory = load_inventory(path)
    key = inventory.credentials["ops"].key_file
    assert key is not None
    key.unlink()

    with pytest.raises(InputError) as caught:
        check_credentials(inventory, {"dc-rtr"})
    assert caught.value.source == str(path)
    assert caught.value.field == "credentials.ops.key_file"
    assert str(key) in str(caught.value)


def test_check_credentials_missing_known_hosts(write_inventory: InventoryWriter) -> None:
    path = write_inventory()
    inventory = load_inventory(path)
    inventory.known_hosts.unlink()

    with pytest.raises(InputError) as caught:
        check_credentials(inventory, {"dc-rtr"})
    assert caught.value.source == str(path)
    assert caught.value.field == "known_hosts"
    assert str(inventory.known_hosts) in str(caught.value)


# --- interface spellings ----------------------------------------------------------------------


def _ios_xe_link(*interfaces: str) -> dict[str, Any]:
    inventory = base_inventory()
    inventory["devices"]["dc-rtr"]["platform"] = "cisco_ios"
    inventory["links"]["wan-dc-h1"]["endpoints"] = [
        {"device": "dc-rtr", "interface": name} for name in interfaces
    ]
    return inventory


def test_an_ios_xe_abbreviation_is_read_in_the_spelling_the_device_state_uses(
    write_inventory: InventoryWriter,
) -> None:
    # IOS-XE's brief table says Te0/0/4 and the driver's state says TenGigabitEthernet0/0/4: the
    # inventory may use either, and the planner then finds the interface in the state read.
    inventory = load_inventory(write_inventory(_ios_xe_link("Te0/0/4")))

    assert inventory.links["wan-dc-h1"].endpoints[0].interface == "TenGigabitEthernet0/0/4"


def test_one_port_named_in_two_spellings_is_refused_as_one_port(
    write_inventory: InventoryWriter,
) -> None:
    error = refusal(write_inventory(_ios_xe_link("Te0/0/4", "TenGigabitEthernet0/0/4")))

    assert "already an endpoint" in str(error)
