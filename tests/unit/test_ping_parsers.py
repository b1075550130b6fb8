"""Each platform's ping reply, read from real recorded outputs (tests/data/ping/, SOURCES.md
names where each comes from), and each platform's ping command."""

from __future__ import annotations

import os
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from isolement.drivers import PLATFORMS, driver_for
from isolement.drivers.base import PingReply
from isolement.model.errors import UnexpectedOutput

DATA = Path(__file__).resolve().parents[1] / "data" / "ping"

# platform, file, (sent, received): the numbers the output itself states.
RECORDED = [
    ("cisco_ios", "success_source.txt", (10, 10)),
    ("cisco_ios", "loss.txt", (5, 0)),
    ("cisco_ios", "loss_iol.txt", (5, 0)),
    ("cisco_ios", "partial.txt", (5, 4)),
    # IOS-XE's ping is IOS's layout: the success above is an IOS-XE capture (genieparser's
    # iosxe corpus); the loss is napalm's IOS one, whose ios driver also drives IOS-XE.
    ("cisco_xe", "../cisco_ios/success_source.txt", (10, 10)),
    ("cisco_xe", "../cisco_ios/loss.txt", (5, 0)),
    ("cisco_nxos", "success_source.txt", (11, 11)),
    ("cisco_nxos", "loss_source.txt", (11, 0)),
    ("juniper_junos", "success.txt", (5, 5)),
    ("juniper_junos", "success_source_interrupted.txt", (5, 5)),
    ("juniper_junos", "loss_documented.txt", (5, 0)),
    ("fortinet", "success_options.txt", (2, 2)),
    ("fortinet", "success_aws.txt", (2, 2)),
    ("fortinet", "loss_documented.txt", (5, 0)),
    ("paloalto_panos", "success_source.txt", (4, 4)),
    # PAN-OS's management-plane ping is Linux iputils: its losses read as Linux's.
    ("paloalto_panos", "../linux/loss_cut.txt", (3, 0)),
    ("cisco_asa", "success.txt", (5, 5)),
    ("cisco_asa", "loss_documented.txt", (5, 0)),
    ("aruba_aoscx", "success.txt", (5, 5)),
    ("aruba_aoscx", "loss_unreachable.txt", (5, 0)),
    ("aruba_aoscx", "success_openswitch_bsd.txt", (5, 5)),
    ("alcatel_aos", "success_documented.txt", (3, 3)),
    ("alcatel_aos", "loss_documented.txt", (3, 0)),
    ("linux", "success_source.txt", (3, 3)),
    ("linux", "loss_cut.txt", (3, 0)),
    ("linux", "loss_errors.txt", (3, 0)),
    ("frr", "success_interrupted.txt", (3, 3)),
    ("frr", "loss_interrupted.txt", (5, 0)),
]


@pytest.mark.parametrize(
    ("platform", "name", "expected"), RECORDED, ids=[f"{p}/{n}" for p, n, _ in RECORDED]
)
def test_recorded_ping_outputs_are_read_as_they_state(
    platform: str, name: str, expected: tuple[int, int]
) -> None:
    output = Path(os.path.normpath(DATA / platform / name)).read_text()

    assert driver_for(platform).parse_ping(output) == PingReply(*expected)


def _sends_a_ping(platform: str) -> bool:
    """Whether the driver sends a device-sourced ping at all (AOS-S, Comware and EOS do not
    yet: no layout of theirs is read, so none needs a recording)."""
    command = driver_for(platform).ping_command(
        IPv4Address("198.18.0.1"), source=None, count=1, port=None
    )
    return command is not None


def test_every_platform_has_recorded_outputs_of_success_and_loss() -> None:
    for platform in filter(_sends_a_ping, PLATFORMS):
        cases = [(n, e) for p, n, e in RECORDED if p == platform]
        assert any(received > 0 for _, (_, received) in cases), platform
        assert any(received == 0 for _, (_, received) in cases), platform
    listed = {f"{p}/{n}" for p, n, _ in RECORDED}
    on_disk = {f"{f.parent.name}/{f.name}" for f in DATA.glob("*/*.txt")}
    assert on_disk - listed == {"aruba_aoscx/no_route.txt"}
    sources = (DATA / "SOURCES.md").read_text()
    # Each file is named in SOURCES.md as `| platform `file` |`, with where it comes from.
    unnamed = [n for n in on_disk if "| {} `{}` |".format(*n.split("/")) not in sources]
    assert unnamed == []


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
@pytest.mark.parametrize(
    "answer",
    [
        "",
        "% Invalid input detected at '^' marker.",
        "connect: Network is unreachable",  # AOS-CX's (Linux's) answer without a route
        "ping: sendmsg: Operation not permitted",
        # Two summaries: not one ping's answer, so not read as one.
        "5 packets transmitted, 5 packets received, 0% packet loss\n"
        "5 packets transmitted, 0 packets received, 100% packet loss\n"
        "Success rate is 100 percent (5/5)\nSuccess rate is 0 percent (0/5)\n"
        "5 packets transmitted, 5 received, 0% packet loss\n"
        "5 packets transmitted, 0 received, 100% packet loss\n",
    ],
    ids=["empty", "refused", "no-route", "not-permitted", "two-summaries"],
)
def test_an_answer_that_is_no_ping_result_is_refused_never_guessed(
    platform: str, answer: str
) -> None:
    with pytest.raises(UnexpectedOutput, match="ping"):
        driver_for(platform).parse_ping(answer)


