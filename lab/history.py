"""Drill reports kept one per drill, and each compared with the one before it on the same lab:
what got faster or slower, what failed that passed before.

A drill's report is `drills/<UTC moment>-<topology>/drill.json` in the state directory, beside
the drill's own journal and that journal's export in every format `journal export` writes."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .clock import DrillClock

# A time is said to have changed only beyond this share of it, or this many seconds: a drill's
# times vary by a few tenths on an idle machine.
NOISE_SHARE, NOISE_S = 0.10, 0.3


@dataclass(frozen=True)
class FaultOutcome:
    fault: str  # NAME=TARGET
    what: str  # what was wrong
    tool: str  # what the tool did, as it reported it in this run
    team: str  # what the team had to do (the drill did it for them)


@dataclass
class PlaybookDrill:
    playbook: str
    clock: DrillClock
    faults: list[FaultOutcome] = field(default_factory=list)
    # Named checks of what really happened (pre-flight, cut, packets, stages, the lab back as
    # it was): True passed. What `compare` tells "failed, passed before" from.
    checks: dict[str, bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(self.checks.values())


@dataclass
class DrillReport:
    started: str  # UTC ISO
    topology: str
    faults: list[str]
    playbooks: list[PlaybookDrill]
    lab_up_s: float | None = None  # when the drill stood the lab up itself

    @property
    def passed(self) -> bool:
        return all(p.passed for p in self.playbooks)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DrillReport:
        from .clock import DeviceTime, StageTime, WaveTime

        playbooks = []
        for p in data["playbooks"]:
            c = p["clock"]
            clock = DrillClock(
                contain_s=c["contain_s"],
                cut_runs=c["cut_runs"],
                devices=[DeviceTime(**d) for d in c["devices"]],
                waves=[WaveTime(**w) for w in c["waves"]],
                stages=[StageTime(**s) for s in c["stages"]],
            )
            playbooks.append(
                PlaybookDrill(
                    p["playbook"],
                    clock,
                    [FaultOutcome(**f) for f in p["faults"]],
                    dict(p["checks"]),
                    list(p.get("notes", [])),
                )
            )
        return cls(
            data["started"], data["topology"], list(data["faults"]), playbooks, data["lab_up_s"]
        )


def drills_dir(state_dir: Path) -> Path:
    return state_dir / "drills"


def keep(report: DrillReport, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "drill.json"
    path.write_text(json.dumps(report.as_dict(), indent=1, sort_keys=True) + "\n")
    return path


def kept(state_dir: Path) -> list[tuple[Path, DrillReport]]:
    """Every drill kept, oldest first (their directories sort by time)."""
    found = []
    for path in sorted(drills_dir(state_dir).glob("*/drill.json")):
        try:
            found.append((path.parent, DrillReport.from_dict(json.loads(path.read_text()))))
        except (ValueError, KeyError, TypeError):
            continue  # a report this version cannot read is skipped, never fatal
    return found


def previous(state_dir: Path, report: DrillReport, before: Path) -> DrillReport | None:
    """The last drill kept before `before` on the same lab with the same faults."""
    same = [
        r
        for d, r in kept(state_dir)
        if d.name < before.name and r.topology == report.topology and r.faults == report.faults
    ]
    return same[-1] if same else None


def _change(label: str, before: float | None, now: float | None) -> str | None:
    if before is None or now is None:
        if before is None and now is None:
            return None
        now_text = f"now {_s(now)}" if now is not None else "NOT REACHED now"
        return f"{label}: {now_text} (was {_s(before)})"
    delta = now - before
    if abs(delta) <= max(NOISE_S, NOISE_SHARE * before):
        return None
    word = "slower" if delta > 0 else "faster"
    return f"{label}: {word} by {abs(delta):.1f} s ({_s(before)} -> {_s(now)})"


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def compare(before: DrillReport, now: DrillReport) -> list[str]:
    """What changed since the previous drill: times beyond the noise, and every check that
    failed now though it passed then (and the reverse)."""
    lines: list[str] = []
    old = {p.playbook: p for p in before.playbooks}
    for p in now.playbooks:
        was = old.get(p.playbook)
        if was is None:
            lines.append(f"{p.playbook}: not in the previous drill")
            continue
        changes = [_change("time to contain", was.clock.contain_s, p.clock.contain_s)]
        was_stage = {s.stage: s.seconds for s in was.clock.stages}
        changes += [
            _change(f"stage {s.stage}", was_stage.get(s.stage), s.seconds) for s in p.clock.stages
        ]
        was_device = {d.device: d.seconds for d in was.clock.devices}
        changes += [
            _change(f"device {d.device}", was_device.get(d.device), d.seconds)
            for d in p.clock.devices
            if d.device in was_device
        ]
        for check, ok in p.checks.items():
            if not ok and was.checks.get(check):
                changes.append(f"FAILED: {check} (passed in the previous drill)")
            elif ok and was.checks.get(check) is False:
                changes.append(f"passes now: {check} (failed in the previous drill)")
        lines += [f"{p.playbook}: {c}" for c in changes if c]
    return lines or ["no change beyond the noise, nothing that passed before fails now"]


def history_text(state_dir: Path) -> str:
    drills = kept(state_dir)
    if not drills:
        return f"no drill kept yet in {drills_dir(state_dir)}"
    lines = [
        f"  {'drill':<34} {'lab':<15} {'faults':<28} {'contain':>9}  result",
    ]
    for directory, r in drills:
        contain = [p.clock.contain_s for p in r.playbooks]
        shown = ", ".join(_s(c) for c in contain)
        faults = ",".join(f.split("=")[0] for f in r.faults) or "-"
        lines.append(
            f"  {directory.name:<34} {r.topology:<15} {faults[:28]:<28} {shown:>9}  "
            f"{'passed' if r.passed else 'FAILED'}"
        )
    last_dir, last = drills[-1]
    before = previous(state_dir, last, last_dir)
    if before is not None:
        lines.append(f"\n{last_dir.name} against the drill before it (same lab, same faults):")
        lines += [f"  {c}" for c in compare(before, last)]
    return "\n".join(lines)


def names(faults: Sequence[Any]) -> list[str]:
    return [f"{f.name}={f.target}" for f in faults]
