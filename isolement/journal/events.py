"""What the journal records, as types: one pydantic model per event, a discriminated union of
them, and the conversion to and from the store's records (`Journal.record(event, **fields)`
writes the bytes; `read_records` gives them back as dicts).

Schema versions: records written before this module carry no `schema_version` and read as
version 1; version 2 adds `stage.intent`, `change.unconfirmed`, and fields every version-1
reader ignores (`unknown`, `aborted`, `reach` on runs; `error` on an applied change; `after` on
a failed one), and `plan.computed` (a plan computed, nothing sent: an older reader reads it as
another part's event). A field missing from an old record takes its default; a field this code
does not know is ignored, so a newer writer's records still read. An event this code does not know
(another part of isolement writes its own) reads as `OtherEvent`, never as an error.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from isolement.model.errors import JournalError
from isolement.model.plan import Change, Direction

SCHEMA_VERSION = 2


class EndpointState(BaseModel):
    """One endpoint as read from its device (DeviceState.describe)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    admin_up: bool | None = None
    deny_rules: list[str] = []
    allow_rules: dict[str, list[str]] = {}

    def is_cut(self, method: str) -> bool:
        """Cut by this method, with no bubble open through it (DeviceState.reached)."""
        cut = self.admin_up is False if method == "shutdown" else bool(self.deny_rules)
        return cut and not self.allow_rules


States = dict[str, EndpointState]  # interface -> its state


class _Event(BaseModel):
    # `ts` and `seq` are the store's (when and in which order it wrote the record).
    model_config = ConfigDict(extra="ignore", frozen=True)

    schema_version: int = SCHEMA_VERSION
    ts: str = ""
    seq: int = 0


class _Scoped(_Event):
    """An event of one playbook run with given parameters (the journal's unit of state)."""

    playbook: str
    parameters: dict[str, str] = {}


class _RunEvent(_Scoped):
    run: str
    direction: Direction


class RunStarted(_RunEvent):
    event: Literal["run.started"] = "run.started"
    operator: str = ""
    reason: str = ""
    approved_by: str | None = None
    stage: str | None = None
    plan: str = ""
    inventory: str = ""
    controller: str = ""
    waves: list[list[str]] = []
    preflight_failed: dict[str, str] = {}
    # Version 1: devices whose state was taken from the journal, counted as read.
    inferred: dict[str, str] = {}
    # Version 2: devices not read (their management path is cut) and why; never counted as read.
    unknown: dict[str, str] = {}
    reach: list[str] = []
    # Version 2: the run saves each change to the startup configuration (playbook `persist`).
    persist: bool = False


class DeviceObserved(_Scoped):
    event: Literal["device.observed"] = "device.observed"
    run: str
    device: str
    state: States = {}


class _Attempt(_RunEvent):
    device: str
    attempt: int = 1
    changes: list[Change] = []


class ChangeIntent(_Attempt):
    event: Literal["change.intent"] = "change.intent"
    # The change set's lines, as rendered; how they are committed ("commit", "commit confirmed
    # 5 min, ..."; None: in effect as typed). Version 2 readers: `commit` absent before.
    commands: list[str] = []
    commit: str | None = None
    before: States = {}
    snapshot: str | None = None
    # Version 2 (older readers ignore it): interface -> why this cut is made again (its earlier
    # cut vanished: "reopened since T: cut again").
    why: dict[str, str] = {}


class ChangeApplied(_Attempt):
    event: Literal["change.applied"] = "change.applied"
    commands: list[str] = []
    output: str = ""
    before: States = {}
    after: States = {}
    confirmed: list[Change] = []
    duration_s: float = 0.0
    drift: list[str] | None = None
    # What the device complained of although the read-back shows the change in effect.
    error: str | None = None
    # isolement's own uncommitted lines that a killed run left in the device's candidate
    # configuration, recognised from the journal and put back before this change was sent.
    recovered: str | None = None

    # Version 2 (older readers ignore it): how the change was made to survive a reboot.
    saved: str | None = None
    # Version 2: every line typed to the device by the attempt, in order (configuration mode,
    # the candidate's checks, the commit and the read-back included): what went over the wire.
    sent: list[str] = []


class ChangeFailed(_Attempt):
    """Known not (wholly) in effect: refused, or read back short of the wanted state."""

    event: Literal["change.failed"] = "change.failed"
    error: str = ""
    after: States | None = None
    sent: list[str] = []  # version 2, as in ChangeApplied


class ChangeUnconfirmed(_Attempt):
    """Sent, and then the device could not be read: it may be in effect or not."""

    event: Literal["change.unconfirmed"] = "change.unconfirmed"
    error: str = ""
    sent: list[str] = []  # version 2, as in ChangeApplied


class RunFinished(_RunEvent):
    event: Literal["run.finished"] = "run.finished"
    outcome: str
    stage: str | None = None
    still_open: dict[str, str] = {}
    unknown: dict[str, str] = {}
    failed: dict[str, str | None] = {}
    interrupted: bool = False
    aborted: bool = False
    duration_s: float = 0.0
    journal_error: str | None = None


