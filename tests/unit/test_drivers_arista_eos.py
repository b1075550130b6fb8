"""AristaEosDriver on real EOS outputs (tests/data/arista_eos, see SOURCES.md there): the admin
state read from `show interfaces status`, names in the configuration's spelling, the refusals
and the warning that means a port does not exist; the change inside a configuration session."""

from __future__ import annotations

from pathlib import Path

import pytest
from netmiko.arista.arista import AristaSSH
from netmiko.ssh_dispatcher import CLASS_MAPPER

from isolement.drivers import driver_for
from isolement.drivers.arista_eos import AristaEosDriver, interface_name, session_name
from isolement.drivers.base import CutTarget
from isolement.flows.transaction import transact
from isolement.model.change import CommitMode
from isolement.model.errors import DeviceError, UnexpectedOutput
from isolement.model.state import CutMethod

DATA = Path(__file__).resolve().parents[1] / "data" / "arista_eos"
STATUS = (DATA / "show_interfaces_status.txt").read_text()
CEOS = (DATA / "show_interfaces_status_ceos.txt").read_text()
PORT_CHANNEL = (DATA / "show_interfaces_status_port_channel.txt").read_text()
REFUSALS = (DATA / "refusals_quoted.txt").read_text()

driver = AristaEosDriver()


def test_the_platform_is_netmikos_arista_eos() -> None:
    assert isinstance(driver_for("arista_eos"), AristaEosDriver)
    assert CLASS_MAPPER[AristaEosDriver.facts.netmiko_device_type] is AristaSSH


def test_disabled_is_admin_down_and_errdisabled_is_not() -> None:
    state = driver.parse_interfaces_status(PORT_CHANNEL)

    assert state.interfaces == {
        "Ethernet1": False,
        "Ethernet47": False,
        "Ethernet49": True,
        "Ethernet52": True,
        "Management1": True,
        "Port-Channel49": True,
    }
    # errdisabled (shut by the switch itself), inactive and notconnect: not a `shutdown`.
    assert all(driver.parse_interfaces_status(STATUS).interfaces.values())


def test_a_ceos_table_with_its_flags_and_encapsulation_columns_is_read() -> None:
    state = driver.parse_interfaces_status(CEOS)

    assert [name for name, up in state.interfaces.items() if not up] == ["Management1"]
    assert len(state.interfaces) == 8


@pytest.mark.parametrize(
    ("short", "full"),
    [
        ("Et1", "Ethernet1"),
        ("Ethernet1", "Ethernet1"),
        ("Et3/1/4", "Ethernet3/1/4"),
        ("Po49", "Port-Channel49"),
        ("Ma1", "Management1"),
    ],
)
def test_either_spelling_is_the_configurations_one(short: str, full: str) -> None:
    assert interface_name(short) == full


@pytest.mark.parametrize(
    "output", ["", "% Invalid input (at token 2: 'stat')", STATUS.replace("connected", "???")]
)
def test_output_that_is_not_the_status_table_is_refused(output: str) -> None:
    with pytest.raises(UnexpectedOutput, match="show interfaces status"):
        driver.parse_interfaces_status(output)


# --- errors ----------------------------------------------------------------------------------


def test_the_real_refusals_and_the_missing_port_warning_are_errors() -> None:
    found = driver.find_error(REFUSALS)

    assert found is not None
    assert "% Invalid input (at token 1: 'bogus')" in found
    assert "! Interface does not exist." in found


def test_the_tables_are_no_error() -> None:
    for table in (STATUS, CEOS, PORT_CHANNEL):
        assert driver.find_error(table) is None


# --- the change in a configuration session ----------------------------------------------------


def test_a_change_is_typed_in_one_session_named_after_its_lines_then_committed() -> None:
    targets = [CutTarget("a", "Ethernet49", CutMethod.SHUTDOWN)]
    cut = driver.render_cut(targets, None)
    restore = driver.render_restore(targets, driver.parse_interfaces_status(CEOS))
    session = _Answers("", "")

    transact(driver, session, "sw", cut)  # type: ignore[arg-type]

    assert cut.lines == ["interface Ethernet49", "shutdown", "exit"]
    assert restore.lines == ["interface Ethernet49", "no shutdown", "exit"]
    assert cut.commit is CommitMode.PLAIN and restore.commit is CommitMode.PLAIN
    assert session.typed == [f"configure session {session_name(cut.lines)}", *cut.lines, "commit"]
    assert session_name(cut.lines).startswith("isolement-")
    assert session_name(cut.lines) != session_name(restore.lines)
    assert session_name(driver.render_cut(targets, None).lines) == session_name(cut.lines)


class _Answers:
    """A session answering each line from a table (a refusal for one of them)."""

    def __init__(self, refused: str, answer: str):
        self.refused, self.answer = refused, answer
        self.typed: list[str] = []

    def send_command(self, command: str, **_: object) -> str:
        self.typed.append(command)
        return self.answer if command == self.refused else ""


def test_a_refused_line_aborts_the_session_and_nothing_is_committed() -> None:
    change = driver.render_cut([CutTarget("a", "Ethernet99", CutMethod.SHUTDOWN)], None)
    session = _Answers("interface Ethernet99", "! Interface does not exist. The configuration")

    with pytest.raises(DeviceError, match="Interface does not exist"):
        transact(driver, session, "sw", change)  # type: ignore[arg-type]

    assert session.typed == [
        f"configure session {session_name(change.lines)}",
        "interface Ethernet99",
        "abort",
    ]


def test_a_refused_commit_aborts_the_session_too() -> None:
    change = driver.render_cut([CutTarget("a", "Ethernet1", CutMethod.SHUTDOWN)], None)
    session = _Answers("commit", "% Failed to commit session")

    with pytest.raises(DeviceError):
        transact(driver, session, "sw", change)  # type: ignore[arg-type]

    assert session.typed[-2:] == ["commit", "abort"]
