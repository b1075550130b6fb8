"""JuniperJunosDriver on recorded Junos answers: state parsing, error recognition, rendering and
the commit sequence of `apply`, with a scripted session and no device.

The recorded files in tests/data/juniper_junos/ are real outputs; SOURCES.md says where each
comes from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from isolement.drivers.base import CutTarget
from isolement.drivers.juniper_junos import CONFIRM_MINUTES, JuniperJunosDriver
from isolement.flows.transaction import transact
from isolement.model.change import CommitMode
from isolement.model.errors import DeviceError, UnexpectedOutput
from isolement.model.state import CutMethod

DATA = Path(__file__).resolve().parents[1] / "data" / "juniper_junos"
DRIVER = JuniperJunosDriver()


def recorded(name: str) -> str:
    return (DATA / name).read_text()


def target(interface: str, link: str = "wan-dc-h5") -> CutTarget:
    return CutTarget(link, interface, CutMethod.SHUTDOWN)


# --- show interfaces terse ---------------------------------------------------------------------


def test_a_disabled_port_is_admin_down_and_its_unit_is_not() -> None:
    state = DRIVER.parse_terse(recorded("show_interfaces_terse_ex4200.txt"))

    assert state.interfaces["ge-0/0/2"] is False
    # The unit keeps Admin up under a disabled port: only the port is disabled.
    assert state.interfaces["ge-0/0/2.0"] is True


def test_link_down_is_still_admin_up() -> None:
    state = DRIVER.parse_terse(recorded("show_interfaces_terse_ex4200.txt"))

    assert state.interfaces["ge-0/0/1"] is True
    assert state.interfaces["ge-0/0/23"] is True


def test_output_filtered_without_its_header_is_read() -> None:
    state = DRIVER.parse_terse(recorded("show_interfaces_terse_ex4200.txt"))

    assert len(state.interfaces) == 48
    assert [name for name, up in state.interfaces.items() if not up] == ["ge-0/0/2"]


def test_continuation_lines_are_not_interfaces() -> None:
    state = DRIVER.parse_terse(recorded("show_interfaces_terse_except_down_ex4200.txt"))

    assert list(state.interfaces)[:6] == [
        "ge-0/0/0",
        "ge-0/0/9",
        "ge-0/0/9.0",
        "ge-0/0/13",
        "ge-0/0/13.0",
        "bme0",
    ]
    assert "lo0.16384" in state.interfaces
    assert all(state.interfaces.values())


def test_vmx_rows_logical_and_internal_interfaces() -> None:
    state = DRIVER.parse_terse(recorded("show_interfaces_terse_vmx.txt"))

    assert state.interfaces == {
        name: True
        for name in [
            "ge-0/0/0",
            "ge-0/0/0.0",
            "lc-0/0/0",
            "lc-0/0/0.32769",
            "pfe-0/0/0",
            "pfe-0/0/0.16383",
            "pfh-0/0/0",
            "pfh-0/0/0.16383",
            "pfh-0/0/0.16384",
            "ge-0/0/1",
            "ge-0/0/1.0",
            "ge-0/0/2",
            "em1",
            "em1.0",
            "fxp0",
            "fxp0.0",
            "lo0.0",
            "lo0.16384",
            "lo0.16385",
        ]
    }


@pytest.mark.parametrize(
    "name", ["show_interfaces_terse_docs.txt", "show_interfaces_terse_t3_docs.txt"]
)
def test_documentation_layouts_are_read(name: str) -> None:
    state = DRIVER.parse_terse(recorded(name))

    assert state.interfaces
    assert all(state.interfaces.values())


def test_the_master_routing_engine_line_after_the_output_is_not_a_row() -> None:
    # A vQFX 19.4 session: `show interfaces terse | match "xe-"`, then `{master:0}`, which
    # Junos prints above every prompt on a chassis with routing-engine or member roles.
    output = recorded("show_interfaces_terse_match_xe_vqfx_master.txt")
    assert output.rstrip().endswith("{master:0}")

    state = DRIVER.parse_terse(output)

    assert len(state.interfaces) == 24 and all(state.interfaces.values())
    assert "{master:0}" not in state.interfaces


def test_the_pending_commit_confirmed_line_is_not_a_row() -> None:
    # netmiko strips the prompt, not the line Junos prints above it while a commit waits.
    pending = recorded("commit_confirmed_vqfx.txt").splitlines()[-1]
    output = recorded("show_interfaces_terse_vmx.txt") + "\n" + pending + "\n"

    assert DRIVER.parse_terse(output).interfaces["ge-0/0/2"] is True


def test_an_unknown_line_is_refused_not_guessed() -> None:
    # The compare output is real Junos text, but not a terse table.
    with pytest.raises(UnexpectedOutput, match="unrecognised"):
        DRIVER.parse_terse(recorded("show_compare_ex.txt"))


@pytest.mark.parametrize("name", ["errors_srx.txt", "errors_m120.txt"])
def test_a_refused_show_is_unexpected_output(name: str) -> None:
    with pytest.raises(UnexpectedOutput, match="refused"):
        DRIVER.parse_terse(recorded(name))


# --- error recognition ---------------------------------------------------------------------


def test_configuration_mode_errors_are_all_found() -> None:
    assert DRIVER.find_error(recorded("errors_m120.txt")) == (
        "syntax error.; missing argument.; invalid interface type in 'sdfsdf'."
    )


def test_operational_mode_errors_are_found() -> None:
    assert DRIVER.find_error(recorded("errors_srx.txt")) == "unknown command.; syntax error."


def test_a_failed_commit_check_is_an_error() -> None:
    assert DRIVER.find_error(recorded("commit_check_failed_vqfx.txt")) == (
        "error: configuration check-out failed: (statements constraint check failed)"
    )


@pytest.mark.parametrize(
    "name",
    [
        "commit_confirmed_vqfx.txt",
        "show_compare_ex.txt",
        "show_interfaces_terse_ex4200.txt",
        "show_cli_authorization_docs.txt",
        "show_configuration_display_set_vmx.txt",
        "show_interfaces_terse_match_xe_vqfx_master.txt",
    ],
)
def test_successful_answers_hold_no_error(name: str) -> None:
    assert DRIVER.find_error(recorded(name)) is None


# --- privilege -----------------------------------------------------------------------------


def test_a_class_that_may_configure_interfaces_has_the_privilege() -> None:
    assert DRIVER.parse_authorization(recorded("show_cli_authorization_docs.txt"))


def test_a_class_without_configure_or_interface_control_has_not() -> None:
    lines = recorded("show_cli_authorization_docs.txt").splitlines()
    read_only = "\n".join(line for line in lines if "control" not in line)
    view_only = "\n".join(line for line in lines if "configure" not in line)

    assert not DRIVER.parse_authorization(read_only)
    assert not DRIVER.parse_authorization(view_only)


# --- rendering -----------------------------------------------------------------------------


def test_a_port_and_a_unit_are_disabled_then_committed() -> None:
    change = DRIVER.render_cut([target("ge-0/0/0"), target("ae0.100", "vpn")])

    assert change.lines == [
        "set interfaces ge-0/0/0 disable",
        "set interfaces ae0 unit 100 disable",
    ]
    assert change.commit is CommitMode.PLAIN


def test_a_restore_is_committed_confirmed_then_confirmed() -> None:
    state = DRIVER.parse_terse(recorded("show_interfaces_terse_ex4200.txt"))

    change = DRIVER.render_restore([target("ge-0/0/2")], state)

    assert change.lines == ["delete interfaces ge-0/0/2 disable"]
    assert (change.commit, change.confirm_minutes) == (CommitMode.CONFIRMED, CONFIRM_MINUTES)


@pytest.mark.parametrize("name", ["x_y.z:1/2@3+4-5", "ge-0/0/0.", "lo0.a1"])
def test_a_dot_without_a_unit_number_is_part_of_the_name(name: str) -> None:
    assert DRIVER.render_cut([target(name)]).lines[0] == f"set interfaces {name} disable"


def test_nothing_to_do_sends_nothing() -> None:
    state = DRIVER.parse_terse(recorded("show_interfaces_terse_ex4200.txt"))

    assert DRIVER.render_cut([]).lines == []
    assert DRIVER.render_restore([], state).lines == []


def test_the_snapshot_drops_what_changes_without_a_change() -> None:
    pending = recorded("commit_confirmed_vqfx.txt").splitlines()[-1]
    text = "## Last commit: 2024-05-02 10:00:00 UTC by ops\nset version 21.4R3\n" + pending

    assert DRIVER.snapshot(Scripted(lambda command: text)) == "set version 21.4R3"


# --- the commit sequence -------------------------------------------------------------------

TERSE = recorded("show_interfaces_terse_ex4200.txt")


class Scripted:
    """A session whose configuration answers come from `config` (one call per send_config)."""

    def __init__(
        self,
        command: Callable[[str], str] = lambda command: TERSE,
        config: Callable[[list[str]], str] = lambda lines: "",
        commit: Callable[[int | None], str] = lambda minutes: "commit complete",
    ):
        self.calls: list[tuple[str, object]] = []
        self._command, self._config, self._commit = command, config, commit

    def send_command(self, command: str, *, verify_echo: bool = True) -> str:
        self.calls.append(("command", command))
        return self._command(command)

    def send_config(self, commands: Sequence[str]) -> str:
        self.calls.append(("config", list(commands)))
        return self._config(list(commands))

    def commit(self, *, confirm_minutes: int | None = None) -> str:
        self.calls.append(("commit", confirm_minutes))
        return self._commit(confirm_minutes)

    def prompt(self) -> str:
        return "ops@h5-sw> "

    def close(self) -> None:
        pass


COMPARE = ("config", ["show | compare"])
ROLLBACK = ("config", ["rollback 0"])
LEAVE = ("config", [])


def test_a_cut_is_sent_committed_plainly_and_configuration_mode_left() -> None:
    session = Scripted()

    transact(DRIVER, session, "h5-sw", DRIVER.render_cut([target("ge-0/0/0")]))

    assert session.calls == [
        COMPARE,
        ("config", ["set interfaces ge-0/0/0 disable"]),
        COMPARE,  # the candidate's difference, journaled with the output
        ("commit", None),
        LEAVE,
    ]


def test_a_restore_is_confirmed_only_after_the_state_was_read_again() -> None:
    session = Scripted()
    state = DRIVER.parse_terse(TERSE)

    transact(DRIVER, session, "h5-sw", DRIVER.render_restore([target("ge-0/0/2")], state))

    assert session.calls == [
        COMPARE,
        ("config", ["delete interfaces ge-0/0/2 disable"]),
        COMPARE,
        ("commit", CONFIRM_MINUTES),
        LEAVE,
        ("command", "show interfaces terse"),
        ("commit", None),
        LEAVE,
    ]


def test_a_refused_line_is_rolled_back_and_nothing_committed() -> None:
    refusal = recorded("errors_m120.txt").split("\n\n")[-1]
    session = Scripted(config=lambda lines: refusal if lines[0].startswith("set") else "")

    with pytest.raises(DeviceError, match="invalid interface type in 'sdfsdf'"):
        transact(DRIVER, session, "h5-sw", DRIVER.render_cut([target("sdfsdf")]))

    assert session.calls[-1] == ROLLBACK
    assert not [call for call in session.calls if call[0] == "commit"]


def test_a_refused_commit_is_rolled_back() -> None:
    def refuse(minutes: int | None) -> str:
        raise DeviceError("h5-sw", "commit refused: " + recorded("commit_check_failed_vqfx.txt"))

    session = Scripted(commit=refuse)

    with pytest.raises(DeviceError, match="check-out failed"):
        transact(DRIVER, session, "h5-sw", DRIVER.render_cut([target("ge-0/0/0")]))

    assert session.calls[-1] == ROLLBACK


def test_a_lost_confirmation_leaves_the_rollback_to_the_device() -> None:
    def commit(minutes: int | None) -> str:
        if minutes is None:
            raise DeviceError("h5-sw", "connection lost")
        return recorded("commit_confirmed_vqfx.txt")

    session = Scripted(commit=commit)
    state = DRIVER.parse_terse(TERSE)

    with pytest.raises(DeviceError, match="connection lost"):
        transact(DRIVER, session, "h5-sw", DRIVER.render_restore([target("ge-0/0/2")], state))

    # The device rolls the restore back by itself; nothing else is tried meanwhile.
    assert session.calls[-1] == ("commit", None)


RUNNING = "set version 21.4R3\nset interfaces ge-0/0/0 unit 0 family inet address 198.18.0.1/30"


def pending_candidate(extra: str) -> Callable[[list[str]], str]:
    def answer(lines: list[str]) -> str:
        if lines == ["show | compare"]:
            return "[edit interfaces ge-0/0/0]\n+   " + extra.rsplit(" ", 1)[-1] + ";"
        if lines == ["show | display set"]:
            return RUNNING + "\n" + extra
        return ""

    return answer


def test_someone_elses_uncommitted_work_is_refused_and_left_alone() -> None:
    session = Scripted(
        command=lambda c: RUNNING,
        config=pending_candidate("set interfaces ge-0/0/0 description maintenance"),
    )

    with pytest.raises(DeviceError, match=r"not isolement's.*description maintenance"):
        transact(DRIVER, session, "h5-sw", DRIVER.render_cut([target("ge-0/0/0")]))

    assert ROLLBACK not in session.calls
    assert not [call for call in session.calls if call[0] == "commit"]


class Candidate:
    """A shared candidate holding `extra` statements beyond RUNNING until `rollback 0`; its
    `show | compare` in the layout of jaide's recorded session (show_compare_ex.txt)."""

    def __init__(self, *extra: str) -> None:
        self.extra = list(extra)

    def __call__(self, lines: list[str]) -> str:
        if lines == ["show | compare"]:
            return "".join(f"[edit interfaces]\n+   {e.split(' ', 2)[2]};\n" for e in self.extra)
        if lines == ["show | display set"]:
            return "\n".join([RUNNING, *self.extra])
        if lines == ["rollback 0"]:
            self.extra = []
        return ""


