"""CiscoAsaDriver on recorded ASA answers: state parsing, error recognition and command rendering,
no device. Where each recorded file comes from: tests/data/cisco_asa/SOURCES.md. Outputs built
here (a device read back after a cut) are written in the layout of those recordings and say so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from ipaddress import IPv4Network
from pathlib import Path

import pytest
from shared_captures import capture

from isolement.drivers.base import AllowTarget, CutTarget, Flow
from isolement.drivers.cisco_asa import (
    DENY,
    REMARK_MAX,
    AclEntry,
    CiscoAsaDriver,
    Nameif,
    own_acl,
    remark_for,
)
from isolement.model.errors import PlanRefused, UnexpectedOutput
from isolement.model.names import check_name
from isolement.model.state import CutMethod, DeviceState

ASA = Path(__file__).resolve().parents[1] / "data" / "cisco_asa"
DRIVER = CiscoAsaDriver()


def recorded(name: str) -> str:
    return (ASA / name).read_text()


# The device of show_nameif.txt: inside, outside and mgmt, with the bindings of
# show_running-config_access-group.txt (INSIDE_acl and OUTSIDE_acl, both `in`).
BRIEF = """\
Interface                  IP-Address      OK? Method Status                Protocol
GigabitEthernet0/0         10.0.0.1        YES CONFIG up                    up
GigabitEthernet0/1         192.0.2.1       YES CONFIG up                    up
Management0/0              10.9.0.1        YES CONFIG up                    up
"""
INSIDE_ACL = "access-list INSIDE_acl extended permit ip any any"
OUTSIDE_ACL = "access-list OUTSIDE_acl extended permit tcp any host 192.0.2.10 eq www"


def state_of(acls: str, groups: str | None = None) -> DeviceState:
    return DRIVER.parse_state(
        BRIEF,
        recorded("show_nameif.txt"),
        recorded("show_running-config_access-group.txt") if groups is None else groups,
        acls,
    )


def target(interface: str = "GigabitEthernet0/1", link: str = "inet-h5") -> CutTarget:
    return CutTarget(link, interface, CutMethod.DENY)


# --- show interface ip brief ----------------------------------------------------------------


def test_administratively_down_is_admin_down_on_an_asa_5506() -> None:
    interfaces = DRIVER.parse_interface_brief(recorded("show_interface_ip_brief_5506.txt"))

    assert len(interfaces) == 18
    assert interfaces["GigabitEthernet1/4"] is False
    assert interfaces["GigabitEthernet1/1"] is True
    assert interfaces["Port-channel1.3101"] is True
    # Status down is the link; the interface is not shut.
    assert interfaces["Internal-Data1/2"] is True


def test_admin_down_is_admin_down_on_firepower_hardware() -> None:
    interfaces = DRIVER.parse_interface_brief(recorded("show_interface_ip_brief_fpr.txt"))

    assert interfaces["Ethernet1/2"] is False
    assert interfaces["Ethernet1/7"] is True
    assert interfaces["Vlan1"] is True
    assert len(interfaces) == 12


def test_a_row_without_a_protocol_value_is_read_by_its_status() -> None:
    # genieparser's ASA capture (../shared/captures): `Management0/0  10.10.1.1  YES CONFIG up`.
    brief = capture("cisco_asa/genie_brief_golden_output.raw")
    assert re.search(r"^Management0/0\s+10\.10\.1\.1\s+YES CONFIG up\s*$", brief, re.M)

    interfaces = CiscoAsaDriver.parse_interface_brief(brief)

    assert interfaces["Management0/0"] is True
    assert interfaces["GigabitEthernet0/1"] is False  # `admin down`
    assert interfaces["Vlan160"] is True  # `down`: the link, not a shutdown


@pytest.mark.parametrize(
    "row",
    [
        "Management0/0      10.10.1.1  YES CONFIG",  # no Status either
        "Management0/0      10.10.1.1  YES CONFIG testing    up",
        "Management0/0      10.10.1.1  YES CONFIG up         up   extra",
    ],
)
def test_a_row_that_cannot_be_understood_is_still_refused_with_its_line(row: str) -> None:
    brief = capture("cisco_asa/genie_brief_golden_output.raw")
    brief = re.sub(r"^Management0/0 .*$", row, brief, flags=re.M)

    with pytest.raises(UnexpectedOutput, match=re.escape(repr(row))):
        CiscoAsaDriver.parse_interface_brief(brief)


def test_an_unknown_brief_layout_is_refused() -> None:
    with pytest.raises(UnexpectedOutput):
        DRIVER.parse_interface_brief("Interface Status\nGigabitEthernet0/0 whatever\n")


# --- nameif, access-group, access-list --------------------------------------------------------


@pytest.mark.parametrize("which", ["groups", "acls"])
def test_a_refused_acl_read_is_never_taken_for_an_asa_without_acls(which: str) -> None:
    # A real ASA refusal (a 5506-X's `ERROR: % Invalid input detected at '^' marker.`) as the
    # answer to `show running-config access-group` or `... access-list`.
    refused = recorded("config_invalid_input.txt")
    groups = refused if which == "groups" else recorded("show_running-config_access-group.txt")
    acls = refused if which == "acls" else INSIDE_ACL

    with pytest.raises(UnexpectedOutput, match=r"show running-config access-.*refused"):
        DRIVER.parse_state(BRIEF, recorded("show_nameif.txt"), groups, acls)


def test_an_access_group_line_of_an_unknown_form_is_refused() -> None:
    groups = recorded("show_running-config_access-group.txt") + (
        "access-group OUTSIDE_acl in interface outside per-user-override control-plane\n"
    )

    with pytest.raises(UnexpectedOutput, match="per-user-override control-plane"):
        CiscoAsaDriver.parse_access_groups(groups)


def test_a_control_plane_acl_is_never_taken_for_the_interfaces_own() -> None:
    # The command reference's forms, after the recorded bindings: a control-plane ACL on
    # outside filters traffic to the ASA; the cut must still go in OUTSIDE_acl.
    groups = recorded("show_running-config_access-group.txt") + (
        "access-group MGMT_ONLY in interface outside control-plane\n"
        "access-group INSIDE_acl in interface inside per-user-override\n"
    )

    bound = CiscoAsaDriver.parse_access_groups(groups)

    assert bound[("outside", "in")] == "OUTSIDE_acl"
    assert bound[("inside", "in")] == "INSIDE_acl"
    assert "MGMT_ONLY" not in bound.values()


def test_show_nameif_maps_interfaces_to_nameifs() -> None:
    assert DRIVER.parse_nameif(recorded("show_nameif.txt")) == {
        "GigabitEthernet0/0": "inside",
        "GigabitEthernet0/1": "outside",
        "Management0/0": "mgmt",
    }


def test_access_groups_are_read_by_nameif_and_direction() -> None:
    groups = DRIVER.parse_access_groups(recorded("show_running-config_access-group.txt"))

    assert len(groups) == 7
    assert groups[("outside", "in")] == "OUTSIDE_acl"
    assert groups[("dmz4", "in")] == "dmz4"


def test_a_running_config_yields_its_acls_and_bindings_but_no_global_one() -> None:
    config = recorded("show_running-config_9.2.txt")

    assert DRIVER.parse_access_groups(config) == {
        ("CP_ASA_Interco", "in"): "CP_ASA_Interco_in",
        ("AsaCoreInterco", "in"): "AsaCoreInterco_in",
    }
    assert DRIVER.parse_access_lists(config) == {
        "global_access": ["extended permit ip any any"],
        "CP_ASA_Interco_in": ["extended permit ip any any"],
        "AsaCoreInterco_in": ["extended permit ip any any"],
    }


def test_the_state_carries_each_nameif_and_the_acls_bound_to_it() -> None:
    state = state_of(INSIDE_ACL + "\n" + OUTSIDE_ACL + "\n")

    assert state.contexts == {
        "GigabitEthernet0/0": "inside",
        "GigabitEthernet0/1": "outside",
        "Management0/0": "mgmt",
    }
    assert state.nameifs == {
        "GigabitEthernet0/0": Nameif(name="inside", acls={"in": "INSIDE_acl"}),
        "GigabitEthernet0/1": Nameif(name="outside", acls={"in": "OUTSIDE_acl"}),
        "Management0/0": Nameif(name="mgmt"),
    }
    assert state.denies == {}


def test_an_entry_id_reads_back_as_the_entry_it_names() -> None:
    pair = AclEntry.parse("in OUTSIDE_acl isolement GigabitEthernet0/1 inet-h5")
    own = AclEntry.parse("out isolement-out-outside")

    assert pair == AclEntry(
        direction="in", acl="OUTSIDE_acl", remark="isolement GigabitEthernet0/1 inet-h5"
    )
    assert own == AclEntry(direction="out", acl="isolement-out-outside")
    assert [str(pair), str(own)] == [
        "in OUTSIDE_acl isolement GigabitEthernet0/1 inet-h5",
        "out isolement-out-outside",
    ]


# --- a cut read back (built in the ASA's layout) ----------------------------------------------

REMARK = "isolement GigabitEthernet0/1 inet-h5"
OWN_OUT = own_acl("out", "outside")
CUT_ACLS = f"""\
{INSIDE_ACL}
access-list OUTSIDE_acl remark {REMARK}
access-list OUTSIDE_acl {DENY}
{OUTSIDE_ACL}
access-list {OWN_OUT} remark {REMARK}
access-list {OWN_OUT} {DENY}
"""
CUT_GROUPS = (
    recorded("show_running-config_access-group.txt")
    + f"access-group {OWN_OUT} out interface outside\n"
)


def test_a_cut_in_both_directions_reads_as_cut_with_what_restore_removes() -> None:
    state = state_of(CUT_ACLS, CUT_GROUPS)

    assert state.denies == {
        "GigabitEthernet0/1": [f"in OUTSIDE_acl {REMARK}", f"out {OWN_OUT}"],
    }
    assert state.is_cut("GigabitEthernet0/1", CutMethod.DENY)
    assert not state.is_cut("GigabitEthernet0/0", CutMethod.DENY)


def test_one_direction_alone_is_not_a_cut() -> None:
    # A session lost between the two directions: traffic leaving through outside still flows.
    state = state_of(CUT_ACLS)

    assert state.denies == {}


def test_a_deny_below_a_permit_is_not_a_cut() -> None:
    moved = CUT_ACLS.replace(
        f"access-list OUTSIDE_acl remark {REMARK}\naccess-list OUTSIDE_acl {DENY}\n{OUTSIDE_ACL}\n",
        f"{OUTSIDE_ACL}\naccess-list OUTSIDE_acl remark {REMARK}\naccess-list OUTSIDE_acl {DENY}\n",
    )

    assert state_of(moved, CUT_GROUPS).denies == {}


def test_a_deny_without_isolements_remark_is_not_isolements() -> None:
    theirs = CUT_ACLS.replace(f"access-list OUTSIDE_acl remark {REMARK}\n", "")

    assert state_of(theirs, CUT_GROUPS).denies == {}


def test_an_acl_named_like_isolements_but_holding_more_is_edited_not_cleared() -> None:
    extra = CUT_ACLS + f"access-list {OWN_OUT} extended permit ip any any\n"

    denies = state_of(extra, CUT_GROUPS).denies["GigabitEthernet0/1"]

    assert denies[1] == f"out {OWN_OUT} {REMARK}"


# --- bubbles: permits above the deny (#12 §2) -------------------------------------------------

ALLOW_REMARK = "isolement-allow GigabitEthernet0/1 lab-results inet-h5"
PERMIT = "extended permit tcp 198.18.60.0 255.255.255.0 host 198.18.250.10 eq 80"
BUBBLE_ACLS = f"""\
{INSIDE_ACL}
access-list OUTSIDE_acl remark {ALLOW_REMARK}
access-list OUTSIDE_acl {PERMIT}
access-list OUTSIDE_acl remark {REMARK}
access-list OUTSIDE_acl {DENY}
{OUTSIDE_ACL}
access-list {OWN_OUT} remark {ALLOW_REMARK}
access-list {OWN_OUT} {PERMIT}
access-list {OWN_OUT} remark {REMARK}
access-list {OWN_OUT} {DENY}
"""
WEB = Flow("tcp", IPv4Network("198.18.60.0/24"), IPv4Network("198.18.250.10/32"), 80)


def bubble(*flows: Flow) -> AllowTarget:
    return AllowTarget("inet-h5", "GigabitEthernet0/1", "lab-results", flows or (WEB,))


def test_a_bubble_goes_from_line_1_of_both_acls_above_the_deny() -> None:
    cut = state_of(CUT_ACLS, CUT_GROUPS)

    assert DRIVER.render_allow([bubble()], cut).lines == [
        f"access-list OUTSIDE_acl line 1 remark {ALLOW_REMARK}",
        f"access-list OUTSIDE_acl line 2 {PERMIT}",
        f"access-list {OWN_OUT} line 1 remark {ALLOW_REMARK}",
        f"access-list {OWN_OUT} line 2 {PERMIT}",
    ]


def test_a_bubble_is_read_back_by_stage_and_the_deny_beneath_it_still_holds() -> None:
    state = state_of(BUBBLE_ACLS, CUT_GROUPS)

    assert state.allows == {
        "GigabitEthernet0/1": {
            "lab-results": [
                f"in OUTSIDE_acl remark {ALLOW_REMARK}",
                f"in OUTSIDE_acl {PERMIT}",
                f"out {OWN_OUT} remark {ALLOW_REMARK}",
                f"out {OWN_OUT} {PERMIT}",
            ]
        }
    }
    assert state.is_cut("GigabitEthernet0/1", CutMethod.DENY)
    # isolement's own ACL, holding only its cut and its bubble, is still removed whole.
    assert state.denies["GigabitEthernet0/1"][1] == f"out {OWN_OUT}"


def test_a_permit_of_the_firewalls_own_above_the_deny_is_no_bubble_and_no_cut() -> None:
    theirs = BUBBLE_ACLS.replace(f"access-list OUTSIDE_acl remark {ALLOW_REMARK}\n", "")

    state = state_of(theirs, CUT_GROUPS)

    assert state.denies == {}
    assert "OUTSIDE_acl" not in str(state.allows)


def test_the_cut_that_closes_a_stage_removes_its_bubble_line_by_line() -> None:
    state = state_of(BUBBLE_ACLS, CUT_GROUPS)

    assert DRIVER.render_cut([target()], state).lines == [
        f"no access-list OUTSIDE_acl remark {ALLOW_REMARK}",
        f"no access-list OUTSIDE_acl {PERMIT}",
        f"no access-list {OWN_OUT} remark {ALLOW_REMARK}",
        f"no access-list {OWN_OUT} {PERMIT}",
    ]


def test_restore_removes_the_bubble_then_the_cut() -> None:
    commands = DRIVER.render_restore([target()], state_of(BUBBLE_ACLS, CUT_GROUPS)).lines

    assert commands[:2] == [
        f"no access-list OUTSIDE_acl remark {ALLOW_REMARK}",
        f"no access-list OUTSIDE_acl {PERMIT}",
    ]
    assert commands[-2:] == [
        f"no access-group {OWN_OUT} out interface outside",
        f"clear configure access-list {OWN_OUT}",
    ]


def test_permits_are_written_as_the_asa_prints_them_back() -> None:
    any_source = Flow("udp", IPv4Network("0.0.0.0/0"), IPv4Network("198.18.51.0/24"))
    ping = Flow("icmp", IPv4Network("198.18.60.0/24"), IPv4Network("198.18.250.10/32"))

    commands = DRIVER.render_allow([bubble(any_source, ping)], state_of(CUT_ACLS, CUT_GROUPS)).lines

    assert commands[1:3] == [
        "access-list OUTSIDE_acl line 2 extended permit udp any4 198.18.51.0 255.255.255.0",
        "access-list OUTSIDE_acl line 3 extended permit icmp 198.18.60.0 255.255.255.0 "
        "host 198.18.250.10",
    ]


def test_a_bubble_on_an_interface_without_nameif_is_refused() -> None:
    stray = AllowTarget("inet-h5", "GigabitEthernet0/9", "lab-results", (WEB,))

    with pytest.raises(PlanRefused, match=r"GigabitEthernet0/9 .* has no nameif"):
        DRIVER.render_allow([stray], state_of(INSIDE_ACL + "\n")).lines


# --- rendering --------------------------------------------------------------------------------


def test_the_cut_goes_first_in_a_bound_acl_and_binds_its_own_acl_elsewhere() -> None:
    state = state_of(INSIDE_ACL + "\n" + OUTSIDE_ACL + "\n")

    assert DRIVER.render_cut([target()], state).lines == [
        f"access-list OUTSIDE_acl line 1 remark {REMARK}",
        f"access-list OUTSIDE_acl line 2 {DENY}",
        f"access-list {OWN_OUT} line 1 remark {REMARK}",
        f"access-list {OWN_OUT} line 2 {DENY}",
        f"access-group {OWN_OUT} out interface outside",
    ]


def test_an_interface_already_cut_gets_nothing() -> None:
    assert DRIVER.render_cut([target()], state_of(CUT_ACLS, CUT_GROUPS)).lines == []


def test_an_interface_without_nameif_is_refused_before_anything_is_sent() -> None:
    state = state_of(INSIDE_ACL + "\n")

    with pytest.raises(PlanRefused, match=r"GigabitEthernet0/9 \(link .*\) has no nameif"):
        DRIVER.render_cut([target("GigabitEthernet0/9")], state).lines


def test_shutdown_is_an_interface_block() -> None:
    shut = CutTarget("spare", "Management0/0", CutMethod.SHUTDOWN)

    assert DRIVER.render_cut([shut]).lines == ["interface Management0/0", "shutdown", "exit"]
    assert DRIVER.render_restore([shut], state_of("")).lines == [
        "interface Management0/0",
        "no shutdown",
        "exit",
    ]


def test_restore_removes_exactly_the_lines_and_the_acl_isolement_added() -> None:
    state = state_of(CUT_ACLS, CUT_GROUPS)

    assert DRIVER.render_restore([target()], state).lines == [
        f"no access-list OUTSIDE_acl remark {REMARK}",
        f"no access-list OUTSIDE_acl {DENY}",
        f"no access-group {OWN_OUT} out interface outside",
        f"clear configure access-list {OWN_OUT}",
    ]


def test_restore_of_an_open_interface_sends_nothing() -> None:
    assert DRIVER.render_restore([target()], state_of(INSIDE_ACL + "\n")).lines == []


LONG = "x" * 64


@pytest.mark.parametrize("link", [LONG, LONG[:-1] + "y", "inet-h5"])
def test_remarks_fit_the_asas_100_characters_and_keep_long_links_apart(link: str) -> None:
    interface = "GigabitEthernet0/0/" + "1" * 40
    remark = remark_for(check_name(interface), check_name(link))

    assert len(remark) <= REMARK_MAX
    assert remark.startswith(f"isolement {interface} ")
    assert remark_for(interface, LONG) != remark_for(interface, LONG[:-1] + "y")


def test_every_rendered_line_is_one_asa_command() -> None:
    targets: Sequence[CutTarget] = [target(), target("GigabitEthernet0/0", "lan-h5")]
    commands = DRIVER.render_cut(targets, state_of(INSIDE_ACL + "\n")).lines

    assert commands
    assert all("\n" not in c and "\r" not in c for c in commands)


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("config_invalid_input.txt", "ERROR: % Invalid input detected at '^' marker."),
        ("exec_incomplete_command.txt", "ERROR: % Incomplete command"),
        ("config_warning_route_exists.txt", "WARNING: Route already exists"),
    ],
)
def test_recorded_refusals_are_errors(name: str, error: str) -> None:
    assert DRIVER.find_error(recorded(name)) == error


def test_a_clean_configuration_dialogue_is_no_error() -> None:
    # netmiko's transcript of a cut: echoes and prompts, nothing else (the ASA prints nothing
    # for a line it accepts). A link named like an error is not one: it is not at a line start.
    output = (
        "configure terminal\nh5-fw(config)# access-list OUTSIDE_acl line 1 remark "
        "isolement GigabitEthernet0/1 ERROR:x\nh5-fw(config)# end\nh5-fw# "
    )

    assert DRIVER.find_error(output) is None
    assert DRIVER.find_error(recorded("show_running-config_9.2.txt")) is None


def test_every_error_line_is_reported_in_order() -> None:
    output = recorded("config_warning_route_exists.txt") + recorded("config_invalid_input.txt")

    assert DRIVER.find_error(output) == (
        "WARNING: Route already exists; ERROR: % Invalid input detected at '^' marker."
    )


# --- privilege and snapshot -------------------------------------------------------------------


class Answers:
    """A session answering each command from a table."""

    def __init__(self, answers: dict[str, str]):
        self.answers = answers

    def send_command(self, command: str, *, verify_echo: bool = True) -> str:
        return self.answers[command]

    def send_config(self, commands: Sequence[str]) -> str:
        raise AssertionError("nothing is configured here")

    def commit(self, *, confirm_minutes: int | None = None) -> str:
        raise AssertionError("the ASA has no commit")

    def prompt(self) -> str:
        return "h5-fw#"

    def close(self) -> None:
        pass


@pytest.mark.parametrize(("level", "privileged"), [("15", True), ("5", False)])
def test_privilege_is_level_15_not_the_hash_prompt(level: str, privileged: bool) -> None:
    curpriv = f"Username : ops\nCurrent privilege level : {level}\nCurrent Mode/s : P_PRIV\n"

    assert DRIVER.has_privilege(Answers({"show curpriv": curpriv})) is privileged


def test_the_snapshot_drops_comment_and_checksum_lines_only() -> None:
    config = recorded("show_running-config_9.2.txt")

    snapshot = DRIVER.snapshot(Answers({"show running-config": config}))

    assert "Cryptochecksum" not in snapshot
    assert ": end" not in snapshot
    kept = [line for line in config.splitlines() if not line.startswith((":", "Cryptochecksum"))]
    assert snapshot.splitlines() == kept
