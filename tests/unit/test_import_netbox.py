"""`isolement inventory import netbox` against recorded NetBox 4.1 pages of the demo data
(tests/data/import/netbox/SOURCES.md), served by a recorded NetBox on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from netbox_replay import TOKEN, RecordedNetBox

from isolement.cli.main import main
from isolement.model.errors import InputError
from isolement.sources import netbox, writer
from isolement.sources.mapping import UserMapping

SITES = ["dm-akron", "dm-albany", "dm-binghamton"]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def recorded() -> Iterator[RecordedNetBox]:
    with RecordedNetBox() as server:
        yield server


def run_import(
    server: RecordedNetBox, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any], str, Path]:
    out = tmp_path / "dm.yaml"
    os.environ["NETBOX_TOKEN"] = TOKEN
    try:
        code = main(
            [
                "--json", "inventory", "import", "netbox", "--url", server.url,
                *[arg for site in SITES for arg in ("--site", site)],
                "--page-size", "4", "--username", "netops", "--output", str(out), *extra,
            ]
        )  # fmt: skip
    finally:
        del os.environ["NETBOX_TOKEN"]
    captured = capsys.readouterr()
    document = json.loads(captured.out) if captured.out.strip() else {}
    return code, document, captured.err, out


def test_demo_routers_and_their_circuits_become_devices_and_links(
    recorded: RecordedNetBox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _, out = run_import(recorded, tmp_path, capsys)
    inv = yaml.safe_load(out.read_text())
    assert code == 3  # written, with unmapped objects listed
    assert inv["sites"] == {
        "dm-akron": {"description": "DM-Akron"},
        "dm-albany": {"description": "DM-Albany"},
        "dm-binghamton": {"description": "DM-Binghamton"},
    }
    assert set(inv["devices"]) == {
        "dmi01-akron-rtr01", "dmi01-albany-rtr01", "dmi01-binghamton-rtr01"
    }  # fmt: skip
    akron = inv["devices"]["dmi01-akron-rtr01"]
    # The out-of-band address wins over the primary IPv4 (192.0.2.11).
    assert akron == {
        "site": "dm-akron", "role": "router", "platform": "cisco_ios", "host": "198.51.100.11",
        "credential": "netops",
    }  # fmt: skip
    assert inv["devices"]["dmi01-albany-rtr01"]["host"] == "192.0.2.12"
    assert inv["devices"]["dmi01-albany-rtr01"]["managed_via"] == ["JHEW3951"]
    assert inv["credentials"] == {
        "netops": {"username": "netops", "password_env": "ISOLEMENT_PASSWORD"}
    }
    links = inv["links"]
    assert links["KKDG4923"] == {
        "kind": "intersite",
        "description": "Level 3 MPLS circuit KKDG4923",
        "endpoints": [{"device": "dmi01-akron-rtr01", "interface": "GigabitEthernet0/0/0"}],
    }
    assert {name: link["kind"] for name, link in links.items()} == {
        "KKDG4923": "intersite",
        "JHEW3951": "intersite",
        "PPJQ5091": "intersite",
        "1002840283": "backup",  # tag isolement-backup beats the circuit type (internet)
        "1002840457": "internet",
        "1002841093": "internet",
    }
    assert inv["protected"] == {
        "protect-PPJQ5091": {
            "reason": "SAMU telephony trunk to the regional dispatch centre",
            "links": ["PPJQ5091"],
        }
    }


def test_pages_are_followed_through_netbox_next_links(
    recorded: RecordedNetBox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_import(recorded, tmp_path, capsys)
    second_page = recorded.page("dcim-devices.offset-4.json")
    next_link = str(second_page["next"]).removeprefix(recorded.url)
    device_requests = [p for p in recorded.requests if p.startswith("/api/dcim/devices/")]
    # Three pages of four: the third is asked for exactly as NetBox's `next` link says.
    assert len(device_requests) == 3
    assert device_requests[2] == next_link
    assert next_link == "/api/dcim/devices/?limit=4&offset=8&site_id=2&site_id=3&site_id=4"
    interface_offsets = [p for p in recorded.requests if p.startswith("/api/dcim/interfaces/")]
    assert len(interface_offsets) == 5
    assert recorded.unknown == []


def test_what_is_not_mapped_is_listed_object_by_object(
    recorded: RecordedNetBox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, document, err, _ = run_import(recorded, tmp_path, capsys)
    unmapped = {item["object"]: item["reason"] for item in document["unmapped"]}
    assert all(item["source"] == recorded.url for item in document["unmapped"])
    for switch in ("dmi01-akron-sw01", "dmi01-albany-sw01", "dmi01-binghamton-sw01"):
        assert unmapped[f"device {switch}"] == "it has no platform in NetBox"
    for pdu in ("dmi01-akron-pdu01", "dmi01-albany-pdu01", "dmi01-binghamton-pdu01"):
        assert unmapped[f"device {pdu}"].startswith("role 'pdu' is not mapped")
    # The router-to-switch cables: the switch is not imported, and the cable has no kind.
    for cable in (35, 36, 37, 38, 39, 40):
        assert "which is not an imported device's interface" in unmapped[f"cable #{cable}"]
    assert len(unmapped) == 12
    # Every recorded device and cable is either in the inventory or listed.
    assert "dmi01-akron-sw01: it has no platform in NetBox" in err
    assert "cable #35: dmi01-akron-rtr01 GigabitEthernet0/1/0 goes to interface" in err
    assert document["counts"] == {"sites": 3, "devices": 3, "links": 6, "protected": 1}
    assert document["warnings"][0]["object"] == "device dmi01-albany-rtr01"
    assert "only end is on dmi01-albany-rtr01" in document["warnings"][0]["reason"]


def test_written_inventory_passes_the_real_validate(
    recorded: RecordedNetBox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, _, out = run_import(recorded, tmp_path, capsys)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "isolement",
            "--inventory",
            str(out),
            "validate",
            "--no-credentials",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"{out}: OK: 3 sites, 3 devices, 6 links" in done.stdout


def test_the_token_is_never_written_nor_printed(
    recorded: RecordedNetBox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, document, err, out = run_import(recorded, tmp_path, capsys)
    for text in (out.read_text(), json.dumps(document), err):
        assert TOKEN not in text
    # ...while it was sent, as NetBox needs it (the server answers 403 otherwise).
    assert recorded.requests and recorded.unknown == []


def test_a_token_netbox_refuses_is_an_error_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with RecordedNetBox(token="another-token-0000000000000000000000000000") as server:
        code, document, err, out = run_import(server, tmp_path, capsys)
    assert code == 2
    # --json: the error document, nothing imported (isolement schema error).
    assert document["error"]["kind"] == "input" and document["error"]["exit_code"] == 2
    assert "NetBox answered 403 (check the token in the environment variable)" in err
    assert not out.exists()


def test_missing_token_variable_is_refused_before_any_request(
    recorded: RecordedNetBox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.environ.pop("NETBOX_TOKEN", None)
    code = main(
        ["inventory", "import", "netbox", "--url", recorded.url, "--username", "netops",
         "--output", str(tmp_path / "x.yaml")]
    )  # fmt: skip
    assert code == 2
    assert "environment variable NETBOX_TOKEN is not set" in capsys.readouterr().err
    assert recorded.requests == []


def test_no_username_is_refused_with_the_option_to_give(
    recorded: RecordedNetBox, tmp_path: Path
) -> None:
    draft = writer.Draft(name="x", description="", sources=[])
    with pytest.raises(InputError, match="NetBox holds no login: give --username"):
        netbox.read(
            netbox.connect(recorded.url, TOKEN), recorded.url, draft, UserMapping(),
            writer.Options(), SITES, 4,
        )  # fmt: skip
    assert recorded.requests == []


def test_a_next_link_to_another_host_is_refused_before_anything_is_sent() -> None:
    session = netbox.SameHostSession("http://127.0.0.1:8080")
    sent: list[str] = []

    class Recorder(requests.adapters.HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            sent.append(request.url)
            raise AssertionError("nothing may be sent")

    session.mount("http://", Recorder())
    session.mount("https://", Recorder())
    with pytest.raises(netbox.NetBoxError, match=r"NetBox pointed to https://netbox\.example"):
        session.get("https://user:secret@netbox.example/api/dcim/devices/?offset=8")
    assert sent == []


def test_the_user_mapping_overrides_the_circuit_type_table(
    recorded: RecordedNetBox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("kinds: {internet: partner}\nroles: {pdu: skip}\n")
    _, document, _, out = run_import(recorded, tmp_path, capsys, "--mapping", str(mapping))
    links = yaml.safe_load(out.read_text())["links"]
    assert links["1002840457"]["kind"] == "partner"
    assert links["1002840283"]["kind"] == "backup"  # its tag still wins
    unmapped = {item["object"]: item["reason"] for item in document["unmapped"]}
    assert unmapped["device dmi01-akron-pdu01"] == "skipped by the mapping's roles"


def test_a_bad_mapping_file_names_the_file_and_the_field(
    recorded: RecordedNetBox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("kinds: {internet: everywhere}\n")
    code, _, err, out = run_import(recorded, tmp_path, capsys, "--mapping", str(mapping))
    assert code == 2
    assert f"{mapping}, field kinds.internet" in err
    assert not out.exists()
    assert recorded.requests == []


def test_an_existing_output_is_kept_unless_forced(
    recorded: RecordedNetBox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "dm.yaml").write_text("precious\n")
    code, _, err, out = run_import(recorded, tmp_path, capsys)
    assert code == 2
    assert "already exists; give --force" in err
    assert out.read_text() == "precious\n"
    code, _, _, out = run_import(recorded, tmp_path, capsys, "--force")
    assert code == 3
    assert "dmi01-akron-rtr01" in out.read_text()
