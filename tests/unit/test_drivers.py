"""What every registered driver must hold to: its contract, its golden rendering, one-line commands.

Golden files pin what is sent to a device: tests/golden/<platform>/cut.txt and restore.txt hold
the change set rendered for the fixed inputs in tests/golden/<platform>/inputs.yaml, one line
per line, then the commit the runner makes (`# then: commit ...`), if any; allow.txt too, for a
platform that can let chosen flows through a cut. Where inputs.yaml names `recorded` outputs
(tests/data/<platform>/, command -> files), the cut is rendered against the state the driver
reads from them, replayed, as a live cut is; offline.txt then holds what an offline plan (no
state) shows instead. After a deliberate change of rendering, rewrite them with
`ISOLEMENT_UPDATE_GOLDEN=1 pytest tests/unit/test_drivers.py`, then read the diff.
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Sequence
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import pytest
import yaml
from netmiko.ssh_dispatcher import CLASS_MAPPER

from isolement.drivers import PLATFORMS, driver_for
from isolement.drivers.base import AllowTarget, CutTarget, Driver, Flow
from isolement.model.change import ChangeSet
from isolement.model.names import check_name
from isolement.model.state import CutMethod, DeviceState

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
DATA = Path(__file__).resolve().parents[1] / "data"
UPDATE_GOLDEN = os.environ.get("ISOLEMENT_UPDATE_GOLDEN") == "1"


def _inputs(platform: str) -> dict[str, Any]:
    """The fixed inputs rendered into a platform's golden files: tests/golden/<platform>/
    inputs.yaml, with `targets` ([link, interface, method] each), the `state` the restore is
    rendered against, `recorded` (command -> files of tests/data/<platform>/) the cut is
    rendered against where its lines need the device's state, and `allows` (the bubbles) for
    a platform that can open one."""
    path = GOLDEN / platform / "inputs.yaml"
    assert path.exists(), f"{path} is missing: every registered platform has golden inputs"
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def golden_targets(platform: str) -> list[CutTarget]:
    return [CutTarget(link, i, CutMethod(m)) for link, i, m in _inputs(platform)["targets"]]


def golden_state(platform: str) -> DeviceState:
    return DeviceState.model_validate(_inputs(platform)["state"])


class Replay:
    """A session answering each command with recorded outputs (scrapli's replayed sessions)."""

    def __init__(self, platform: str, recorded: dict[str, Sequence[str]]):
        self.answers = {
            command: "".join((DATA / platform / name).read_text() for name in names)
            for command, names in recorded.items()
        }

    def send_command(self, command: str, **_: object) -> str:
        assert command in self.answers, f"no recorded answer to {command!r}"
        return self.answers[command]


def recorded_state(platform: str) -> DeviceState | None:
    """The state the driver reads from the recorded outputs, or None if none are named."""
    recorded = _inputs(platform).get("recorded")
    if recorded is None:
        return None
    return driver_for(platform).read_state(Replay(platform, recorded))  # type: ignore[arg-type]


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


CAN_ALLOW = sorted(platform for platform, cls in PLATFORMS.items() if cls.facts.can_allow)
RECORDED = sorted(platform for platform in PLATFORMS if "recorded" in _inputs(platform))


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_golden_inputs_exist_for_every_platform(platform: str) -> None:
    inputs = _inputs(platform)
    assert golden_targets(platform)
    assert isinstance(golden_state(platform), DeviceState)
    assert ("allows" in inputs) == PLATFORMS[platform].facts.can_allow


def _text(change: ChangeSet) -> str:
    """A change set as its golden file holds it: its lines, then the runner's commit."""
    # One line per line is what makes the file say where each line ends.
    assert all("\n" not in line for line in change.lines), "a line spans several lines"
    lines = [*change.lines]
    commit = change.commit_text()
    lines += [f"# then: {commit}"] if commit else []
    lines += [f"# needs the device's state: {intent}" for intent in change.unresolved]
    return "".join(f"{line}\n" for line in lines)


def _check_golden(path: Path, change: ChangeSet) -> None:
    rendered = _text(change)
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered)
    assert path.exists(), f"{path} is missing: run with ISOLEMENT_UPDATE_GOLDEN=1 to create it"
    assert rendered == path.read_text()


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_cut_matches_golden(platform: str) -> None:
    change = driver_for(platform).render_cut(golden_targets(platform), recorded_state(platform))

    assert not change.unresolved, "a cut rendered against the device's state needs nothing more"
    _check_golden(GOLDEN / platform / "cut.txt", change)