def test_a_candidate_holding_the_lines_about_to_be_sent_is_not_taken_for_isolements() -> None:
    # Nothing journaled: a colleague who typed the same statement is a colleague (the driver
    # used to compare with the lines it was about to send, and discarded their work).
    candidate = Candidate("set interfaces ge-0/0/0 disable")
    session = Scripted(command=lambda c: RUNNING, config=candidate)

    assert DRIVER.recover_candidate(session, "h5-sw", []) is None
    with pytest.raises(DeviceError, match="not isolement's"):
        transact(DRIVER, session, "h5-sw", DRIVER.render_cut([target("ge-0/0/0")]))

    assert ROLLBACK not in session.calls and candidate.extra


def test_isolements_own_journaled_uncommitted_lines_are_discarded_then_sent_again() -> None:
    candidate = Candidate("set interfaces ge-0/0/0 disable")
    session = Scripted(command=lambda c: RUNNING, config=candidate)
    journaled = ["set interfaces ge-0/0/0 disable", "set interfaces ge-0/0/1 disable", "commit"]

    note = DRIVER.recover_candidate(session, "h5-sw", journaled)
    transact(DRIVER, session, "h5-sw", DRIVER.render_cut([target("ge-0/0/0")]))

    assert note is not None and "rollback 0" in note and "ge-0/0/0 disable" in note
    assert session.calls == [
        COMPARE,
        ("config", ["show | display set"]),
        ("command", "show configuration | display set"),
        ROLLBACK,
        COMPARE,
        ("config", ["set interfaces ge-0/0/0 disable"]),
        COMPARE,  # the candidate's difference, journaled with the output
        ("commit", None),
        LEAVE,
    ]


