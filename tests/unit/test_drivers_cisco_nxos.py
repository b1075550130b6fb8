"""CiscoNxosDriver on recorded NX-OS answers: state parsing, error recognition, command
rendering; no device. Where each recording comes from: tests/data/cisco_nxos/SOURCES.md."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from ntc_templates.parse import parse_output
from shared_captures import capture

from isolement.drivers import cisco_nxos, ntc
from isolement.drivers.base import CutTarget
from isolement.drivers.cisco_nxos import FACTS, CiscoNxosDriver, long_name
from isolement.model.errors import UnexpectedOutput
from isolement.model.state import CutMethod

NXOS = Path(__file__).resolve().parents[1] / "data" / "cisco_nxos"
BRIEF_N9K = (NXOS / "show_interface_brief_n9k.txt").read_text()
BRIEF_MIXED = (NXOS / "show_interface_brief_mixed.txt").read_text()
BRIEF_FEX = (NXOS / "show_interface_brief_fex.txt").read_text()
BRIEFS = sorted(p.name for p in NXOS.glob("show_interface_brief_*.txt"))
SHOW_INTERFACES = sorted(p.name for p in NXOS.glob("show_interface_*.txt") if p.name not in BRIEFS)


def parse(text: str) -> dict[str, bool | None]:
    return CiscoNxosDriver.parse_interface_brief(text)


# --- show interface brief ----------------------------------------------------------------------


def test_administratively_down_is_admin_down_and_up_is_admin_up() -> None:
    rows = parse(BRIEF_N9K)

    assert rows["Ethernet1/5"] is False
    assert rows["Ethernet1/6"] is False
    assert rows["Ethernet1/1"] is True
    assert rows["Ethernet1/49"] is True
    assert rows["mgmt0"] is True
    assert rows["loopback0"] is True


def test_a_down_without_administratively_down_is_left_to_show_interface() -> None:
    # The brief table gives one reason: a link reason does not say the port is not shut.
    rows = parse(BRIEF_N9K)

    assert rows["Ethernet1/4"] is None  # Link not connected
    assert rows["Ethernet1/51"] is None  # XCVR not inserted


def test_rows_without_a_reason_column_are_left_to_show_interface() -> None:
    assert parse(BRIEF_FEX)["loopback2"] is None
    mixed = parse(BRIEF_MIXED)
    assert mixed["mgmt0"] is None
    assert mixed["Tunnel102"] is None
    assert mixed["Tunnel101"] is True


def test_the_svi_table_says_admin_down_in_full_or_cut_short() -> None:
    assert parse(BRIEF_FEX)["Vlan1"] is False  # "Administratively down"
    assert parse(BRIEF_MIXED)["Vlan1"] is False  # "Admin"
    assert parse(BRIEF_FEX)["Vlan144"] is True


def test_other_down_reasons_are_not_taken_for_a_shutdown() -> None:
    mixed = parse(BRIEF_MIXED)

    assert mixed["Ethernet1/38"] is False  # the only shut port of that switch
    assert mixed["port-channel100"] is None  # No operational members
    assert mixed["Ethernet1/52.111"] is None  # down, reason "none"
    assert mixed["Ethernet1/49"] is None  # SFP not inserted


def test_names_are_given_back_as_the_configuration_spells_them() -> None:
    fex = parse(BRIEF_FEX)

    assert list(fex)[:3] == ["mgmt0", "Ethernet1/1", "Ethernet1/2"]
    for name in (
        "Ethernet2/10.2137",
        "port-channel10.300",
        "port-channel4000",
        "loopback0",
        "Vlan2091",
        "mti3",
        "Ethernet101/1/32",
    ):
        assert name in fex
    assert not [name for name in fex if name.startswith(("Eth1", "Po", "Lo"))]
    assert len(fex) == 110


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("Eth1/3", "Ethernet1/3"),
        ("Eth101/1/32", "Ethernet101/1/32"),
        ("Eth2/10.2137", "Ethernet2/10.2137"),
        ("Po10.300", "port-channel10.300"),
        ("Lo0", "loopback0"),
        ("Vlan1", "Vlan1"),
        ("mgmt0", "mgmt0"),
        ("Tunnel101", "Tunnel101"),
        ("nve1", "nve1"),
    ],
)
def test_long_name(short: str, long: str) -> None:
    assert long_name(short) == long


@pytest.mark.parametrize("recording", BRIEFS)
def test_cached_template_parses_as_ntc_templates_does(recording: str) -> None:
    output = (NXOS / recording).read_text()
    expected = parse_output(platform="cisco_nxos", command="show interface brief", data=output)

    assert ntc.parse(cisco_nxos._BRIEF_TEMPLATE, output) == expected


@pytest.mark.parametrize(
    "output",
    [
        pytest.param("show interface brief\n% Invalid command at '^' marker.\n", id="refused"),
        pytest.param((NXOS / "show_interface_tunnel.txt").read_text(), id="show-interface"),
        pytest.param("Connection closed by foreign host.\n", id="garbage"),
    ],
)
def test_unrecognised_brief_output_raises_unexpected_output(output: str) -> None:
    with pytest.raises(UnexpectedOutput):
        parse(output)


# --- show interface ------------------------------------------------------------------------


def test_admin_state_line_wins_over_the_link_reason() -> None:
    # napalm's N93180 capture: a shut port with no transceiver says "XCVR not inserted" first.
    text = (NXOS / "show_interface_n93180_excerpt.txt").read_text()

    assert CiscoNxosDriver.parse_show_interface(text) == {
        "mgmt0": True,
        "Ethernet1/1": False,
        "Ethernet1/2": True,
    }


def test_show_interface_variants() -> None:
    def read(name: str) -> dict[str, bool]:
        return CiscoNxosDriver.parse_show_interface((NXOS / name).read_text())

    # An SVI down for its VLAN, not shut; mgmt0's `admin state is up,`.
    assert read("show_interface_svi_mgmt_eth.txt") == {
        "Vlan20": True,
        "mgmt0": True,
        "Ethernet1/1": True,
    }
    assert read("show_interface_tunnel.txt") == {"Tunnel1": True}  # `Admin State: up`
    # No admin line at all (older release): only "(Administratively down)" would mean shut.
    assert read("show_interface_mgmt_vfc.txt") == {"mgmt0": True, "vfc248": True}


# ntc-templates' cisco_nxos_show_interface9.raw (../shared/captures): an older release's SVI
# header, `Vlan1 is administratively down (Administratively down), line protocol is down,
# autostate enabled`, right after loopback0's block.
OLDER_SVI = "cisco_nxos/ntc_show_interface9.raw"


def test_the_older_svi_header_is_read_as_shut() -> None:
    text = capture(OLDER_SVI)
    assert "Vlan1 is administratively down (Administratively down)" in text

    details = CiscoNxosDriver.parse_show_interface(text)

    assert details["Vlan1"] is False
    assert details["loopback0"] is True


def test_lines_after_an_unrecognised_header_are_never_credited_to_the_block_above() -> None:
    # The same capture with Vlan1's header in a layout the driver does not know, its block
    # holding `admin state is down,`: that line is Vlan1's, not loopback0's, the block above.
    text = capture(OLDER_SVI).replace(
        "Vlan1 is administratively down (Administratively down), line protocol is down, "
        "autostate enabled\n",
        "Vlan1 is being reconfigured, line protocol is down\nadmin state is down,\n",
    )
    assert "admin state is down," in text

    details = CiscoNxosDriver.parse_show_interface(text)

    assert details["loopback0"] is True
    assert "Vlan1" not in details


def test_an_interface_whose_header_is_not_understood_is_refused_not_guessed() -> None:
    text = capture(OLDER_SVI).replace(
        "Vlan1 is administratively down", "Vlan1 is being reconfigured"
    )

    with pytest.raises(UnexpectedOutput, match="Vlan1"):
        CiscoNxosDriver.resolve(
            {"Vlan1": None, "loopback0": True}, CiscoNxosDriver.parse_show_interface(text)
        )


def test_show_interface_decides_the_rows_the_brief_table_left_open() -> None:
    details = CiscoNxosDriver.parse_show_interface(
        (NXOS / "show_interface_n93180_excerpt.txt").read_text()
    )

    state = CiscoNxosDriver.resolve(
        {"mgmt0": None, "Ethernet1/1": None, "Ethernet1/2": True, "Ethernet1/9": False}, details
    )

    assert state.interfaces == {
        "mgmt0": True,
        "Ethernet1/1": False,
        "Ethernet1/2": True,
        "Ethernet1/9": False,
    }
    assert state.denies == {}


class Recorded:
    """A session answering show commands with recordings, and remembering what was asked."""

    def __init__(self, answers: dict[str, str]):
        self.answers = answers
        self.sent: list[str] = []

    def send_command(self, command: str, *, verify_echo: bool = True) -> str:
        self.sent.append(command)
        return self.answers[command]

    def send_config(self, commands: Sequence[str]) -> str:
        raise AssertionError("reading state changes nothing")

    def commit(self, *, confirm_minutes: int | None = None) -> str:
        raise AssertionError("reading state changes nothing")

    def prompt(self) -> str:
        return "n9k#"

    def close(self) -> None:
        pass


def test_read_state_refuses_to_guess_an_interface_show_interface_does_not_list() -> None:
    session = Recorded(
        {
            "show interface brief": BRIEF_N9K,
            "show interface": (NXOS / "show_interface_svi_mgmt_eth.txt").read_text(),
        }
    )

    with pytest.raises(UnexpectedOutput, match="Ethernet1/4"):
        CiscoNxosDriver().read_state(session)

    assert session.sent == ["show interface brief", "show interface"]


# --- snapshot --------------------------------------------------------------------------------


def test_snapshot_drops_the_time_header_and_keeps_the_rest() -> None:
    recorded = (NXOS / "show_running_config_n7k_excerpt.txt").read_text()
    stamped = recorded.replace(
        "!Time:", "!Running configuration last done at: Sun Aug  6 16:40:00 2017\n!Time:", 1
    )

    kept = FACTS.without_volatile(stamped)

    assert kept == recorded.replace("!Time: Sun Aug  6 16:43:18 2017\n", "").rstrip("\n")
    assert kept.startswith("!Command: show running-config\nversion 7.3(1)D1(1)\n")
    assert "interface Ethernet2/8\n  shutdown\n" in kept


def test_snapshot_uses_the_running_config() -> None:
    recorded = (NXOS / "show_running_config_n7k_excerpt.txt").read_text()
    session = Recorded({"show running-config": recorded})

    assert "!Time:" not in CiscoNxosDriver().snapshot(session)
    assert session.sent == ["show running-config"]


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recording", "expected"),
    [
        ("config_invalid_command.txt", "% Invalid command at '^' marker."),
        ("config_invalid_command_loopback.txt", "% Invalid command at '^' marker."),
        ("error_incomplete_command.txt", "% Incomplete command at '^' marker."),
    ],
)
def test_find_error_returns_the_nxos_error_line(recording: str, expected: str) -> None:
    assert CiscoNxosDriver().find_error((NXOS / recording).read_text()) == expected


@pytest.mark.parametrize(
    "line",
    [
        "% Invalid interface format at '^' marker.",
        "% Invalid parameter detected at '^' marker.",
        "% Ambiguous command at '^' marker.",
    ],
)
def test_find_error_recognises_the_other_refusal_forms(line: str) -> None:
    """NX-OS's other `%` refusals (no recording of them found; the emulator prints them), in
    the recorded dialogue's shape."""
    output = f"dc-core(config)# interface Ethernet1/99\n{' ' * 27}^\n{line}\ndc-core(config)# end\n"

    assert CiscoNxosDriver().find_error(output) == line


