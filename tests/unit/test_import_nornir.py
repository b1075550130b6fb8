"""`isolement inventory import nornir` on the lab hosts of Nornir's filtering how-to inventory
(tests/data/import/nornir), with its groups and added defaults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from isolement.cli.main import main
from isolement.drivers import supported_platforms

DATA = Path(__file__).resolve().parents[1] / "data" / "import" / "nornir"
SECRETS = ["N0rnir-Defaults-Pw", "P4lo-Enable-Secret"]


def run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any], str, Path]:
    out = tmp_path / "nornir.yaml"
    code = main(
        ["--json", "inventory", "import", "nornir", str(DATA / "hosts.yaml"), "--output",
         str(out), "--mapping", str(DATA / "mapping.yaml"), *extra]
    )  # fmt: skip
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else {}, captured.err, out


def test_group_and_default_inheritance_is_merged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, _, out = run(tmp_path, capsys)
    inv = yaml.safe_load(out.read_text())
    csr = inv["devices"]["lab-csr-011.lab.norn.local"]
    # platform from group ios (a NAPALM name), login from defaults, site and role from data.
    assert csr == {
        "site": "mel", "role": "router", "platform": "cisco_ios",
        "host": "lab-csr-011.lab.norn.local", "credential": "netops",
    }  # fmt: skip
    assert inv["devices"]["lab-paloalto-01.lab.djft.local"]["platform"] == "paloalto_panos"
    assert inv["devices"]["lab-junos-01.lab.norn.local"]["platform"] == "juniper_junos"
    # The host's own username beats the defaults'.
    assert inv["devices"]["lab-junos-06.lab.norn.local"]["credential"] == "switch-admin"
    assert inv["links"]["wan-bcn-mel"] == {
        "kind": "intersite",  # no kind given, but it joins two sites: cross_site_kind
        "endpoints": [
            {"device": "dfjt-r001.lab.norn.local", "interface": "GigabitEthernet2"},
            {"device": "lab-csr-011.lab.norn.local", "interface": "GigabitEthernet3"},
        ],
    }


def test_unknown_platform_listed_and_validate_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, document, _, out = run(tmp_path, capsys)
    assert code == 3
    assert document["unmapped"] == [
        {
            "source": str(DATA / "hosts.yaml"),
            "object": "host lab-arista-01.lab.norn.local",
            "reason": "platform 'eos' is netmiko platform 'arista_eos', which isolement has no "
            f"driver for; supported platforms: {', '.join(supported_platforms())}",
        }
    ]
    assert main(["--inventory", str(out), "validate", "--no-credentials"]) == 0


def test_no_password_or_secret_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = "".join(p.read_text() for p in DATA.glob("*.yaml"))
    assert all(secret in source for secret in SECRETS)
    _, document, err, out = run(tmp_path, capsys)
    for text in (out.read_text(), json.dumps(document), err):
        for secret in SECRETS:
            assert secret not in text


def test_a_host_naming_an_unknown_group_is_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text(
        "r1: {hostname: 192.0.2.1, username: ops, platform: ios, groups: [nosuch],"
        " data: {isolement_site: a, isolement_role: router}}\n"
        "r2: {hostname: 192.0.2.2, username: ops, platform: ios,"
        " data: {isolement_site: a, isolement_role: router,"
        " isolement_links: [{link: inet-a, interface: Gi0/1, kind: internet}]}}\n"
    )
    out = tmp_path / "out.yaml"
    code = main(["--json", "inventory", "import", "nornir", str(hosts), "--output", str(out)])
    document = json.loads(capsys.readouterr().out)
    assert code == 3
    assert document["unmapped"] == [
        {"source": str(hosts), "object": "host r1",
         "reason": "names group 'nosuch', not in groups.yaml"}
    ]  # fmt: skip
    assert set(yaml.safe_load(out.read_text())["devices"]) == {"r2"}
