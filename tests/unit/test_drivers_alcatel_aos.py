"""AlcatelAosDriver on recorded OmniSwitch answers: state parsing, privilege, error recognition,
command rendering. Pure: no device, no network.

The recorded files in tests/data/alcatel_aos/ are real AOS outputs; SOURCES.md there says
where each comes from.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from ntc_templates.parse import parse_output

from isolement.drivers import driver_for
from isolement.drivers.alcatel_aos import AlcatelAosDriver
from isolement.drivers.base import CutTarget
from isolement.flows.transaction import transact
from isolement.model.errors import DeviceError, PlanRefused, UnexpectedOutput
from isolement.model.state import CutMethod, DeviceState

AOS = Path(__file__).resolve().parents[1] / "data" / "alcatel_aos"

STATUS_AOS8 = (AOS / "show_interfaces_status_aos8.txt").read_text()
STATUS_AOS8_NOFEC = (AOS / "show_interfaces_status_aos8_nofec.txt").read_text()
STATUS_AOS6 = (AOS / "show_interfaces_status_aos6.txt").read_text()
SNAPSHOT = (AOS / "show_configuration_snapshot.txt").read_text()
SHOW_USER = (AOS / "show_user.txt").read_text()
INVALID_ENTRY = (AOS / "error_invalid_entry.txt").read_text()

driver = AlcatelAosDriver()


# --- state ---------------------------------------------------------------------------------------


def test_admin_status_of_an_aos8_switch() -> None:
    state = AlcatelAosDriver.parse_interfaces_status(STATUS_AOS8)

    assert list(state.interfaces) == [f"1/1/{n}" for n in range(1, 11)]
    assert state.interfaces["1/1/10"] is False  # "dis": administratively disabled
    # Link down ("-" detected speed) is not an administrative disable.
    assert state.interfaces["1/1/2"] is True
    assert all(state.interfaces[f"1/1/{n}"] for n in range(1, 10))


def test_the_admin_column_reads_as_ntc_templates_reads_it() -> None:
    rows = parse_output(platform="alcatel_aos", command="show interfaces status", data=STATUS_AOS8)
    state = AlcatelAosDriver.parse_interfaces_status(STATUS_AOS8)

    assert {row["port"]: row["admin_status"] == "en" for row in rows} == state.interfaces


def test_the_layout_without_fec_columns_reads_the_same() -> None:
    # Older AOS 8 releases: no FEC columns, which ntc-templates' template does not read.
    state = AlcatelAosDriver.parse_interfaces_status(STATUS_AOS8_NOFEC)

    assert list(state.interfaces) == [f"1/1/{n}" for n in range(1, 31)]
    assert all(state.interfaces.values())


def test_aos6_has_no_admin_column_and_is_refused_not_guessed() -> None:
    with pytest.raises(UnexpectedOutput, match="Admin Status"):
        AlcatelAosDriver.parse_interfaces_status(STATUS_AOS6)


@pytest.mark.parametrize(
    "output",
    [
        "",
        INVALID_ENTRY,
        STATUS_AOS8.replace(" 1/1/10    dis ", " 1/1/10     up "),  # an unknown admin value
        STATUS_AOS8 + 'ERROR: Invalid entry: "status"\n',  # a row that is not a port
        "\n".join(STATUS_AOS8.splitlines()[:4]),  # the header and no port
    ],
    ids=["empty", "error", "unknown-admin-value", "trailing-error", "no-port"],
)
def test_anything_else_is_unexpected_output(output: str) -> None:
    with pytest.raises(UnexpectedOutput):
        AlcatelAosDriver.parse_interfaces_status(output)


def test_read_state_sends_show_interfaces_status() -> None:
    session = FakeSession({"show interfaces status": STATUS_AOS8})

    state = driver.read_state(session)

    assert session.sent == [("show interfaces status", True)]
    assert state.interfaces["1/1/10"] is False


# --- privilege -----------------------------------------------------------------------------------


def user_records(text: str) -> dict[str, str]:
    """The recorded `show user` output, one record per user name."""
    records: dict[str, str] = {}
    for chunk in text.split("User name = ")[1:]:
        name = chunk.split(",", 1)[0].split()[0]
        records[name] = "User name = " + chunk
    return records


@pytest.mark.parametrize(
    ("user", "privileged"),
    [
        ("admin", True),  # Read/Write for domains = All
        ("omnivista", True),
        ("test", False),  # read-write on the file and ssh families only
        ("default", False),  # Read/Write for domains = None
    ],
)
def test_privilege_is_read_write_on_the_physical_domain(user: str, privileged: bool) -> None:
    assert AlcatelAosDriver.parse_whoami(user_records(SHOW_USER)[user]) is privileged


def test_privilege_from_domains_or_the_interface_family() -> None:
    assert AlcatelAosDriver.parse_whoami(
        "  Read/Write for domains  = Admin System Physical Layer2 ,"
    )
    assert AlcatelAosDriver.parse_whoami("  Read-write families  = interface vlan ,")
    assert not AlcatelAosDriver.parse_whoami("  Read-write domains  = Layer2 Policy ,")
    assert not AlcatelAosDriver.parse_whoami("  Read Only for domains   = All ,")
    assert not AlcatelAosDriver.parse_whoami(INVALID_ENTRY)
    assert not AlcatelAosDriver.parse_whoami("")


def test_has_privilege_asks_whoami() -> None:
    session = FakeSession({"whoami": user_records(SHOW_USER)["admin"]})

    assert driver.has_privilege(session)
    assert session.sent == [("whoami", True)]


# --- errors --------------------------------------------------------------------------------------


def test_the_documented_invalid_entry_is_an_error() -> None:
    assert driver.find_error(INVALID_ENTRY) == 'ERROR: Invalid entry: "set"'


@pytest.mark.parametrize("output", [STATUS_AOS8, SNAPSHOT, SHOW_USER, ""])
def test_real_answers_without_error_are_not_errors(output: str) -> None:
    assert driver.find_error(output) is None


def test_every_error_line_is_reported_in_order() -> None:
    output = (
        '           ^\nERROR: Invalid entry: "nosuch99"\n'
        "WARNING: not saved\n"
        '           ^\nERROR: Invalid entry: "1/1/99"\n'
    )

    assert driver.find_error(output) == (
        'ERROR: Invalid entry: "nosuch99"; ERROR: Invalid entry: "1/1/99"'
    )


def test_apply_sends_commands_one_by_one_and_raises_on_an_error() -> None:
    session = FakeSession({"interfaces port 1/1/1 admin-state disable": INVALID_ENTRY})
    targets = [CutTarget("wan-dc-h4", "1/1/1", CutMethod.SHUTDOWN)]

    with pytest.raises(DeviceError, match=r'error: ERROR: Invalid entry: "set"'):
        transact(driver, session, "h4-sw", driver.render_cut(targets))

    # No configuration mode, no commit: each line as a command, its echo checked.
    assert session.sent == [("interfaces port 1/1/1 admin-state disable", True)]
    assert session.configs == [] and session.commits == 0


def test_apply_of_accepted_commands_returns_their_answers() -> None:
    session = FakeSession({})
    targets = [CutTarget("wan-dc-h4", "1/1/1", CutMethod.SHUTDOWN)]

    assert transact(driver, session, "h4-sw", driver.render_cut(targets)) == ""
    assert session.commits == 0


# --- commands ------------------------------------------------------------------------------------


def test_the_cut_is_the_line_aos_writes_in_its_own_snapshot() -> None:
    # The recorded snapshot holds the switch's own line for a disabled port: the cut sends
    # exactly that line, so the configuration reads back what isolement sent.
    [cut] = driver.render_cut([CutTarget("l", "1/1/22", CutMethod.SHUTDOWN)]).lines

    assert cut in SNAPSHOT.splitlines()


def test_cut_and_restore_one_line_per_port_in_order() -> None:
    targets = [
        CutTarget("wan-dc-h4", "1/1/1", CutMethod.SHUTDOWN),
        CutTarget("wan-h5", "2/1/49A", CutMethod.SHUTDOWN),
    ]
    state = DeviceState(interfaces={"1/1/1": False, "1/1/3": False, "2/1/49A": False})

    assert driver.render_cut(targets).lines == [
        "interfaces port 1/1/1 admin-state disable",
        "interfaces port 2/1/49A admin-state disable",
    ]
    # Only the ports that were cut: 1/1/3 was disabled before and is no target.
    assert driver.render_restore(targets, state).lines == [
        "interfaces port 1/1/1 admin-state enable",
        "interfaces port 2/1/49A admin-state enable",
    ]


def test_nothing_to_cut_sends_nothing() -> None:
    assert driver.render_cut([]).lines == []
    assert driver.render_restore([], DeviceState(interfaces={})).lines == []


def test_a_deny_cut_is_refused_not_rendered_as_a_disable() -> None:
    with pytest.raises(PlanRefused, match="cannot cut 1/1/1 by deny"):
        driver.render_cut([CutTarget("l", "1/1/1", CutMethod.DENY)]).lines


def test_the_platform_contract() -> None:
    assert isinstance(driver_for("alcatel_aos"), AlcatelAosDriver)
    assert driver.facts.methods == {CutMethod.SHUTDOWN}
    assert driver.facts.config_mode is False
    assert driver.facts.candidate is False
    assert driver.facts.snapshot_command == "show configuration snapshot"


class FakeSession:
    """Answers commands from a table (empty answer otherwise), and records what was sent."""

    def __init__(self, answers: dict[str, str]):
        self.answers = answers
        self.sent: list[tuple[str, bool]] = []
        self.configs: list[list[str]] = []
        self.commits = 0

    def send_command(self, command: str, *, verify_echo: bool = True) -> str:
        self.sent.append((command, verify_echo))
        return self.answers.get(command, "")

    def send_config(self, commands: Sequence[str]) -> str:
        self.configs.append(list(commands))
        return ""

    def commit(self, *, confirm_minutes: int | None = None) -> str:
        self.commits += 1
        return ""

    def prompt(self) -> str:
        return "h4-sw->"

    def close(self) -> None:
        pass
