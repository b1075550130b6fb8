"""The lab's emulated ping: what the node's real ping did, rendered in each platform's layout
(read back by the platform's driver), and the pings the node refuses to send."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from isolement.lab.emulator import Echoes, Reply
from isolement.lab.node import NamespacePinger
from isolement.lab.profiles import ping_layouts

from isolement.drivers import driver_for
from isolement.drivers.base import PingReply

PARTIAL = Echoes("198.18.20.10", "198.18.10.1", 5, (Reply(2, 63, 0.41), Reply(5, 63, 1.7)))
NONE = Echoes("198.18.20.10", None, 3, ())

LAYOUTS: list[tuple[str, Callable[[Echoes], list[str]]]] = [
    ("cisco_ios", ping_layouts.cisco),
    ("cisco_asa", ping_layouts.cisco),
    ("cisco_nxos", lambda e: ping_layouts.bsd(e, loss_decimals=2, timeouts=True)),
    ("juniper_junos", lambda e: ping_layouts.bsd(e, rapid=True, stddev=True)),
    ("aruba_aoscx", ping_layouts.iputils),
    ("paloalto_panos", ping_layouts.iputils),
    ("alcatel_aos", ping_layouts.omniswitch),
    ("fortinet", lambda e: ping_layouts.bsd(e, digits=1)),
]


@pytest.mark.parametrize(("platform", "layout"), LAYOUTS, ids=[p for p, _ in LAYOUTS])
def test_each_layout_reads_back_as_what_the_real_ping_did(
    platform: str, layout: Callable[[Echoes], list[str]]
) -> None:
    driver = driver_for(platform)

    assert driver.parse_ping("\n".join(layout(PARTIAL))) == PingReply(5, 2)
    assert driver.parse_ping("\n".join(layout(NONE))) == PingReply(3, 0)


def test_the_cisco_layout_marks_which_requests_were_answered() -> None:
    lines = ping_layouts.cisco(PARTIAL)

    assert lines[2] == "Packet sent with a source address of 198.18.10.1"
    assert lines[3] == ".!..!"
    assert lines[4] == "Success rate is 40 percent (2/5), round-trip min/avg/max = 0/1/2 ms"


@pytest.mark.parametrize(
    ("to", "source", "error"),
    [
        ("192.0.2.1", None, "192.0.2.1 is outside the lab"),
        ("8.8.8.8", None, "8.8.8.8 is outside the lab"),
        ("198.18.20.10", "1/1/3", "1/1/3 has no IP address"),
        ("not-an-address", None, "not an address: not-an-address"),
    ],
)
def test_the_node_refuses_a_ping_it_must_not_send_and_sends_nothing(
    monkeypatch: pytest.MonkeyPatch, to: str, source: str | None, error: str
) -> None:
    def run(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        raise AssertionError("no ping may be sent")

    monkeypatch.setattr(subprocess, "run", run)
    pinger = NamespacePinger({"1/1/1": "198.18.102.2"})

    echoes = pinger.ping(to, source, 3)

    assert (echoes.sent, echoes.replies, echoes.error) == (0, (), error)


def test_the_node_pings_from_the_named_interface_s_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[list[str]] = []
    output = (
        "PING 198.18.10.10 (198.18.10.10) from 198.18.102.2 : 56(84) bytes of data.\n"
        "64 bytes from 198.18.10.10: icmp_seq=2 ttl=62 time=0.213 ms\n\n"
        "--- 198.18.10.10 ping statistics ---\n"
        "3 packets transmitted, 1 received, 66.6667% packet loss, time 404ms\n"
    )

    def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        sent.append(command)
        return subprocess.CompletedProcess(command, 1, output, "")

    monkeypatch.setattr(subprocess, "run", run)

    echoes = NamespacePinger({"1/1/1": "198.18.102.2"}).ping("198.18.10.10", "1/1/1", 3)

    assert sent == [
        ["ping", "-n", "-c", "3", "-i", "0.2", "-W", "1", "-I", "198.18.102.2", "198.18.10.10"]
    ]
    assert echoes == Echoes("198.18.10.10", "198.18.102.2", 3, (Reply(2, 62, 0.213),))


def test_the_fortios_layout_is_the_recorded_one() -> None:
    # tests/data/ping/fortinet/success_options.txt: two replies, times to one decimal.
    recorded = Path(__file__).resolve().parents[1] / "data" / "ping" / "fortinet"
    echoes = Echoes("8.8.8.8", None, 2, (Reply(1, 61, 10.3), Reply(2, 61, 10.2)))

    lines = ping_layouts.bsd(echoes, digits=1)

    assert lines == (recorded / "success_options.txt").read_text().splitlines()
