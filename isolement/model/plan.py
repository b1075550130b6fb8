"""A plan: the ordered, per-device change set of one playbook against the observed state.

Serialisable and hashable: the hash covers what would be sent, not when, so the plan rehearsed in
the lab can be recognised when the same one comes up in production.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, computed_field

from isolement.model.change import ChangeSet
from isolement.model.playbook import FlowRule
from isolement.model.state import CutMethod


class Direction(StrEnum):
    CUT = "cut"
    RESTORE = "restore"
    ALLOW = "allow"  # let a reconnection stage's flows through a cut (a bubble)


class Change(BaseModel):
    """One endpoint of one link to change on one device."""

    model_config = ConfigDict(frozen=True)

    link: str
    interface: str
    method: CutMethod
    # For a bubble (Direction.ALLOW): the stage that opens it and the flows it lets through.
    stage: str | None = None
    # A factory: a `[]` default is deep-copied by Python for each of a plan's 11,000 changes.
    flows: list[FlowRule] = Field(default_factory=list)


class DeviceStep(BaseModel):
    model_config = ConfigDict(frozen=True)

    device: str
    site: str
    platform: str
    changes: list[Change]
    change: ChangeSet = ChangeSet()
    # Steps run wave by wave; a wave starts when every step it depends on is done, so no device
    # loses its management path before its own change is made.
    wave: int = 1
    # Devices whose step must be done first (they are managed through a link this step changes).
    after: list[str] = Field(default_factory=list)  # (a factory: see Change.flows)
    # The device could not be read when planning (its management path is cut): its commands are
    # computed from its state once an earlier wave has made it reachable again.
    deferred: bool = False

    @computed_field  # type: ignore[prop-decorator]
    @property
    def commands(self) -> list[str]:
        """The lines the step loads (the transaction's own lines are the driver's verbs);
        serialised too, as `--json` documents name them (cli/schemas)."""
        return self.change.lines


class KeptEndpoint(BaseModel):
    """An endpoint of a targeted link deliberately left open, and why."""

    model_config = ConfigDict(frozen=True)

    device: str
    interface: str
    link: str
    why: str


class Manageability(BaseModel):
    """Whether the controller can still reach a device once the plan is applied."""

    model_config = ConfigDict(frozen=True)

    device: str
    manageable_after: bool
    via: list[str]
    note: str = ""


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)

    direction: Direction
    playbook: str
    inventory: str
    parameters: dict[str, str] = {}
    steps: list[DeviceStep]
    # Per device, endpoints already in the wanted state: nothing to send for them.
    already_done: dict[str, list[Change]] = {}
    # Links the playbook leaves up, and probes expected to keep passing.
    untouched_links: list[str] = []
    targeted_links: list[str] = []
    kept: list[KeptEndpoint] = []
    management: list[Manageability] = []
    # Protected flows the plan leaves up: name -> reason.
    protected: dict[str, str] = {}
    # Each changed device saves its configuration after the change (the playbook's `persist`).
    persist: bool = False

    def waves(self) -> list[list[DeviceStep]]:
        numbers = sorted({s.wave for s in self.steps})
        return [[s for s in self.steps if s.wave == n] for n in numbers]

    @property
    def nothing_to_do(self) -> bool:
        return not self.steps

    def canonical_steps(self) -> list[dict[str, object]]:
        """What the plan would send, per device (sorted): its wave, the endpoints it changes
        ("link interface method", sorted) and its commands, in their order (on a CLI the order
        is the meaning). No timing, no run id, nothing that depends on dict order."""
        return [
            {
                "device": step.device,
                "wave": step.wave,
                # (the method's value: formatting the enum itself was half of a 5000-step
                # plan's hashing)
                "changes": sorted(f"{c.link} {c.interface} {c.method.value}" for c in step.changes),
                "commands": list(step.commands),
                "commit": step.change.commit_text(),
                "unresolved": list(step.change.unresolved),
                "deferred": step.deferred,
            }
            for step in sorted(self.steps, key=lambda s: s.device)
        ]

    def digest(self, canonical: list[dict[str, object]] | None = None) -> str:
        """sha256 (hex) of the canonical JSON of what the plan would send: the direction, the
        playbook and its parameters, and `canonical_steps()` (given when the caller has them
        already). `cut --expect-plan` compares it."""
        body = {
            "direction": str(self.direction),
            "playbook": self.playbook,
            "parameters": dict(self.parameters),
            "steps": self.canonical_steps() if canonical is None else canonical,
        }
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()