class ReopenedEnd(BaseModel):
    """An end isolement cut, seen cut before, and read open now (a cut that vanished)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    device: str
    interface: str
    method: str
    link: str = ""
    last_seen_cut: str = ""


class VerifyResult(_Scoped):
    event: Literal["verify.result"] = "verify.result"
    contained: bool
    # contained / contained-by-state / not-proven / not-contained (flows.results.Verdict).
    verdict: str = ""
    links: dict[str, str] = {}
    # Link -> how its cut is known: packets, state (read back only) or none.
    proof: dict[str, str] = {}
    probes: dict[str, dict[str, str]] = {}
    # Version 2 (older readers ignore it): the ends read open although isolement's cut of them
    # was seen in effect before.
    reopened: list[ReopenedEnd] = []


class _StageEvent(_Scoped):
    stage: str
    operator: str = ""
    reason: str = ""


class StageIntent(_StageEvent):
    """About to reopen a stage: journaled before anything is reopened."""

    event: Literal["stage.intent"] = "stage.intent"
    approved_by: str = ""


class StageOpened(_StageEvent):
    event: Literal["stage.opened"] = "stage.opened"
    approved_by: str = ""
    # Every check ran and held: proven by packets. Otherwise "opened, not proven".
    verified: bool = False
    checks: dict[str, str] = {}
    # Checks that could not run, with why (they prove nothing and did not close the stage).
    unproven: dict[str, str] = {}
    # The operator's reason for accepting read-back state as this stage's proof
    # (--accept-state-proof), "" when not accepted.
    state_proof_accepted: str = ""


class StageClosed(_StageEvent):
    event: Literal["stage.closed"] = "stage.closed"
    outcome: str = ""


class PlannedStepRecord(BaseModel):
    """One device's part of a computed plan (planning/fingerprint.py `PlannedStep`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    device: str
    wave: int = 1
    changes: list[str] = []
    commands: list[str] = []
    deferred: bool = False


class PlanComputed(_Scoped):
    """A plan computed and shown, nothing sent (`rehearse`, `plan`): its hash and what it was
    computed from, so that `cut --expect-plan HASH` can say what changed since."""

    event: Literal["plan.computed"] = "plan.computed"
    by: str = ""  # the command: rehearse, plan
    direction: Direction = Direction.CUT
    plan_hash: str
    inventory: str = ""
    inventory_hash: str = ""
    playbook_hash: str = ""
    # device -> digest of its targeted endpoints' state, as read (planning/fingerprint.py).
    states: dict[str, str] = {}
    steps: list[PlannedStepRecord] = []
    offline: bool = False
    operator: str = ""
    ready: bool | None = None  # rehearse: nothing would block the cut
    blockers: dict[str, str] = {}
    estimate_s: float | None = None


class OtherEvent(BaseModel):
    """A record of an event this module does not define, kept as it was read."""

    model_config = ConfigDict(frozen=True)

    event: str
    record: dict[str, Any]


KnownEvent = Annotated[
    RunStarted
    | DeviceObserved
    | ChangeIntent
    | ChangeApplied
    | ChangeFailed
    | ChangeUnconfirmed
    | RunFinished
    | VerifyResult
    | StageIntent
    | StageOpened
    | StageClosed
    | PlanComputed,
    Field(discriminator="event"),
]
Event = KnownEvent | OtherEvent
Outcome = ChangeApplied | ChangeFailed | ChangeUnconfirmed

_KNOWN: TypeAdapter[KnownEvent] = TypeAdapter(KnownEvent)
_NAMES = {
    model.model_fields["event"].default
    for model in (
        RunStarted,
        DeviceObserved,
        ChangeIntent,
        ChangeApplied,
        ChangeFailed,
        ChangeUnconfirmed,
        RunFinished,
        VerifyResult,
        StageIntent,
        StageOpened,
        StageClosed,
        PlanComputed,
    )
}


def from_record(record: dict[str, Any]) -> Event:
    """The typed event of one record as the store reads it back."""
    name = record.get("event")
    if name not in _NAMES:
        return OtherEvent(event=str(name), record=record)
    try:
        return _KNOWN.validate_python({"schema_version": 1, **record})
    except ValidationError as exc:
        where = f"seq {record.get('seq', '?')}"
        problem = exc.errors()[0]
        field = ".".join(str(p) for p in problem["loc"][1:]) or "the record"
        raise JournalError(
            f"journal record {where} ({name}) does not have the shape isolement writes: "
            f"{field}: {problem['msg']}"
        ) from None


def to_fields(event: KnownEvent) -> tuple[str, dict[str, Any]]:
    """The event's name and the fields to hand to `Journal.record`: what the store adds (`ts`,
    `seq`) left out, the schema version put in, and absent optional values not written."""
    fields = event.model_dump(mode="json", exclude={"event", "ts", "seq"}, exclude_none=True)
    fields["schema_version"] = SCHEMA_VERSION
    return event.event, fields
