"""The drill clock, read from the drill's journal: time to contain (from the decision to the
isolation verified by packets), each device's and each wave's time within the cut, and each
reconnection stage's time from its intent to its opening (or closing again)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Record = Mapping[str, Any]


def moment(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _since(start: str, end: str) -> float:
    return round((moment(end) - moment(start)).total_seconds(), 3)


@dataclass(frozen=True)
class DeviceTime:
    device: str
    wave: int
    # Seconds from the run's start to the device's change confirmed (or failed, unconfirmed).
    seconds: float
    outcome: str  # applied, failed, unconfirmed (the last of its attempts)
    attempts: int


@dataclass(frozen=True)
class WaveTime:
    wave: int
    devices: list[str]
    # Seconds from the run's start to the last of its devices done.
    done_at_s: float


@dataclass(frozen=True)
class StageTime:
    stage: str
    seconds: float | None  # intent to opened (or closed again); None: never ended
    outcome: str  # opened, verified, closed


@dataclass
class DrillClock:
    # Decision to isolation verified by packets; None when it was never verified.
    contain_s: float | None
    cut_runs: int  # runs of the cut it took (the team's re-runs included)
    devices: list[DeviceTime] = field(default_factory=list)
    waves: list[WaveTime] = field(default_factory=list)
    stages: list[StageTime] = field(default_factory=list)


def drill_clock(records: Sequence[Record], decision: str, verified: str | None) -> DrillClock:
    """The clock of one playbook's drill: `records` its journal's records from the decision on,
    `decision` and `verified` (UTC ISO moments) as the drill took them."""
    runs = [r for r in records if r.get("event") == "run.started" and r.get("direction") == "cut"]
    clock = DrillClock(
        contain_s=_since(decision, verified) if verified else None,
        cut_runs=sum(1 for r in runs if not r.get("stage")),
    )
    first = next((r for r in runs if not r.get("stage")), None)
    if first is not None:
        clock.devices, clock.waves = _devices_and_waves(records, first)
    clock.stages = list(_stages(records))
    return clock


def _devices_and_waves(
    records: Sequence[Record], started: Record
) -> tuple[list[DeviceTime], list[WaveTime]]:
    run = started["run"]
    wave_of = {d: i for i, wave in enumerate(started.get("waves", []), 1) for d in wave}
    last: dict[str, Record] = {}
    for r in records:
        if r.get("run") == run and r.get("event") in (
            "change.applied",
            "change.failed",
            "change.unconfirmed",
        ):
            last[r["device"]] = r
    devices = [
        DeviceTime(
            device=d,
            wave=wave_of.get(d, 0),
            seconds=_since(started["ts"], r["ts"]),
            outcome=str(r["event"]).removeprefix("change."),
            attempts=int(r.get("attempt", 1)),
        )
        for d, r in sorted(last.items(), key=lambda item: (wave_of.get(item[0], 0), item[0]))
    ]
    waves = [
        WaveTime(
            wave=i,
            devices=sorted(wave),
            done_at_s=max((t.seconds for t in devices if t.wave == i), default=0.0),
        )
        for i, wave in enumerate(started.get("waves", []), 1)
    ]
    return devices, waves


def _stages(records: Iterable[Record]) -> Iterable[StageTime]:
    intents: dict[str, str] = {}
    for r in records:
        event = r.get("event")
        if event == "stage.intent":
            intents[r["stage"]] = r["ts"]
        elif event in ("stage.opened", "stage.closed") and r.get("stage") in intents:
            start = intents.pop(r["stage"])
            outcome = "closed" if event == "stage.closed" else "opened"
            if event == "stage.opened" and r.get("verified"):
                outcome = "verified"
            yield StageTime(r["stage"], _since(start, r["ts"]), outcome)
    for stage in intents:
        yield StageTime(stage, None, "never ended")