def test_a_restores_journaled_deletes_left_uncommitted_are_isolements_own() -> None:
    running = RUNNING + "\nset interfaces ge-0/0/2 disable"
    session = Scripted(
        command=lambda c: running,
        config=lambda lines: RUNNING if lines == ["show | display set"] else "[edit]\n-   x;",
    )

    note = DRIVER.recover_candidate(session, "h5-sw", ["delete interfaces ge-0/0/2 disable"])

    assert note is not None and "delete interfaces ge-0/0/2 disable" in note
    assert ROLLBACK in session.calls


def test_isolements_own_lines_beside_someone_elses_are_refused_naming_theirs() -> None:
    candidate = Candidate(
        "set interfaces ge-0/0/0 disable", "set interfaces ge-0/0/1 description maintenance"
    )
    session = Scripted(command=lambda c: RUNNING, config=candidate)

    with pytest.raises(DeviceError, match=r"isolement's own uncommitted lines and .*maintenance"):
        DRIVER.recover_candidate(session, "h5-sw", ["set interfaces ge-0/0/0 disable"])

    assert ROLLBACK not in session.calls and len(candidate.extra) == 2


def test_someone_elses_lines_with_isolements_journaled_are_refused() -> None:
    candidate = Candidate("set interfaces ge-0/0/1 description maintenance")
    session = Scripted(command=lambda c: RUNNING, config=candidate)

    with pytest.raises(DeviceError, match=r"holds uncommitted changes that are not isolement's"):
        DRIVER.recover_candidate(session, "h5-sw", ["set interfaces ge-0/0/0 disable"])

    assert ROLLBACK not in session.calls


def test_a_recorded_display_set_snapshot_is_kept_whole() -> None:
    # A vMX 18.2's `show configuration | display set`: nothing in it changes on its own.
    text = recorded("show_configuration_display_set_vmx.txt")

    class Snap:
        def send_command(self, command: str, **_: object) -> str:
            assert command == "show configuration | display set"
            return text

    assert DRIVER.snapshot(Snap()).splitlines() == text.splitlines()  # type: ignore[arg-type]
