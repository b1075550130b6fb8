"""The parts of a run that know nothing of devices: the wave runner and its held-back rule (with
a fake task), the summary of plan + results, the per-device executor, the interrupts."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

import pytest

from isolement.flows.executor import run_per_device
from isolement.flows.interrupt import Interrupt
from isolement.flows.results import Outcome, StepResult, StepStatus
from isolement.flows.summary import Unread, summarize
from isolement.flows.waves import run_waves
from isolement.model.change import ChangeSet
from isolement.model.plan import Change, DeviceStep, Direction, Plan
from isolement.model.state import CutMethod
from isolement.planning.management import OutOfReach

SHUT = CutMethod.SHUTDOWN


def step(device: str, *links: str, wave: int = 1, after: tuple[str, ...] = ()) -> DeviceStep:
    return DeviceStep(
        device=device,
        site="s",
        platform="cisco_ios",
        changes=[Change(link=link, interface=f"if-{link}", method=SHUT) for link in links],
        change=ChangeSet(lines=["shutdown"]),
        wave=wave,
        after=list(after),
    )


def plan(
    *steps: DeviceStep, direction: Direction = Direction.CUT, links: tuple[str, ...] = ()
) -> Plan:
    targeted = sorted({c.link for s in steps for c in s.changes} | set(links))
    return Plan(
        direction=direction,
        playbook="p",
        inventory="i",
        steps=list(steps),
        targeted_links=targeted,
    )


# An in-band site: `edge` is managed through wan, which `core` cuts in the wave after it.
EDGE = step("edge", "inet-edge")
CORE = step("core", "wan", wave=2, after=("edge",))
OTHER = step("other", "inet-other")


class FakeTask:
    """Ends each step as scripted (confirmed unless named), and records which it ran."""

    def __init__(self, ends: dict[str, StepStatus] | None = None):
        self.ends = ends or {}
        self.ran: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, s: DeviceStep) -> StepResult:
        with self._lock:
            self.ran.append(s.device)
        status = self.ends.get(s.device, StepStatus.CONFIRMED)
        error = None if status is StepStatus.CONFIRMED else f"{status} on {s.device}"
        return StepResult(s, status, error=error)


def run(
    the_plan: Plan, task: Callable[[DeviceStep], StepResult], **options: object
) -> dict[str, StepResult]:
    abort = options.pop("abort", threading.Event())
    halted = options.pop("halted", lambda: None)
    assert isinstance(abort, threading.Event) and callable(halted)
    return run_waves(the_plan, task, workers=4, abort=abort, halted=halted)


# --- the wave runner --------------------------------------------------------------------------


def test_waves_run_in_order_and_every_step_has_a_result() -> None:
    task = FakeTask()

    results = run(plan(EDGE, CORE, OTHER), task)

    assert task.ran.index("core") > task.ran.index("edge")
    assert {d: r.status for d, r in results.items()} == {
        "edge": StepStatus.CONFIRMED,
        "other": StepStatus.CONFIRMED,
        "core": StepStatus.CONFIRMED,
    }


@pytest.mark.parametrize("status", [StepStatus.FAILED, StepStatus.UNCONFIRMED])
def test_the_management_path_of_a_device_whose_change_did_not_complete_is_held_back(
    status: StepStatus,
) -> None:
    task = FakeTask({"edge": status})

    results = run(plan(EDGE, CORE, OTHER), task)

    assert "core" not in task.ran
    held = results["core"]
    assert held.status is StepStatus.NOT_STARTED
    assert held.error is not None
    assert held.error.startswith("held back: it would cut the management path of edge")
    assert results["other"].confirmed  # the rest of the run goes on


def test_held_back_only_for_the_devices_a_step_waits_for() -> None:
    task = FakeTask({"other": StepStatus.FAILED})

    results = run(plan(EDGE, CORE, OTHER), task)

    assert results["core"].confirmed and "core" in task.ran


def test_a_halted_run_starts_no_further_wave() -> None:
    task = FakeTask()
    why: list[str] = []

    def halting(s: DeviceStep) -> StepResult:
        why.append("the journal cannot be written")
        return task(s)

    results = run(plan(EDGE, CORE), halting, halted=lambda: why[0] if why else None)

    assert task.ran == ["edge"]
    assert results["core"].status is StepStatus.NOT_STARTED
    assert results["core"].error == "not started: the journal cannot be written"


def test_abort_stops_waiting_for_a_step_in_flight() -> None:
    abort, release = threading.Event(), threading.Event()

    def stuck(s: DeviceStep) -> StepResult:
        if s.device == "edge":
            release.wait(30)  # a device that does not answer
        return StepResult(s, StepStatus.CONFIRMED)

    threading.Timer(0.2, abort.set).start()
    started = time.monotonic()
    try:
        results = run(plan(EDGE, CORE, OTHER), stuck, abort=abort)
    finally:
        release.set()

    assert time.monotonic() - started < 5
    assert results["edge"].status is StepStatus.UNCONFIRMED
    assert results["edge"].error == "aborted while in flight: outcome unknown"
    assert results["other"].confirmed
    assert results["core"].status is StepStatus.NOT_STARTED


def test_a_task_that_raises_is_a_failed_result_keeping_the_exception() -> None:
    def broken(s: DeviceStep) -> StepResult:
        raise RuntimeError("driver bug")

    results = run(plan(OTHER), broken)

    assert results["other"].status is StepStatus.FAILED
    assert results["other"].error == "RuntimeError: driver bug"
    assert isinstance(results["other"].exception, RuntimeError)


# --- the summary ------------------------------------------------------------------------------

NOBODY = Unread({}, {})


def result(s: DeviceStep, status: StepStatus, error: str | None = None) -> StepResult:
    return StepResult(s, status, error=error)


def test_a_link_cut_at_one_end_is_done() -> None:
    a, b = step("a", "wan"), step("b", "wan")
    results = {"a": result(a, StepStatus.CONFIRMED), "b": result(b, StepStatus.FAILED, "x")}

    summary = summarize(plan(a, b), results, NOBODY, {})

    assert (summary.outcome, summary.still_open, summary.unknown) == (Outcome.DONE, {}, {})


def test_a_change_not_read_back_is_unknown_never_open() -> None:
    a = step("a", "inet-a")
    results = {"a": result(a, StepStatus.UNCONFIRMED, "connection lost")}

    summary = summarize(plan(a), results, NOBODY, {})

    assert summary.outcome is Outcome.UNKNOWN
    assert summary.still_open == {}
    assert summary.unknown == {"inet-a": "a: connection lost; a later read settles it"}


def test_a_device_out_of_reach_leaves_its_links_unknown_with_when_it_was_last_seen() -> None:
    out = OutOfReach("edge", ("wan",), (("wan", "core"),), "cut", "2026-01-01T00:00:00Z")
    the_plan = plan(links=("inet-edge",))

    summary = summarize(the_plan, {}, Unread({}, {"edge": out}), {"edge": ["inet-edge"]})

    assert summary.outcome is Outcome.UNKNOWN
    assert summary.unknown["inet-edge"].startswith(
        "edge: unknown, last seen cut at 2026-01-01T00:00:00Z; unreachable since its "
        "management link wan is cut"
    )


def test_cutting_an_end_failed_and_an_end_unknown_is_unknown() -> None:
    a, b = step("a", "wan"), step("b", "wan")
    results = {
        "a": result(a, StepStatus.FAILED, "refused"),
        "b": result(b, StepStatus.UNCONFIRMED, "no answer"),
    }

    summary = summarize(plan(a, b), results, NOBODY, {})

    assert list(summary.unknown) == ["wan"] and summary.still_open == {}


def test_restoring_an_end_still_cut_keeps_the_link_cut_whatever_the_other() -> None:
    a, b = step("a", "wan"), step("b", "wan")
    results = {
        "a": result(a, StepStatus.FAILED, "refused"),
        "b": result(b, StepStatus.UNCONFIRMED, "no answer"),
    }

    summary = summarize(plan(a, b, direction=Direction.RESTORE), results, NOBODY, {})

    assert list(summary.still_open) == ["wan"] and summary.unknown == {}
    assert summary.outcome is Outcome.FAILED


def test_a_device_unreachable_at_pre_flight_leaves_its_links_open() -> None:
    a, b = step("a", "inet-a"), step("b", "inet-b")
    results = {"a": result(a, StepStatus.CONFIRMED)}

    summary = summarize(plan(a, b), results, Unread({"b": "no answer"}, {}), {"b": ["inet-b"]})

    assert summary.outcome is Outcome.PARTIAL
    assert summary.still_open == {"inet-b": "b: no answer"}


def test_nothing_to_do_done_stopped_and_journal_failed() -> None:
    a = step("a", "inet-a")
    done = {"a": result(a, StepStatus.CONFIRMED)}
    empty = plan(links=())

    assert summarize(empty, {}, NOBODY, {}).outcome is Outcome.NOTHING_TO_DO
    assert summarize(plan(a), done, NOBODY, {}).outcome is Outcome.DONE
    assert summarize(plan(a), done, NOBODY, {}, stopped=True).outcome is Outcome.STOPPED
    failed = summarize(plan(a), done, NOBODY, {}, journal_error="disk full")
    assert failed.outcome is Outcome.JOURNAL_FAILED


# --- the executor -----------------------------------------------------------------------------


def test_run_per_device_keeps_the_order_and_the_exception() -> None:
    def task(device: str) -> int:
        if device == "b":
            raise ValueError("bad")
        return len(device)

    results = run_per_device(["ccc", "b", "a"], task, 2)

    assert list(results) == ["ccc", "b", "a"]
    assert results["ccc"].value == 3
    assert results["b"].error == "ValueError: bad" and isinstance(
        results["b"].exception, ValueError
    )


def test_run_per_device_aborted_before_it_starts_runs_nothing() -> None:
    abort = threading.Event()
    abort.set()
    ran: list[str] = []

    results = run_per_device(["a", "b"], ran.append, 2, abort=abort)

    assert ran == []
    assert {r.error for r in results.values()} == {"not started: aborted"}


# --- interrupts -------------------------------------------------------------------------------

needs_main_thread = pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="signal handlers are installed in the main thread only",
)


@needs_main_thread
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_first_signal_stops_new_work_a_second_stops_waiting(signum: signal.Signals) -> None:
    interrupt = Interrupt()
    before = signal.getsignal(signum)
    with interrupt.armed():
        os.kill(os.getpid(), signum)
        assert interrupt.stopping.wait(5) and not interrupt.aborted.is_set()
        os.kill(os.getpid(), signum)
        assert interrupt.aborted.wait(5)
    assert signal.getsignal(signum) == before


@needs_main_thread
def test_interrupt_wait_is_cut_short_by_a_signal() -> None:
    interrupt = Interrupt()
    with interrupt.armed():
        threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT)).start()
        started = time.monotonic()
        assert interrupt.wait(30) is True
    assert time.monotonic() - started < 5
