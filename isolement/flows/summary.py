"""A run's outcome from its plan and its results, and nothing else: which targeted links are in
the wanted state, which are known not to be (and why), which are not known (and why). Pure.

Cutting, a link is in the wanted state once any of its ends is (one cut end stops the traffic);
restoring, once every end isolement cut is reopened. An end whose device could not be read, or
whose change could not be read back, makes its link unknown, never open nor cut.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from isolement.flows.results import Outcome, StepResult, StepStatus
from isolement.model.plan import Direction, Plan
from isolement.planning.management import OutOfReach


@dataclass(frozen=True)
class Summary:
    outcome: Outcome
    still_open: dict[str, str]
    unknown: dict[str, str]


@dataclass(frozen=True)
class Unread:
    """What kept devices from being changed or read: device -> why, per kind."""

    unreachable: Mapping[str, str]  # dialled, and failed
    out_of_reach: Mapping[str, OutOfReach]  # not dialled: management path cut


def summarize(
    plan: Plan,
    results: Mapping[str, StepResult],
    unread: Unread,
    targeted: Mapping[str, Collection[str]],
    *,
    stopped: bool = False,
    journal_error: str | None = None,
) -> Summary:
    """`targeted`: device -> the links the run targets on it (for the devices with no step)."""
    done: dict[str, list[str]] = {}
    failed: dict[str, list[str]] = {}
    unsure: dict[str, list[str]] = {}
    for device, changes in plan.already_done.items():
        for c in changes:
            done.setdefault(c.link, []).append(device)
    for result in results.values():
        device = result.step.device
        for c in result.step.changes:
            if result.status is StepStatus.CONFIRMED:
                done.setdefault(c.link, []).append(device)
            elif result.status is StepStatus.UNCONFIRMED:
                why = f"{device}: {result.error}; a later read settles it"
                unsure.setdefault(c.link, []).append(why)
            else:
                failed.setdefault(c.link, []).append(f"{device}: {result.error}")
    for device, why in unread.unreachable.items():
        if device not in results:
            for link in targeted.get(device, ()):
                failed.setdefault(link, []).append(f"{device}: {why}")
    for device, out in unread.out_of_reach.items():
        if device not in results:
            for link in targeted.get(device, ()):
                unsure.setdefault(link, []).append(f"{device}: {out.why}")
    still_open, unknown = _links(plan, done, failed, unsure)
    return Summary(_outcome(plan, still_open, unknown, stopped, journal_error), still_open, unknown)


def _links(
    plan: Plan,
    done: Mapping[str, list[str]],
    failed: Mapping[str, list[str]],
    unsure: Mapping[str, list[str]],
) -> tuple[dict[str, str], dict[str, str]]:
    still_open: dict[str, str] = {}
    unknown: dict[str, str] = {}
    cutting = plan.direction is Direction.CUT
    for link in plan.targeted_links:
        complete = link in done if cutting else link not in failed and link not in unsure
        if complete:
            continue
        reasons = [*failed.get(link, []), *unsure.get(link, [])]
        # Cutting, one end not known may be the end that stops the traffic; restoring, an end
        # known still cut keeps the link cut whatever the others are.
        if link in unsure and (cutting or link not in failed):
            unknown[link] = "; ".join(reasons)
        else:
            still_open[link] = "; ".join(reasons or ["not changed"])
    return still_open, unknown


def _outcome(
    plan: Plan,
    still_open: Mapping[str, str],
    unknown: Mapping[str, str],
    stopped: bool,
    journal_error: str | None,
) -> Outcome:
    if journal_error:
        return Outcome.JOURNAL_FAILED
    if stopped:
        return Outcome.STOPPED
    if not still_open and not unknown:
        return Outcome.DONE if plan.steps else Outcome.NOTHING_TO_DO
    if not still_open:
        return Outcome.UNKNOWN
    if len(still_open) < len(plan.targeted_links):
        return Outcome.PARTIAL
    return Outcome.FAILED
