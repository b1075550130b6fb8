"""Device-sourced probes (isolement.probes.device) through the real transport to emulated
devices on loopback: the emulator's ping is answered by a scripted pinger here (the lab's is a
real ping in the node's namespace, tests/integration/test_device_probes.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from emulated import Emulate, LoginKey, write_inventory_for
from isolement.lab.emulator import Echoes, Emulator, Reply, generate_login_key
from isolement.lab.profiles import PROFILES
from isolement.lab.profiles.aruba_aoscx import AoscxDevice
from isolement.lab.profiles.cisco_asa import AsaDevice
from isolement.lab.profiles.cisco_ios import IosDevice
from isolement.lab.profiles.cisco_nxos import NxosDevice

from isolement.drivers import Driver
from isolement.drivers.base import Session
from isolement.flows.runtime import Runtime
from isolement.model.errors import DeviceError
from isolement.model.inventory import Inventory, Probe, load_inventory
from isolement.probes.device import COUNT, run_device_probes
from isolement.probes.outcome import ProbeResult

TO = IPv4Address("198.18.20.10")


@dataclass
class ScriptedPinger:
    """Replies to these sequence numbers; records what it was asked."""

    answered: tuple[int, ...]
    asked: list[tuple[str, str | None, int]] = field(default_factory=list)

    def ping(self, to: str, source: str | None, count: int) -> Echoes:
        self.asked.append((to, source, count))
        replies = tuple(Reply(seq, 63, 0.4) for seq in self.answered if seq <= count)
        address = source if source and source[0].isdigit() else None
        return Echoes(to, address, count, replies)


def _runtime(
    emulate: Emulate, login_key: LoginKey, tmp_path: Path, *devices: tuple[type, str]
) -> tuple[Runtime, Emulator]:
    emu = emulate([kind.sample(name) for kind, name in devices])
    path = write_inventory_for(
        tmp_path,
        emu,
        login_key,
        "probes",
        links={},
        platforms={name: kind.platform for kind, name in devices},
    )
    return Runtime(inventory=load_inventory(path), journal_path=tmp_path / "journal"), emu


def test_a_reply_passes_and_silence_is_blocked_on_each_cisco_style_platform(
    emulate: Emulate, login_key: LoginKey, tmp_path: Path
) -> None:
    kinds = [(NxosDevice, "core"), (AoscxDevice, "sw"), (IosDevice, "rtr"), (AsaDevice, "fw")]
    rt, emu = _runtime(emulate, login_key, tmp_path, *kinds)
    answering = {"core": (2,), "sw": (1, 2, 3), "rtr": (), "fw": ()}
    pingers = {name: ScriptedPinger(answering[name]) for _, name in kinds}
    for name, pinger in pingers.items():
        emu.device(name).pinger = pinger
    probes = [Probe(name=f"p-{name}", from_device=name, to=TO) for _, name in kinds]

    outcomes = run_device_probes(rt, probes)

    assert [(o.probe.from_device, o.result) for o in outcomes] == [
        ("core", ProbeResult.PASSES),
        ("sw", ProbeResult.PASSES),
        ("rtr", ProbeResult.BLOCKED),
        ("fw", ProbeResult.BLOCKED),
    ]
    assert [o.detail for o in outcomes] == [
        "core: 1/3 replies",
        "sw: 3/3 replies",
        "rtr: 0/3 replies",
        "fw: 0/3 replies",
    ]
    assert all(p.asked == [(str(TO), None, COUNT)] for p in pingers.values())


def test_the_source_reaches_the_device_s_ping(
    emulate: Emulate, login_key: LoginKey, tmp_path: Path
) -> None:
    rt, emu = _runtime(emulate, login_key, tmp_path, (NxosDevice, "core"), (AoscxDevice, "sw"))
    core, sw = ScriptedPinger((1,)), ScriptedPinger((1,))
    emu.device("core").pinger, emu.device("sw").pinger = core, sw
    probes = [
        Probe(name="a", from_device="core", source="198.18.0.1", to=TO),
        Probe(name="b", from_device="core", source="Ethernet1/2", to=TO),
        Probe(name="c", from_device="sw", source="1/1/2", to=TO),
    ]

    outcomes = run_device_probes(rt, probes)

    assert {o.result for o in outcomes} == {ProbeResult.PASSES}
    assert core.asked == [(str(TO), "198.18.0.1", COUNT), (str(TO), "Ethernet1/2", COUNT)]
    assert sw.asked == [(str(TO), "1/1/2", COUNT)]


def test_an_emulator_without_a_data_plane_says_so_and_the_probe_proves_nothing(
    emulate: Emulate, login_key: LoginKey, tmp_path: Path
) -> None:
    rt, _ = _runtime(emulate, login_key, tmp_path, (NxosDevice, "core"))

    [outcome] = run_device_probes(rt, [Probe(name="p", from_device="core", to=TO)])

    assert outcome.result is ProbeResult.UNAVAILABLE
    assert "no BSD ping summary" in outcome.detail and "no data plane" in outcome.detail


def test_a_device_out_of_reach_is_unavailable_with_the_reason(
    emulate: Emulate, login_key: LoginKey, tmp_path: Path
) -> None:
    rt, emu = _runtime(emulate, login_key, tmp_path, (NxosDevice, "core"))
    emu.stop()

    [outcome] = run_device_probes(rt, [Probe(name="p", from_device="core", to=TO)])

    assert outcome.result is ProbeResult.UNAVAILABLE
    assert outcome.detail.startswith("core: ")
    assert "no answer" in outcome.detail or "cannot connect" in outcome.detail


def test_tcp_is_unavailable_on_a_switch_and_nothing_is_dialled(tmp_path: Path) -> None:
    inventory = _one_device_inventory(tmp_path, "cisco_nxos")
    dialled: list[str] = []

    def connect(inv: Inventory, device: str, driver: Driver, timeout: float) -> Session:
        dialled.append(device)
        raise AssertionError("nothing to send: no login")

    rt = Runtime(inventory=inventory, journal_path=tmp_path / "j", connect=connect)
    probes = [Probe(name="web", from_device="core", to=TO, port=443)]

    [outcome] = run_device_probes(rt, probes)

    assert outcome.result is ProbeResult.UNAVAILABLE
    assert outcome.detail == "cisco_nxos's CLI cannot send TCP port 443"
    assert dialled == []


def test_a_device_unknown_or_a_probe_of_another_kind_is_unavailable(tmp_path: Path) -> None:
    inventory = _one_device_inventory(tmp_path, "cisco_nxos")
    rt = Runtime(inventory=inventory, journal_path=tmp_path / "j")
    probes = [
        Probe(name="gone", from_device="nowhere", to=TO),
        Probe(name="ns", from_netns="iso-dc-host", to=TO),
    ]

    outcomes = run_device_probes(rt, probes)

    assert [o.result for o in outcomes] == [ProbeResult.UNAVAILABLE] * 2
    assert outcomes[0].detail == "no device nowhere in the inventory"
    assert outcomes[1].detail == "sent from the netns iso-dc-host, not a device"


class _Refusing:
    """A session whose device refuses the ping and whose commands are recorded."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.sent: list[str] = []
        self.closed = False

    def send_command(self, command: str, **_: object) -> str:
        self.sent.append(command)
        return self.answer

    def send_config(self, commands: object) -> str:
        raise AssertionError("a probe changes no configuration")

    def commit(self, **_: object) -> str:
        raise AssertionError("a probe commits nothing")

    def prompt(self) -> str:
        return "core#"

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    "answer",
    ["% Invalid command at '^' marker.", "", "ping: bad source address"],
)
def test_an_answer_the_driver_cannot_read_is_unavailable_never_a_verdict(
    tmp_path: Path, answer: str
) -> None:
    inventory = _one_device_inventory(tmp_path, "cisco_nxos")
    session = _Refusing(answer)
    rt = Runtime(inventory=inventory, journal_path=tmp_path / "j", connect=lambda *a: session)

    [outcome] = run_device_probes(rt, [Probe(name="p", from_device="core", to=TO)])

    assert outcome.result is ProbeResult.UNAVAILABLE
    assert "no BSD ping summary" in outcome.detail
    assert session.sent == [f"ping {TO} count {COUNT}"]
    assert session.closed


