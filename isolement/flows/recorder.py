"""The journal recorder: the run observer that turns each run event into a typed journal event,
has the store write it durably, and folds it into the run's view of the journal, so the flows'
questions (what is cut, which stage is open) see the run's own changes at once.

It raises when the store does (JournalError): the run then stops, and nothing more is sent.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from isolement.flows.observers import Applied, Attempt, RunInfo
from isolement.flows.results import RunReport
from isolement.journal import events as ev
from isolement.journal.store import Journal
from isolement.journal.view import JournalView
from isolement.model.errors import JournalError
from isolement.model.plan import Change, Direction
from isolement.model.state import DeviceState
from isolement.planning.management import OutOfReach


def describe(state: DeviceState, interfaces: Sequence[str]) -> ev.States:
    """The part of a device's state the journal keeps: each endpoint concerned."""
    return {i: ev.EndpointState.model_validate(state.describe(i)) for i in interfaces}


def _interfaces(changes: Sequence[Change]) -> list[str]:
    return [c.interface for c in changes]


class JournalRecorder:
    """Writes through one open journal, and keeps `view` in step with it."""

    def __init__(self, journal: Journal, view: JournalView):
        self.journal = journal
        self.view = view
        self._lock = threading.Lock()
        self._sealed = False

    def write(self, event: ev.KnownEvent) -> None:
        """Append one event durably, or raise JournalError: never returns after a failure."""
        name, fields = ev.to_fields(event)
        with self._lock:
            if self._sealed:
                raise JournalError("the run was stopped: nothing more is journaled or sent")
            # Written and folded in the journal's order; made durable outside this lock, so
            # the device workers' records share fsyncs (the journal's group commit) instead of
            # each waiting for the last one's. The caller acts only once it is durable.
            written = self.journal.append(name, **fields)
            now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
            self.view.fold(event.model_copy(update={"ts": now}))
        self.journal.durable(written)

    def seal(self) -> None:
        """No record after this one: the run was aborted and its workers are not waited for;
        what they would record now could only come after the run's end."""
        with self._lock:
            self._sealed = True

    def _late(self, event: ev.KnownEvent) -> None:
        """An outcome: dropped, not raised, once sealed (its intent is in the journal)."""
        try:
            self.write(event)
        except JournalError:
            if not self._sealed:
                raise

    # --- the run observer ------------------------------------------------------------------

    def run_started(
        self,
        run: RunInfo,
        unreachable: Mapping[str, str],
        out_of_reach: Mapping[str, OutOfReach],
    ) -> None:
        plan, decision = run.plan, run.decision
        self.write(
            ev.RunStarted(
                **_scope(run),
                operator=decision.operator,
                reason=decision.reason,
                approved_by=decision.approved_by,
                stage=decision.stage,
                plan=plan.digest(),
                inventory=run.inventory,
                controller=socket.gethostname(),
                waves=[[s.device for s in wave] for wave in plan.waves()],
                preflight_failed=dict(unreachable),
                unknown={d: o.why for d, o in out_of_reach.items()},
                reach=list(decision.reach),
                persist=run.plan.persist,
            )
        )

    def device_observed(
        self, run: RunInfo, device: str, state: DeviceState, interfaces: Sequence[str]
    ) -> None:
        self.write(
            ev.DeviceObserved(
                playbook=run.plan.playbook,
                parameters=run.plan.parameters,
                run=run.run_id,
                device=device,
                state=describe(state, interfaces),
            )
        )

    def change_intent(self, run: RunInfo, attempt: Attempt) -> None:
        self.write(
            ev.ChangeIntent(
                **_attempt(run, attempt),
                commands=attempt.step.commands,
                commit=attempt.step.change.commit_text(),
                before=describe(attempt.before, _interfaces(attempt.step.changes)),
                snapshot=attempt.snapshot,
                why=self._why(run, attempt),
            )
        )

    def _why(self, run: RunInfo, attempt: Attempt) -> dict[str, str]:
        """Cuts made again because the earlier one vanished, and since when it was seen gone."""
        if run.plan.direction is not Direction.CUT:
            return {}
        why = {}
        for c in attempt.step.changes:
            last = self.view.vanished(attempt.device, c.interface, str(c.method))
            if last is None:
                continue
            since = self.view.seen_open_since(attempt.device, c.interface, str(c.method))
            why[c.interface] = f"reopened since {since or '?'} (last seen cut at {last}): cut again"
        return why

    def change_applied(self, run: RunInfo, attempt: Attempt, applied: Applied) -> None:
        changes = _interfaces(attempt.step.changes)
        self._late(
            ev.ChangeApplied(
                **_attempt(run, attempt),
                commands=attempt.step.commands,
                output=applied.output,
                before=describe(attempt.before, changes),
                after=describe(applied.after, changes),
                confirmed=list(applied.confirmed),
                duration_s=round(applied.duration_s, 3),
                drift=applied.drift,
                error=applied.complaint,
                recovered=applied.recovered,
                saved=applied.saved,
                sent=list(attempt.sent),
            )
        )

    def change_failed(
        self, run: RunInfo, attempt: Attempt, error: str, after: DeviceState | None
    ) -> None:
        read = describe(after, _interfaces(attempt.step.changes)) if after is not None else None
        self._late(
            ev.ChangeFailed(
                **_attempt(run, attempt), error=error, after=read, sent=list(attempt.sent)
            )
        )

    def change_unconfirmed(self, run: RunInfo, attempt: Attempt, error: str) -> None:
        self._late(
            ev.ChangeUnconfirmed(**_attempt(run, attempt), error=error, sent=list(attempt.sent))
        )

    def run_finished(self, run: RunInfo, report: RunReport) -> None:
        self.write(
            ev.RunFinished(
                **_scope(run),
                outcome=report.outcome,
                stage=run.decision.stage,
                still_open=report.still_open,
                unknown=report.unknown,
                failed={s.step.device: s.error for s in report.steps if s.error},
                interrupted=report.interrupted,
                aborted=report.aborted,
                duration_s=round(report.duration_s, 3),
                journal_error=report.journal_error,
            )
        )


def _scope(run: RunInfo) -> dict[str, Any]:
    plan = run.plan
    return {
        "run": run.run_id,
        "playbook": plan.playbook,
        "parameters": plan.parameters,
        "direction": plan.direction,
    }


def _attempt(run: RunInfo, attempt: Attempt) -> dict[str, Any]:
    return {
        **_scope(run),
        "device": attempt.device,
        "attempt": attempt.number,
        "changes": list(attempt.step.changes),
    }
