"""The journal's records as the reports read them: one typed parse for each kind of record.

This is the only place in `report/` that touches a record's dict. A record is untrusted (a
journal may have been edited): one whose fields do not have the shape its event says is kept
as `Unreadable`, shown in the timeline with what is wrong, and counted in nothing else. When
the typed journal view (journal/view.py) exists, `parse` is what reads it instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from isolement.journal.store import TornRecord

Raw = Mapping[str, Any]


class _Record(BaseModel):
    """What every record carries. The raw dict is kept for `journal show --json` and exports."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event: str
    ts: str = "?"
    seq: int | None = None
    run: str = ""
    playbook: str = ""
    parameters: dict[str, str] = {}
    device: str = ""
    hash: str | None = None
    _raw: Raw = PrivateAttr(default_factory=dict)

    @property
    def raw(self) -> Raw:
        return self._raw


class Change(BaseModel):
    """One endpoint of a change: the interface, the link it belongs to, how it is cut."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    interface: str = "?"
    link: str = "?"
    method: str = "?"

    def describe(self) -> str:
        return f"{self.interface} (link {self.link}, {self.method})"


class EndpointState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    admin_up: bool | None = None
    deny_rules: list[Any] = []


class RunStarted(_Record):
    """The decision: who, why, with which plan, on which devices."""

    event: Literal["run.started"]
    direction: str = "?"
    operator: str = "?"
    approved_by: str | None = None
    reason: str = ""
    plan: str = ""
    inventory: str = ""
    controller: str = ""
    stage: str | None = None
    waves: list[list[str]] = []
    preflight_failed: dict[str, str] = {}
    inferred: dict[str, str] = {}


class RunFinished(_Record):
    event: Literal["run.finished"]
    direction: str = "?"
    outcome: str | None = None
    duration_s: float | None = None
    still_open: dict[str, str] = {}
    failed: dict[str, str] = {}
    interrupted: bool = False


class DeviceObserved(_Record):
    event: Literal["device.observed"]
    state: dict[str, EndpointState] = {}


class ChangeIntent(_Record):
    event: Literal["change.intent"]
    direction: str = "?"
    attempt: int | None = None
    changes: list[Change] = []
    # interface -> why the cut is made again (its earlier cut vanished).
    why: dict[str, str] = {}


class ChangeApplied(_Record):
    event: Literal["change.applied"]
    direction: str = "?"
    attempt: int | None = None
    changes: list[Change] = []
    confirmed: list[Change] = []
    duration_s: float | None = None
    before: dict[str, EndpointState] = {}
    after: dict[str, EndpointState] = {}


class ChangeFailed(_Record):
    event: Literal["change.failed"]
    direction: str = "?"
    attempt: int | None = None
    changes: list[Change] = []
    error: str = "no error recorded"
    after: dict[str, EndpointState] | None = None


class ReopenedEnd(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    device: str = "?"
    interface: str = "?"
    method: str = "?"
    link: str = "?"
    last_seen_cut: str = ""


class VerifyResult(_Record):
    """A verification: the ends it read open although isolement's cut was seen before."""

    event: Literal["verify.result"]
    contained: bool | None = None
    reopened: list[ReopenedEnd] = []


class Other(_Record):
    """A record of a kind the report does not interpret (stage.opened, verify.result, ...):
    shown in the timeline with its fields."""

    def fields(self) -> str:
        known = {"event", "ts", "seq", "prev", "hash", "run", "playbook", "parameters", "device"}
        rest = {k: v for k, v in self.raw.items() if k not in known}
        return json.dumps(rest, ensure_ascii=False, sort_keys=True, default=str)[:300]


class Unreadable(_Record):
    """A record whose fields do not have the shape its event says: edited, or written by a
    version that wrote something else. `problem` says what is wrong."""

    problem: str = ""


Record = (
    RunStarted
    | RunFinished
    | DeviceObserved
    | ChangeIntent
    | ChangeApplied
    | ChangeFailed
    | VerifyResult
    | Other
    | Unreadable
)

_KINDS: dict[str, type[_Record]] = {
    "run.started": RunStarted,
    "run.finished": RunFinished,
    "device.observed": DeviceObserved,
    "change.intent": ChangeIntent,
    "change.applied": ChangeApplied,
    "change.failed": ChangeFailed,
    "verify.result": VerifyResult,
}


def _text(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def parse(raw: Raw) -> Record:
    """One record, typed by its event; never raises."""
    event = raw.get("event")
    kind = _KINDS.get(event) if isinstance(event, str) else None
    try:
        record: Record = (kind or Other).model_validate(raw)  # type: ignore[assignment]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        seq = raw.get("seq")
        record = Unreadable(
            event=_text(raw.get("event")) or "?",
            ts=_text(raw.get("ts")) or "?",
            seq=seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
            run=_text(raw.get("run")),
            playbook=_text(raw.get("playbook")),
            device=_text(raw.get("device")),
            problem=f"field {where}: {first['msg']}",
        )
    record._raw = raw
    return record


def parse_all(records: Iterable[Raw | TornRecord]) -> list[Record]:
    """The whole records, in order, typed; torn lines are left out (the chain status reports
    them)."""
    return [parse(r) for r in records if not isinstance(r, TornRecord)]
