"""FrrDriver on outputs recorded from the lab's real FRR 8.4 vtysh (tests/data/frr/SOURCES.md).

The state is the kernel's administrative flag, as zebra prints it in `show interface brief`,
not the `shutdown` lines of the running configuration: the recordings include a router whose
daemons were restarted after a cut (links still down, no `shutdown` left in its configuration).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import PLAYBOOKS, lab_state

from isolement.drivers.frr import FrrDriver
from isolement.model.errors import UnexpectedOutput
from isolement.model.inventory import Inventory
from isolement.model.playbook import load_playbook
from isolement.planning.planner import plan_cut

FRR = Path(__file__).resolve().parents[1] / "data" / "frr"


def recorded(name: str) -> str:
    return (FRR / name).read_text()


# h2-rtr as the lab starts it: wan-h1 shut in its configuration (the backup link).
BRIEF = recorded("show_interface_brief.txt")
DETAILS = recorded("show_interface.txt")
RUNNING_CONFIG = recorded("show_running_config.txt")
# h1-rtr as the lab starts it: its wan-h2's far end (h2-rtr wan-h1) is shut.
FAR_END_BRIEF = recorded("show_interface_brief_far_end_shut.txt")
FAR_END_DETAILS = recorded("show_interface_far_end_shut.txt")
# h1-rtr cut (wan-dc, wan-h2 shut), then its zebra and staticd restarted; `interface ghost0`
# then configured in vtysh for a link the kernel does not have.
RESTARTED_BRIEF = recorded("show_interface_brief_restarted.txt")
RESTARTED_DETAILS = recorded("show_interface_restarted.txt")
RESTARTED_CONFIG = recorded("show_running_config_restarted.txt")


class RecordedSession:
    """Answers each command with its recorded output and keeps the commands sent."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.sent: list[str] = []

    def send_command(self, command: str, **_: object) -> str:
        self.sent.append(command)
        return self.answers[command]

    def send_config(self, commands: Sequence[str]) -> str:
        raise AssertionError(f"a state read sent configuration: {commands}")


def test_interface_shut_in_vtysh_is_admin_down() -> None:
    assert " shutdown" in RUNNING_CONFIG.split("interface wan-h1", 1)[1].split("exit")[0]

    state = FrrDriver.parse_state(BRIEF, DETAILS)

    assert state.interfaces["wan-h1"] is False


def test_link_whose_far_end_is_shut_is_admin_up() -> None:
    # Its own flag is UP; only the line protocol is down (no carrier from the shut far end).
    assert "Interface wan-h2 is up, line protocol is down" in FAR_END_DETAILS

    state = FrrDriver.parse_state(FAR_END_BRIEF)

    assert state.interfaces["wan-h2"] is True


def test_links_down_after_a_daemon_restart_read_cut_though_the_config_lost_shutdown() -> None:
    assert "shutdown" not in RESTARTED_CONFIG  # what the old reading trusted

    state = FrrDriver.parse_state(RESTARTED_BRIEF, RESTARTED_DETAILS)

    assert state.interfaces["wan-dc"] is False
    assert state.interfaces["wan-h2"] is False


def test_interface_known_only_to_frr_configuration_is_left_out() -> None:
    assert "pseudo interface" in RESTARTED_DETAILS.split("Interface ghost0", 1)[1]

    state = FrrDriver.parse_state(RESTARTED_BRIEF, RESTARTED_DETAILS)

    assert "ghost0" not in state.interfaces
    assert sorted(state.interfaces) == [
        "fw0",
        "lan0",
        "lo",
        "mgmt0",
        "phones",
        "voice-dc",
        "wan-dc",
        "wan-h2",
    ]


def test_every_interface_of_the_brief_output_is_present_with_its_flag() -> None:
    state = FrrDriver.parse_state(BRIEF, DETAILS)

    assert state.interfaces == {
        "fw0": True,
        "lan0": True,
        "lo": True,
        "wan-dc": True,
        "wan-h1": False,
    }


def test_show_interface_is_read_only_when_a_row_is_down() -> None:
    all_up = RecordedSession({"show interface brief": FAR_END_BRIEF})
    some_down = RecordedSession(
        {"show interface brief": RESTARTED_BRIEF, "show interface": RESTARTED_DETAILS}
    )

    FrrDriver().read_state(all_up)  # type: ignore[arg-type]
    state = FrrDriver().read_state(some_down)  # type: ignore[arg-type]

    assert all_up.sent == ["show interface brief"]
    assert some_down.sent == ["show interface brief", "show interface"]
    assert "ghost0" not in state.interfaces


def test_a_down_row_missing_from_show_interface_is_refused() -> None:
    details = RESTARTED_DETAILS.replace("Interface wan-dc is down", "Interface wan-dx is down")

    with pytest.raises(UnexpectedOutput, match="wan-dc"):
        FrrDriver.parse_state(RESTARTED_BRIEF, details)


def test_a_port_down_before_the_cut_gets_no_change_so_restore_leaves_it_down(
    lab_inventory: Inventory,
) -> None:
    # h1-rtr as recorded after its daemons restarted: wan-dc and wan-h2 down in the kernel,
    # no `shutdown` in its configuration. Restore undoes only the changes a cut journaled; a
    # port the cut finds already down gets none, so no `no shutdown` will ever be sent to it.
    observed = lab_state()
    observed["h1-rtr"] = FrrDriver.parse_state(RESTARTED_BRIEF, RESTARTED_DETAILS)

    plan = plan_cut(lab_inventory, load_playbook("cut-intersite", PLAYBOOKS), {}, observed)

    changed = {(s.device, c.interface) for s in plan.steps for c in s.changes}
    already = {(d, c.interface) for d, cs in plan.already_done.items() for c in cs}
    assert {("h1-rtr", "wan-dc"), ("h1-rtr", "wan-h2")} <= already
    assert not {i for d, i in changed if d == "h1-rtr"}


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
        pytest.param(BRIEF.replace("wan-h1          down", "wan-h1          dormant"), id="state"),
    ],
)
def test_unrecognised_brief_raises_unexpected_output(brief: str) -> None:
    with pytest.raises(UnexpectedOutput):
        FrrDriver.parse_state(brief, DETAILS)


def test_unrecognised_brief_line_is_named_in_the_error() -> None:
    brief = BRIEF.replace("wan-h1          down", "wan-h1          dormant")

    with pytest.raises(UnexpectedOutput, match=r"show interface brief.*wan-h1\s+dormant"):
        FrrDriver.parse_state(brief)


def test_find_error_returns_the_unknown_command_line() -> None:
    output = recorded("config_error_output.txt")

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
    recorded_output = recorded("config_error_output.txt")
    output = recorded_output.replace("# shutdwn\n% Unknown command: shutdwn", f"# {line}\n{answer}")
    assert answer in output

    assert FrrDriver().find_error(output) == answer


@pytest.mark.parametrize("name", sorted(p.name for p in FRR.glob("show_*.txt")))
def test_find_error_is_none_on_the_recorded_show_outputs(name: str) -> None:
    assert FrrDriver().find_error(recorded(name)) is None
