"""A plan's fingerprint: its hash, and what it was computed from, so that the plan rehearsed is
recognised as the plan about to be run (`cut --expect-plan`), and a different one explained.

The hash covers what would be sent and nothing else: per device, its wave, the endpoints it
changes (link, interface, method) and the commands, in canonical JSON (sorted keys, steps by
device, changes by endpoint). Timings, the run id, dict order and the order in which devices
answered do not enter it. The commands keep their order: on a CLI the order is the meaning.

The sources are digests too: the inventory and the playbook as loaded (not their bytes: a
comment does not change them; their order does, since the order of an inventory's links is the
order of a device's commands), and each device's state as read, limited to the endpoints the
plan targets on it (a port nobody targets may flap without making the plan "different").
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from isolement.drivers import CutTarget
from isolement.model.inventory import Inventory
from isolement.model.plan import Plan
from isolement.model.playbook import Playbook
from isolement.model.state import DeviceState

PREFIX = "sha256:"


def _digest(body: Any, *, ordered: bool = False) -> str:
    """sha256 of canonical JSON; `ordered` keeps the mappings' order (see `inventory_hash`)."""
    canonical = json.dumps(body, sort_keys=not ordered, separators=(",", ":"), ensure_ascii=False)
    return PREFIX + hashlib.sha256(canonical.encode()).hexdigest()


class PlannedStep(BaseModel):
    """One device's part of a plan, as hashed and journaled."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    device: str
    wave: int = 1
    # "link interface method" per endpoint, sorted: readable in a diff, stable in a hash.
    changes: list[str] = []
    commands: list[str] = []
    deferred: bool = False


def planned_steps(canonical: list[dict[str, Any]]) -> list[PlannedStep]:
    # Validated (a key this model does not have is left out): pydantic-core does it 4 times
    # faster than model_construct copies the fields in Python.
    return [PlannedStep.model_validate(step) for step in canonical]


def plan_hash(plan: Plan, canonical: list[dict[str, Any]] | None = None) -> str:
    """`sha256:...` of what the plan would send (`Plan.digest`, see the module's docstring)."""
    return PREFIX + plan.digest(canonical)


def inventory_hash(inventory: Inventory) -> str:
    """The inventory as loaded, in its order: the order of its links is the order a device's
    commands are sent in, so a reordering can change the plan and must show as a change."""
    # pydantic-core's compact JSON is the bytes _digest(..., ordered=True) writes of the JSON
    # dump (test_fingerprint.py holds it to that), five times faster at 10,000 links.
    canonical = inventory.model_dump_json(exclude={"source"})
    return PREFIX + hashlib.sha256(canonical.encode()).hexdigest()


def playbook_hash(playbook: Playbook) -> str:
    return _digest(playbook.model_dump(mode="json", exclude={"source"}), ordered=True)


def state_digest(state: DeviceState, interfaces: Sequence[str]) -> str:
    """The state of the targeted endpoints, as the planner reads them (contexts included: a
    FortiGate's VDOM or a PAN-OS zone is in the commands)."""
    return _digest(
        {
            i: {**state.describe(i), "context": state.contexts.get(i)}
            for i in sorted(set(interfaces))
        }
    )


def state_digests(
    states: Mapping[str, DeviceState], targets: Mapping[str, Sequence[CutTarget]]
) -> dict[str, str]:
    """Per targeted device read, its state digest (a device not read has none)."""
    return {
        device: state_digest(states[device], [t.interface for t in targets[device]])
        for device in sorted(targets)
        if device in states
    }


class Fingerprint(BaseModel):
    """A plan's hash and what it was computed from."""

    model_config = ConfigDict(frozen=True)

    plan: str
    inventory: str
    playbook: str
    states: dict[str, str] = {}
    steps: list[PlannedStep] = []

    @classmethod
    def of(
        cls,
        plan: Plan,
        inventory: Inventory,
        playbook: Playbook,
        states: Mapping[str, DeviceState],
        targets: Mapping[str, Sequence[CutTarget]],
    ) -> Fingerprint:
        canonical = plan.canonical_steps()  # once: both the hash and the steps are made of it
        return cls(
            plan=plan_hash(plan, canonical),
            inventory=inventory_hash(inventory),
            playbook=playbook_hash(playbook),
            states=state_digests(states, targets),
            steps=planned_steps(canonical),
        )


def differences(then: Fingerprint, now: Fingerprint) -> list[str]:
    """What changed between two fingerprints, in words: the inputs first (inventory, playbook,
    each device's state), then device by device the commands that differ."""
    lines: list[str] = []
    if then.inventory != now.inventory:
        lines.append("the inventory changed since the plan was computed")
    if then.playbook != now.playbook:
        lines.append("the playbook changed since the plan was computed")
    for device in sorted(set(then.states) | set(now.states)):
        before, after = then.states.get(device), now.states.get(device)
        if before == after:
            continue
        if before is None:
            lines.append(f"{device}: read now, not read then")
        elif after is None:
            lines.append(f"{device}: read then, not read now")
        else:
            lines.append(f"{device}: its state changed since the plan was computed")
    old = {s.device: s for s in then.steps}
    new = {s.device: s for s in now.steps}
    for device in sorted(set(old) | set(new)):
        a, b = old.get(device), new.get(device)
        if a == b:
            continue
        lines.append(f"{device}: {_step_change(a, b)}")
        lines.extend(_command_diff(a.commands if a else [], b.commands if b else []))
    return lines


def _step_change(then: PlannedStep | None, now: PlannedStep | None) -> str:
    if then is None:
        return "a step now, none then"
    if now is None:
        return "a step then, none now (nothing to send now)"
    parts = []
    if then.changes != now.changes:
        parts.append(f"endpoints then {then.changes}, now {now.changes}")
    if then.wave != now.wave:
        parts.append(f"wave then {then.wave}, now {now.wave}")
    if then.deferred != now.deferred:
        parts.append(f"deferred then {then.deferred}, now {now.deferred}")
    if then.commands != now.commands:
        parts.append("commands differ")
    return "; ".join(parts)


def _command_diff(then: Sequence[str], now: Sequence[str]) -> list[str]:
    return [
        f"    {line}"
        for line in difflib.unified_diff(list(then), list(now), "then", "now", lineterm="", n=0)
        if not line.startswith("@@")
    ]
