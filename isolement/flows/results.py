"""What the runs hand back: per device, per run, per link, per stage. Plain data, no I/O, so the
command line renders them without importing the flows that make them.

The words are claims (see the README): a path is "cut" or "open" only when read in this run;
otherwise "unknown", with what is known (when it was last seen cut, why it was not read).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from isolement.model.plan import DeviceStep, Plan
from isolement.model.playbook import Stage
from isolement.model.state import DeviceState
from isolement.planning.management import OutOfReach
from isolement.probes.outcome import ProbeOutcome, ProbeResult

__all__ = [
    "EndpointStatus",
    "LinkStatus",
    "OutOfReach",
    "Outcome",
    "PathState",
    "PlanReport",
    "ProbeCheck",
    "Proof",
    "RunReport",
    "StagePlan",
    "StageReport",
    "StageState",
    "StatusReport",
    "StepResult",
    "StepStatus",
    "Verdict",
    "VerifyReport",
]


class Outcome(StrEnum):
    DONE = "done"  # every targeted path is in the wanted state, confirmed on the devices
    NOTHING_TO_DO = "nothing-to-do"  # it already was, as read now; nothing was sent
    PARTIAL = "partial"  # some paths are in the wanted state, some are not (see still_open)
    FAILED = "failed"  # no targeted path could be changed
    STOPPED = "stopped"  # pre-flight failed on some devices: nothing was changed
    # No path is known short of the wanted state, but some could not be read in this run (a
    # device out of reach, a change whose outcome was not seen): see `unknown`.
    UNKNOWN = "unknown"
    JOURNAL_FAILED = "journal-failed"  # the journal could not be written: the run stopped


class StepStatus(StrEnum):
    CONFIRMED = "confirmed"  # read back in the wanted state
    FAILED = "failed"  # known not (wholly) in effect, or never sent
    UNCONFIRMED = "unconfirmed"  # sent, and the device could not be read afterwards
    NOT_STARTED = "not-started"  # held back, stopped before it, or interrupted


@dataclass
class StepResult:
    """One device's step: how it ended and why (nornir's Result: the exception kept as a
    value, never raised past the run)."""

    step: DeviceStep
    status: StepStatus
    error: str | None = None
    exception: BaseException | None = field(default=None, repr=False, compare=False)
    output: str = ""
    duration_s: float = 0.0
    attempts: int = 0
    # Restore only: how the configuration differs from the snapshot taken before the cut
    # ([] when identical, None when there is no snapshot to compare with).
    drift: list[str] | None = None
    # What is worth saying of a step that ended well (the device complained, yet the read-back
    # shows the change in effect).
    notes: list[str] = field(default_factory=list)

    @property
    def confirmed(self) -> bool:
        return self.status is StepStatus.CONFIRMED


@dataclass
class RunReport:
    plan: Plan
    outcome: Outcome
    steps: list[StepResult]
    unreachable: dict[str, str]
    run_id: str
    duration_s: float
    # Targeted links known not to be in the wanted state at the end, with the reason.
    still_open: dict[str, str] = field(default_factory=dict)
    # Targeted links whose state is not known now (out of reach, unconfirmed), with the reason.
    unknown: dict[str, str] = field(default_factory=dict)
    out_of_reach: dict[str, OutOfReach] = field(default_factory=dict)
    interrupted: bool = False
    aborted: bool = False  # a second interrupt: the changes in flight were not waited for
    journal_error: str | None = None
    # `cut --reach`: the run that reopened the management paths first.
    reopened: RunReport | None = None


@dataclass
class PlanReport:
    plan: Plan
    unreachable: dict[str, str]
    offline: bool
    out_of_reach: dict[str, OutOfReach] = field(default_factory=dict)
    # device -> the central manager its state names (Panorama, FortiManager), read now
    central: dict[str, str] = field(default_factory=dict)


def central_managers(states: Mapping[str, DeviceState]) -> dict[str, str]:
    """Device -> its central manager, for the devices whose state read names one."""
    return {d: s.facts["managed_by"] for d, s in sorted(states.items()) if "managed_by" in s.facts}


class PathState(StrEnum):
    CUT = "cut"
    PARTIAL = "partial"  # cut at some of its ends, not all: traffic is stopped all the same
    OPEN = "open"
    UNKNOWN = "unknown"
    KEPT = "kept-open"  # an end deliberately left open (a device's own management path)
    # Read open now although isolement's cut of it was seen in effect before, and not undone
    # by a restore: the cut vanished (the device rebooted without it, the end was reopened by
    # hand, the deny policy was deleted). Open: never counted as cut. A link with another end
    # still cut is cut all the same; the reopened end is reported at end level.
    REOPENED = "reopened"


@dataclass
class EndpointStatus:
    device: str
    interface: str
    method: str
    state: PathState
    reason: str = ""
    # REOPENED: when the end was last read cut (journal time).
    last_seen_cut: str = ""


@dataclass
class LinkStatus:
    link: str
    kind: str
    state: PathState
    endpoints: list[EndpointStatus] = field(default_factory=list)

    @property
    def stopped(self) -> bool:
        return self.state in (PathState.CUT, PathState.PARTIAL)

    @property
    def reopened_ends(self) -> list[EndpointStatus]:
        return [e for e in self.endpoints if e.state is PathState.REOPENED]


@dataclass
class StatusReport:
    links: list[LinkStatus]
    out_of_reach: dict[str, OutOfReach] = field(default_factory=dict)

    @property
    def unknown(self) -> list[LinkStatus]:
        return [link for link in self.links if link.state is PathState.UNKNOWN]

    @property
    def reopened(self) -> list[LinkStatus]:
        """Links whose cut vanished, and no other end of which is cut: open again."""
        return [link for link in self.links if link.state is PathState.REOPENED]

    @property
    def reopened_ends(self) -> list[tuple[LinkStatus, EndpointStatus]]:
        """Every end whose cut vanished, on links open again or still cut at another end."""
        return [(link, end) for link in self.links for end in link.reopened_ends]


@dataclass
class ProbeCheck:
    outcome: ProbeOutcome
    expected: ProbeResult

    @property
    def ran(self) -> bool:
        """Sent and answered for (passes or blocked); a probe that could not run proves nothing."""
        return self.outcome.result is not ProbeResult.UNAVAILABLE

    @property
    def ok(self) -> bool:
        return self.outcome.result is self.expected

    @property
    def wrong(self) -> bool:
        """Ran, and found the opposite of what was expected."""
        return self.ran and not self.ok


class Proof(StrEnum):
    """How a targeted link's cut is known in this run."""

    PACKETS = "packets"  # a probe crossing that link alone ran and was blocked
    STATE = "state"  # read back cut from the devices; no probe proved it by packets
    NONE = "none"  # neither: open, or not read and no probe proves it blocked