@pytest.mark.parametrize("platform", RECORDED)
def test_offline_cut_matches_golden(platform: str) -> None:
    change = driver_for(platform).render_cut(golden_targets(platform))

    _check_golden(GOLDEN / platform / "offline.txt", change)


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_restore_matches_golden(platform: str) -> None:
    driver = driver_for(platform)
    change = driver.render_restore(golden_targets(platform), golden_state(platform))

    _check_golden(GOLDEN / platform / "restore.txt", change)


@pytest.mark.parametrize("platform", CAN_ALLOW)
def test_allow_matches_golden(platform: str) -> None:
    change = driver_for(platform).render_allow(golden_allows(platform), golden_state(platform))

    _check_golden(GOLDEN / platform / "allow.txt", change)


# --- contract ------------------------------------------------------------------------------

REGISTRY = sorted(PLATFORMS.items())
IDS = [platform for platform, _ in REGISTRY]


@pytest.mark.parametrize(("key", "cls"), REGISTRY, ids=IDS)
def test_platform_equals_registry_key(key: str, cls: type[Driver]) -> None:
    assert cls.facts.name == key


@pytest.mark.parametrize(("key", "cls"), REGISTRY, ids=IDS)
def test_netmiko_device_type_is_one_netmiko_knows(key: str, cls: type[Driver]) -> None:
    assert cls.facts.netmiko_device_type in CLASS_MAPPER


@pytest.mark.parametrize(("key", "cls"), REGISTRY, ids=IDS)
def test_methods_are_non_empty_and_hold_the_preferred_method(key: str, cls: type[Driver]) -> None:
    assert isinstance(cls.facts.methods, frozenset)
    assert cls.facts.methods
    assert all(isinstance(method, CutMethod) for method in cls.facts.methods)
    assert cls.facts.preferred_method in cls.facts.methods


@pytest.mark.parametrize(("key", "cls"), REGISTRY, ids=IDS)
def test_snapshot_command_is_set(key: str, cls: type[Driver]) -> None:
    assert isinstance(cls.facts.snapshot_command, str)
    assert cls.facts.snapshot_command.strip()


@pytest.mark.parametrize(("key", "cls"), REGISTRY, ids=IDS)
def test_error_patterns_are_compiled_patterns(key: str, cls: type[Driver]) -> None:
    assert isinstance(cls.facts.error_patterns, tuple)
    assert cls.facts.error_patterns
    assert all(isinstance(pattern, re.Pattern) for pattern in cls.facts.error_patterns)


@pytest.mark.parametrize(("key", "cls"), REGISTRY, ids=IDS)
def test_driver_reads_state_and_renders_every_method_it_declares(
    key: str, cls: type[Driver]
) -> None:
    """A method is rendered by a `shutdown` template in the facts or by the driver's own
    `cut_lines`; a platform with a candidate overrides the transaction's verbs."""
    assert cls.read_state is not Driver.read_state
    renders = cls.cut_lines is not Driver.cut_lines
    assert renders or cls.facts.methods == {CutMethod.SHUTDOWN}
    assert renders or cls.facts.shutdown is not None
    if cls.facts.candidate:
        # The candidate is entered by `begin`, or by `load` where its name needs the lines
        # (EOS's configuration session, named after the change it holds); always discarded.
        enters = cls.begin is not Driver.begin or cls.load is not Driver.load
        assert enters and cls.discard is not Driver.discard


@pytest.mark.parametrize("verb", ["render_cut", "render_restore", "render_allow", "begin", "load"])
@pytest.mark.parametrize(("key", "cls"), REGISTRY, ids=IDS)
def test_driver_verbs_keep_the_base_signature(key: str, cls: type[Driver], verb: str) -> None:
    """napalm's check: a driver's verb takes what the runner gives the base's."""
    assert inspect.signature(getattr(cls, verb)) == inspect.signature(getattr(Driver, verb))


@pytest.mark.parametrize(("key", "cls"), REGISTRY, ids=IDS)
def test_no_line_of_a_change_set_is_a_commit(key: str, cls: type[Driver]) -> None:
    """The commit is the runner's, through the driver's verbs: never a line to type."""
    targets = golden_targets(key)
    state = recorded_state(key)
    cut = cls().render_cut(targets, state)
    restore = cls().render_restore(targets, golden_state(key))

    assert not [line for line in cut.lines + restore.lines if line.startswith("commit")]


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
def test_cut_lines_never_contain_a_line_break(platform: str, name: str) -> None:
    driver = driver_for(platform)
    method = driver.facts.preferred_method
    targets = [CutTarget(link=name, interface=name, method=method)]
    targets.append(CutTarget(link="second-link", interface="second0", method=method))
    state = DeviceState(
        interfaces={name: True, "second0": True},
        contexts={name: "zone-a", "second0": "zone-b"},
    )

    lines = driver.render_cut(targets, state).lines

    assert lines
    assert not [line for line in lines if "\n" in line or "\r" in line]
