"""FrrDriver on the outputs recorded from the lab's FRR 8.4 vtysh, used as they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from isolement.drivers.frr import FrrDriver
from isolement.model.errors import UnexpectedOutput

FRR = Path(__file__).resolve().parents[1] / "data" / "frr"

BRIEF = (FRR / "show_interface_brief.txt").read_text()
RUNNING_CONFIG = (FRR / "show_running_config.txt").read_text()


def test_interface_with_shutdown_in_running_config_is_admin_down() -> None:
    state = FrrDriver.parse_state(BRIEF, RUNNING_CONFIG)

    assert state.interfaces["wan-h1"] is False


def test_interface_only_oper_down_is_admin_up() -> None:
    # The far end of wan-dc was shut: vtysh reports the link down, but nothing shut it here.
    brief = BRIEF.replace("wan-dc          up      ", "wan-dc          down    ")
    assert "wan-dc          down" in brief

    state = FrrDriver.parse_state(brief, RUNNING_CONFIG)

    assert state.interfaces["wan-dc"] is True


def test_oper_down_interface_without_shutdown_line_is_admin_up() -> None:
    # wan-h1 is down in the recorded brief; without its ` shutdown` line it is only oper-down.
    running_config = RUNNING_CONFIG.replace("interface wan-h1\n shutdown\nexit\n", "")
    assert " shutdown" not in running_config

    state = FrrDriver.parse_state(BRIEF, running_config)

    assert state.interfaces["wan-h1"] is True


def test_interfaces_absent_from_running_config_are_admin_up() -> None:
    state = FrrDriver.parse_state(BRIEF, RUNNING_CONFIG)

    assert {name for name, up in state.interfaces.items() if up} == {
        "fw0",
        "lan0",
        "lo",
        "mgmt0",
        "wan-dc",
    }


def test_every_interface_of_the_brief_output_is_present() -> None:
    state = FrrDriver.parse_state(BRIEF, RUNNING_CONFIG)

    assert sorted(state.interfaces) == ["fw0", "lan0", "lo", "mgmt0", "wan-dc", "wan-h1"]


def test_shutdown_line_belongs_only_to_its_own_interface_block() -> None:
    running_config = RUNNING_CONFIG.replace(
        "interface wan-h1\n shutdown\nexit\n",
        "interface wan-dc\n description to dc\nexit\n!\ninterface wan-h1\n shutdown\nexit\n",
    )

    state = FrrDriver.parse_state(BRIEF, running_config)

    assert state.interfaces["wan-h1"] is False
    assert state.interfaces["wan-dc"] is True


@pytest.mark.parametrize(
    "brief",
    [
        pytest.param("", id="empty"),
        pytest.param("% Unknown command: show interface brief\n", id="command-refused"),
        pytest.param(
            "Interface       Status  VRF             Addresses\n"
            "---------       ------  ---             ---------\n",
            id="header-only",
        ),
    ],
)
def test_unrecognised_brief_raises_unexpected_output(brief: str) -> None:
    with pytest.raises(UnexpectedOutput):
        FrrDriver.parse_state(brief, RUNNING_CONFIG)


def test_find_error_returns_the_unknown_command_line() -> None:
    output = (FRR / "config_error_output.txt").read_text()

    assert FrrDriver().find_error(output) == "% Unknown command: shutdwn"


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        # vtysh's other two refusals (vtysh.c: CMD_ERR_AMBIGUOUS, CMD_ERR_INCOMPLETE), put in
        # place of the recorded one.
        ("sh", "% Ambiguous command: sh"),
        ("ip address", "% Command incomplete: ip address"),
    ],
)
def test_find_error_returns_the_other_vtysh_refusals(line: str, answer: str) -> None:
    recorded = (FRR / "config_error_output.txt").read_text()
    output = recorded.replace("# shutdwn\n% Unknown command: shutdwn", f"# {line}\n{answer}")
    assert answer in output

    assert FrrDriver().find_error(output) == answer


def test_find_error_is_none_on_the_recorded_show_outputs() -> None:
    assert FrrDriver().find_error(BRIEF + RUNNING_CONFIG) is None
