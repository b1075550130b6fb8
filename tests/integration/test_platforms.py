"""Every vendor platform through the real command line against the lab: the emulated device's
own state changes, the namespace's real link or packet filter follows, and real packets stop,
then come back on restore, with the device exactly as it was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import pytest
from labtools import (
    EMULATED,
    HOSTS,
    INTERNET_HOST,
    SERVERS,
    emulated_state,
    eventually,
    kernel_link_up,
    ping,
    pings,
)


class Case(NamedTuple):
    platform: str
    node: str
    link: str
    interface: str  # the platform's name for it
    kernel: str  # the namespace's veth behind it
    method: str  # what `auto` means on the platform
    probe: tuple[str, str]  # (site, address): real packets that cross the link
    # Whether cut-all cuts the link: not a datacentre server segment (kind `segment`).
    cut_by_cut_all: bool = True


CASES = [
    Case(
        "cisco_nxos",
        "dc-core",
        "wan-dc-h5",
        "Ethernet1/5",
        "wan-h5",
        "shutdown",
        ("dc", HOSTS["h5"]),
    ),
    Case("aruba_aoscx", "h3-sw", "wan-dc-h3", "1/1/1", "wan-dc", "shutdown", ("dc", HOSTS["h3"])),
    Case("alcatel_aos", "h4-sw", "wan-dc-h4", "1/1/1", "wan-dc", "shutdown", ("dc", HOSTS["h4"])),
    Case(
        "juniper_junos", "h5-sw", "wan-dc-h5", "ge-0/0/0", "wan-dc", "shutdown", ("dc", HOSTS["h5"])
    ),
    Case("fortinet", "h3-fw", "inet-h3", "port1", "out0", "deny", ("h3", INTERNET_HOST)),
    Case(
        "paloalto_panos", "h4-fw", "inet-h4", "ethernet1/1", "out0", "deny", ("h4", INTERNET_HOST)
    ),
    Case(
        "cisco_asa", "h5-fw", "inet-h5", "GigabitEthernet0/0", "out0", "deny", ("h5", INTERNET_HOST)
    ),
    # The datacentre's access switches: the uplink of a server segment, cut at the switch's end.
    Case(
        "cisco_xe",
        "dc-xe",
        "seg-dc-xe",
        "TenGigabitEthernet1/1/1",
        "up0",
        "shutdown",
        ("dc", SERVERS["cisco_xe"]),
        cut_by_cut_all=False,
    ),
    Case(
        "arista_eos",
        "dc-eos",
        "seg-dc-eos",
        "Ethernet49",
        "up0",
        "shutdown",
        ("dc", SERVERS["arista_eos"]),
        cut_by_cut_all=False,
    ),
    Case(
        "aruba_os",
        "dc-aoss",
        "seg-dc-aoss",
        "25",
        "up0",
        "shutdown",
        ("dc", SERVERS["aruba_os"]),
        cut_by_cut_all=False,
    ),
    Case(
        "hp_comware",
        "dc-cw",
        "seg-dc-cw",
        "Ten-GigabitEthernet1/0/49",
        "up0",
        "shutdown",
        ("dc", SERVERS["hp_comware"]),
        cut_by_cut_all=False,
    ),
]


def test_every_emulated_platform_has_a_case() -> None:
    assert sorted(c.platform for c in CASES) == sorted(EMULATED.values())
    assert all(EMULATED[c.node] == c.platform for c in CASES)


def _one_link_playbook(directory: Path, link: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cut-one.yaml").write_text(
        f"name: cut-one\ncut:\n  - select: {{link: [{link}]}}\n    method: auto\n"
    )
    return directory


def _cut_in_state(case: Case, state: dict[str, object]) -> bool:
    if case.method == "shutdown":
        return state["admin_up"][case.interface] is False  # type: ignore[index]
    return case.interface in state["blocked"]  # type: ignore[operator]


@pytest.mark.parametrize("case", CASES, ids=[c.platform for c in CASES])
def test_platform_cut_and_restore_through_the_command_line(cli, tmp_path: Path, case: Case) -> None:
    playbooks = _one_link_playbook(tmp_path / "playbooks", case.link)
    before = emulated_state(case.node)
    assert not _cut_in_state(case, before)
    assert ping(*case.probe), f"{case.probe} must answer before the cut"

    done = cli("--playbooks", str(playbooks), "cut", "cut-one", "--reason", "drill", "--yes")

    assert done.returncode == 0, done.stdout + done.stderr
    cut = emulated_state(case.node)
    assert _cut_in_state(case, cut), cut
    if case.method == "shutdown":
        assert not kernel_link_up(case.node, case.kernel)
    else:
        # A policy cut leaves the port up: the emulated firewall's policy drops the traffic.
        assert cut["admin_up"][case.interface] is True  # type: ignore[index]
        assert kernel_link_up(case.node, case.kernel)
    assert not ping(*case.probe), f"{case.probe} still answers after the cut on {case.platform}"

    again = cli(
        "--playbooks", str(playbooks), "--json", "cut", "cut-one", "--reason", "again", "--yes"
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["outcome"] == "nothing-to-do"
    assert emulated_state(case.node) == cut

    restored = cli(
        "--playbooks",
        str(playbooks),
        "restore",
        "cut-one",
        "--all",
        "--approved-by",
        "pytest",
        "--reason",
        "doubt lifted",
        "--yes",
    )

    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert emulated_state(case.node) == before
    assert kernel_link_up(case.node, case.kernel)
    assert eventually(lambda: ping(*case.probe)), f"{case.probe} must answer again after restore"


def test_cut_all_cuts_every_platform_in_one_command(cli) -> None:
    done = cli("--json", "cut", "cut-all", "--reason", "ransomware everywhere", "--yes")

    assert done.returncode == 0, done.stdout + done.stderr
    for case in CASES:
        cut = _cut_in_state(case, emulated_state(case.node))
        assert cut is case.cut_by_cut_all, case.platform
    sites = ("h3", "h4", "h5")
    reached = pings([("dc", HOSTS[s]) for s in sites] + [(s, INTERNET_HOST) for s in sites])
    for site in sites:
        assert not reached[("dc", HOSTS[site])], f"dc still reaches {site}"
        assert not reached[(site, INTERNET_HOST)], f"{site} still reaches the internet"
    # The datacentre's server segments are inside the site: "cut everything" leaves them.
    for platform, server in SERVERS.items():
        assert ping("dc", server), f"cut-all cut the {platform} server segment"

    restored = cli(
        "restore", "cut-all", "--all", "--approved-by", "pytest", "--reason", "over", "--yes"
    )

    assert restored.returncode == 0, restored.stdout + restored.stderr
    for site in ("h3", "h4", "h5"):
        assert eventually(lambda s=site: ping("dc", HOSTS[s]) and ping(s, INTERNET_HOST)), site