class Verdict(StrEnum):
    CONTAINED = "contained"  # every targeted link cut, each proven by packets
    CONTAINED_BY_STATE = "contained-by-state"  # cut as read back; some not proven by packets
    NOT_PROVEN = "not-proven"  # nothing known open, some links neither read nor proven
    NOT_CONTAINED = "not-contained"  # a link read open, or traffic that must stop passes


@dataclass
class VerifyReport:
    status: StatusReport
    probes: list[ProbeCheck]
    journaled: bool = True

    @property
    def links(self) -> list[LinkStatus]:
        return self.status.links

    @property
    def open_links(self) -> list[LinkStatus]:
        """Links read open, a cut that vanished (REOPENED) included."""
        return [link for link in self.links if link.state in (PathState.OPEN, PathState.REOPENED)]

    @property
    def unknown_links(self) -> list[LinkStatus]:
        return self.status.unknown

    @property
    def unavailable(self) -> list[ProbeCheck]:
        return [p for p in self.probes if not p.ran]

    @property
    def leaking_probes(self) -> list[ProbeCheck]:
        return [p for p in self.probes if p.expected is ProbeResult.BLOCKED and p.wrong]

    @property
    def collateral(self) -> list[ProbeCheck]:
        """Paths the playbook should have left up that no longer pass."""
        return [p for p in self.probes if p.expected is ProbeResult.PASSES and p.wrong]

    @property
    def blocked_by_packets(self) -> dict[str, list[str]]:
        """Targeted link -> the probes that prove it blocked: each crosses that link alone (a
        probe across two links proves neither), ran, must fail, and did."""
        targeted = {link.link for link in self.links}
        proofs: dict[str, list[str]] = {}
        for p in self.probes:
            crosses = p.outcome.probe.crosses
            alone = len(crosses) == 1 and crosses[0] in targeted
            if alone and p.ran and p.expected is ProbeResult.BLOCKED and p.ok:
                proofs.setdefault(crosses[0], []).append(p.outcome.probe.name)
        return proofs

    @property
    def proven_by_packets(self) -> dict[str, list[str]]:
        """Link not read in this run -> the probes that prove it blocked all the same."""
        unknown = {link.link for link in self.unknown_links}
        return {k: v for k, v in self.blocked_by_packets.items() if k in unknown}

    @property
    def proof(self) -> dict[str, Proof]:
        """Each targeted link: proven cut by packets, by read-back state only, or not at all."""
        packets = self.blocked_by_packets
        found = {}
        for link in self.links:
            if link.state is PathState.OPEN:
                found[link.link] = Proof.NONE
            elif link.link in packets:
                found[link.link] = Proof.PACKETS
            elif link.stopped:
                found[link.link] = Proof.STATE
            else:
                found[link.link] = Proof.NONE
        return found

    @property
    def state_only(self) -> list[str]:
        return [link for link, proof in self.proof.items() if proof is Proof.STATE]

    @property
    def unproven_links(self) -> list[LinkStatus]:
        """Links neither read cut nor proven blocked by packets in this run."""
        proven = self.proven_by_packets
        return [link for link in self.unknown_links if link.link not in proven]

    @property
    def contained(self) -> bool:
        """Every targeted path read cut in this run, or proven blocked by packets, and no probe
        that must fail passes (some cuts may be known by read-back state only: see verdict)."""
        return not self.open_links and not self.unproven_links and not self.leaking_probes

    @property
    def verdict(self) -> Verdict:
        if self.open_links or self.leaking_probes:
            return Verdict.NOT_CONTAINED
        if self.unproven_links:
            return Verdict.NOT_PROVEN
        return Verdict.CONTAINED_BY_STATE if self.state_only else Verdict.CONTAINED


