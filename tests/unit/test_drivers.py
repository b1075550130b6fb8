"""What every registered driver must hold to: its contract, its golden rendering, one-line commands.

Golden files: tests/golden/<platform>/cut.txt and restore.txt hold the commands rendered for the
fixed targets below, one command per line; allow.txt too, for a platform that can let chosen
flows through a cut. After a deliberate change of rendering, rewrite them
with `ISOLEMENT_UPDATE_GOLDEN=1 pytest tests/unit/test_drivers.py`, then read the diff.
"""

from __future__ import annotations

import os
import re
from ipaddress import IPv4Network
from pathlib import Path

import pytest
from netmiko.ssh_dispatcher import CLASS_MAPPER

from isolement.drivers import PLATFORMS, driver_for
from isolement.drivers.base import AllowTarget, CutTarget, Driver, Flow
from isolement.names import check_name
from isolement.state import CutMethod, DeviceState

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
UPDATE_GOLDEN = os.environ.get("ISOLEMENT_UPDATE_GOLDEN") == "1"

# The fixed targets rendered into the golden files, per platform.
GOLDEN_TARGETS: dict[str, list[CutTarget]] = {
    "cisco_ios": [
        CutTarget("wan-a", "GigabitEthernet0/0/1", CutMethod.SHUTDOWN),
        CutTarget("vpn-b", "Tunnel0", CutMethod.SHUTDOWN),
    ],
    "frr": [
        CutTarget("dc-h1", "wan-h1", CutMethod.SHUTDOWN),
        CutTarget("dc-h2", "wan-dc", CutMethod.SHUTDOWN),
    ],
    "linux": [
        CutTarget("inet-h1", "out0", CutMethod.DENY),
        CutTarget("lan-h1", "in0", CutMethod.DENY),
    ],
}

# The state the restore is rendered against. For linux: the recorded cut of out0 (rules 4-7), a
# cut of in0 (8-11), and a cut of dmz0 by another run (12-15) that must stay, so the restore
# deletes rules by handle rather than the whole table.
GOLDEN_STATES: dict[str, DeviceState] = {
    "cisco_ios": DeviceState(interfaces={"GigabitEthernet0/0/1": False, "Tunnel0": False}),
    "frr": DeviceState(interfaces={"wan-h1": False, "wan-dc": False}),
    "linux": DeviceState(
        interfaces={"out0": True, "in0": True, "dmz0": True},
        denies={
            "out0": ["input/4", "forward/5", "forward/6", "output/7"],
            "in0": ["input/8", "forward/9", "forward/10", "output/11"],
            "dmz0": ["input/12", "forward/13", "forward/14", "output/15"],
        },
    ),
}


# The bubbles rendered into allow.txt, for the platforms that can open one: every protocol, with
# and without a port, on two interfaces.
GOLDEN_ALLOWS: dict[str, list[AllowTarget]] = {
    "linux": [
        AllowTarget(
            "inet-h1",
            "out0",
            "health-portal",
            (
                Flow("tcp", IPv4Network("198.18.20.0/24"), IPv4Network("198.18.250.10/32"), 80),
                Flow("icmp", IPv4Network("198.18.20.0/24"), IPv4Network("198.18.250.10/32")),
            ),
        ),
        AllowTarget(
            "lan-h1",
            "in0",
            "lab-results",
            (
                Flow("udp", IPv4Network("198.18.10.0/24"), IPv4Network("198.18.20.5/32"), 514),
                Flow("tcp", IPv4Network("198.18.10.0/24"), IPv4Network("198.18.20.5/32")),
            ),
        ),
    ],
}
CAN_ALLOW = sorted(platform for platform, cls in PLATFORMS.items() if cls.can_allow)


def test_golden_inputs_cover_every_platform() -> None:
    assert set(GOLDEN_TARGETS) == set(PLATFORMS)
    assert set(GOLDEN_STATES) == set(PLATFORMS)
    assert set(GOLDEN_ALLOWS) == set(CAN_ALLOW)