def test_frr_without_an_interruptible_session_is_unavailable(tmp_path: Path) -> None:
    inventory = _one_device_inventory(tmp_path, "frr")
    session = _Refusing("")
    rt = Runtime(inventory=inventory, journal_path=tmp_path / "j", connect=lambda *a: session)

    [outcome] = run_device_probes(rt, [Probe(name="p", from_device="core", to=TO)])

    assert outcome.result is ProbeResult.UNAVAILABLE
    assert outcome.detail == "core: this session cannot interrupt a ping"
    assert session.sent == []


def test_a_login_refused_is_unavailable_with_the_device_s_reason(tmp_path: Path) -> None:
    inventory = _one_device_inventory(tmp_path, "linux")

    def connect(inv: Inventory, device: str, driver: Driver, timeout: float) -> Session:
        raise DeviceError(device, "HOST KEY MISMATCH for 127.0.0.1")

    rt = Runtime(inventory=inventory, journal_path=tmp_path / "j", connect=connect)

    [outcome] = run_device_probes(rt, [Probe(name="p", from_device="core", to=TO)])

    assert outcome.result is ProbeResult.UNAVAILABLE
    assert outcome.detail == "core: HOST KEY MISMATCH for 127.0.0.1"


def _one_device_inventory(tmp_path: Path, platform: str) -> Inventory:
    key = tmp_path / "id_ed25519"
    # A real owner-only key: runs refuse any other before a session opens (#10 item 11).
    generate_login_key(key)
    (tmp_path / "known_hosts").write_text("")
    (tmp_path / "inventory.yaml").write_text(
        "name: probes\nknown_hosts: known_hosts\n"
        f"credentials: {{ops: {{username: ops, key_file: {key}}}}}\n"
        "sites: {dc: {}}\n"
        f"devices: {{core: {{site: dc, role: switch, platform: {platform}, host: 127.0.0.1, "
        "port: 22, credential: ops}}\nlinks: {}\n"
    )
    return load_inventory(tmp_path / "inventory.yaml")


