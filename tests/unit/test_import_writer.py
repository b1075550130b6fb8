"""The importers' shared writer: what cannot stand is listed, never dropped silently; a secret
a reader saw can never reach the file; names and platforms are checked as the inventory does."""

from __future__ import annotations

from pathlib import Path

import pytest

from isolement.model.errors import InputError
from isolement.model.inventory import LinkKind, Role
from isolement.sources import writer
from isolement.sources.mapping import (
    NETBOX_PLATFORMS,
    PlatformUnknown,
    UserMapping,
    netmiko_platform,
)


def draft() -> writer.Draft:
    d = writer.Draft(name="t", description="", sources=["src.yaml"])
    cred = d.credential("ops", None, "OPS_PASSWORD")
    for name, site in (("r1", "a"), ("r2", "b")):
        d.sites[site] = ""
        d.devices[name] = writer.DraftDevice(site, Role.ROUTER, "frr", f"{name}.example", cred)
    return d


def test_a_secret_seen_in_the_source_refuses_the_write(tmp_path: Path) -> None:
    d = draft()
    d.links["wan"] = writer.DraftLink(
        "src.yaml", "wan", [("r1", "eth0"), ("r2", "eth0")], LinkKind.INTERSITE,
        description="ends at hunter2-router",
    )  # fmt: skip
    d.secret("hunter2-router")
    built = writer.build(d, UserMapping())
    with pytest.raises(InputError, match="refusing to write the inventory"):
        writer.render(built, d, "test")


def test_vaulted_values_are_secrets_too() -> None:
    d = draft()
    d.secret({"__ansible_vault": "$ANSIBLE_VAULT;1.1;AES256\n3031"})
    assert "$ANSIBLE_VAULT;1.1;AES256\n3031" in d.secrets


def test_links_that_cannot_stand_are_listed_not_dropped() -> None:
    d = draft()
    d.links["wan"] = writer.DraftLink("src.yaml", "wan", [("r1", "eth0"), ("r2", "eth0")])
    d.links["dup"] = writer.DraftLink("src.yaml", "dup", [("r1", "eth0")], LinkKind.INTERNET)
    d.links["ghost"] = writer.DraftLink("src.yaml", "ghost", [("r9", "eth0")], LinkKind.INTERNET)
    d.links["bad name"] = writer.DraftLink("src.yaml", "x", [("r1", "eth1")], LinkKind.INTERNET)
    d.links["lan"] = writer.DraftLink("src.yaml", "lan", [("r1", "eth2")])
    built = writer.build(d, UserMapping())
    assert set(built.inventory.links) == {"wan"}
    assert built.inventory.links["wan"].kind is LinkKind.INTERSITE  # joins two sites
    reasons = {issue.object: issue.reason for issue in built.issues}
    assert reasons["link dup"] == "r1 eth0 is already an end of link wan"
    assert reasons["link ghost"] == "its end r9 eth0 is on a device that was not imported"
    assert reasons["link bad name (x)"].startswith("its name 'bad name' is not a safe name")
    assert reasons["link lan"].startswith("its kind could not be decided")


def test_an_unsafe_device_name_and_an_unused_site_are_listed() -> None:
    d = draft()
    d.devices["core sw"] = writer.DraftDevice("a", Role.SWITCH, "frr", "h", "ops")
    d.sites["empty"] = ""
    built = writer.build(d, UserMapping())
    reasons = {issue.object: issue.reason for issue in built.issues}
    assert reasons["device core sw"].startswith("its name 'core sw' is not a safe name")
    assert reasons["site empty"] == "no device of this site was imported"
    assert "empty" not in built.inventory.sites


def test_urls_are_shown_without_user_or_password() -> None:
    assert writer.public_url("https://admin:s3cret@netbox.example:8443/api/?x=1") == (
        "https://netbox.example:8443/api/"
    )


def test_a_platform_without_driver_names_the_supported_ones() -> None:
    with pytest.raises(PlatformUnknown, match="'cisco_xr', which isolement has no driver"):
        netmiko_platform("cisco-ios-xr", NETBOX_PLATFORMS, UserMapping(), what="NetBox platform")
    assert netmiko_platform("cisco-nxos", NETBOX_PLATFORMS, UserMapping(), what="x") == (
        "cisco_nxos"
    )
    override = UserMapping(platforms={"ios-17": "cisco_ios"})
    assert netmiko_platform("ios-17", {}, override, what="x") == "cisco_ios"


def test_nothing_importable_is_an_error() -> None:
    d = writer.Draft(name="t", description="", sources=["src.yaml"])
    with pytest.raises(InputError, match="nothing to write"):
        writer.build(d, UserMapping())
