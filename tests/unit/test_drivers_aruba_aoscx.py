"""ArubaAoscxDriver on real AOS-CX outputs (tests/data/aruba_aoscx, see SOURCES.md there): the
admin state read from `show interface`, the device's error answers, the commands rendered."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import pytest
import textfsm  # type: ignore[import-untyped]
from ntc_templates.parse import _get_template_dir

from isolement.drivers.aruba_aoscx import ArubaAoscxDriver
from isolement.drivers.base import CutTarget
from isolement.flows.transaction import transact
from isolement.model.errors import DeviceError, UnexpectedOutput
from isolement.model.state import CutMethod, DeviceState

DATA = Path(__file__).resolve().parents[1] / "data" / "aruba_aoscx"
ADMIN_DOWN = (DATA / "show_interface_admin_down.txt").read_text()
VLAN_LAG = (DATA / "show_interface_vlan_lag.txt").read_text()
LOOPBACKS = (DATA / "show_interface_loopback_vrf.txt").read_text()
CONFIG_ERRORS = (DATA / "config_session_errors.txt").read_text()
RECORDED = [ADMIN_DOWN, VLAN_LAG, LOOPBACKS]

driver = ArubaAoscxDriver()


def test_a_port_shut_by_its_administrator_is_admin_down() -> None:
    state = ArubaAoscxDriver.parse_show_interface(ADMIN_DOWN)

    assert state.interfaces == {"1/1/1": True, "1/1/7": True, "1/1/9": True, "1/1/10": False}


def test_a_port_down_for_want_of_a_link_is_still_admin_up() -> None:
    # 1/1/9 "is down" (No XCVR installed): nothing shut it, so a restore must not open it,
    # and a cut must still shut it.
    assert "Interface 1/1/9 is down\n Admin state is up" in ADMIN_DOWN

    assert ArubaAoscxDriver.parse_show_interface(ADMIN_DOWN).interfaces["1/1/9"] is True


def test_vlans_and_lags_are_read_with_their_trailing_spaces() -> None:
    # An older release: a blank first line, a space after "is up", a LAG as "Aggregate".
    assert "Interface 1/1/1 is up \n" in VLAN_LAG and "Aggregate lag1 is up \n" in VLAN_LAG

    state = ArubaAoscxDriver.parse_show_interface(VLAN_LAG)

    assert state.interfaces == dict.fromkeys(
        ["1/1/1", "1/1/51", "1/1/52", "vlan1", "vlan3072", "lag1"], True
    )


def test_loopbacks_in_vrfs_are_read() -> None:
    state = ArubaAoscxDriver.parse_show_interface(LOOPBACKS)

    assert state.interfaces == {"loopback101": True, "loopback102": True}


@pytest.mark.parametrize("recorded", RECORDED, ids=["admin-down", "vlan-lag", "loopbacks"])
def test_the_parser_agrees_with_ntc_templates_on_every_recording(recorded: str) -> None:
    """The community template (ntc-templates' own test data) reads the same admin states."""
    template = Path(_get_template_dir()) / "aruba_aoscx_show_interface.textfsm"
    fsm = textfsm.TextFSM(io.StringIO(template.read_text()))
    header = [str(name) for name in fsm.header]
    rows = [dict(zip(header, row, strict=True)) for row in fsm.ParseText(recorded)]

    expected = {row["INTERFACE"]: row["LINK_ADMIN"] == "up" for row in rows}

    assert ArubaAoscxDriver.parse_show_interface(recorded).interfaces == expected


@pytest.mark.parametrize(
    "output",
    [
        "",
        "Invalid input: interfac",
        "% Command incomplete.",
        # The header of `show interface brief` (a different command): no port block in it.
        "Port       Native  Mode   Type      Enabled Status  Reason    Speed",
    ],
)
def test_output_that_is_not_show_interface_is_refused(output: str) -> None:
    with pytest.raises(UnexpectedOutput, match="show interface"):
        ArubaAoscxDriver.parse_show_interface(output)


def test_a_port_without_its_admin_state_line_is_refused_not_guessed() -> None:
    truncated = ADMIN_DOWN.replace(" Admin state is down\n", "")

    with pytest.raises(UnexpectedOutput, match="1/1/10"):
        ArubaAoscxDriver.parse_show_interface(truncated)


# --- errors ----------------------------------------------------------------------------------


def test_the_real_incomplete_and_ambiguous_answers_are_errors() -> None:
    assert driver.find_error(CONFIG_ERRORS) == "% Command incomplete.; % Ambiguous command."


@pytest.mark.parametrize(
    "answer",
    [
        # The prefix AOS-CX puts before a refused word (the one rancid's AOS-CX module checks).
        "h3-sw(config)# interface 1/1/99\nInvalid input: 1/1/99\nh3-sw(config)# ",
        "h3-sw(config)# exit\n% Ambiguous command.\nh3-sw(config)# ",
        # Only the prefix is sourced (rancid's AOS-CX module stops on /^Error:/); the words
        # after it are this test's.
        "h3-sw(config-if)# shutdown\nError: not allowed here\n",
    ],
)
def test_every_refusal_is_an_error(answer: str) -> None:
    assert driver.find_error(answer) is not None


def test_a_clean_change_is_not_an_error() -> None:
    # What AOS-CX answers to a successful cut: the echoes and the prompts, nothing else; a `%`
    # or a keyword inside an echoed line is not at the start of a line.
    output = (
        "configure term\nh3-sw(config)# interface 1/1/1\n"
        "h3-sw(config-if)# description 100% Invalid input: none\n"
        "h3-sw(config-if)# shutdown\nh3-sw(config-if)# exit\nh3-sw(config)# end\nh3-sw# "
    )

    assert driver.find_error(output) is None


class _Answers:
    """A session that answers every change with the given output (no device)."""

    def __init__(self, answer: str):
        self.answer = answer
        self.sent: list[list[str]] = []

    def send_command(self, command: str, *, verify_echo: bool = True) -> str:
        return ""

    def send_config(self, commands: Sequence[str]) -> str:
        self.sent.append(list(commands))
        return self.answer

    def commit(self, *, confirm_minutes: int | None = None) -> str:
        raise AssertionError("AOS-CX has no commit")

    def prompt(self) -> str:
        return "h3-sw#"

    def close(self) -> None:
        pass


def test_apply_raises_on_a_refused_port_and_never_commits() -> None:
    session = _Answers("h3-sw(config)# interface 1/1/99\nInvalid input: 1/1/99\n")
    change = driver.render_cut([CutTarget("wan", "1/1/99", CutMethod.SHUTDOWN)])

    with pytest.raises(DeviceError, match="Invalid input: 1/1/99"):
        transact(driver, session, "h3-sw", change)
    assert session.sent == [change.lines]


# --- rendering -------------------------------------------------------------------------------


def test_each_port_is_cut_in_its_own_context_and_left_with_exit() -> None:
    targets = [
        CutTarget("wan-dc-h3", "1/1/1", CutMethod.SHUTDOWN),
        CutTarget("split", "1/1/49:2", CutMethod.SHUTDOWN),
    ]

    assert driver.render_cut(targets).lines == [
        *("interface 1/1/1", "shutdown", "exit"),
        *("interface 1/1/49:2", "shutdown", "exit"),
    ]


def test_restore_opens_only_the_targets_whatever_else_is_shut() -> None:
    state = DeviceState(interfaces={"1/1/1": False, "1/1/2": True, "1/1/3": False})

    commands = driver.render_restore([CutTarget("wan", "1/1/1", CutMethod.SHUTDOWN)], state).lines

    assert commands == ["interface 1/1/1", "no shutdown", "exit"]


def test_no_targets_no_commands() -> None:
    assert driver.render_cut([]).lines == []
    assert driver.render_restore([], DeviceState(interfaces={})).lines == []


def test_the_platform_has_no_commit_and_cuts_by_shutdown_only() -> None:
    assert driver.facts.candidate is False
    assert driver.facts.methods == frozenset({CutMethod.SHUTDOWN})