@pytest.mark.parametrize(
    ("kind", "source"),
    [
        ("juniper_junos", None),
        ("juniper_junos", "198.18.0.1"),
        ("paloalto_panos", None),
        ("paloalto_panos", "198.18.0.1"),
        ("alcatel_aos", None),
        ("alcatel_aos", "vlan10"),
        ("fortinet", None),
        ("fortinet", "198.18.0.1"),
    ],
)
def test_junos_panos_omniswitch_and_fortios_answer_their_own_ping_syntax(
    emulate: Emulate, login_key: LoginKey, tmp_path: Path, kind: str, source: str | None
) -> None:
    device_class = PROFILES[kind]
    rt, emu = _runtime(emulate, login_key, tmp_path, (device_class, "dev"))
    pinger = ScriptedPinger((1, 3))
    emu.device("dev").pinger = pinger

    [outcome] = run_device_probes(rt, [Probe(name="p", from_device="dev", source=source, to=TO)])

    assert (outcome.result, outcome.detail) == (ProbeResult.PASSES, "dev: 2/3 replies")
    assert pinger.asked == [(str(TO), source, COUNT)]


class _Interruptible(_Refusing):
    """An FRR vtysh session: `ping X` runs until Ctrl-C."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.interrupted: list[tuple[str, float]] = []

    def send_interrupted(self, command: str, *, after: float) -> str:
        self.interrupted.append((command, after))
        return self.answer


def test_frr_ping_is_interrupted_after_its_count_and_read(tmp_path: Path) -> None:
    data = Path(__file__).resolve().parents[1] / "data" / "ping" / "frr"
    inventory = _one_device_inventory(tmp_path, "frr")
    session = _Interruptible((data / "loss_interrupted.txt").read_text())
    rt = Runtime(inventory=inventory, journal_path=tmp_path / "j", connect=lambda *a: session)

    [outcome] = run_device_probes(rt, [Probe(name="p", from_device="core", to=TO)])

    assert (outcome.result, outcome.detail) == (ProbeResult.BLOCKED, "core: 0/5 replies")
    assert session.interrupted == [(f"ping {TO}", COUNT + 0.5)]
    assert session.sent == []
