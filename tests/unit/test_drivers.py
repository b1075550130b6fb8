"""What every registered driver must hold to: its contract, its golden rendering, one-line commands.

Golden files: tests/golden/<platform>/cut.txt and restore.txt hold the commands rendered for the
fixed inputs in tests/golden/<platform>/inputs.yaml, one command per line; allow.txt too, for a
platform that can let chosen flows through a cut. After a deliberate change of rendering,
rewrite them with `ISOLEMENT_UPDATE_GOLDEN=1 pytest tests/unit/test_drivers.py`, then read the
diff.
"""

from __future__ import annotations

import os
import re
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import pytest
import yaml
from netmiko.ssh_dispatcher import CLASS_MAPPER

from isolement.drivers import PLATFORMS, driver_for
from isolement.drivers.base import AllowTarget, CutTarget, Driver, Flow
from isolement.model.names import check_name
from isolement.model.state import CutMethod, DeviceState

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
UPDATE_GOLDEN = os.environ.get("ISOLEMENT_UPDATE_GOLDEN") == "1"


def _inputs(platform: str) -> dict[str, Any]:
    """The fixed inputs rendered into a platform's golden files: tests/golden/<platform>/
    inputs.yaml, with `targets` ([link, interface, method] each), the `state` the restore is
    rendered against, and `allows` (the bubbles) for a platform that can open one."""
    path = GOLDEN / platform / "inputs.yaml"
    assert path.exists(), f"{path} is missing: every registered platform has golden inputs"
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def golden_targets(platform: str) -> list[CutTarget]:
    return [CutTarget(link, i, CutMethod(m)) for link, i, m in _inputs(platform)["targets"]]


def golden_state(platform: str) -> DeviceState:
    return DeviceState.model_validate(_inputs(platform)["state"])


def golden_allows(platform: str) -> list[AllowTarget]:
    return [
        AllowTarget(
            a["link"],
            a["interface"],
            a["stage"],
            tuple(
                Flow(
                    f["protocol"],
                    IPv4Network(f["source"]),
                    IPv4Network(f["destination"]),
                    f.get("port"),
                )
                for f in a["flows"]
            ),
        )
        for a in _inputs(platform)["allows"]
    ]


CAN_ALLOW = sorted(platform for platform, cls in PLATFORMS.items() if cls.can_allow)


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_golden_inputs_exist_for_every_platform(platform: str) -> None:
    inputs = _inputs(platform)
    assert golden_targets(platform)
    assert isinstance(golden_state(platform), DeviceState)
    assert ("allows" in inputs) == PLATFORMS[platform].can_allow


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
    commands = driver_for(platform).cut_commands(golden_targets(platform))

    _check_golden(GOLDEN / platform / "cut.txt", commands)


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_restore_commands_match_golden(platform: str) -> None:
    driver = driver_for(platform)
    commands = driver.restore_commands(golden_targets(platform), golden_state(platform))

    _check_golden(GOLDEN / platform / "restore.txt", commands)


@pytest.mark.parametrize("platform", CAN_ALLOW)
def test_allow_commands_match_golden(platform: str) -> None:
    commands = driver_for(platform).allow_commands(golden_allows(platform), golden_state(platform))

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
