"""PaloAltoPanosDriver without a device: recorded PAN-OS outputs (tests/data/paloalto_panos, see
SOURCES.md there), the emulator's own outputs parsed the same way, error recognition on real
error texts, rule naming and command rendering, and `apply`'s candidate handling on a scripted
session."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from ipaddress import IPv4Network
from pathlib import Path

import pytest
from isolement.lab.emulator import generate_key
from isolement.lab.profiles.paloalto_panos import PanosDevice
from shared_captures import capture

from isolement.drivers.base import AllowTarget, CutTarget, Flow
from isolement.drivers.paloalto_panos import PaloAltoPanosDriver, bubble_rule, rule_name
from isolement.flows.transaction import transact
from isolement.model.change import CommitMode
from isolement.model.errors import DeviceError, PlanRefused, UnexpectedOutput
from isolement.model.state import CutMethod, DeviceState

DATA = Path(__file__).resolve().parents[1] / "data" / "paloalto_panos"
DRIVER = PaloAltoPanosDriver()
DENY = CutMethod.DENY


def recorded(name: str) -> str:
    return (DATA / name).read_text()


# --- parsing what real firewalls print -----------------------------------------------------------


def test_the_recorded_interface_list_gives_every_interface_and_each_ones_zone() -> None:
    state = DRIVER.parse_state(
        recorded("show_interface_all.raw"), recorded("show_running_security-policy.raw")
    )

    assert list(state.interfaces)[:3] == ["ethernet1/8", "ethernet1/13", "ethernet1/14"]
    assert {"ethernet1/8.81", "ae1.99", "loopback.99", "ae5", "hsci"} <= set(state.interfaces)
    # ha1-b has no link (`down((autoneg))`): administratively it is up.
    assert all(state.interfaces.values())
    assert state.contexts == {
        "ethernet1/8": "ZONE_TECH",
        "ethernet1/8.81": "ZONE_TECH",
        "ethernet1/13": "ZONE_INET",
        "ethernet1/13.388": "ZONE_SDWAN",
        "ethernet1/14": "ZONE_INET",
        "ae1.99": "ZONE_OTSC",
        "loopback.99": "ZONE_CORP",
    }
    # The recorded rulebase holds the firewall's own rules, none of isolement's.
    assert state.denies == {}


# A PA-VM 11.0 in a netlab lab (../shared/captures): its zone `Untrusted-Outside` printed cut to
# the 16 characters of the zone column, `Untrusted-Outsid`.
PAVM = "paloalto_panos/netlab_pavm_11.0.0_show_interface_all.interface_all.raw"


def zone_answer(interface: str, zone: str) -> str:
    """`show interface <name>` in the layout of Palo Alto's documented examples (no real capture
    of it was found: tests/data/paloalto_panos/SOURCES.md), down to its zone line."""
    return (
        "--------------------------------------------------------------------------------\n"
        f"Name: {interface}, ID: 16\n"
        "Operation mode: layer3\n"
        "Virtual router default\n"
        f"Zone: {zone}, virtual system: vsys1\n"
    )


class ShowSession:
    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.sent: list[str] = []

    def send_command(self, command: str, **_: object) -> str:
        self.sent.append(command)
        return self.answers[command]


def test_a_zone_cut_short_by_its_column_is_never_taken_for_the_zone() -> None:
    interface_all = capture(PAVM)
    assert "Untrusted-Outsid " in interface_all

    with pytest.raises(UnexpectedOutput, match=r"ethernet1/1.*show interface ethernet1/1"):
        DRIVER.parse_state(interface_all, "")


def test_the_full_zone_is_read_from_the_interface_itself_and_named_in_the_rules() -> None:
    session = ShowSession(
        {
            "show interface all": capture(PAVM),
            "show interface ethernet1/1": zone_answer("ethernet1/1", "Untrusted-Outside"),
            "show running security-policy": "",
            "show panorama-status": "",
        }
    )

    state = DRIVER.read_state(session)  # type: ignore[arg-type]
    commands = DRIVER.render_cut([CutTarget("inet", "ethernet1/1", DENY)], state).lines

    # Only the interface whose zone fills the column is asked about.
    assert session.sent == [
        "show interface all",
        "show interface ethernet1/1",
        "show running security-policy",
        "show panorama-status",
    ]
    assert state.contexts == {
        "ethernet1/1": "Untrusted-Outside",
        "ethernet1/2": "Untrused-DMZ",
        "ethernet1/3": "Trusted-LAN",
        "ethernet1/4": "Trusted-LAN",
    }
    assert "from Untrusted-Outside to any" in commands[0]
    assert not any("Untrusted-Outsid " in command for command in commands)


def test_two_zones_sharing_their_first_16_characters_stay_two_zones() -> None:
    # The same firewall with ethernet1/2 in a second zone whose name starts alike.
    interface_all = capture(PAVM).replace("Untrused-DMZ    ", "Untrusted-Outsid")
    session = ShowSession(
        {
            "show interface all": interface_all,
            "show interface ethernet1/1": zone_answer("ethernet1/1", "Untrusted-Outside"),
            "show interface ethernet1/2": zone_answer("ethernet1/2", "Untrusted-Outside-2"),
            "show running security-policy": "",
            "show panorama-status": "",
        }
    )

    state = DRIVER.read_state(session)  # type: ignore[arg-type]

    assert state.contexts["ethernet1/1"] != state.contexts["ethernet1/2"]
    # Not refused as a zone shared with an interface left open: the zones differ.
    assert DRIVER.render_cut([CutTarget("inet", "ethernet1/1", DENY)], state).commit == "plain"


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(zone_answer("ethernet1/1", "Trusted-LAN"), id="another-zone"),
        pytest.param("Name: ethernet1/1, ID: 16\nOperation mode: layer3\n", id="no-zone-line"),
        pytest.param("Invalid syntax.\n", id="refused"),
    ],
)
def test_an_interface_answer_that_does_not_confirm_the_zone_is_refused(answer: str) -> None:
    with pytest.raises(UnexpectedOutput, match="ethernet1/1"):
        DRIVER.parse_state(capture(PAVM), "", {"ethernet1/1": answer})


def test_a_port_set_link_state_down_reads_administratively_down_with_its_subinterfaces() -> None:
    # `power-down` is how PAN-OS shows a port set `link-state down` (its XML API says
    # `ukn/ukn/down(power-down)`); the CLI doubles the brackets as the recorded autoneg row.
    text = recorded("show_interface_all.raw").replace(
        "ethernet1/8             23    1000/full/up/auto            ",
        "ethernet1/8             23    ukn/ukn/down((power-down))/ukn",
    )

    state = DRIVER.parse_state(text, "")

    assert state.interfaces["ethernet1/8"] is False
    assert state.interfaces["ethernet1/8.81"] is False
    assert state.interfaces["ethernet1/13"] is True


def test_rules_are_read_back_in_both_the_recorded_and_the_current_header_layouts() -> None:
    old = recorded("show_running_security-policy.raw")
    current = old.replace(
        '"Outside Web Server" {', '"isolement-ethernet1_13-inet-a-in; index: 1" {'
    )
    current = current.replace('"ICMP Any" {', '"isolement-ethernet1_13-inet-a-out; index: 2" {')
    current = current.replace('"DNS Outbound" {', "isolement-ethernet1_13.388-sdwan.1a2b3c4d-in {")
    current = current.replace('"Inbound to DMZ Web" {', '"isolement-ethernet1_99-gone-in" {')
    interfaces = recorded("show_interface_all.raw")

    state = DRIVER.parse_state(interfaces, current)

    assert state.denies == {
        "ethernet1/13": ["isolement-ethernet1_13-inet-a-in", "isolement-ethernet1_13-inet-a-out"],
        # The longest interface that fits: ethernet1/13.388, not ethernet1/13.
        "ethernet1/13.388": ["isolement-ethernet1_13.388-sdwan.1a2b3c4d-in"],
        # An interface the firewall no longer lists is named from the rule itself.
        "ethernet1/99": ["isolement-ethernet1_99-gone-in"],
    }
    assert state.is_cut("ethernet1/13", DENY)
    assert not state.is_cut("ethernet1/14", DENY)


def test_the_emulator_prints_what_the_recorded_outputs_parse_into() -> None:
    sample = PanosDevice.sample("fw1")
    fast = replace(sample, options={**sample.options, "commit_seconds": 0})
    device = PanosDevice(fast, generate_key())
    device.set_rule(
        rule_name("ethernet1/1", "inet-fw1", "in"),
        ["from", "untrust", "to", "any", "action", "deny"],
    )
    device.commit()

    state = DRIVER.parse_state(
        "\n".join(device.show_interface_all()), "\n".join(device.show_running_security_policy())
    )

    assert state.interfaces == {"ethernet1/1": True, "ethernet1/2": True, "ethernet1/3": False}
    assert state.contexts == {
        "ethernet1/1": "untrust",
        "ethernet1/2": "trust",
        "ethernet1/3": "dmz",
    }
    assert state.denies == {"ethernet1/1": ["isolement-ethernet1_1-inet-fw1-in"]}
    # Same columns as the recording: the ntc-templates template takes both (it errors otherwise).
    assert "speed/duplex/state/fec        mac address" in device.show_interface_all()[1]


@pytest.mark.parametrize(
    ("interfaces", "policy"),
    [
        ("% Invalid input detected at '^' marker.", ""),
        ("", ""),
        (recorded("show_interface_all.raw"), "Unknown command: show"),
    ],
    ids=["ios-answer", "empty", "policy-not-a-rulebase"],
)
def test_unrecognised_output_is_an_error_never_an_empty_state(interfaces: str, policy: str) -> None:
    with pytest.raises(UnexpectedOutput, match="unrecognised"):
        DRIVER.parse_state(interfaces, policy)


# --- errors, as PAN-OS words them --------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (recorded("commit_failed.txt"), "Error: application 'ntp-base' not found; Commit failed"),
        ("set rulebase security rules\nInvalid syntax.\n\n[edit]", "Invalid syntax."),
        ("admin@fw> bogus\nUnknown command: bogus\n", "Unknown command: bogus"),
        (
            "Validation Error:\n rulebase -> security -> rules -> r1 -> from 'x' is not a valid "
            "reference\n rulebase -> security -> rules is invalid\nCommit failed",
            "Validation Error:; rulebase -> security -> rules -> r1 -> from 'x' is not a valid "
            "reference; Commit failed",
        ),
        ("Server error : move failed", "Server error : move failed"),
    ],
    ids=["recorded-commit-failure", "invalid-syntax", "unknown-command", "validation", "server"],
)
def test_device_errors_are_recognised(output: str, expected: str) -> None:
    assert DRIVER.find_error(output) == expected


@pytest.mark.parametrize(
    "name",
    ["commit_success.txt", "configure.txt", "exit.txt", "show_system_info.raw"],
)
def test_recorded_answers_that_are_not_errors_are_not_taken_for_one(name: str) -> None:
    assert DRIVER.find_error(recorded(name)) is None


# --- rule names and commands ---------------------------------------------------------------------

PANOS_RULE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


@pytest.mark.parametrize(
    ("interface", "link"),
    [
        ("ethernet1/1", "inet-h4"),
        ("ethernet1/3.20", "vendor-access:siemens/mri@h4"),
        ("ae1.999", "A" + "b" * 63),
        ("tunnel.1", "x_y.z:1/2@3+4-5"),
    ],
)
def test_rule_names_fit_pan_os_and_carry_the_interface_and_the_link(
    interface: str, link: str
) -> None:
    names = [rule_name(interface, link, d) for d in ("in", "out")]

    assert all(PANOS_RULE_NAME.fullmatch(n) for n in names), names
    assert all(n.startswith(f"isolement-{interface.replace('/', '_')}-") for n in names)
    assert names[0].removesuffix("-in") == names[1].removesuffix("-out")


def test_links_differing_only_by_characters_pan_os_refuses_get_distinct_names() -> None:
    assert rule_name("ethernet1/1", "a:b", "in") != rule_name("ethernet1/1", "a/b", "in")
    assert rule_name("ethernet1/1", "a:b", "in") == rule_name("ethernet1/1", "a:b", "in")


STATE = DeviceState(
    interfaces={"ethernet1/1": True, "ethernet1/2": True, "ethernet1/3": True, "ethernet1/4": True},
    contexts={
        "ethernet1/1": "untrust",
        "ethernet1/2": "trust",
        "ethernet1/3": "isp",
        "ethernet1/4": "isp",
    },
    denies={"ethernet1/2": ["isolement-ethernet1_2-lan-in", "isolement-ethernet1_2-lan-out"]},
)


def test_the_cut_names_the_interface_zone_places_both_rules_first_then_commits() -> None:
    commands = DRIVER.render_cut([CutTarget("inet", "ethernet1/1", DENY)], STATE)

    assert commands.commit == "plain"
    assert commands.lines == [
        "set rulebase security rules isolement-ethernet1_1-inet-in from untrust to any source any "
        'destination any application any service any action deny description "isolement '
        'ethernet1/1 inet"',
        "set rulebase security rules isolement-ethernet1_1-inet-out from any to untrust source "
        "any destination any application any service any action deny description "
        '"isolement ethernet1/1 inet"',
        "move rulebase security rules isolement-ethernet1_1-inet-in top",
        "move rulebase security rules isolement-ethernet1_1-inet-out top",
    ]


def test_an_interface_already_cut_is_not_cut_twice() -> None:
    assert DRIVER.render_cut([CutTarget("lan", "ethernet1/2", DENY)], STATE).lines == []


def test_a_zone_shared_with_an_interface_left_open_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(PlanRefused, match=r"zone 'isp' with ethernet1/4"):
        DRIVER.render_cut([CutTarget("isp-a", "ethernet1/3", DENY)], STATE).lines

    both = [CutTarget("isp-a", "ethernet1/3", DENY), CutTarget("isp-b", "ethernet1/4", DENY)]
    assert DRIVER.render_cut(both, STATE).commit == "plain"


def test_an_interface_in_no_zone_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(PlanRefused, match=r"ethernet1/9 \(link x\) is in no security zone"):
        DRIVER.render_cut([CutTarget("x", "ethernet1/9", DENY)], STATE).lines


def test_an_offline_plan_shows_the_intent_not_a_zone_no_firewall_has() -> None:
    change = DRIVER.render_cut([CutTarget("x", "ethernet1/9", DENY)])

    assert change.lines == []
    assert change.unresolved == [
        "deny rules from and to the zone of ethernet1/9 (link x), moved to the top of the "
        "rulebase: resolved when the device is read"
    ]


def test_restore_deletes_exactly_the_rules_read_for_the_targets_then_commits() -> None:
    state = STATE.model_copy(
        update={"denies": {**STATE.denies, "ethernet1/1": ["isolement-ethernet1_1-inet-in"]}}
    )

    commands = DRIVER.render_restore([CutTarget("lan", "ethernet1/2", DENY)], state)

    assert commands.commit == "plain"
    assert commands.lines == [
        "delete rulebase security rules isolement-ethernet1_2-lan-in",
        "delete rulebase security rules isolement-ethernet1_2-lan-out",
    ]
    assert DRIVER.render_restore([CutTarget("inet", "ethernet1/3", DENY)], state).lines == []


# --- apply: the candidate configuration ----------------------------------------------------------

OK_COMMIT = recorded("commit_success.txt")


class Scripted:
    """A session answering from a script: `pending` for `check pending-changes`, and for a line
    sent in configuration mode its answer in `answers` (an exception is raised), else nothing.
    The lines sent in configuration mode are kept, in order."""

    def __init__(self, pending: str, answers: dict[str, str | Exception] | None = None):
        self.pending = pending
        self.answers = answers or {}
        self.sent: list[str] = []

    def send_command(
        self,
        command: str,
        *,
        verify_echo: bool = True,
        expect: str | None = None,
        timeout: float | None = None,
    ) -> str:
        if command == "check pending-changes":
            return self.pending
        if command == "show config running":
            return '<rules admin="admin" dirtyId="7" time="2024/05/01 03:10:00">\n</rules>'
        # Everything else is typed in configuration mode, and ends at its prompt.
        assert expect == (r"admin@fw>" if command == "exit" else r"admin@fw\#")
        # A commit may take minutes on a real firewall: it is given them.
        assert (timeout is not None and timeout >= 300) == (command == "commit")
        self.sent.append(command)
        answer = self.answers.get(command, "")
        if isinstance(answer, Exception):
            raise answer
        return answer

    def send_config(self, commands: Sequence[str]) -> str:
        raise AssertionError("netmiko's configuration mode is not used (see the driver)")

    def commit(self, *, confirm_minutes: int | None = None) -> str:
        raise AssertionError("the commit is sent as a configuration line")

    def prompt(self) -> str:
        return "admin@fw>"

    def close(self) -> None:
        pass


CUT = DRIVER.render_cut([CutTarget("inet", "ethernet1/1", DENY)], STATE)


def test_a_clean_candidate_is_changed_then_committed() -> None:
    session = Scripted("no", {"commit": OK_COMMIT})

    output = transact(DRIVER, session, "fw", CUT)

    assert session.sent == ["configure", *CUT.lines, "commit", "exit"]
    assert "Configuration committed successfully" in output


def test_changes_someone_left_uncommitted_are_never_committed_with_ours() -> None:
    session = Scripted("yes")

    with pytest.raises(DeviceError, match="changes nobody has committed"):
        transact(DRIVER, session, "fw", CUT)

    assert session.sent == []


def test_a_refused_line_reverts_the_candidate_and_nothing_is_committed() -> None:
    session = Scripted("no", {CUT.lines[0]: "set rulebase ...\nInvalid syntax.\n[edit]"})

    with pytest.raises(DeviceError, match=r"Invalid syntax\.; the candidate change was reverted"):
        transact(DRIVER, session, "fw", CUT)

    assert session.sent == ["configure", CUT.lines[0], "revert config", "exit"]


def test_a_refused_commit_reverts_the_candidate() -> None:
    session = Scripted("no", {"commit": recorded("commit_failed.txt")})

    with pytest.raises(DeviceError, match="Commit failed; the candidate change was reverted"):
        transact(DRIVER, session, "fw", CUT)

    assert session.sent[-3:] == ["commit", "revert config", "exit"]


def test_a_commit_without_its_success_line_is_not_taken_for_one() -> None:
    session = Scripted("no", {"commit": "commit\n\n[edit]"})

    with pytest.raises(DeviceError, match="commit not confirmed"):
        transact(DRIVER, session, "fw", CUT)

    assert session.sent[-2:] == ["revert config", "exit"]


def test_a_revert_that_fails_is_said_so() -> None:
    lost = DeviceError("fw", "connection lost: reset")
    session = Scripted("no", {CUT.lines[0]: lost, "revert config": lost, "exit": lost})

    with pytest.raises(DeviceError, match="could NOT be reverted: fw: connection lost"):
        transact(DRIVER, session, "fw", CUT)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("no", True), ("yes", True), ("Invalid syntax.", False), ("", False)],
)
def test_privilege_is_reading_the_candidate_state(answer: str, expected: bool) -> None:
    assert DRIVER.has_privilege(Scripted(answer)) is expected


def test_the_snapshot_leaves_out_who_changed_the_configuration_and_when() -> None:
    assert DRIVER.snapshot(Scripted("no", [])) == "<rules>\n</rules>"


# --- Panorama (#12 §4) ----------------------------------------------------------------------------

PANORAMA = "show panorama-status"


def test_the_recorded_panorama_status_says_the_firewall_is_managed() -> None:
    from isolement.drivers.paloalto_panos import parse_panorama_status

    assert parse_panorama_status(recorded("show_panorama-status.txt")) is True
    # A Panorama pair with one down: still managed (the rules it pushed are in effect).
    assert parse_panorama_status(recorded("show_panorama-status_two.txt")) is True
    assert parse_panorama_status("") is False
    with pytest.raises(UnexpectedOutput, match="unrecognised 'show panorama-status'"):
        parse_panorama_status("Panorama: maybe\n")


def test_an_allow_rule_evaluated_before_the_deny_makes_the_cut_not_in_effect() -> None:
    interface_all = recorded("show_interface_all.raw")
    zone_of = DRIVER.parse_state(interface_all, "").contexts
    interface = next(i for i, z in zone_of.items() if z)
    zone = zone_of[interface]
    token = interface.replace("/", "_")
    policy = (
        f'"panorama-pre" {{\n        from {zone};\n        to any;\n        action allow;\n}}\n\n'
        f'"isolement-{token}-inet-in" {{\n        from {zone};\n        to any;\n'
        "        action deny;\n}\n\n"
    )

    state = DRIVER.parse_state(interface_all, policy)

    assert state.denies[interface] == [f"isolement-{token}-inet-in"]
    assert not state.is_cut(interface, DENY)
    assert "'panorama-pre'" in state.shadowed[interface]
    # The same rules, isolement's first: in effect.
    first = DRIVER.parse_state(interface_all, policy.split("\n\n", 1)[1])
    assert first.is_cut(interface, DENY) and first.shadowed == {}


def test_an_allow_between_other_zones_before_the_deny_shadows_nothing() -> None:
    interface_all = recorded("show_interface_all.raw")
    zone_of = {i: z for i, z in DRIVER.parse_state(interface_all, "").contexts.items() if z}
    interface = next(iter(zone_of))
    token = interface.replace("/", "_")
    policy = (
        '"panorama-pre" {\n        from other-a;\n        to [ other-b other-c ];\n'
        "        action allow;\n}\n\n"
        f'"isolement-{token}-inet-in" {{\n        from {zone_of[interface]};\n        to any;\n'
        "        action deny;\n}\n\n"
    )

    state = DRIVER.parse_state(interface_all, policy)

    assert state.shadowed == {}
    assert state.is_cut(interface, DENY)


def test_the_recorded_policy_gives_each_rules_zones_and_action() -> None:
    from isolement.drivers.paloalto_panos import parse_rules

    policy = recorded("show_running_security-policy.raw")
    rules = parse_rules(policy)
    # The recorded layout: zones in `from`/`to`, lists in brackets, the action.
    assert rules[0] == ("Outside Web Server", ("Trust",), ("Untrust",), "allow")
    assert rules[-1] == ("interzone-default", ("any",), ("any",), "deny")


def test_read_state_asks_for_the_panorama_status_and_names_the_manager() -> None:
    session = ShowSession(
        {
            "show interface all": recorded("show_interface_all.raw"),
            "show running security-policy": "",
            PANORAMA: recorded("show_panorama-status.txt"),
        }
    )

    state = DRIVER.read_state(session)  # type: ignore[arg-type]

    assert session.sent[-1] == PANORAMA
    assert state.facts == {"managed_by": "Panorama"}


def test_a_shadowed_deny_is_not_a_cut_yet_a_restore_still_deletes_it() -> None:
    state = DeviceState(
        interfaces={"ethernet1/1": True},
        denies={"ethernet1/1": ["isolement-ethernet1_1-inet-in"]},
        contexts={"ethernet1/1": "untrust"},
        shadowed={"ethernet1/1": "shadowed by rule 'pre'"},
    )

    assert not state.reached("ethernet1/1", DENY, cut=True)
    assert not state.reached("ethernet1/1", DENY, cut=False)
    commands = DRIVER.render_restore([CutTarget("inet", "ethernet1/1", DENY)], state).lines
    assert commands[0] == "delete rulebase security rules isolement-ethernet1_1-inet-in"


# --- bubbles: allow rules above the deny (#12 §2) --------------------------------------------

WEB = Flow("tcp", IPv4Network("198.18.50.0/24"), IPv4Network("198.18.250.10/32"), 80)
PING = Flow("icmp", IPv4Network("198.18.50.0/24"), IPv4Network("198.18.250.10/32"))


def _rule(name: str, zone_from: str, zone_to: str, action: str) -> str:
    # The recorded layout of `show running security-policy` (show_running_security-policy.raw).
    return (
        f'"{name}; index: 1" {{\n        from {zone_from};\n        source any;\n'
        f"        to {zone_to};\n        destination any;\n        action {action};\n}}\n\n"
    )


def test_a_bubble_is_two_rules_per_flow_moved_above_the_deny_then_committed() -> None:
    target = AllowTarget("inet", "ethernet1/1", "lab-results", (WEB, PING))

    change = DRIVER.render_allow([target], STATE)
    commands = change.lines

    web, ping = (
        bubble_rule("ethernet1/1", "lab-results", n, p) for n, p in ((0, "tcp"), (1, "icmp"))
    )
    assert commands[0] == f"set service {web} protocol tcp port 80"
    assert commands[1] == (
        f"set rulebase security rules {web}-in from untrust to any source 198.18.50.0/24 "
        f"destination 198.18.250.10/32 application any service {web} action allow "
        'description "isolement-allow ethernet1/1 lab-results inet"'
    )
    assert commands[3:5] == [
        f"move rulebase security rules {web}-in top",
        f"move rulebase security rules {web}-out top",
    ]
    assert "application [ icmp ping ] service any" in commands[5]
    assert not any(c.startswith(f"set service {ping}") for c in commands)
    assert change.commit is CommitMode.PLAIN and "commit" not in commands


def test_a_bubble_is_read_back_by_stage_and_the_deny_beneath_it_is_not_shadowed() -> None:
    interface_all = recorded("show_interface_all.raw")
    zone_of = {i: z for i, z in DRIVER.parse_state(interface_all, "").contexts.items() if z}
    interface = next(iter(zone_of))
    zone, token = zone_of[interface], interface.replace("/", "_")
    web = bubble_rule(interface, "lab-results", 0, "tcp")
    ping = bubble_rule(interface, "lab-results", 1, "icmp")
    policy = (
        _rule(f"{web}-out", "any", zone, "allow")
        + _rule(f"{web}-in", zone, "any", "allow")
        + _rule(f"{ping}-in", zone, "any", "allow")
        + _rule(f"isolement-{token}-inet-in", zone, "any", "deny")
    )

    state = DRIVER.parse_state(interface_all, policy)

    assert state.allows == {
        interface: {"lab-results": [f"{web}-out", f"service {web}", f"{web}-in", f"{ping}-in"]}
    }
    assert state.denies == {interface: [f"isolement-{token}-inet-in"]}
    assert state.shadowed == {}
    assert state.is_cut(interface, DENY)
    assert not state.reached(interface, DENY, cut=True)


def test_the_cut_that_closes_a_stage_deletes_its_rules_then_its_service_and_commits() -> None:
    web = bubble_rule("ethernet1/2", "lab-results", 0, "tcp")
    state = replace_state(allows={"ethernet1/2": {"lab-results": [f"{web}-in", f"service {web}"]}})

    change = DRIVER.render_cut([CutTarget("lan", "ethernet1/2", DENY)], state)

    assert change.lines == [
        f"delete rulebase security rules {web}-in",
        f"delete service {web}",
    ]
    assert change.commit is CommitMode.PLAIN


def test_a_stage_name_pan_os_refuses_in_a_rule_name_is_shortened_with_a_hash() -> None:
    long = "remote-maintenance/siemens-mri-scanner@h4"

    name = bubble_rule("ethernet1/3.20", long, 0, "udp")

    assert PANOS_RULE_NAME.fullmatch(f"{name}-out")
    assert name != bubble_rule("ethernet1/3.20", long + "x", 0, "udp")


def test_a_bubble_on_an_interface_in_no_zone_is_refused() -> None:
    stray = AllowTarget("inet", "ethernet1/9", "lab-results", (WEB,))

    with pytest.raises(PlanRefused, match=r"ethernet1/9 .* is in no security zone"):
        DRIVER.render_allow([stray], STATE).lines


def replace_state(**changes: object) -> DeviceState:
    return STATE.model_copy(update=changes)
