"""CiscoIosDriver on recorded IOS answers: state parsing and error recognition, no device.

The recorded files in tests/data/cisco_ios/ are written in the exact shape of real IOS captures
(see tests/data/cisco_ios/README.md for where each shape comes from).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ntc_templates.parse import parse_output
from shared_captures import capture

from isolement.drivers import cisco_ios, ntc
from isolement.drivers.cisco_ios import CiscoIosDriver, interface_name
from isolement.model.errors import UnexpectedOutput

DATA = Path(__file__).resolve().parents[1] / "data"
IOS = DATA / "cisco_ios"

ROUTER = (IOS / "show_ip_interface_brief_router.txt").read_text()
SWITCH = (IOS / "show_ip_interface_brief_switch.txt").read_text()


def test_administratively_down_is_admin_down() -> None:
    state = CiscoIosDriver.parse_interface_brief(ROUTER)

    assert state.interfaces["GigabitEthernet0/0/1"] is False
    assert state.interfaces["Tunnel1"] is False
    assert state.interfaces["Vlan1"] is False


def test_status_up_is_admin_up() -> None:
    state = CiscoIosDriver.parse_interface_brief(ROUTER)

    assert state.interfaces["GigabitEthernet0/0/0"] is True
    assert state.interfaces["Loopback0"] is True
    # Status up, protocol down: the line protocol is down, the interface is not shut.
    assert state.interfaces["Tunnel0"] is True


def test_status_down_is_still_admin_up() -> None:
    # "down" in the Status column is the link, not an administrative shutdown.
    state = CiscoIosDriver.parse_interface_brief(ROUTER)

    assert state.interfaces["GigabitEthernet0/0/2"] is True
    assert state.interfaces["GigabitEthernet0/0/2.10"] is True


def test_every_router_interface_is_listed() -> None:
    state = CiscoIosDriver.parse_interface_brief(ROUTER)

    assert list(state.interfaces) == [
        "GigabitEthernet0/0/0",
        "GigabitEthernet0/0/1",
        "GigabitEthernet0/0/2",
        "GigabitEthernet0/0/2.10",
        "GigabitEthernet0",
        "Loopback0",
        "Tunnel0",
        "Tunnel1",
        "Vlan1",
    ]


def test_every_switch_interface_is_listed_despite_timestamp_lines() -> None:
    state = CiscoIosDriver.parse_interface_brief(SWITCH)

    assert state.interfaces == {
        "Vlan1": False,
        "Vlan10": True,
        "Vlan20": True,
        "GigabitEthernet1/0/1": True,
        "GigabitEthernet1/0/2": True,
        "GigabitEthernet1/0/3": False,
        "GigabitEthernet1/1/1": True,
        "Port-channel1": True,
        "Loopback0": True,
    }


@pytest.mark.parametrize("recording", sorted(p.name for p in IOS.glob("*.txt")))
def test_cached_template_parses_as_ntc_templates_does(recording: str) -> None:
    """The driver's cached template gives the rows ntc-templates' parse_output gives, keys and
    values, on every recorded output (tables, and dialogues that hold none)."""
    output = (IOS / recording).read_text()
    expected = parse_output(platform="cisco_ios", command="show ip interface brief", data=output)

    assert ntc.parse(cisco_ios._BRIEF_TEMPLATE, output) == expected


def test_template_is_read_once_and_parsing_keeps_no_state() -> None:
    ntc._template_text.cache_clear()
    first = CiscoIosDriver.parse_interface_brief(ROUTER)
    second = CiscoIosDriver.parse_interface_brief(ROUTER)

    assert first == second  # a TextFSM is stateful: a shared one would carry rows over
    assert ntc._template_text.cache_info().misses == 1


def test_parsed_state_has_no_deny_rules() -> None:
    assert CiscoIosDriver.parse_interface_brief(ROUTER).denies == {}


@pytest.mark.parametrize(
    "output",
    [
        pytest.param(
            "show ip interface brief\n                ^\n% Invalid input detected at '^' marker.\n",
            id="command-refused",
        ),
        pytest.param(
            "Interface              IP-Address      OK? Method Status                Protocol\n",
            id="header-only",
        ),
        pytest.param((DATA / "frr" / "show_interface_brief.txt").read_text(), id="frr-table"),
        pytest.param("Connection closed by foreign host.\n", id="garbage"),
    ],
)
def test_unrecognised_output_raises_unexpected_output(output: str) -> None:
    with pytest.raises(UnexpectedOutput):
        CiscoIosDriver.parse_interface_brief(output)


@pytest.mark.parametrize(
    ("recording", "expected"),
    [
        ("config_invalid_input.txt", "% Invalid input detected at '^' marker."),
        ("config_incomplete_command.txt", "% Incomplete command."),
        ("config_ambiguous_command.txt", '% Ambiguous command:  "i"'),
    ],
)
def test_find_error_returns_the_ios_error_line(recording: str, expected: str) -> None:
    assert CiscoIosDriver().find_error((IOS / recording).read_text()) == expected


def test_find_error_is_none_on_a_clean_config_dialogue() -> None:
    assert CiscoIosDriver().find_error((IOS / "config_clean.txt").read_text()) is None


def test_find_error_ignores_log_messages_without_timestamps() -> None:
    # With `no service timestamps log`, IOS log messages start the line with `%` themselves.
    clean = (IOS / "config_clean.txt").read_text()
    untimestamped = re.sub(r"^\*[^%]*: (?=%)", "", clean, flags=re.MULTILINE)
    assert "\n%LINK-5-CHANGED:" in untimestamped

    assert CiscoIosDriver().find_error(untimestamped) is None


# --- IOS-XE abbreviations -----------------------------------------------------------------------

# genieparser's IOS-XE ISR 4000 capture (../shared/captures): `Te0/0/4`, `Te0/0/5`, `Tw0/1/0`.
ISR4K = "cisco_ios/genie_iosxe_golden.raw"


def test_abbreviated_names_are_given_the_configurations_spelling() -> None:
    brief = capture(ISR4K)
    assert re.search(r"^Te0/0/4\s", brief, re.M) and re.search(r"^Tw0/1/0\s", brief, re.M)

    state = CiscoIosDriver.parse_interface_brief(brief)

    assert state.interfaces["TenGigabitEthernet0/0/4"] is True
    assert state.interfaces["TenGigabitEthernet0/0/5"] is True  # `down`: no link, not shut
    assert state.interfaces["TwoGigabitEthernet0/1/0"] is True
    assert state.interfaces["ucse1/0/0"] is False  # never abbreviated: kept as printed
    assert not {name for name in state.interfaces if re.match(r"(Te|Tw)\d", name)}
    # Names printed in full stay as they are.
    assert state.interfaces["GigabitEthernet0/0/0"] is True


@pytest.mark.parametrize(
    ("short", "full"),
    [
        ("Te0/0/4", "TenGigabitEthernet0/0/4"),
        ("Tw0/1/0", "TwoGigabitEthernet0/1/0"),
        ("Twe1/0/1", "TwentyFiveGigE1/0/1"),
        ("Fo1/0/1", "FortyGigabitEthernet1/0/1"),
        ("Hu1/0/1", "HundredGigE1/0/1"),
        ("Gi1/0/1.10", "GigabitEthernet1/0/1.10"),
    ],
)
def test_either_spelling_gives_the_configurations_one(short: str, full: str) -> None:
    assert interface_name(short) == full
    assert interface_name(full) == full


@pytest.mark.parametrize("name", ["Loopback0", "Tunnel2000000001", "Vlan1", "NVI0", "Team0"])
def test_names_that_are_no_abbreviation_are_kept(name: str) -> None:
    assert interface_name(name) == name
