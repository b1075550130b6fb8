"""HpComwareDriver on real Comware outputs (tests/data/hp_comware, see SOURCES.md there): the
admin state read from `display interface brief` (route and bridge modes, Comware 5 and 7
headings), names given in the configuration's spelling, the refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from netmiko.hp.hp_comware import HPComwareSSH
from netmiko.ssh_dispatcher import CLASS_MAPPER

from isolement.drivers import driver_for
from isolement.drivers.base import CutTarget
from isolement.drivers.hp_comware import HpComwareDriver, interface_name
from isolement.model.errors import UnexpectedOutput
from isolement.model.state import CutMethod

DATA = Path(__file__).resolve().parents[1] / "data" / "hp_comware"
ROUTER = (DATA / "display_interface_brief_router.txt").read_text()
R9119 = (DATA / "display_interface_brief_9119P17.txt").read_text()
R60615 = (DATA / "display_interface_brief_60615P16.txt").read_text()
REFUSALS = (DATA / "refusals_quoted.txt").read_text()

driver = HpComwareDriver()


def test_the_platform_is_netmikos_hp_comware() -> None:
    assert isinstance(driver_for("hp_comware"), HpComwareDriver)
    assert CLASS_MAPPER[HpComwareDriver.facts.netmiko_device_type] is HPComwareSSH


def test_adm_is_admin_down_in_the_route_mode_table() -> None:
    state = driver.parse_interface_brief(R60615)

    assert state.interfaces["GigabitEthernet0/0"] is False
    assert state.interfaces["GigabitEthernet0/2"] is False
    assert state.interfaces["GigabitEthernet0/1"] is True
    # Bridge-mode ports `DOWN` for want of a link are not shut.
    assert state.interfaces["GigabitEthernet3/1"] is True


def test_both_tables_are_read_and_abbreviations_spelled_in_full() -> None:
    state = driver.parse_interface_brief(R9119)

    assert state.interfaces["GigabitEthernet0/0/0"] is False
    assert state.interfaces["Ten-GigabitEthernet0/0/10"] is True
    assert state.interfaces["GigabitEthernet0/0/9"] is True  # the bridge-mode table
    assert state.interfaces["Vlan-interface1"] is True
    assert state.interfaces["InLoopBack0"] is True
    assert len(state.interfaces) == 16
    assert not [n for n in state.interfaces if n.startswith(("GE", "XGE"))]


def test_the_older_heading_and_a_loopback_are_read() -> None:
    # Comware 5's `The brief information of interface(s) under route mode:`, `Main IP`.
    assert ROUTER.startswith("The brief information of interface(s) under route mode:")

    state = driver.parse_interface_brief(ROUTER)

    assert state.interfaces["LoopBack0"] is True
    assert state.interfaces["GigabitEthernet0/4"] is True
    assert all(state.interfaces.values())
    assert len(state.interfaces) == 11


@pytest.mark.parametrize(
    ("short", "full"),
    [
        ("GE1/0/1", "GigabitEthernet1/0/1"),
        ("GigabitEthernet1/0/1", "GigabitEthernet1/0/1"),
        ("XGE1/0/49", "Ten-GigabitEthernet1/0/49"),
        ("FGE1/0/53", "FortyGigE1/0/53"),
        ("HGE1/0/1", "HundredGigE1/0/1"),
        ("WGE1/0/1", "Twenty-FiveGigE1/0/1"),
        ("MGE0/0/0", "M-GigabitEthernet0/0/0"),
        ("M-GE0/0/0", "M-GigabitEthernet0/0/0"),
        ("BAGG1", "Bridge-Aggregation1"),
        ("RAGG2", "Route-Aggregation2"),
        ("Vlan1", "Vlan-interface1"),
        ("Vlan-interface1", "Vlan-interface1"),
        ("Loop0", "LoopBack0"),
        ("NULL0", "NULL0"),
        ("E-Ch2/0:0", "E-Ch2/0:0"),
    ],
)
def test_either_spelling_is_the_configurations_one(short: str, full: str) -> None:
    assert interface_name(short) == full


@pytest.mark.parametrize(
    "output",
    [
        "",
        " % Unrecognized command found at '^' position.",
        # A row the template cannot follow: the table is refused, not guessed.
        R9119.replace("GE0/0/0              ADM  DOWN", "GE0/0/0              ???  DOWN"),
    ],
)
def test_output_that_is_not_the_brief_table_is_refused(output: str) -> None:
    with pytest.raises(UnexpectedOutput, match="display interface brief"):
        driver.parse_interface_brief(output)


# --- errors ----------------------------------------------------------------------------------


def test_the_real_refusals_are_errors() -> None:
    found = driver.find_error(REFUSALS)

    assert found == "% Unrecognized command found at '^' position."


@pytest.mark.parametrize(
    "answer",
    [
        " % Incomplete command found at '^' position.",
        "  % Wrong parameter found at '^' position.",
        " % Too many parameters found at '^' position.",
    ],
)
def test_every_refusal_kind_is_an_error(answer: str) -> None:
    assert driver.find_error(answer) is not None


def test_log_lines_and_the_tables_are_no_error() -> None:
    # A log line starts with `%` and its date, never `% `.
    log = "%Dec  3 06:00:00:123 2026 sw1 IFNET/3/PHY_UPDOWN: GE1/0/1 link status is down."
    assert driver.find_error(log) is None
    for table in (ROUTER, R9119, R60615):
        assert driver.find_error(table) is None


# --- commands --------------------------------------------------------------------------------


def test_a_cut_shuts_each_port_in_its_view_and_quits_back_to_system_view() -> None:
    targets = [CutTarget("a", "GigabitEthernet1/0/1", CutMethod.SHUTDOWN)]
    state = driver.parse_interface_brief(R9119)

    assert driver.render_cut(targets).lines == [
        "interface GigabitEthernet1/0/1",
        "shutdown",
        "quit",
    ]
    assert driver.render_restore(targets, state).lines == [
        "interface GigabitEthernet1/0/1",
        "undo shutdown",
        "quit",
    ]


class _Prompt:
    def __init__(self, prompt: str):
        self._prompt = prompt

    def prompt(self) -> str:
        return self._prompt


@pytest.mark.parametrize(("prompt", "ok"), [("<sw1>", True), ("[sw1]", True), ("sw1#", False)])
def test_privilege_needs_a_comware_prompt(prompt: str, ok: bool) -> None:
    assert driver.has_privilege(_Prompt(prompt)) is ok  # type: ignore[arg-type]
