"""Persistence (#12 §3): a cut that survives a reboot, and a restore that saves back.

Before anything is sent, each device a persisting run changes is asked whether its running
configuration holds changes its startup one does not: saving after the cut would save those
too, as isolement's. A cut is then refused, naming the devices; a restore (the way out of the
crisis: never held back) leaves those devices unsaved and says so. A platform that cannot tell
(the driver says why) is saved all the same, and the plan says so beforehand.

After a change is confirmed on a device, it is saved there (`Driver.save`); a save that fails
leaves the change in effect, and the step says the change is not saved.
"""

from __future__ import annotations

from isolement.drivers import driver_for
from isolement.flows.executor import MAX_WORKERS, run_per_device
from isolement.flows.preflight import Observation
from isolement.model.errors import PlanRefused
from isolement.model.plan import Direction, Plan


def unsaved_elsewhere(plan: Plan, seen: Observation, workers: int = MAX_WORKERS) -> dict[str, str]:
    """Device -> the changes someone else left unsaved on it, for each device the plan changes
    and saves; a device that cannot be asked now is not listed (its step fails on its own).
    The devices are asked in parallel: one after another, it was 90 ms a device before the
    first change (90 s at 1000 devices, bench/README.md)."""
    if not plan.persist:
        return {}
    asked = {}
    for step in plan.steps:
        driver = driver_for(step.platform)
        session = seen.peek(step.device)
        if driver.facts.persistence == "save" and session is not None:
            asked[step.device] = (driver, session, [c.interface for c in step.changes])

    def check(device: str) -> str | None:
        driver, session, interfaces = asked[device]
        found = driver.unsaved_changes(session, interfaces)
        return (found.detail or "unsaved changes") if found.found else None

    found: dict[str, str] = {}
    for device, result in run_per_device(list(asked), check, workers).items():
        if result.error is not None:
            found[device] = (
                f"could not be checked for unsaved changes: {result.exception or result.error}"
            )
        elif result.value is not None:
            found[device] = result.value
    return found


def refuse_cut(plan: Plan, unsaved: dict[str, str]) -> None:
    """A persisting cut is refused before anything is sent if saving would save others'
    changes with it."""
    if plan.direction is not Direction.CUT or not unsaved:
        return
    which = "; ".join(f"{device}: {why}" for device, why in sorted(unsaved.items()))
    raise PlanRefused(
        "refused before anything was sent: saving the cut would also save changes someone "
        f"made and did not save ({which}). Save or discard them on the device first, or set "
        "'persist: false' in the playbook (a reboot then reopens the cut)."
    )