def test_more_replies_than_requests_is_refused() -> None:
    with pytest.raises(UnexpectedOutput, match="3 replies to 2 requests"):
        driver_for("cisco_ios").parse_ping("Success rate is 100 percent (3/2)")


def test_the_aoscx_answer_with_no_route_proves_nothing() -> None:
    output = (DATA / "aruba_aoscx" / "no_route.txt").read_text()
    with pytest.raises(UnexpectedOutput):
        driver_for("aruba_aoscx").parse_ping(output)


TO = IPv4Address("198.18.20.10")

COMMANDS = [
    ("cisco_ios", None, "ping 198.18.20.10 repeat 3"),
    ("cisco_ios", "Loopback0", "ping 198.18.20.10 source Loopback0 repeat 3"),
    ("cisco_nxos", "198.18.10.1", "ping 198.18.20.10 count 3 source 198.18.10.1"),
    ("cisco_nxos", "Ethernet1/3", "ping 198.18.20.10 count 3 source-interface Ethernet1/3"),
    ("aruba_aoscx", "1/1/2", "ping 198.18.20.10 repetitions 3 source 1/1/2"),
    ("juniper_junos", "198.18.60.1", "ping 198.18.20.10 count 3 source 198.18.60.1 rapid"),
    ("juniper_junos", "ge-0/0/1", "ping 198.18.20.10 count 3 interface ge-0/0/1 rapid"),
    (
        "fortinet",
        "198.18.41.2",
        "execute ping-options reset\nexecute ping-options repeat-count 3\n"
        "execute ping-options source 198.18.41.2\nexecute ping 198.18.20.10",
    ),
    (
        "fortinet",
        None,
        "execute ping-options reset\nexecute ping-options repeat-count 3\n"
        "execute ping 198.18.20.10",
    ),
    ("paloalto_panos", "198.18.51.2", "ping source 198.18.51.2 count 3 host 198.18.20.10"),
    ("paloalto_panos", None, "ping count 3 host 198.18.20.10"),
    ("cisco_asa", "inside", "ping inside 198.18.20.10 repeat 3"),
    ("cisco_asa", None, "ping 198.18.20.10 repeat 3"),
    ("alcatel_aos", "vlan10", "ping 198.18.20.10 count 3 source-interface vlan10"),
    ("linux", "198.18.10.1", "ping -n -q -c 3 -i 0.2 -W 1 -I 198.18.10.1 198.18.20.10"),
    ("frr", None, "ping 198.18.20.10"),
]


@pytest.mark.parametrize(("platform", "source", "expected"), COMMANDS)
def test_each_platform_pings_with_its_own_syntax(
    platform: str, source: str | None, expected: str
) -> None:
    command = driver_for(platform).ping_command(TO, source=source, count=3, port=None)

    assert command == expected


CANNOT = [
    *[(platform, None, 443) for platform in sorted(set(PLATFORMS) - {"linux"})],
    ("frr", "lan0", None),  # vtysh's ping takes no option
    ("paloalto_panos", "ethernet1/2", None),  # `source` takes an address
    ("cisco_asa", "198.18.61.2", None),  # the ASA pings from a nameif
]


@pytest.mark.parametrize(("platform", "source", "port"), CANNOT)
def test_a_probe_the_platform_cannot_send_has_no_command(
    platform: str, source: str | None, port: int | None
) -> None:
    assert driver_for(platform).ping_command(TO, source=source, count=3, port=port) is None


def test_linux_connects_to_a_tcp_port_and_reads_whether_it_opened() -> None:
    driver = driver_for("linux")
    command = driver.ping_command(TO, source=None, count=3, port=443)

    assert command is not None and "/dev/tcp/198.18.20.10/443" in command
    assert driver.parse_ping("isolement-tcp: open\n") == PingReply(1, 1)
    assert driver.parse_ping("isolement-tcp: not open\n") == PingReply(1, 0)
