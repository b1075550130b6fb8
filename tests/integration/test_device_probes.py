"""Probes sent by the devices themselves, through their real CLI path (`run_device_probes`
against the lab's inventory: its host keys, its credentials, each platform's driver), checked
against the truth: real FRR and Linux nodes, and emulated NX-OS, AOS-CX, OmniSwitch and Junos
switches whose ping is answered by a real ping from their own namespace.

Each probe crosses a link that one `isolement cut` then cuts: it passes before, is blocked
after, and passes again after the restore. The namespace's own pings say the same."""

from __future__ import annotations

import subprocess
from ipaddress import IPv4Address
from pathlib import Path

from labtools import HOSTS, INTERNET_HOST, eventually, ping, pings

from isolement.cli.paths import DEFAULT_INVENTORY
from isolement.flows.runtime import Runtime
from isolement.model.inventory import Probe, load_inventory
from isolement.probes.device import run_device_probes
from isolement.probes.outcome import ProbeResult

# (device, platform, source, address across the link, the link, the namespace ping that is the
# truth). The hospital switches ping from their LAN (h4-sw: from its LAN port): the datacentre
# routes back to the hospitals' LANs, not to the WAN links' own addresses, so without a source
# their ping is (truly) never answered.
CROSSINGS = [
    ("dc-rtr", "frr", None, HOSTS["h1"], "wan-dc-h1", ("dc", HOSTS["h1"])),
    ("dc-fw", "linux", None, INTERNET_HOST, "inet-dc", ("dc", INTERNET_HOST)),
    ("dc-core", "cisco_nxos", None, HOSTS["h3"], "wan-dc-h3", ("dc", HOSTS["h3"])),
    ("h3-sw", "aruba_aoscx", "198.18.40.1", HOSTS["dc"], "wan-dc-h3", ("h3", HOSTS["dc"])),
    ("h4-sw", "alcatel_aos", "1/1/2", HOSTS["dc"], "wan-dc-h4", ("h4", HOSTS["dc"])),
    ("h5-sw", "juniper_junos", "198.18.60.1", HOSTS["dc"], "wan-dc-h5", ("h5", HOSTS["dc"])),
]
LINKS = sorted({link for *_, link, _ in CROSSINGS})


def _probes() -> list[Probe]:
    return [
        Probe(
            name=f"{device}-across",
            from_device=device,
            source=source,
            to=IPv4Address(to),
            crosses=[link],
        )
        for device, _, source, to, link, _ in CROSSINGS
    ]


def _results(tmp_path: Path) -> dict[str, ProbeResult]:
    inventory = load_inventory(DEFAULT_INVENTORY)
    for device, platform, *_ in CROSSINGS:
        assert inventory.devices[device].platform == platform
    rt = Runtime(inventory=inventory, journal_path=tmp_path / "journal")
    outcomes = run_device_probes(rt, _probes())
    details = {o.probe.from_device: o.detail for o in outcomes}
    print(details)  # shown by pytest when an assertion fails
    return {str(o.probe.from_device): o.result for o in outcomes}


def _playbook(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cut-crossed.yaml").write_text(
        f"name: cut-crossed\ncut:\n  - select: {{link: [{', '.join(LINKS)}]}}\n    method: auto\n"
    )
    return directory


def test_device_probes_pass_then_are_blocked_by_the_cut_then_pass_again(
    cli, tmp_path: Path
) -> None:
    every = {device for device, *_ in CROSSINGS}
    before = _results(tmp_path)
    assert before == dict.fromkeys(every, ProbeResult.PASSES), before
    assert all(ping(*truth) for *_, truth in CROSSINGS)

    playbooks = _playbook(tmp_path / "playbooks")
    done = cli("--playbooks", str(playbooks), "cut", "cut-crossed", "--reason", "drill", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr

    cut = _results(tmp_path)
    assert cut == dict.fromkeys(every, ProbeResult.BLOCKED), cut
    reached = pings([truth for *_, truth in CROSSINGS])
    assert not any(reached.values()), reached

    restored = cli(
        "--playbooks",
        str(playbooks),
        "restore",
        "cut-crossed",
        "--all",
        "--approved-by",
        "pytest",
        "--reason",
        "drill over",
        "--yes",
    )
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert eventually(lambda: all(ping(*truth) for *_, truth in CROSSINGS))
    assert eventually(lambda: set(_results(tmp_path).values()) == {ProbeResult.PASSES})


def test_a_probe_a_platform_cannot_send_is_unavailable_without_a_login(tmp_path: Path) -> None:
    """FRR's vtysh ping takes no source and no port: nothing is sent, and it proves nothing."""
    inventory = load_inventory(DEFAULT_INVENTORY)
    rt = Runtime(inventory=inventory, journal_path=tmp_path / "journal")
    probes = [
        Probe(name="tcp", from_device="dc-rtr", to=IPv4Address(HOSTS["h1"]), port=443),
        Probe(name="src", from_device="dc-rtr", source="lan0", to=IPv4Address(HOSTS["h1"])),
    ]

    outcomes = run_device_probes(rt, probes)

    assert [o.result for o in outcomes] == [ProbeResult.UNAVAILABLE] * 2
    assert "frr's CLI cannot send TCP port 443" in outcomes[0].detail
    assert "frr's CLI cannot send a ping from lan0" in outcomes[1].detail


def test_the_fortigates_own_ping_is_answered_by_real_packets(lab, tmp_path: Path) -> None:
    """FortiOS's `execute ping-options ...` / `execute ping X` on the emulated FortiGate, sent
    by its namespace: a host on its side answers, an address nobody holds does not, as the
    namespace's own ping says."""
    inventory = load_inventory(DEFAULT_INVENTORY)
    rt = Runtime(inventory=inventory, journal_path=tmp_path / "journal")
    inside, nobody = HOSTS["h3"], "198.18.40.99"
    probes = [
        Probe(name="host", from_device="h3-fw", source="198.18.41.2", to=IPv4Address(inside)),
        Probe(name="nobody", from_device="h3-fw", to=IPv4Address(nobody)),
    ]

    outcomes = run_device_probes(rt, probes)

    print([o.detail for o in outcomes])
    assert [o.result for o in outcomes] == [ProbeResult.PASSES, ProbeResult.BLOCKED]
    truth = ["ip", "netns", "exec", "iso-h3-fw", "ping", "-c", "1", "-W", "1"]
    assert subprocess.run([*truth, inside], capture_output=True, check=False).returncode == 0
    assert subprocess.run([*truth, nobody], capture_output=True, check=False).returncode != 0
