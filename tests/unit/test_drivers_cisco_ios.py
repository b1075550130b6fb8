"""CiscoIosDriver on real IOS answers: state parsing and error recognition, no device.

`show ip interface brief` is read from the real captures of ../shared/captures (napalm's,
ntc-templates', genieparser's and published lab captures: their manifest names each source);
the configuration dialogues in tests/data/cisco_ios/ are real sessions published by others
(tests/data/cisco_ios/SOURCES.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from ntc_templates.parse import parse_output
from shared_captures import CAPTURES, capture

from isolement.drivers import cisco_ios, ntc
from isolement.drivers.cisco_ios import CiscoIosDriver, interface_name
from isolement.model.errors import UnexpectedOutput

DATA = Path(__file__).resolve().parents[1] / "data"
IOS = DATA / "cisco_ios"


def router() -> str:
    """A pynet ISR4321: a port shut, ports without link, loopbacks, Vlan1 up, protocol down."""
    return capture("cisco_ios/pynet_isr4k_rashmi.raw")


def switch() -> str:
    """A Catalyst switch (napalm's get_facts test): Vlan1 and Port-channel1 shut, a port down."""
    return capture("cisco_ios/napalm_facts_normal.raw")


# A config dialogue refused three ways (pyneng's R1), and a clean cut with its log lines (IOL).
CONFIG_ERRORS = (IOS / "config_errors_pyneng_r1.txt").read_text()
CONFIG_CLEAN = (IOS / "config_shutdown_iol_switch.txt").read_text()


def ios_captures() -> list[str]:
    manifest = CAPTURES / "manifest.json"
    entries = json.loads(manifest.read_text()) if manifest.exists() else []
    return sorted(e["inputs"]["output"] for e in entries if e["parser"] == "ios_brief")


def test_administratively_down_is_admin_down() -> None:
    assert (
        CiscoIosDriver.parse_interface_brief(router()).interfaces["GigabitEthernet0/0/1"] is False
    )
    catalyst = CiscoIosDriver.parse_interface_brief(switch())
    assert catalyst.interfaces["Vlan1"] is False
    assert catalyst.interfaces["Port-channel1"] is False


def test_status_up_is_admin_up() -> None:
    state = CiscoIosDriver.parse_interface_brief(router())

    assert state.interfaces["GigabitEthernet0/0/0"] is True
    assert state.interfaces["Loopback98"] is True
    # Status up, protocol down: the line protocol is down, the interface is not shut.
    assert state.interfaces["Vlan1"] is True


def test_status_down_is_still_admin_up() -> None:
    # "down" in the Status column is the link, not an administrative shutdown.
    assert CiscoIosDriver.parse_interface_brief(router()).interfaces["GigabitEthernet0/1/0"] is True
    assert CiscoIosDriver.parse_interface_brief(switch()).interfaces["GigabitEthernet0/4"] is True


def test_every_router_interface_is_listed() -> None:
    state = CiscoIosDriver.parse_interface_brief(router())

    assert list(state.interfaces) == [
        "GigabitEthernet0/0/0",
        "GigabitEthernet0/0/1",
        "GigabitEthernet0/1/0",
        "GigabitEthernet0/1/1",
        "GigabitEthernet0/1/2",
        "GigabitEthernet0/1/3",
        "Loopback98",
        "Loopback99",
        "Vlan1",
    ]


def test_timestamp_lines_above_the_table_are_not_rows() -> None:
    # `terminal exec prompt timestamp` prints two lines above the table; no real capture with
    # them was found, so they are put above a real one (the lines of IOS's own layout).
    stamped = (
        "Load for five secs: 1%/0%; one minute: 1%; five minutes: 1%\n"
        "Time source is NTP, 14:02:11.349 UTC Sat Nov 23 2024\n\n" + switch()
    )

    assert CiscoIosDriver.parse_interface_brief(stamped) == CiscoIosDriver.parse_interface_brief(
        switch()
    )


@pytest.mark.parametrize("path", ios_captures())
def test_cached_template_parses_as_ntc_templates_does(path: str) -> None:
    """The driver's cached template gives the rows ntc-templates' parse_output gives, keys and
    values, on every real capture of the table."""
    output = capture(path)
    expected = parse_output(platform="cisco_ios", command="show ip interface brief", data=output)

    assert ntc.parse(cisco_ios._BRIEF_TEMPLATE, output) == expected


def test_there_are_real_captures_of_the_table() -> None:
    assert len(ios_captures()) >= 10


def test_template_is_read_once_and_parsing_keeps_no_state() -> None:
    ntc._template_text.cache_clear()
    first = CiscoIosDriver.parse_interface_brief(router())
    second = CiscoIosDriver.parse_interface_brief(router())

    assert first == second  # a TextFSM is stateful: a shared one would carry rows over
    assert ntc._template_text.cache_info().misses == 1


def test_parsed_state_has_no_deny_rules() -> None:
    assert CiscoIosDriver.parse_interface_brief(router()).denies == {}


@pytest.mark.parametrize(
    "output",
    [
        pytest.param(
            lambda: capture("_errors/cisco_ios__no_ipv6_support__show_ipv6_interface.txt"),
            id="command-refused",
        ),
        pytest.param(lambda: router().splitlines()[0] + "\n", id="header-only"),
        pytest.param((DATA / "frr" / "show_interface_brief.txt").read_text, id="frr-table"),
        pytest.param(lambda: CONFIG_CLEAN, id="a-config-dialogue"),
    ],
)
def test_unrecognised_output_raises_unexpected_output(output: Callable[[], str]) -> None:
    with pytest.raises(UnexpectedOutput):
        CiscoIosDriver.parse_interface_brief(output())


def test_find_error_returns_every_ios_error_line_in_order() -> None:
    assert CiscoIosDriver().find_error(CONFIG_ERRORS) == (
        "% Invalid input detected at '^' marker.; % Incomplete command.; "
        '% Ambiguous command:  "a"'
    )


@pytest.mark.parametrize(
    "error",
    [
        "% Invalid input detected at '^' marker.",
        "% Incomplete command.",
        '% Ambiguous command:  "a"',
    ],
)
def test_find_error_finds_each_refusal_alone(error: str) -> None:
    # Each refused line of the recorded dialogue, with the other two removed.
    lines = CONFIG_ERRORS.splitlines()
    kept = [line for line in lines if not line.startswith("%") or line == error]

    assert CiscoIosDriver().find_error("\n".join(kept)) == error


def test_find_error_is_none_on_a_clean_config_dialogue() -> None:
    assert "%LINK-5-CHANGED" in CONFIG_CLEAN

    assert CiscoIosDriver().find_error(CONFIG_CLEAN) is None


def test_find_error_ignores_log_messages_without_timestamps() -> None:
    # With `no service timestamps log`, IOS log messages start the line with `%` themselves.
    untimestamped = re.sub(r"^\*[^%]*: (?=%)", "", CONFIG_CLEAN, flags=re.MULTILINE)
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
