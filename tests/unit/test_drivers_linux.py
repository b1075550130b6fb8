"""LinuxDriver on the `ip -j link` and `nft -j` outputs recorded from the lab, used as they are."""

from __future__ import annotations

import json
import re
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from isolement.drivers.base import AllowTarget, CutTarget, Flow
from isolement.drivers.linux import LinuxDriver, NftRule
from isolement.model.errors import UnexpectedOutput
from isolement.model.state import CutMethod, DeviceState

LINUX = Path(__file__).resolve().parents[1] / "data" / "linux"

IP_LINK = (LINUX / "ip_link.json").read_text()
NFT_TABLE_CUT = (LINUX / "nft_table_cut.json").read_text()
EMPTY_TABLE = '{"nftables": []}'

# One `nft '<statements>'` invocation with its failure marker, as the driver renders it.
_NFT = re.compile(r"""^nft '(?P<body>[^'\n]*)' \|\| echo "isolement-failed: exit \$\?"$""")


def _statements(command: str) -> list[str]:
    match = _NFT.fullmatch(command)
    assert match, f"not one nft invocation: {command!r}"
    return match["body"].split("; ")


def _recorded_state() -> DeviceState:
    return LinuxDriver.parse_state(IP_LINK, NFT_TABLE_CUT)


def test_denies_of_the_cut_interface_are_chain_slash_handle() -> None:
    denies = _recorded_state().denies

    assert denies["out0"] == ["input/4", "forward/5", "forward/6", "output/7"]
    assert all(re.fullmatch(r"(input|forward|output)/\d+", rule) for rule in denies["out0"])


def test_only_interfaces_with_isolement_rules_have_denies() -> None:
    assert list(_recorded_state().denies) == ["out0"]


def test_interfaces_come_from_ip_link_with_their_up_flag() -> None:
    assert _recorded_state().interfaces == {"lo": True, "mgmt0": True, "in0": True, "out0": True}


def test_interface_without_up_flag_is_admin_down() -> None:
    links = IP_LINK.replace(
        '"ifname":"in0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"]',
        '"ifname":"in0","flags":["BROADCAST","MULTICAST"]',
    )
    assert links != IP_LINK

    assert LinuxDriver.parse_state(links, EMPTY_TABLE).interfaces["in0"] is False


def test_empty_table_gives_no_denies() -> None:
    assert LinuxDriver.parse_state(IP_LINK, EMPTY_TABLE).denies == {}


def test_rules_without_isolement_comment_are_not_denies() -> None:
    foreign = NFT_TABLE_CUT.replace('"comment": "isolement out0 inet-h1"', '"comment": "admin"')
    assert foreign != NFT_TABLE_CUT

    assert LinuxDriver.parse_state(IP_LINK, foreign).denies == {}


