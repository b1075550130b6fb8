"""The wave runner: a plan's steps, wave by wave, each wave's devices in parallel, and the rule
that keeps the controller's way back: a step that would cut the management path of a device
whose own change did not complete is held back (the device would be stranded, changed or not).

It knows nothing of devices: `task` runs one step to its end and never raises.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from isolement.flows.executor import DeviceResult, run_per_device
from isolement.flows.results import StepResult, StepStatus
from isolement.model.plan import DeviceStep, Plan

StepTask = Callable[[DeviceStep], StepResult]


def held_back(step: DeviceStep, results: dict[str, StepResult]) -> list[str]:
    """The devices managed through a link this step changes whose own step did not end
    confirmed (the planner puts them in `step.after`)."""
    return [d for d in step.after if d in results and not results[d].confirmed]


def run_waves(
    plan: Plan,
    task: StepTask,
    *,
    workers: int,
    abort: threading.Event,
    halted: Callable[[], str | None],
) -> dict[str, StepResult]:
    """Every step's result, by device. A wave starts once the one before it has ended; once
    `halted()` gives a reason, or `abort` is set, no further wave starts."""
    results: dict[str, StepResult] = {}
    for wave in plan.waves():
        stop = "aborted" if abort.is_set() else halted()
        runnable: dict[str, DeviceStep] = {}
        for step in wave:
            blocked = held_back(step, results)
            if stop:
                results[step.device] = StepResult(
                    step, StepStatus.NOT_STARTED, error=f"not started: {stop}"
                )
            elif blocked:
                results[step.device] = StepResult(
                    step,
                    StepStatus.NOT_STARTED,
                    error=(
                        f"held back: it would cut the management path of {', '.join(blocked)}, "
                        "whose own change did not complete (re-run to retry)"
                    ),
                )
            else:
                runnable[step.device] = step
        results |= _run_wave(runnable, task, workers, abort)
    return results


def _run_wave(
    steps: dict[str, DeviceStep], task: StepTask, workers: int, abort: threading.Event
) -> dict[str, StepResult]:
    done = run_per_device(steps, lambda device: task(steps[device]), workers, abort=abort)
    return {device: _result(steps[device], r) for device, r in done.items()}


def _result(step: DeviceStep, done: DeviceResult[StepResult]) -> StepResult:
    if done.value is not None:
        return done.value
    if done.abandoned:
        return StepResult(step, StepStatus.UNCONFIRMED, error=done.error)
    status = StepStatus.NOT_STARTED if done.exception is None else StepStatus.FAILED
    return StepResult(step, status, error=done.error, exception=done.exception)
