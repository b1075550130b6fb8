"""ArubaOsDriver on real AOS-S outputs (tests/data/aruba_os, see SOURCES.md there): the admin
state read from `show interfaces brief`, the device's error answers, the commands rendered."""

from __future__ import annotations

from pathlib import Path

import pytest
from netmiko.aruba.aruba_os import ArubaOsSSH
from netmiko.hp.hp_procurve import HPProcurveSSH
from netmiko.ssh_dispatcher import CLASS_MAPPER

from isolement.drivers import driver_for
from isolement.drivers.aruba_os import ArubaOsDriver
from isolement.drivers.base import CutTarget
from isolement.model.errors import UnexpectedOutput
from isolement.model.state import CutMethod

DATA = Path(__file__).resolve().parents[1] / "data" / "aruba_os"
PORTS_48 = (DATA / "show_interfaces_brief_48_ports.txt").read_text()
STACK = (DATA / "show_interfaces_brief_stack.txt").read_text()
CHASSIS = (DATA / "show_interfaces_brief_chassis_note.txt").read_text()
SESSION = (DATA / "session_2530_ya1611.txt").read_text()

driver = ArubaOsDriver()


def test_aruba_os_is_netmikos_procurve_class_not_its_wireless_controller() -> None:
    assert isinstance(driver_for("aruba_os"), ArubaOsDriver)
    assert CLASS_MAPPER[ArubaOsDriver.facts.netmiko_device_type] is HPProcurveSSH
    # netmiko's own `aruba_os` is ArubaOS, the wireless controllers' CLI.
    assert CLASS_MAPPER["aruba_os"] is ArubaOsSSH


def test_the_enabled_column_is_the_admin_state_not_the_link() -> None:
    state = driver.parse_interfaces_brief(PORTS_48)

    assert len(state.interfaces) == 52
    assert [name for name, up in state.interfaces.items() if not up] == ["5"]
    # Port 2 is `Yes  Down`: no link, not disabled; a restore must leave it as it is.
    assert state.interfaces["2"] is True


def test_a_trunk_member_is_named_as_its_port() -> None:
    state = driver.parse_interfaces_brief(STACK)

    assert "1/28-Trk1" in STACK and "3/28-Trk1" in STACK
    assert state.interfaces["1/28"] is True and state.interfaces["3/28"] is True
    assert not [name for name in state.interfaces if "Trk" in name]
    assert len(state.interfaces) == 21


def test_chassis_ports_with_a_note_and_third_party_transceivers_are_read() -> None:
    state = driver.parse_interfaces_brief(CHASSIS)

    assert "  A8*  " in CHASSIS
    assert state.interfaces["A8"] is True
    assert {name for name, up in state.interfaces.items() if not up} == {"D5", "E1"}
    assert len(state.interfaces) == 17


@pytest.mark.parametrize(
    "output",
    [
        "",
        "Invalid input: brif",
        # The same switch's `show interfaces` (counters, no Enabled column).
        " Status and Counters - Port Counters\n\n  Port       Total Bytes    Total Frames",
    ],
)
def test_output_that_is_not_the_brief_table_is_refused(output: str) -> None:
    with pytest.raises(UnexpectedOutput, match="show interfaces brief"):
        driver.parse_interfaces_brief(output)


def test_a_row_the_template_cannot_follow_refuses_the_table_not_the_row() -> None:
    row = "  5     10/100TX   | No        No "
    garbled = PORTS_48.replace(row, "  5     10/100TX   | No   ?? ")

    with pytest.raises(UnexpectedOutput):
        driver.parse_interfaces_brief(garbled)


# --- errors ----------------------------------------------------------------------------------


def test_the_real_refusals_of_a_2530_are_errors() -> None:
    found = driver.find_error(SESSION)

    assert found == (
        "Invalid input: badcommand123; Incomplete input: show; "
        "Module not present for port or invalid port: bogus0/0; "
        "String xxxxxxxxxxxxxxxxxxxxxxxxxxxxx... too long. Allowed length is 32"
    )


def test_the_same_sessions_accepted_lines_are_no_error() -> None:
    accepted = SESSION[: SESSION.index("idf02# show badcommand123")]
    running_config = SESSION[SESSION.index("Running configuration:") :]

    assert "interface 1idf02(eth-1)# exit" in accepted
    assert driver.find_error(accepted) is None
    assert driver.find_error(running_config) is None


# --- commands --------------------------------------------------------------------------------


def test_a_cut_disables_each_port_in_one_line_and_a_restore_enables_it() -> None:
    targets = [CutTarget("a", "25", CutMethod.SHUTDOWN), CutTarget("b", "A1", CutMethod.SHUTDOWN)]
    state = driver.parse_interfaces_brief(CHASSIS)

    assert driver.render_cut(targets).lines == ["interface 25 disable", "interface A1 disable"]
    assert driver.render_restore(targets, state).lines == [
        "interface 25 enable",
        "interface A1 enable",
    ]


def test_the_save_is_write_memory_and_unsaved_changes_cannot_be_told() -> None:
    assert driver.facts.save_commands == ("write memory",)
    check = driver.unsaved_changes(session=None)  # type: ignore[arg-type]
    assert check.found is None and "aruba_os" in check.detail