@pytest.mark.parametrize(
    ("links", "table"),
    [
        pytest.param(IP_LINK[: len(IP_LINK) // 2], EMPTY_TABLE, id="truncated-ip-link"),
        pytest.param(IP_LINK, NFT_TABLE_CUT[: len(NFT_TABLE_CUT) // 2], id="truncated-nft"),
        pytest.param("", EMPTY_TABLE, id="empty-ip-link"),
        pytest.param(IP_LINK, "", id="empty-nft"),
        pytest.param(IP_LINK, "Error: No such file or directory", id="nft-error-text"),
        pytest.param(IP_LINK, '{"tables": []}', id="no-nftables-key"),
        pytest.param(IP_LINK, "[]", id="nft-not-an-object"),
    ],
)
def test_malformed_json_raises_unexpected_output(links: str, table: str) -> None:
    with pytest.raises(UnexpectedOutput):
        LinuxDriver.parse_state(links, table)


def test_find_error_recognises_the_recorded_nft_failure() -> None:
    output = (LINUX / "nft_error_output.txt").read_text()

    assert LinuxDriver().find_error(output) is not None


def test_find_error_is_none_on_the_recorded_json() -> None:
    assert LinuxDriver().find_error(IP_LINK + "\n" + NFT_TABLE_CUT) is None


def test_cut_renders_the_rules_the_lab_table_holds() -> None:
    """The cut's rules are the four recorded in the lab's table after a cut of out0."""
    [command] = LinuxDriver().render_cut([CutTarget("inet-h1", "out0", CutMethod.DENY)]).lines
    rules = [s for s in _statements(command) if s.startswith("add rule ")]

    assert rules == [
        'add rule inet isolement input iifname "out0" drop comment "isolement out0 inet-h1"',
        'add rule inet isolement forward iifname "out0" drop comment "isolement out0 inet-h1"',
        'add rule inet isolement forward oifname "out0" drop comment "isolement out0 inet-h1"',
        'add rule inet isolement output oifname "out0" drop comment "isolement out0 inet-h1"',
    ]


def _two_cut_state() -> DeviceState:
    """The recorded cut of out0, plus a second cut of in0 (rules 8-11) in the same table."""
    return DeviceState(
        interfaces=_recorded_state().interfaces,
        denies={
            **_recorded_state().denies,
            "in0": ["input/8", "forward/9", "forward/10", "output/11"],
        },
    )


def test_restore_deletes_exactly_the_rules_of_the_restored_interface() -> None:
    state = _two_cut_state()

    [command] = (
        LinuxDriver().render_restore([CutTarget("inet-h1", "out0", CutMethod.DENY)], state).lines
    )

    assert _statements(command) == [
        "delete rule inet isolement input handle 4",
        "delete rule inet isolement forward handle 5",
        "delete rule inet isolement forward handle 6",
        "delete rule inet isolement output handle 7",
    ]


def test_restore_keeps_the_table_while_another_cut_remains() -> None:
    state = _two_cut_state()

    [command] = (
        LinuxDriver().render_restore([CutTarget("inet-h1", "out0", CutMethod.DENY)], state).lines
    )

    assert "delete table" not in command


def test_restore_of_every_cut_deletes_the_whole_table() -> None:
    state = _two_cut_state()
    targets = [
        CutTarget("inet-h1", "out0", CutMethod.DENY),
        CutTarget("lan-h1", "in0", CutMethod.DENY),
    ]

    [command] = LinuxDriver().render_restore(targets, state).lines

    assert _statements(command) == ["delete table inet isolement"]


def test_restore_of_the_only_cut_deletes_the_whole_table() -> None:
    [command] = (
        LinuxDriver()
        .render_restore([CutTarget("inet-h1", "out0", CutMethod.DENY)], _recorded_state())
        .lines
    )

    assert _statements(command) == ["delete table inet isolement"]


def test_restore_of_an_interface_without_rules_sends_nothing() -> None:
    commands = (
        LinuxDriver()
        .render_restore([CutTarget("lan-h1", "in0", CutMethod.DENY)], _recorded_state())
        .lines
    )

    assert commands == []


# --- reconnection bubbles: allow rules ----------------------------------------------------------

H1_LAN = IPv4Network("198.18.20.0/24")
PORTAL = IPv4Network("198.18.250.10/32")
_ALLOW_COMMENT = "isolement-allow out0 health-portal inet-h1"


def _allow_rule(handle: int, key: str, comment: str = _ALLOW_COMMENT) -> dict[str, object]:
    """An accept rule as `nft -j` lists it (the match expressions abridged: not parsed)."""
    return {
        "rule": {
            "family": "inet",
            "table": "isolement",
            "chain": "forward",
            "handle": handle,
            "comment": comment,
            "expr": [
                {"match": {"op": "==", "left": {"meta": {"key": key}}, "right": "out0"}},
                {"accept": None},
            ],
        }
    }


def _table_with_bubble() -> str:
    """The recorded cut of out0, with the health-portal bubble inserted at the head of the
    forward chain (handles 8 then 9, each inserted ahead of the one before)."""
    items = json.loads(NFT_TABLE_CUT)["nftables"]
    first_forward = next(
        i for i, item in enumerate(items) if item.get("rule", {}).get("chain") == "forward"
    )
    items[first_forward:first_forward] = [
        _allow_rule(9, "iifname"),
        _allow_rule(8, "oifname"),
    ]
    return json.dumps({"nftables": items})


def _bubble_state(**extra_allows: dict[str, list[str]]) -> DeviceState:
    """The recorded cut of out0 with the health-portal bubble open through it."""
    return DeviceState(
        interfaces=_recorded_state().interfaces,
        denies=_recorded_state().denies,
        allows={"out0": {"health-portal": ["forward/9", "forward/8"]}, **extra_allows},
    )


def _allow(*flows: Flow, stage: str = "health-portal") -> AllowTarget:
    return AllowTarget("inet-h1", "out0", stage, flows)


def test_allow_of_icmp_matches_the_protocol_and_no_port() -> None:
    [command] = LinuxDriver().render_allow([_allow(Flow("icmp", H1_LAN, PORTAL))]).lines

    assert _statements(command) == [
        'insert rule inet isolement forward oifname "out0" ip saddr 198.18.20.0/24 '
        f'ip daddr 198.18.250.10/32 ip protocol icmp accept comment "{_ALLOW_COMMENT}"',
        'insert rule inet isolement forward iifname "out0" ip saddr 198.18.250.10/32 '
        "ip daddr 198.18.20.0/24 ip protocol icmp ct state established,related "
        f'accept comment "{_ALLOW_COMMENT}"',
    ]


def test_allow_of_tcp_without_port_matches_every_tcp_port() -> None:
    [command] = LinuxDriver().render_allow([_allow(Flow("tcp", H1_LAN, PORTAL))]).lines

    assert _statements(command) == [
        'insert rule inet isolement forward oifname "out0" ip saddr 198.18.20.0/24 '
        f'ip daddr 198.18.250.10/32 meta l4proto tcp accept comment "{_ALLOW_COMMENT}"',
        'insert rule inet isolement forward iifname "out0" ip saddr 198.18.250.10/32 '
        "ip daddr 198.18.20.0/24 meta l4proto tcp ct state established,related "
        f'accept comment "{_ALLOW_COMMENT}"',
    ]


def test_allow_of_udp_with_port_matches_dport_out_and_sport_back() -> None:
    [command] = LinuxDriver().render_allow([_allow(Flow("udp", H1_LAN, PORTAL, 53))]).lines

    out, back = _statements(command)
    assert 'oifname "out0" ip saddr 198.18.20.0/24 ip daddr 198.18.250.10/32 udp dport 53 ' in out
    assert 'iifname "out0" ip saddr 198.18.250.10/32 ip daddr 198.18.20.0/24 udp sport 53 ' in back


def test_allow_rules_are_inserted_ahead_of_the_drops_never_appended() -> None:
    flows = (Flow("tcp", H1_LAN, PORTAL, 80), Flow("icmp", H1_LAN, PORTAL))
    [command] = LinuxDriver().render_allow([_allow(*flows)]).lines

    statements = _statements(command)
    assert len(statements) == 4  # two directions per flow
    assert all(s.startswith("insert rule inet isolement forward ") for s in statements)


def test_allow_with_no_flow_sends_nothing() -> None:
    assert LinuxDriver().render_allow([_allow()]).lines == []


def test_allow_rules_are_read_back_per_interface_and_stage() -> None:
    state = LinuxDriver.parse_state(IP_LINK, _table_with_bubble())

    assert state.allows == {"out0": {"health-portal": ["forward/9", "forward/8"]}}


def test_allow_rules_are_not_taken_for_denies() -> None:
    state = LinuxDriver.parse_state(IP_LINK, _table_with_bubble())

    assert state.denies == {"out0": ["input/4", "forward/5", "forward/6", "output/7"]}


def test_allow_rules_of_two_stages_are_kept_apart() -> None:
    items = json.loads(_table_with_bubble())["nftables"]
    items.append(_allow_rule(10, "oifname", "isolement-allow out0 later inet-h1"))

    state = LinuxDriver.parse_state(IP_LINK, json.dumps({"nftables": items}))

    assert state.allows == {
        "out0": {"health-portal": ["forward/9", "forward/8"], "later": ["forward/10"]}
    }


def test_cut_through_an_open_bubble_deletes_its_allows_and_adds_no_second_drop() -> None:
    [command] = (
        LinuxDriver()
        .render_cut([CutTarget("inet-h1", "out0", CutMethod.DENY)], _bubble_state())
        .lines
    )

    statements = _statements(command)
    assert [s for s in statements if s.startswith(("add rule", "delete "))] == [
        "delete rule inet isolement forward handle 9",
        "delete rule inet isolement forward handle 8",
    ]


def test_cut_with_a_state_and_no_bubble_adds_the_drops() -> None:
    """The state alone changes nothing for an interface not yet cut."""
    state = DeviceState(interfaces=_recorded_state().interfaces)

    [command] = (
        LinuxDriver().render_cut([CutTarget("inet-h1", "out0", CutMethod.DENY)], state).lines
    )

    assert (
        command == LinuxDriver().render_cut([CutTarget("inet-h1", "out0", CutMethod.DENY)]).lines[0]
    )


def test_cut_leaves_a_bubble_through_another_interface_open() -> None:
    state = _bubble_state(in0={"other": ["forward/20"]})

    [command] = (
        LinuxDriver().render_cut([CutTarget("inet-h1", "out0", CutMethod.DENY)], state).lines
    )

    assert "handle 20" not in command


def test_restore_through_an_open_bubble_deletes_denies_and_allows_of_the_interface() -> None:
    state = DeviceState(
        interfaces=_recorded_state().interfaces,
        denies={**_bubble_state().denies, "in0": ["input/12", "forward/13"]},
        allows=_bubble_state().allows,
    )

    [command] = (
        LinuxDriver().render_restore([CutTarget("inet-h1", "out0", CutMethod.DENY)], state).lines
    )

    assert _statements(command) == [
        "delete rule inet isolement input handle 4",
        "delete rule inet isolement forward handle 5",
        "delete rule inet isolement forward handle 6",
        "delete rule inet isolement output handle 7",
        "delete rule inet isolement forward handle 9",
        "delete rule inet isolement forward handle 8",
    ]


def test_restore_of_the_only_cut_with_its_bubble_deletes_the_whole_table() -> None:
    [command] = (
        LinuxDriver()
        .render_restore([CutTarget("inet-h1", "out0", CutMethod.DENY)], _bubble_state())
        .lines
    )

    assert _statements(command) == ["delete table inet isolement"]


def test_restore_keeps_the_table_while_a_bubble_of_another_interface_remains() -> None:
    state = _bubble_state(in0={"other": ["forward/20"]})

    [command] = (
        LinuxDriver().render_restore([CutTarget("inet-h1", "out0", CutMethod.DENY)], state).lines
    )

    assert "delete table" not in command
    assert "handle 20" not in command


def test_restore_of_an_interface_holding_only_a_bubble_deletes_it() -> None:
    state = DeviceState(interfaces=_recorded_state().interfaces, allows=_bubble_state().allows)

    [command] = (
        LinuxDriver().render_restore([CutTarget("inet-h1", "out0", CutMethod.DENY)], state).lines
    )

    assert _statements(command) == ["delete table inet isolement"]


def test_a_rule_id_reads_back_as_the_chain_and_handle_nftables_deletes_it_by() -> None:
    rule = NftRule.parse("forward/12")

    assert rule == NftRule("forward", 12)
    assert str(rule) == "forward/12"
    assert rule.delete() == "delete rule inet isolement forward handle 12"