def test_find_error_is_none_without_the_refusal() -> None:
    # The recorded dialogue with the refused line taken out: echo, banner, prompts only.
    clean = "".join(
        line
        for line in (NXOS / "config_invalid_command.txt").read_text().splitlines(keepends=True)
        if "ip address" not in line and "^" not in line
    )

    assert CiscoNxosDriver().find_error(clean) is None


@pytest.mark.parametrize("recording", BRIEFS + SHOW_INTERFACES)
def test_show_outputs_hold_no_error(recording: str) -> None:
    assert CiscoNxosDriver().find_error((NXOS / recording).read_text()) is None


# --- rendering -------------------------------------------------------------------------------


def targets(*names: str) -> list[CutTarget]:
    return [CutTarget(f"link-{i}", name, CutMethod.SHUTDOWN) for i, name in enumerate(names)]


def test_cut_and_restore_touch_only_the_named_interfaces() -> None:
    driver = CiscoNxosDriver()
    chosen = targets("Ethernet1/10/1", "port-channel10.300")

    assert driver.render_cut(chosen).lines == [
        "interface Ethernet1/10/1",
        "shutdown",
        "exit",
        "interface port-channel10.300",
        "shutdown",
        "exit",
    ]
    state = CiscoNxosDriver.resolve({"Ethernet1/10/1": False, "port-channel10.300": False}, {})
    assert driver.render_restore(chosen, state).lines == [
        "interface Ethernet1/10/1",
        "no shutdown",
        "exit",
        "interface port-channel10.300",
        "no shutdown",
        "exit",
    ]


def test_no_targets_renders_nothing() -> None:
    driver = CiscoNxosDriver()
    assert driver.render_cut([]).lines == []
    assert driver.render_restore([], CiscoNxosDriver.resolve({}, {})).lines == []


def test_changes_go_through_configure_terminal_without_commit() -> None:
    driver = CiscoNxosDriver()
    assert driver.facts.config_mode
    assert not driver.facts.candidate
    assert driver.facts.methods == frozenset({CutMethod.SHUTDOWN})
