"""`isolement inventory import ansible`: the recorded `ansible-inventory --list` JSON of
tests/data/import/ansible/hosts.ini, and the INI itself through the real ansible-inventory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from isolement.cli.main import main
from isolement.drivers import supported_platforms
from isolement.model.yamlfile import MAX_MIB_ENV
from isolement.sources import ansible

DATA = Path(__file__).resolve().parents[1] / "data" / "import" / "ansible"
# Every password and the vaulted enable secret of the inventory, as the source has them.
SECRETS = ["my_eos_password", "my_ios_password", "my_vyos_password", "$ANSIBLE_VAULT;1.1;AES256"]


def run(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any], str, Path]:
    out = tmp_path / "ansible.yaml"
    code = main(
        ["--json", "inventory", "import", "ansible", str(source), "--output", str(out), *extra]
    )
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else {}, captured.err, out


def expected_inventory(out: Path) -> None:
    inv = yaml.safe_load(out.read_text())
    assert set(inv["devices"]) == {"ios01", "ios02", "asa01"}
    assert inv["devices"]["ios02"] == {
        "site": "lyon", "role": "router", "platform": "cisco_ios", "host": "ios-02.example.net",
        "port": 2222, "credential": "my_ios_user", "managed_via": ["wan-paris-lyon"],
    }  # fmt: skip
    assert inv["devices"]["asa01"]["role"] == "firewall"  # a firewall platform, no role group
    assert inv["credentials"] == {
        # The ASA's password comes from {{ lookup('env', 'ASA_PASSWORD') }}: that variable.
        "asa_admin": {"username": "asa_admin", "password_env": "ASA_PASSWORD"},
        "my_ios_user": {"username": "my_ios_user", "password_env": "ISOLEMENT_PASSWORD"},
    }
    assert inv["links"]["wan-paris-lyon"]["endpoints"] == [
        {"device": "ios01", "interface": "GigabitEthernet0/0"},
        {"device": "ios02", "interface": "GigabitEthernet0/0"},
    ]
    assert {n: link["kind"] for n, link in inv["links"].items()} == {
        "inet-lyon": "internet", "inet-paris": "internet", "partner-lab": "partner",
        "samu-lyon": "intersite", "wan-paris-lyon": "intersite",
    }  # fmt: skip
    assert inv["protected"]["protect-samu-lyon"]["links"] == ["samu-lyon"]


def test_recorded_list_json_maps_hosts_groups_and_declared_links(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, document, _, out = run(DATA / "inventory.json", tmp_path, capsys)
    assert code == 3
    expected_inventory(out)
    assert document["counts"] == {"sites": 2, "devices": 3, "links": 5, "protected": 1}


def test_unknown_platforms_are_listed_with_the_supported_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, document, err, _ = run(DATA / "inventory.json", tmp_path, capsys)
    unmapped = {item["object"]: item["reason"] for item in document["unmapped"]}
    assert set(unmapped) == {"host veos01", "host veos02", "host vyos01", "link lab-lyon"}
    assert unmapped["host veos01"].startswith(
        "ansible_network_os 'arista.eos.eos' is netmiko platform 'arista_eos', which isolement "
        f"has no driver for; supported platforms: {', '.join(supported_platforms())}"
    )
    assert "its kind could not be decided" in unmapped["link lab-lyon"]
    assert f"  {DATA / 'inventory.json'}\n    host veos01: ansible_network_os" in err


def test_no_password_or_vault_text_is_written_or_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recorded = (DATA / "inventory.json").read_text()
    assert all(secret in recorded for secret in SECRETS)  # the test can fail
    _, document, err, out = run(DATA / "inventory.json", tmp_path, capsys)
    for text in (out.read_text(), json.dumps(document), err):
        for secret in SECRETS:
            assert secret not in text


def test_written_inventory_passes_validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, _, out = run(DATA / "inventory.json", tmp_path, capsys)
    assert main(["--inventory", str(out), "validate", "--no-credentials"]) == 0
    assert "OK: 2 sites, 3 devices, 5 links" in capsys.readouterr().out


def test_group_option_keeps_only_that_group(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, document, _, out = run(DATA / "inventory.json", tmp_path, capsys, "--group", "routers")
    assert set(yaml.safe_load(out.read_text())["devices"]) == {"ios01", "ios02"}
    assert "host veos01" not in {item["object"] for item in document["unmapped"]}


def test_unknown_group_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err, out = run(DATA / "inventory.json", tmp_path, capsys, "--group", "nosuch")
    assert code == 2
    assert "no group 'nosuch' in the inventory" in err
    assert not out.exists()


def test_json_that_is_not_an_ansible_listing_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "other.json"
    bad.write_text('{"hosts": []}')
    code, _, err, _ = run(bad, tmp_path, capsys)
    assert code == 2
    assert f"{bad}: not the output of `ansible-inventory --list`" in err


@pytest.mark.skipif(
    ansible.ansible_inventory_command() is None,
    reason="Ansible (ansible-inventory) is not installed: the INI/YAML path needs it; the JSON "
    "path is tested without it",
)
def test_ini_inventory_read_through_ansible_inventory_gives_the_same_inventory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, document, _, out = run(DATA / "hosts.ini", tmp_path, capsys)
    assert code == 3
    expected_inventory(out)
    assert document["sources"] == [f"{DATA / 'hosts.ini'} (through ansible-inventory)"]
    for secret in SECRETS:
        assert secret not in out.read_text()


def test_ini_without_ansible_says_how_to_do_without(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ansible, "ansible_inventory_command", lambda: None)
    code, _, err, out = run(DATA / "hosts.ini", tmp_path, capsys)
    assert code == 2
    assert "needs Ansible's ansible-inventory, which is not installed here" in err
    assert "ansible-inventory -i" in err
    assert not out.exists()


def test_a_listing_over_the_size_cap_is_refused_before_parsing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "huge.json"
    big.write_text('{"_meta": {"hostvars": {}}, "pad": "' + "x" * 200_000 + '"}')
    monkeypatch.setenv(MAX_MIB_ENV, "0.1")
    code, _, err, out = run(big, tmp_path, capsys)
    assert code == 2
    assert f"{big}: 0.2 MiB is more than the 0.1 MiB isolement reads" in err
    assert not out.exists()
