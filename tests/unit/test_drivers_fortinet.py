"""FortinetDriver without a device: parsing recorded FortiOS output (tests/data/fortinet, see its
SOURCES.md), recognising FortiOS's error answers, and rendering cuts and restores."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from isolement.drivers.base import AllowTarget, CutTarget, Flow
from isolement.drivers.fortinet import ID_BASE, FortinetDriver, FortinetState
from isolement.model.errors import UnexpectedOutput
from isolement.model.names import check_name
from isolement.model.state import CutMethod, DeviceState

DATA = Path(__file__).resolve().parents[1] / "data" / "fortinet"
DRIVER = FortinetDriver()
DENY, SHUT = CutMethod.DENY, CutMethod.SHUTDOWN


def recorded(name: str) -> str:
    return (DATA / name).read_text()


# --- parsing recorded output -----------------------------------------------------------------


def test_a_recorded_show_reads_admin_state_from_set_status_down() -> None:
    state = DRIVER.parse_config(recorded("show_system_interface_6.4.txt"))

    assert state.interfaces == {
        "dmz": False,
        "mgmt": True,
        "wan1": False,
        "ha1": True,
        "ha2": True,
        "port1": True,
        "port2": True,
        "ae1": True,
        "ae1.2": True,
    }
    # No VDOMs: no context, one policy table (empty here).
    assert state.contexts == {}
    assert state.denies == {}
    assert state.policies == {"": []}


def test_nested_blocks_of_a_full_configuration_are_not_taken_for_interfaces() -> None:
    """`config ipv6 ... end` inside an interface, and a virtual switch's `config port` entries
    named port1..port3, are parts of other objects."""
    state = DRIVER.parse_config(recorded("show_full_configuration_interfaces_excerpt.txt"))

    assert state.interfaces == {"mgmt": True, "ha": True}


def test_a_recorded_policy_with_the_default_deny_action_is_not_isolements() -> None:
    state = DRIVER.parse_config(recorded("show_firewall_policy_deny_default.txt"))

    assert state.policies == {"": ["1"]}
    assert state.denies == {}


def test_a_recorded_policy_table_gives_its_ids_in_order_and_no_isolement_deny() -> None:
    # IBM Cloud's vFSA (FortiGate VM) documentation: `show firewall policy` of its default
    # configuration, three accept policies with their uuids.
    state = FortinetDriver.parse_config(recorded("show_firewall_policy_vfsa.txt"))

    assert state.policies == {"": ["1", "2", "3"]}
    assert state.denies == {} and state.interfaces == {}


def test_policies_tagged_isolement_are_read_as_its_denies_in_sequence_order() -> None:
    ours = """config firewall policy
    edit 1069819426
        set name "isolement-3d2c4d17-from"
        set srcintf "port4"
        set dstintf "any"
        set comments "isolement port4 inet-h3"
    next
"""
    real = recorded("show_firewall_policy_deny_default.txt").removeprefix(
        "config firewall policy\n"
    )

    state = DRIVER.parse_config(ours + real)

    assert state.policies == {"": ["1069819426", "1"]}
    assert state.denies == {"port4": ["1069819426"]}


def test_a_vdom_configuration_gives_each_interface_its_vdom_and_each_vdom_its_policies() -> None:
    text = """#config-version=FGVM64-7.2.5-FW-build1517-230606:opmode=0:vdom=1:user=admin
#conf_file_ver=42
config vdom
edit root
next
edit hospital
next
end
config global
config system interface
    edit "port1"
        set vdom "hospital"
    next
    edit "port3"
        set vdom "root"
        set status down
    next
end
end
config vdom
edit root
config firewall policy
end
next
edit hospital
config firewall policy
    edit 7
        set srcintf "port2"
        set dstintf "port1"
    next