def _check_golden(path: Path, commands: list[str]) -> None:
    # One command per line is what makes the file say where each command ends.
    assert all("\n" not in command for command in commands), "a command spans several lines"
    rendered = "".join(f"{command}\n" for command in commands)
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered)
    assert path.exists(), f"{path} is missing: run with ISOLEMENT_UPDATE_GOLDEN=1 to create it"
    assert rendered == path.read_text()


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_cut_commands_match_golden(platform: str) -> None:
    commands = driver_for(platform).cut_commands(GOLDEN_TARGETS[platform])

    _check_golden(GOLDEN / platform / "cut.txt", commands)


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_restore_commands_match_golden(platform: str) -> None:
    driver = driver_for(platform)
    commands = driver.restore_commands(GOLDEN_TARGETS[platform], GOLDEN_STATES[platform])

    _check_golden(GOLDEN / platform / "restore.txt", commands)


@pytest.mark.parametrize("platform", CAN_ALLOW)
def test_allow_commands_match_golden(platform: str) -> None:
    commands = driver_for(platform).allow_commands(GOLDEN_ALLOWS[platform])

    _check_golden(GOLDEN / platform / "allow.txt", commands)


# --- contract ------------------------------------------------------------------------------

REGISTRY = sorted(PLATFORMS.items())
IDS = [platform for platform, _ in REGISTRY]


@pytest.mark.parametrize(("key", "cls"), REGISTRY, ids=IDS)
def test_platform_equals_registry_key(key: str, cls: type[Driver]) -> None:
    assert cls.platform == key


@pytest.mark.parametrize(("key", "cls"), REGISTRY, ids=IDS)
def test_netmiko_device_type_is_one_netmiko_knows(key: str, cls: type[Driver]) -> None:
    assert cls.netmiko_device_type in CLASS_MAPPER


@pytest.mark.parametrize(("key", "cls"), REGISTRY, ids=IDS)
def test_methods_are_non_empty_and_hold_the_preferred_method(key: str, cls: type[Driver]) -> None:
    assert isinstance(cls.methods, frozenset)
    assert cls.methods
    assert all(isinstance(method, CutMethod) for method in cls.methods)
    assert cls.preferred_method in cls.methods


@pytest.mark.parametrize(("key", "cls"), REGISTRY, ids=IDS)
def test_snapshot_command_is_set(key: str, cls: type[Driver]) -> None:
    assert isinstance(cls.snapshot_command, str)
    assert cls.snapshot_command.strip()


@pytest.mark.parametrize(("key", "cls"), REGISTRY, ids=IDS)
def test_error_patterns_are_compiled_patterns(key: str, cls: type[Driver]) -> None:
    assert isinstance(cls.error_patterns, tuple)
    assert cls.error_patterns
    assert all(isinstance(pattern, re.Pattern) for pattern in cls.error_patterns)


@pytest.mark.parametrize("method", ["read_state", "cut_commands", "restore_commands"])
@pytest.mark.parametrize(("key", "cls"), REGISTRY, ids=IDS)
def test_driver_overrides_the_base_method(key: str, cls: type[Driver], method: str) -> None:
    assert getattr(cls, method) is not getattr(Driver, method)


# --- injection safety ----------------------------------------------------------------------

# Names check_name accepts, at the edges of what it allows: every allowed punctuation mark and
# the longest length. Drivers put them in command lines as they are.
SAFE_NAMES = [
    "Gi0/0/1",
    "GigabitEthernet0/0/2.10",
    "wan-h1",
    "a",
    "x_y.z:1/2@3+4-5",
    "A" + "b" * 63,
]

HOSTILE_NAMES = [
    "Gi0/1\nno shutdown",
    "out0\r\ndelete table inet isolement",
    "out0'; flush ruleset; '",
    'out0" accept comment "x',
    "out0; reboot",
    "out0 extra",
    "",
]


@pytest.mark.parametrize("name", SAFE_NAMES)
def test_safe_names_pass_the_name_check(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_names_that_could_inject_commands_are_refused(name: str) -> None:
    """Drivers do not escape names: the guard is the Name type on inventory and playbook."""
    with pytest.raises(ValueError, match="not a safe name"):
        check_name(name)


@pytest.mark.parametrize("name", SAFE_NAMES)
@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_cut_commands_never_contain_a_line_break(platform: str, name: str) -> None:
    driver = driver_for(platform)
    targets = [
        CutTarget(link=name, interface=name, method=driver.preferred_method),
        CutTarget(link="second-link", interface="second0", method=driver.preferred_method),
    ]

    commands = driver.cut_commands(targets)

    assert commands
    assert not [command for command in commands if "\n" in command or "\r" in command]