@dataclass
class StageState:
    name: str
    open: bool = False
    by: str = ""
    at: str = ""
    reason: str = ""
    # Its opening was begun (at `pending_at`, by `by`) and never settled: it may be open.
    pending_at: str = ""
    # Open and proven by packets (every check ran and held); or, when not, the operator's
    # reason for accepting the devices' read-back state as its proof ("" if not accepted).
    verified: bool = False
    accepted: str = ""

    @property
    def settled_open(self) -> bool:
        """Open, and proven by packets or accepted as proven by state: the next may open."""
        return self.open and (self.verified or bool(self.accepted))

    @property
    def may_be_open(self) -> bool:
        return self.open or bool(self.pending_at)


@dataclass
class StageReport:
    stage: str
    opened: bool
    runs: list[RunReport] = field(default_factory=list)
    checks: list[ProbeCheck] = field(default_factory=list)
    closed_again: bool = False
    why: str = ""
    # The operator's reason for accepting read-back state as proof (--accept-state-proof).
    accepted: str = ""

    @property
    def unproven(self) -> list[ProbeCheck]:
        """Checks that could not run: they prove nothing, and never close the stage."""
        return [c for c in self.checks if not c.ran]

    @property
    def verified(self) -> bool:
        """Open and proven by packets: it has checks, and every one ran and held."""
        return self.opened and bool(self.checks) and all(c.ran and c.ok for c in self.checks)


@dataclass
class StagePlan:
    stage: Stage
    state: StageState
    plans: list[Plan]
    reopened: list[str]
    # Probes expected to pass once this stage and the ones before it are open.
    reachable: list[str]
    # Of those, the ones this stage brings back (blocked until it opens).
    new: list[str] = field(default_factory=list)
    # Links it reopens (or lets flows through) that no probe of the inventory crosses: no packet
    # can prove what it brings back.
    unprobed: list[str] = field(default_factory=list)