end
next
end
"""
    state = DRIVER.parse_config(text)

    assert state.interfaces == {"port1": True, "port3": False}
    assert state.contexts == {"port1": "hospital", "port3": "root"}
    assert state.policies == {"root": [], "hospital": ["7"]}


@pytest.mark.parametrize(
    "name", ["get_system_status_7.0_vdom_disable.txt", "error_command_parse.txt"]
)
def test_output_without_interfaces_or_policies_is_unexpected(name: str) -> None:
    with pytest.raises(UnexpectedOutput):
        DRIVER.parse_config(recorded(name))


# --- errors ----------------------------------------------------------------------------------


def test_a_recorded_command_parse_error_is_an_error_with_its_return_code() -> None:
    assert DRIVER.find_error(recorded("error_command_parse.txt")) == (
        "command parse error before 'console'; Command fail. Return code -61"
    )


def test_a_recorded_refusal_to_edit_a_reserved_vdom_is_an_error() -> None:
    assert DRIVER.find_error(recorded("error_vdom_reserved.txt"))


@pytest.mark.parametrize(
    "name",
    [
        "policy_edit_new_entry.txt",
        "vdom_edit_current_vf.txt",
        "get_system_status_7.0_vdom_disable.txt",
        "get_system_status_6.2_vdom_multiple.txt",
        "show_system_interface_6.4.txt",
        "show_firewall_policy_deny_default.txt",
        "show_firewall_policy_vfsa.txt",
    ],
)
def test_recorded_normal_answers_are_not_errors(name: str) -> None:
    assert DRIVER.find_error(recorded(name)) is None


@pytest.mark.parametrize(
    "answer",
    [
        # FortiOS's usual wording for a name that does not exist, and for an incomplete entry
        # (not recorded first-hand: see tests/data/fortinet/SOURCES.md).
        "entry not found in datasource\n\nvalue parse error before 'nosuch99'\n"
        "Command fail. Return code -3",
        "node_check_object fail! for name nosuch99",
        "Attribute 'srcintf' MUST be set.\nCommand fail. Return code -56",
    ],
)
def test_fortios_refusals_are_errors(answer: str) -> None:
    assert DRIVER.find_error(f"h3-fw (1069819426) # set srcintf x\n{answer}\n\nh3-fw # ")


# --- rendering -------------------------------------------------------------------------------


def vdom_state(**denies: Sequence[str]) -> FortinetState:
    return FortinetState(
        interfaces={"port1": True, "port2": True, "port3": False},
        contexts={"port1": "hospital", "port2": "hospital", "port3": "root"},
        denies={k: list(v) for k, v in denies.items()},
        policies={"root": [], "hospital": ["1", "2"]},
    )


def test_a_deny_cut_goes_into_the_interfaces_vdom_and_before_its_first_policy() -> None:
    commands = DRIVER.render_cut([CutTarget("inet-h3", "port1", DENY)], vdom_state()).lines

    assert commands[:3] == ["config vdom", "edit hospital", "config firewall policy"]
    from_id, to_id = (c.split()[1] for c in commands if c.startswith("edit 1"))
    assert commands[-4:] == [
        f"move {from_id} before 1",
        f"move {to_id} before 1",
        "end",
        "end",
    ]
    assert 'set srcintf "port1"' in commands and 'set dstintf "port1"' in commands
    assert commands.count('set comments "isolement port1 inet-h3"') == 2
    assert int(from_id) >= ID_BASE and int(to_id) == int(from_id) + 1


def test_the_same_cut_renders_the_same_ids_and_avoids_ids_in_use() -> None:
    target = CutTarget("inet-h3", "port1", DENY)
    first = DRIVER.render_cut([target], vdom_state()).lines
    ids = [c.split()[1] for c in first if c.startswith("edit 1")]
    taken = vdom_state().model_copy(update={"policies": {"hospital": ["1", ids[1]]}})

    again = DRIVER.render_cut([target], vdom_state()).lines
    moved = [
        c.split()[1] for c in DRIVER.render_cut([target], taken).lines if c.startswith("edit 1")
    ]

    assert again == first
    assert ids[1] not in moved and len(set(moved)) == 2


def test_an_interface_already_cut_by_deny_is_not_cut_again() -> None:
    state = vdom_state(port1=["1069819426", "1069819427"])

    assert DRIVER.render_cut([CutTarget("inet-h3", "port1", DENY)], state).lines == []


def test_a_vdom_without_policies_needs_no_move() -> None:
    state = vdom_state().model_copy(update={"policies": {"hospital": []}})

    commands = DRIVER.render_cut([CutTarget("inet-h3", "port1", DENY)], state).lines

    assert not [c for c in commands if c.startswith("move")]


def test_names_fit_fortios_limit_and_comments_carry_interface_and_link() -> None:
    link = check_name("L" * 64)
    state = DeviceState(interfaces={"port1.4094-abcd": True})
    commands = DRIVER.render_cut([CutTarget(link, "port1.4094-abcd", DENY)], state).lines

    names = [c.removeprefix("set name ").strip('"') for c in commands if c.startswith("set name")]
    assert len(names) == 2 and all(len(n) <= 35 for n in names)
    assert f'set comments "isolement port1.4094-abcd {link}"' in commands


def test_shutdown_sets_status_down_in_config_global_with_vdoms() -> None:
    commands = DRIVER.render_cut([CutTarget("lan-h3", "port2", SHUT)], vdom_state()).lines

    assert commands == [
        "config global",
        "config system interface",
        'edit "port2"',
        "set status down",
        "next",
        "end",
        "end",
    ]


def test_restore_deletes_exactly_the_targets_policies_in_their_vdom() -> None:
    state = vdom_state(port1=["1069819426", "1069819427"], port2=["1000000000", "1000000001"])

    commands = DRIVER.render_restore([CutTarget("inet-h3", "port1", DENY)], state).lines

    assert commands == [
        "config vdom",
        "edit hospital",
        "config firewall policy",
        "delete 1069819426",
        "delete 1069819427",
        "end",
        "end",
    ]


def test_restoring_what_is_not_cut_sends_nothing() -> None:
    assert DRIVER.render_restore([CutTarget("inet-h3", "port1", DENY)], vdom_state()).lines == []


class _Session:
    def __init__(self, answer: str):
        self.answer = answer

    def send_command(self, command: str, *, verify_echo: bool = True) -> str:
        return self.answer

    def send_config(self, commands: Sequence[str]) -> str:
        raise NotImplementedError

    def commit(self, *, confirm_minutes: int | None = None) -> str:
        raise NotImplementedError

    def prompt(self) -> str:
        return "h3-fw #"

    def close(self) -> None:
        pass


def test_the_snapshot_leaves_out_the_configuration_file_version() -> None:
    text = recorded("show_system_interface_6.4.txt")

    snapshot = DRIVER.snapshot(_Session(text))
    changed = DRIVER.snapshot(_Session(text.replace("1969083591884498", "1969083591884499")))

    assert "#conf_file_ver" not in snapshot and "#config-version=FG100F" in snapshot
    assert snapshot == changed


# --- FortiManager (#12 §4) ------------------------------------------------------------------------


def test_a_recorded_central_management_section_says_fortimanager_manages_the_device() -> None:
    config = recorded("show_system_interface_6.4.txt")
    managed = DRIVER.parse_config(f"{config}\n{recorded('central_management_fortimanager.txt')}")

    assert managed.facts == {"managed_by": "FortiManager"}
    # The same configuration without the section: no central manager.
    assert DRIVER.parse_config(config).facts == {}


def test_a_fortimanager_in_backup_mode_or_fortiguard_management_is_not_a_central_push() -> None:
    config = recorded("show_system_interface_6.4.txt")
    section = recorded("central_management_fortimanager.txt")
    backup = section.replace("    set fmg", "    set mode backup\n    set fmg")
    fortiguard = section.replace("set type fortimanager", "set type fortiguard")

    assert DRIVER.parse_config(f"{config}\n{backup}").facts == {}
    assert DRIVER.parse_config(f"{config}\n{fortiguard}").facts == {}


# --- bubbles: accept policies above the deny (#12 §2) ----------------------------------------

WEB = Flow("tcp", IPv4Network("198.18.40.0/24"), IPv4Network("198.18.250.10/32"), 80)
PING = Flow("icmp", IPv4Network("198.18.40.0/24"), IPv4Network("198.18.250.10/32"))
BUBBLE = AllowTarget("inet-h3", "port1", "lab-results", (WEB, PING))


def test_a_bubble_goes_into_the_interfaces_vdom_objects_first_policies_moved_first() -> None:
    cut = vdom_state(port1=["1069819426", "1069819427"])
    cut = cut.model_copy(update={"policies": {"root": [], "hospital": ["1069819426", "1", "2"]}})

    commands = DRIVER.render_allow([BUBBLE], cut).lines

    assert commands[:3] == ["config vdom", "edit hospital", "config firewall address"]
    assert "set subnet 198.18.40.0 255.255.255.0" in commands
    assert "set subnet 198.18.250.10 255.255.255.255" in commands
    # A port needs a service of its own; ICMP is FortiOS's own ALL_ICMP.
    at = commands.index("config firewall service custom")
    assert commands[at + 2] == "set tcp-portrange 80"
    assert 'set service "ALL_ICMP"' in commands
    ids = [c.split()[1] for c in commands if c.startswith("edit 1") and c.split()[1].isdigit()]
    assert len(ids) == 4 and not {"1069819426", "1069819427"} & set(ids)
    # Above isolement's deny, the VDOM's first policy: first match wins.
    assert commands[-6:-2] == [f"move {i} before 1069819426" for i in ids]
    assert commands.count('set comments "isolement-allow port1 lab-results inet-h3"') == 4


def test_a_bubble_is_read_back_by_stage_with_its_objects_and_not_taken_for_a_deny() -> None:
    commands = DRIVER.render_allow([BUBBLE]).lines
    # What the FortiGate shows once those lines are in: the same blocks, indented.
    shown = "\n".join(
        line if line.startswith(("config", "end")) else f"    {line}" for line in commands
    )
    deny = recorded("show_firewall_policy_deny_default.txt")

    state = DRIVER.parse_config(shown + "\n" + deny)

    (ids,) = state.allows["port1"].values()
    assert list(state.allows["port1"]) == ["lab-results"]
    policies = [i for i in ids if i.isdigit()]
    assert len(policies) == 4
    assert sum(i.startswith("address isolement-") for i in ids) == 4
    assert sum(i.startswith("service isolement-") for i in ids) == 1
    assert state.denies == {}


def test_the_cut_that_closes_a_stage_deletes_the_policies_then_the_objects() -> None:
    state = vdom_state(port1=["1069819426", "1069819427"]).model_copy(
        update={
            "allows": {
                "port1": {"lab-results": ["1000000010", "address isolement-a-src", "service s"]}
            }
        }
    )

    commands = DRIVER.render_cut([CutTarget("inet-h3", "port1", DENY)], state).lines

    assert commands == [
        "config vdom",
        "edit hospital",
        "config firewall policy",
        "delete 1000000010",
        "end",
        "config firewall address",
        'delete "isolement-a-src"',
        "end",
        "config firewall service custom",
        'delete "s"',
        "end",
        "end",
    ]
