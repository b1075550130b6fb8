"""Live progress: what a command is doing now, per wave and per device, for a crisis room.

A read-only watcher (flows/observers.py): it tallies the reads, changes and probes it is told
of, and shows them on stderr, either as a live panel redrawn in place (rich, on a terminal:
gone once the command ends, so the result is what stays on screen) or as one plain line per
event (a log, a pipe). It never raises into the run: a display that breaks goes quiet.

Its words follow the events: a device is "done" only once its change was read back confirmed,
a link "cut" once an end of it was (read already cut at pre-flight, or confirmed now).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from functools import wraps
from typing import IO, Any, TypeVar

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from isolement.flows.observers import Applied, Attempt, RunInfo
from isolement.flows.results import RunReport, StepStatus
from isolement.model.plan import Direction, Plan
from isolement.model.state import DeviceState
from isolement.model.text import shown
from isolement.planning.management import OutOfReach

F = TypeVar("F", bound=Callable[..., None])

# What the links become when a change of that direction is done, as the headline says it.
_DONE_WORD = {Direction.CUT: "cut", Direction.RESTORE: "reopened", Direction.ALLOW: "allowed"}


class Phase(StrEnum):
    WAITING = "starting"
    READING = "pre-flight"
    CHANGING = "changing"
    PROBING = "probes"
    FINISHED = "finished"


class DeviceProgress(StrEnum):
    WAITING = "waiting"
    RUNNING = "running"
    DONE = "done"
    FAILED = "FAILED"
    UNCONFIRMED = "UNCONFIRMED"


@dataclass
class Tally:
    """Everything heard so far, and the headline and lines it makes. Not thread-safe itself:
    `Watch` holds the lock."""

    verb: str
    target: str
    started: float
    phase: Phase = Phase.WAITING
    reads: dict[str, str | None] = field(default_factory=dict)  # device -> None while reading
    plan: Plan | None = None
    devices: dict[str, DeviceProgress] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    changed_links: set[str] = field(default_factory=set)  # links reached in this run
    probes: dict[str, str | None] = field(default_factory=dict)  # name -> None while running

    # --- what is heard -----------------------------------------------------------------

    def reads_started(self, devices: Sequence[str]) -> None:
        if self.phase is not Phase.READING:
            self.reads = {}  # a new pre-flight (the next run of a stage, the read of a verify)
        self.phase = Phase.READING
        self.reads.update(dict.fromkeys(devices))

    def device_read(self, device: str, error: str | None) -> None:
        self.reads[device] = error or ""

    def run_started(self, plan: Plan) -> None:
        self.phase = Phase.CHANGING
        self.plan = plan
        self.devices = {s.device: DeviceProgress.WAITING for s in plan.steps}
        self.errors, self.attempts, self.changed_links = {}, {}, set()

    def change_intent(self, attempt: Attempt) -> None:
        self.devices[attempt.device] = DeviceProgress.RUNNING
        self.attempts[attempt.device] = attempt.number

    def change_applied(self, attempt: Attempt, applied: Applied) -> None:
        self.changed_links |= {c.link for c in applied.confirmed}
        if len(applied.confirmed) == len(attempt.step.changes):
            self.devices[attempt.device] = DeviceProgress.DONE
            self.errors.pop(attempt.device, None)
        else:
            self.errors[attempt.device] = "part of the change not in effect: retrying"

    def change_failed(self, device: str, error: str) -> None:
        self.devices[device] = DeviceProgress.FAILED
        self.errors[device] = error

    def change_unconfirmed(self, device: str, error: str) -> None:
        self.devices[device] = DeviceProgress.UNCONFIRMED
        self.errors[device] = error

    def run_finished(self, report: RunReport) -> None:
        marks = {
            StepStatus.CONFIRMED: DeviceProgress.DONE,
            StepStatus.UNCONFIRMED: DeviceProgress.UNCONFIRMED,
            StepStatus.FAILED: DeviceProgress.FAILED,
            StepStatus.NOT_STARTED: DeviceProgress.WAITING,
        }
        for result in report.steps:
            device = result.step.device
            self.devices[device] = marks[result.status]
            if result.error and result.status is not StepStatus.CONFIRMED:
                self.errors[device] = result.error
        self.phase = Phase.FINISHED

    def probes_started(self, probes: Sequence[str]) -> None:
        self.phase = Phase.PROBING
        self.probes = dict.fromkeys(probes)

    def probes_done(self, results: Mapping[str, str]) -> None:
        self.probes.update(results)

    # --- what is shown -----------------------------------------------------------------

    def elapsed(self, now: float) -> float:
        return now - self.started

    def _count(self, state: DeviceProgress) -> int:
        return sum(1 for s in self.devices.values() if s is state)

    def links_done(self) -> tuple[int, int]:
        """(links in the wanted state, links targeted): cut once one end is; reopened or
        allowed once every end the plan changes is."""
        plan = self.plan
        if plan is None:
            return 0, 0
        targeted = set(plan.targeted_links) or {c.link for s in plan.steps for c in s.changes}
        already = {c.link for changes in plan.already_done.values() for c in changes}
        if plan.direction is Direction.CUT:
            done = (already | self.changed_links) & targeted
        else:
            pending = {
                c.link
                for s in plan.steps
                if self.devices.get(s.device) is not DeviceProgress.DONE
                for c in s.changes
            }
            done = (already | self.changed_links | targeted) - pending
        return len(done & targeted), len(targeted)

    def current_wave(self) -> tuple[int, int]:
        plan = self.plan
        if plan is None or not plan.steps:
            return 0, 0
        numbers = sorted({s.wave for s in plan.steps})
        begun = [
            s.wave for s in plan.steps if self.devices.get(s.device) is not DeviceProgress.WAITING
        ]
        current = max(begun) if begun else numbers[0]
        return numbers.index(current) + 1, len(numbers)

    def headline(self, now: float) -> str:
        parts = [f"{self.verb} {self.target}"]
        failed = 0
        if self.phase is Phase.READING or (self.phase is Phase.WAITING and self.reads):
            read = sum(1 for e in self.reads.values() if e == "")
            failed = sum(1 for e in self.reads.values() if e)
            parts += ["pre-flight", f"{read}/{len(self.reads)} devices read"]
        elif self.phase is Phase.PROBING:
            ran = sum(1 for r in self.probes.values() if r is not None)
            parts += ["probes", f"{ran}/{len(self.probes)} done"]
        elif self.plan is not None:
            wave, waves = self.current_wave()
            done, links = self.links_done()
            word = _DONE_WORD[self.plan.direction]
            failed = self._count(DeviceProgress.FAILED) + self._count(DeviceProgress.UNCONFIRMED)
            if waves:
                parts.append(f"wave {wave}/{waves}")
            parts.append(
                f"{self._count(DeviceProgress.DONE)}/{len(self.devices)} devices, "
                f"{done}/{links} links {word}"
            )
        else:
            parts.append(str(self.phase))
        if failed:
            parts[-1] += f", {failed} FAILED"
        parts.append(f"{self.elapsed(now):.1f} s")
        return " · ".join(parts)

    def wave_lines(self) -> list[str]:
        """One line per wave: how many of its devices are done, running, failed, waiting."""
        if self.plan is None or self.phase in (Phase.READING, Phase.PROBING):
            return []
        waves = self.plan.waves()
        lines = []
        for n, wave in enumerate(waves, 1):
            counts: dict[DeviceProgress, int] = {}
            for step in wave:
                state = self.devices.get(step.device, DeviceProgress.WAITING)
                counts[state] = counts.get(state, 0) + 1
            said = ", ".join(f"{counts[s]} {s}" for s in DeviceProgress if counts.get(s))
            lines.append(f"wave {n}/{len(waves)}: {len(wave)} devices: {said}")
        return lines

    def running(self) -> list[str]:
        if self.phase is Phase.READING:
            return sorted(d for d, e in self.reads.items() if e is None)
        if self.phase is Phase.PROBING:
            return [p for p, r in self.probes.items() if r is None]
        return sorted(d for d, s in self.devices.items() if s is DeviceProgress.RUNNING)

    def failures(self) -> list[tuple[str, str]]:
        """(device, why) for each device that failed, in this phase."""
        if self.phase is Phase.READING:
            return sorted((d, e) for d, e in self.reads.items() if e)
        if self.phase is Phase.PROBING:
            return []
        bad = (DeviceProgress.FAILED, DeviceProgress.UNCONFIRMED)
        return sorted(
            (d, self.errors.get(d, str(s)))
            for d, s in self.devices.items()
            if s in bad or (s is DeviceProgress.RUNNING and d in self.errors)
        )


def names_line(names: Sequence[str], width: int) -> str:
    """As many names as fit on one line of `width`, then how many more."""
    line = ""
    for n, name in enumerate(names):
        rest = len(names) - n
        more = f" +{rest} more" if rest else ""
        candidate = f"{line} {name}".strip()
        if len(candidate) + len(f" +{rest - 1} more") > width and rest > 1:
            return line + more
        line = candidate
    return line


def _quiet_on_error(method: F) -> F:
    """A watcher that fails stops showing, and never stops the run."""

    @wraps(method)
    def guarded(self: Watch, *args: Any) -> None:
        if self.broken:
            return
        try:
            with self.lock:
                method(self, *args)
        except Exception:  # noqa: BLE001 - the display is not worth a failed cut
            self.broken = True

    return guarded  # type: ignore[return-value]


class Watch:
    """The watcher the CLI gives the runtime: tallies events; `LivePanel` or `EventLines`
    (subclasses) show them."""

    def __init__(self, verb: str, target: str, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.tally = Tally(verb, target, clock())
        self.lock = threading.RLock()
        self.broken = False

    def said(self, line: str) -> None:
        """An event worth a line of its own (EventLines prints it)."""

    def begin(self) -> None:
        """The first read, run or probe: whatever was asked on the terminal (a passphrase, a
        confirmation) has been answered, the display may start."""

    @_quiet_on_error
    def reads_started(self, devices: Sequence[str]) -> None:
        self.begin()
        self.tally.reads_started(devices)
        self.said(f"pre-flight: reading {len(devices)} devices")

    @_quiet_on_error
    def device_read(self, device: str, error: str | None) -> None:
        self.tally.device_read(device, error)
        self.said(f"read {device}" if error is None else f"NOT READ {device}: {shown(error)}")

    @_quiet_on_error
    def run_started(
        self, run: RunInfo, unreachable: Mapping[str, str], out_of_reach: Mapping[str, OutOfReach]
    ) -> None:
        self.begin()
        self.tally.run_started(run.plan)
        self.said(self.tally.headline(self.clock()))

    def device_observed(
        self, run: RunInfo, device: str, state: DeviceState, interfaces: Sequence[str]
    ) -> None:
        """Already heard as a read."""

    @_quiet_on_error
    def change_intent(self, run: RunInfo, attempt: Attempt) -> None:
        self.tally.change_intent(attempt)
        what = ", ".join(c.interface for c in attempt.step.changes)
        again = f" (attempt {attempt.number})" if attempt.number > 1 else ""
        self.said(f"wave {attempt.step.wave} {attempt.device}: sending{again}: {what}")

    @_quiet_on_error
    def change_applied(self, run: RunInfo, attempt: Attempt, applied: Applied) -> None:
        self.tally.change_applied(attempt, applied)
        confirmed = ", ".join(c.interface for c in applied.confirmed) or "nothing"
        word = _DONE_WORD[run.plan.direction]
        self.said(
            f"wave {attempt.step.wave} {attempt.device}: {word} and read back: {confirmed} "
            f"({applied.duration_s:.1f} s)"
        )

    @_quiet_on_error
    def change_failed(
        self, run: RunInfo, attempt: Attempt, error: str, after: DeviceState | None
    ) -> None:
        self.tally.change_failed(attempt.device, error)
        self.said(f"wave {attempt.step.wave} FAILED {attempt.device}: {shown(error)}")

    @_quiet_on_error
    def change_unconfirmed(self, run: RunInfo, attempt: Attempt, error: str) -> None:
        self.tally.change_unconfirmed(attempt.device, error)
        self.said(f"wave {attempt.step.wave} UNCONFIRMED {attempt.device}: {shown(error)}")

    @_quiet_on_error
    def run_finished(self, run: RunInfo, report: RunReport) -> None:
        self.tally.run_finished(report)
        self.said(self.tally.headline(self.clock()))

    @_quiet_on_error
    def probes_started(self, probes: Sequence[str]) -> None:
        self.begin()
        self.tally.probes_started(probes)
        self.said(f"probes: sending {len(probes)}")

    @_quiet_on_error
    def probes_done(self, results: Mapping[str, str]) -> None:
        self.tally.probes_done(results)
        for name, result in sorted(results.items()):
            self.said(f"probe {name}: {result}")


class EventLines(Watch):
    """One plain line per event on `stream`, with the seconds since the command began."""

    def __init__(
        self, verb: str, target: str, stream: IO[str], clock: Callable[[], float] = time.monotonic
    ):
        super().__init__(verb, target, clock)
        self.stream = stream

    def said(self, line: str) -> None:
        self.stream.write(f"[{self.tally.elapsed(self.clock()):6.1f} s] {line}\n")
        self.stream.flush()


# How many failures and wave lines the panel shows at most: on a projector, a short panel.
_PANEL_FAILURES = 6
_PANEL_WAVES = 6

_STATE_STYLE = {"FAILED": "bold red", "UNCONFIRMED": "bold yellow", "done": "green"}


class LivePanel(Watch):
    """The live panel: the headline in bold, one line per wave, who is running, what failed.
    Redrawn four times a second from the tally; transient: it leaves the screen at the end."""

    def __init__(
        self, verb: str, target: str, console: Console, clock: Callable[[], float] = time.monotonic
    ):
        super().__init__(verb, target, clock)
        self.console = console
        self.live = Live(
            console=console,
            transient=True,
            refresh_per_second=4,
            get_renderable=self.renderable,
            redirect_stdout=False,  # the result is printed once the panel is gone
        )

    def renderable(self) -> Group:
        with self.lock:
            return self._panel()

    def _panel(self) -> Group:
        width = max(20, self.console.width - 4)
        tally = self.tally
        headline = tally.headline(self.clock())
        style = "bold white on red" if " FAILED" in headline else "bold black on cyan"
        lines: list[Text] = [Text(f" {headline} ", style=style)]
        waves = tally.wave_lines()
        for line in waves[-_PANEL_WAVES:]:
            text = Text("  " + line)
            for word, word_style in _STATE_STYLE.items():
                text.highlight_words([word], word_style)
            lines.append(text)
        running = tally.running()
        if running:
            lines.append(Text("  running: " + names_line(running, width - 11), style="bold"))
        failures = tally.failures()
        for device, why in failures[:_PANEL_FAILURES]:
            line = f"  FAILED {device}: {shown(why)}"
            lines.append(Text(line[:width], style="red"))
        if len(failures) > _PANEL_FAILURES:
            lines.append(Text(f"  ... and {len(failures) - _PANEL_FAILURES} more failed"))
        return Group(*lines)

    def begin(self) -> None:
        if not self.live.is_started:
            self.live.start()

    def stop(self) -> None:
        if self.live.is_started:
            self.live.stop()


@contextmanager
def watching(verb: str, target: str, *, json: bool, stream: IO[str]) -> Iterator[list[Watch]]:
    """The watchers for one command: none with --json, the live panel on a terminal, plain
    lines otherwise. The panel is gone when this ends, before the result is printed."""
    if json:
        yield []
        return
    if not stream.isatty():
        yield [EventLines(verb, target, stream)]
        return
    panel = LivePanel(verb, target, Console(file=stream, highlight=False))
    try:
        yield [panel]
    finally:
        panel.stop()
