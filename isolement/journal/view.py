"""One reading of the journal: its events folded once, in order, into what the flows, the
reports and the command line ask of it. No question reads the file again.

A run's own events are folded in as they are written (the journal recorder does it), so a flow
holds one view for its whole length and it stays the journal's truth.

What it answers, per playbook and parameters (a "scope") unless said otherwise:
- the cuts isolement may have made and not undone (from the intent on: a run that died before
  the outcome may have made the change, and restore reads the device before undoing anything);
- each device's configuration snapshot from before the first of those cuts (the baseline a
  restore is compared with), and the devices other scopes still have cuts on;
- each reconnection stage: open (who, when, why), closed, or begun and never settled;
- per device, the state last read from it and when, and the lines isolement sent whose outcome
  is not known (a run killed mid-change, a connection lost before the answer);
- per endpoint isolement cut and has not undone, when it was last read cut and when it was
  first read open again since (a cut that vanished: a reboot, an end reopened by hand), as
  opposed to a cut never seen in effect;
- the runs, and the containment episodes (from a first cut to the restore that leaves nothing
  cut).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from isolement.journal import events as ev
from isolement.journal.store import TornRecord, read_records
from isolement.model.plan import Change, Direction

# A full cut that got this far closes every stage of its playbook.
_CLOSING_OUTCOMES = frozenset({"done", "partial", "nothing-to-do", "unknown"})


@dataclass(frozen=True)
class Scope:
    playbook: str
    parameters: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, playbook: str, parameters: Mapping[str, str]) -> Scope:
        return cls(playbook, tuple(sorted(parameters.items())))


@dataclass(frozen=True)
class StageRecord:
    """A reconnection stage as the journal says it is."""

    name: str
    open: bool = False
    by: str = ""
    at: str = ""
    reason: str = ""
    # Begun (its intent journaled) and never settled: a run killed while it was open.
    pending: ev.StageIntent | None = None
    # Opened and proven by packets; or the reason read-back state was accepted as its proof.
    verified: bool = False
    accepted: str = ""


@dataclass
class RunRecord:
    started: ev.RunStarted
    finished: ev.RunFinished | None = None


@dataclass(frozen=True)
class Episode:
    """From the first cut of a scope to the restore that leaves nothing of it cut."""

    started: str
    ended: str | None = None


@dataclass
class _ScopeState:
    # (device, interface, method) -> the change, in the order first cut.
    outstanding: dict[tuple[str, str, str], tuple[str, Change]] = field(default_factory=dict)
    # Per device, what of this scope is still cut there (the baseline holds until it is empty).
    cut_keys: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    baselines: dict[str, str] = field(default_factory=dict)
    stages: dict[str, StageRecord] = field(default_factory=dict)
    full_cuts: set[str] = field(default_factory=set)
    had_intent: bool = False
    episodes: list[Episode] = field(default_factory=list)


def _in_effect(state: ev.EndpointState, method: str) -> bool:
    """The cut by this method is in the configuration (a bubble open through it is a stage's
    doing, not a cut that vanished)."""
    return state.admin_up is False if method == "shutdown" else bool(state.deny_rules)


def _key(device: str, change: Change) -> tuple[str, str, str]:
    return (device, change.interface, str(change.method))


class JournalView:
    """The journal's events folded into the answers; `fold` one more as it is written."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._scopes: dict[Scope, _ScopeState] = {}
        self._read_back: dict[str, dict[str, tuple[ev.EndpointState, str]]] = {}
        # device -> (run, attempt) -> lines sent whose outcome is not known, in order.
        self._unsettled: dict[str, dict[tuple[str, int], list[str]]] = {}
        self._runs: dict[str, RunRecord] = {}
        # (device, interface, method) -> when last read cut, and when first read open since
        # ("" while not). Kept until a restore of that endpoint is confirmed.
        self._seen_cut: dict[tuple[str, str, str], tuple[str, str]] = {}

    @classmethod
    def read(cls, path: Path) -> JournalView:
        """The whole file, once; a torn last line is left out (the store refuses to append to
        such a journal; `journal verify` reports it)."""
        view = cls()
        for record in read_records(path):
            if not isinstance(record, TornRecord):
                view.fold(ev.from_record(record))
        return view

    def _scope(self, event: ev._Scoped) -> _ScopeState:
        return self._scopes.setdefault(Scope.of(event.playbook, event.parameters), _ScopeState())

    # --- folding ----------------------------------------------------------------------------

    def fold(self, event: ev.Event) -> None:
        with self._lock:
            if isinstance(event, ev.ChangeIntent):
                self._intent(event)
            elif isinstance(event, (ev.ChangeApplied, ev.ChangeFailed, ev.ChangeUnconfirmed)):
                self._outcome(event)
            elif isinstance(event, ev.DeviceObserved):
                self._read(event.device, event.state, event.ts)
            elif isinstance(event, ev.VerifyResult):
                self._verified(event)
            elif isinstance(event, (ev.RunStarted, ev.RunFinished)):
                self._run(event)
            elif isinstance(event, (ev.StageIntent, ev.StageOpened, ev.StageClosed)):
                self._stage(event)

    def _intent(self, event: ev.ChangeIntent) -> None:
        self._unsettled.setdefault(event.device, {})[(event.run, event.attempt)] = list(
            event.commands
        )
        if event.direction is not Direction.CUT:
            return
        scope = self._scope(event)
        if not scope.episodes or scope.episodes[-1].ended is not None:
            scope.episodes.append(Episode(event.ts))
        scope.had_intent = True
        keys = scope.cut_keys.setdefault(event.device, set())
        if not keys and event.snapshot:
            scope.baselines[event.device] = event.snapshot
        for change in event.changes:
            scope.outstanding[_key(event.device, change)] = (event.device, change)
            keys.add((change.interface, str(change.method)))

    def _outcome(self, event: ev.Outcome) -> None:
        sent = self._unsettled.get(event.device, {})
        if not isinstance(event, ev.ChangeUnconfirmed):
            # A settled outcome: the device was read after this attempt; what an earlier
            # attempt left unsettled was dealt with before this one could be made.
            attempts = list(sent)
            key = (event.run, event.attempt)
            for earlier in attempts[: attempts.index(key) + 1] if key in sent else []:
                del sent[earlier]
        after = event.after if isinstance(event, (ev.ChangeApplied, ev.ChangeFailed)) else None
        if after:
            self._read(event.device, after, event.ts)
        if not isinstance(event, ev.ChangeApplied) or event.direction is not Direction.RESTORE:
            return
        scope = self._scope(event)
        keys = scope.cut_keys.setdefault(event.device, set())
        for change in event.confirmed:
            scope.outstanding.pop(_key(event.device, change), None)
            self._seen_cut.pop(_key(event.device, change), None)
            keys.discard((change.interface, str(change.method)))
        if scope.episodes and not scope.outstanding and scope.episodes[-1].ended is None:
            scope.episodes[-1] = Episode(scope.episodes[-1].started, event.ts)

    def _read(self, device: str, states: ev.States, ts: str) -> None:
        known = self._read_back.setdefault(device, {})
        for interface, state in states.items():
            known[interface] = (state, ts or "?")
            for method in ("shutdown", "deny"):
                self._seen(device, interface, method, _in_effect(state, method), ts or "?")

    def _seen(self, device: str, interface: str, method: str, cut: bool, ts: str) -> None:
        key = (device, interface, method)
        if cut:
            self._seen_cut[key] = (ts, "")
        elif key in self._seen_cut and not self._seen_cut[key][1]:
            self._seen_cut[key] = (self._seen_cut[key][0], ts)

    def _verified(self, event: ev.VerifyResult) -> None:
        # `verify` journals the ends it found reopened (not their whole state).
        for end in event.reopened:
            self._seen(end.device, end.interface, end.method, False, event.ts or "?")

    def _run(self, event: ev.RunStarted | ev.RunFinished) -> None:
        scope = self._scope(event)
        if isinstance(event, ev.RunStarted):
            self._runs[event.run] = RunRecord(event)
            if event.direction is Direction.CUT and not event.stage:
                scope.full_cuts.add(event.run)
            return
        if event.run in self._runs:
            self._runs[event.run].finished = event
        if event.run in scope.full_cuts and event.outcome in _CLOSING_OUTCOMES:
            scope.stages.clear()  # a full cut closes every stage

    def _stage(self, event: ev.StageIntent | ev.StageOpened | ev.StageClosed) -> None:
        stages = self._scope(event).stages
        if isinstance(event, ev.StageIntent):
            was = stages.get(event.stage, StageRecord(event.stage))
            stages[event.stage] = StageRecord(
                event.stage,
                was.open,
                was.by,
                was.at,
                was.reason,
                pending=event,
                verified=was.verified,
                accepted=was.accepted,
            )
        elif isinstance(event, ev.StageOpened):
            stages[event.stage] = StageRecord(
                event.stage,
                True,
                event.approved_by,
                event.ts,
                event.reason,
                verified=event.verified,
                accepted=event.state_proof_accepted,
            )
        else:
            stages[event.stage] = StageRecord(event.stage)

    # --- questions --------------------------------------------------------------------------

    def outstanding_cuts(
        self, playbook: str, parameters: Mapping[str, str]
    ) -> list[tuple[str, Change]]:
        """(device, change) for every cut of the scope not yet confirmed undone."""
        with self._lock:
            scope = self._scopes.get(Scope.of(playbook, parameters))
            return list(scope.outstanding.values()) if scope else []

    def baselines(self, playbook: str, parameters: Mapping[str, str]) -> dict[str, str]:
        """Device -> the snapshot taken before the first of the scope's cuts still in place."""
        with self._lock:
            scope = self._scopes.get(Scope.of(playbook, parameters))
            return dict(scope.baselines) if scope else {}

    def devices_cut_by_others(self, playbook: str, parameters: Mapping[str, str]) -> set[str]:
        """Devices another scope (another playbook, or other parameters) still has cuts on:
        their configuration cannot be expected to match the one before this scope's cut."""
        mine = Scope.of(playbook, parameters)
        with self._lock:
            return {
                device
                for scope, state in self._scopes.items()
                if scope != mine and state.had_intent
                for device, _ in state.outstanding.values()
            }

    def last_read_back(self, device: str) -> dict[str, tuple[ev.EndpointState, str]]:
        """Interface -> its state as last read from the device (before or after a change, or
        settling one), and when."""
        with self._lock:
            return dict(self._read_back.get(device, {}))

    def vanished(
        self,
        device: str,
        interface: str,
        method: str,
        scope: tuple[str, Mapping[str, str]] | None = None,
    ) -> str | None:
        """When this endpoint was last read cut, if isolement cut it (in this scope: (playbook,
        parameters); in any, without) and has not undone it; None for a cut never seen in
        effect, or not isolement's. The caller says whether it is open now."""
        key = (device, interface, method)
        with self._lock:
            if scope is not None:
                state = self._scopes.get(Scope.of(*scope))
                scopes = [state] if state else []
            else:
                scopes = list(self._scopes.values())
            if not any(key in s.outstanding for s in scopes):
                return None
            seen = self._seen_cut.get(key)
            return seen[0] if seen else None

    def seen_open_since(self, device: str, interface: str, method: str) -> str | None:
        """When an endpoint last read cut was first read open again, or None."""
        with self._lock:
            seen = self._seen_cut.get((device, interface, method))
            return seen[1] or None if seen else None

    def stage(self, playbook: str, parameters: Mapping[str, str], name: str) -> StageRecord:
        with self._lock:
            scope = self._scopes.get(Scope.of(playbook, parameters))
            return scope.stages.get(name, StageRecord(name)) if scope else StageRecord(name)

    def unsettled_lines(self, device: str) -> list[str]:
        """The lines isolement journaled for this device whose outcome is missing (a run
        killed mid-change, a connection lost before the answer), oldest first, since the last
        outcome that was read from the device."""
        with self._lock:
            return [line for lines in self._unsettled.get(device, {}).values() for line in lines]

    def runs(self) -> list[RunRecord]:
        with self._lock:
            return list(self._runs.values())

    def episodes(self, playbook: str, parameters: Mapping[str, str]) -> list[Episode]:
        with self._lock:
            scope = self._scopes.get(Scope.of(playbook, parameters))
            return list(scope.episodes) if scope else []
