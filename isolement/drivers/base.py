"""The contract between isolement and one platform, and the session a driver talks through.

A driver is vendor knowledge only: which commands read state and how to parse the answer, which
commands cut and restore, how an error looks. It never opens a connection itself; the session is
handed to it, so drivers are tested on recorded outputs without any device.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import ClassVar, Literal, Protocol, runtime_checkable

from isolement.drivers.platform import Commit, Platform
from isolement.model.change import ChangeSet
from isolement.model.errors import DeviceError, PlanRefused, UnexpectedOutput
from isolement.model.names import check_name
from isolement.model.state import CutMethod, DeviceState


class Session(Protocol):
    """One open CLI session on one device."""

    def send_command(
        self,
        command: str,
        *,
        verify_echo: bool = True,
        expect: str | None = None,
        timeout: float | None = None,
    ) -> str:
        """Run one command; the answer ends at the prompt, or at the regular expression
        `expect` (a prompt that changes with the command: entering configuration mode).
        `timeout` waits longer than the session's own for a command known to be slow."""
        ...

    def send_config(self, commands: Sequence[str]) -> str: ...

    def commit(self, *, confirm_minutes: int | None = None) -> str:
        """Commit the candidate configuration (platforms that have one); with `confirm_minutes`,
        a commit the device rolls back unless confirmed by a second commit in time (Junos).
        Waited for up to COMMIT_TIMEOUT_S at least: commits are slow on large devices."""
        ...

    def prompt(self) -> str: ...

    def close(self) -> None: ...


@runtime_checkable
class InterruptibleSession(Session, Protocol):
    """A session that can stop a command which never ends by itself (FRR's vtysh `ping`)."""

    def send_interrupted(self, command: str, *, after: float) -> str:
        """Type `command`, let it run `after` seconds, send Ctrl-C, and return the answer up
        to the prompt."""
        ...


@dataclass(frozen=True)
class CutTarget:
    """One endpoint of one link, and how it is cut."""

    link: str
    interface: str
    method: CutMethod

    def __post_init__(self) -> None:
        # Names are checked when inventories load; checked again here because a name that
        # reached a driver unchecked could add lines to a device's configuration.
        check_name(self.link)
        check_name(self.interface)


@dataclass(frozen=True)
class Flow:
    """Traffic let through a cut by a reconnection stage, in both directions."""

    protocol: Literal["tcp", "udp", "icmp"]
    source: IPv4Network
    destination: IPv4Network
    port: int | None = None  # destination port (tcp, udp); None for every port


@dataclass(frozen=True)
class AllowTarget:
    """A bubble: these flows through the cut of one endpoint, for one reconnection stage."""

    link: str
    interface: str
    stage: str
    flows: tuple[Flow, ...]

    def __post_init__(self) -> None:
        check_name(self.link)
        check_name(self.interface)
        check_name(self.stage)


@dataclass(frozen=True)
class PingReply:
    """What a device's own ping says it did: echo requests sent, replies received."""

    sent: int
    received: int


# The summary lines of the three ping layouts the platforms print. Cisco IOS and ASA:
# `Success rate is 80 percent (4/5)`. BSD's ping (NX-OS, Junos, FortiOS, OmniSwitch):
# `5 packets transmitted, 4 packets received, 20% packet loss`. Linux iputils (Linux, FRR's
# vtysh, PAN-OS and AOS-CX, whose ping is the Linux one): `5 packets transmitted, 4 received`.
_SUCCESS_RATE = re.compile(r"^\s*Success rate is \d+ percent \((\d+)/(\d+)\)", re.MULTILINE)
_BSD_SUMMARY = re.compile(
    r"^\s*(\d+) packets transmitted, (\d+) packets received, [\d.]+% packet loss", re.MULTILINE
)
_IPUTILS_SUMMARY = re.compile(
    r"^\s*(\d+) packets transmitted, (\d+) received,(?: \+\d+ errors,)? [\d.]+% packet loss",
    re.MULTILINE,
)


def _one_summary(pattern: re.Pattern[str], output: str, layout: str) -> tuple[int, int]:
    found = pattern.findall(output)
    if len(found) != 1:
        what = "no" if not found else f"{len(found)}"
        raise UnexpectedOutput(
            f"{what} {layout} ping summary in the answer, which cannot be read as a ping "
            f"result: {output.strip()[-120:]!r}"
        )
    first, second = (int(n) for n in found[0])
    return first, second


def parse_success_rate(output: str) -> PingReply:
    """Cisco's `Success rate is P percent (received/sent)`."""
    received, sent = _one_summary(_SUCCESS_RATE, output, "Cisco")
    return _reply(sent, received, output)


def parse_bsd_ping(output: str) -> PingReply:
    """BSD ping's `N packets transmitted, M packets received, L% packet loss`."""
    sent, received = _one_summary(_BSD_SUMMARY, output, "BSD")
    return _reply(sent, received, output)


def parse_iputils_ping(output: str) -> PingReply:
    """Linux iputils' `N packets transmitted, M received, L% packet loss`."""
    sent, received = _one_summary(_IPUTILS_SUMMARY, output, "Linux")
    return _reply(sent, received, output)


def is_address(source: str) -> bool:
    """Whether a probe's `source` is an IPv4 address (else it names an interface)."""
    try:
        IPv4Address(source)
    except ValueError:
        return False
    return True


def _reply(sent: int, received: int, output: str) -> PingReply:
    if received > sent:
        # Duplicates or a garbled line: not something to guess a verdict from.
        raise UnexpectedOutput(f"ping says {received} replies to {sent} requests: {output!r}")
    return PingReply(sent=sent, received=received)


@dataclass(frozen=True)
class UnsavedCheck:
    """Whether the running configuration holds changes the startup one does not, before
    isolement changes anything: `found` True (`detail` says which), False (none), or None when
    the platform or the device cannot tell (`detail` says why)."""

    found: bool | None
    detail: str = ""


# Seconds a commit is waited for, at least. A PAN-OS commit takes 30 s to several minutes on a
# real firewall, a Junos one tens of seconds: reported as "no answer" sooner, a commit that
# completes on the device would be told to the operator as failed.
COMMIT_TIMEOUT_S = 300.0


class Driver:
    """The contract between isolement and one platform (napalm's NetworkDriver, for a CLI).

    A platform is a `facts` table (drivers/platform.py) and the code that cannot be a table:

    - reading: `read_state(session)` parses what the device says into a DeviceState;
    - rendering, pure: `cut_lines`, `restore_lines` (and `allow_lines` where `can_allow`) give
      the lines of a change against the state read (None: an offline plan). A line that
      needs the state to be written is left out offline, and `unresolved` says what it will
      do ("deny rules for the zone of ethernet1/1, resolved when the device is read").
      `render_cut` / `render_restore` / `render_allow` wrap them in a ChangeSet with the
      platform's commit mode; a driver never writes `commit` as a line;
    - the transaction, run by flows/transaction.py in this order: `recover_candidate` (a run
      killed mid-change), `begin`, `load`, then on a platform that commits `compare` and
      `commit`, `end`; after a confirmed commit the state is read and `confirm` sent; on a
      refusal `discard`. The defaults serve a platform without a candidate configuration,
      where each line is in effect as typed: `load` sends the lines, the rest does nothing.

    Adding a platform: a `Platform(...)` of its facts, `read_state`, and the `*_lines` its
    methods need (a `shutdown` template in the facts renders `shutdown` for it); a platform
    with a candidate overrides the transaction verbs. tests/unit/test_drivers.py holds every
    registered driver to this contract.
    """

    facts: ClassVar[Platform]

    @property
    def platform(self) -> str:
        return self.facts.name

    @staticmethod
    def interface_name(name: str) -> str:
        """The spelling of an interface name that the state read from the device uses, given
        any spelling the platform accepts (IOS-XE and NX-OS abbreviate in their brief tables)."""
        return name

    def has_privilege(self, session: Session) -> bool:
        """Whether the session may change the configuration (IOS-like: the `#` prompt)."""
        return session.prompt().rstrip().endswith("#")

    def read_state(self, session: Session) -> DeviceState:
        raise NotImplementedError

    # --- rendering (pure) -------------------------------------------------------------------

    def cut_lines(self, targets: Sequence[CutTarget], state: DeviceState | None) -> list[str]:
        """The lines that cut the targets; with the state, also close any bubble open through
        them. The default serves a platform whose only method is a `shutdown` template."""
        return self._shutdown(targets, restore=False)

    def restore_lines(self, targets: Sequence[CutTarget], state: DeviceState) -> list[str]:
        return self._shutdown(targets, restore=True)

    def allow_lines(self, targets: Sequence[AllowTarget], state: DeviceState | None) -> list[str]:
        """Open the bubbles: rules letting their flows through, placed above the deny of each
        target's cut (from the state: where the rules live, what they go before)."""
        raise PlanRefused(f"{self.platform} cannot let chosen flows through a cut")

    def unresolved(self, targets: Sequence[CutTarget]) -> list[str]:
        """Offline (no state): what the cut of each target will do where its lines need the
        device's state; those targets render no line. None on most platforms."""
        return []

    def render_cut(
        self, targets: Sequence[CutTarget], state: DeviceState | None = None
    ) -> ChangeSet:
        unresolved = self.unresolved(targets) if state is None else []
        return self._change_set(self.cut_lines(targets, state), self.facts.cut_commit, unresolved)

    def render_restore(self, targets: Sequence[CutTarget], state: DeviceState) -> ChangeSet:
        return self._change_set(self.restore_lines(targets, state), self.facts.restore_commit)

    def render_allow(
        self, targets: Sequence[AllowTarget], state: DeviceState | None = None
    ) -> ChangeSet:
        return self._change_set(self.allow_lines(targets, state), self.facts.cut_commit)

    @staticmethod
    def _change_set(lines: list[str], commit: Commit, unresolved: Sequence[str] = ()) -> ChangeSet:
        if not lines:
            return ChangeSet(unresolved=list(unresolved))
        return ChangeSet(
            lines=lines,
            commit=commit.mode,
            confirm_minutes=commit.confirm_minutes,
            unresolved=list(unresolved),
        )

    def _shutdown(self, targets: Sequence[CutTarget], *, restore: bool) -> list[str]:
        template = self.facts.shutdown
        for target in targets:
            if target.method is not CutMethod.SHUTDOWN or template is None:
                raise PlanRefused(
                    f"{self.platform} cannot cut {target.interface} by {target.method}"
                )
        assert template is not None or not targets
        interfaces = list(dict.fromkeys(t.interface for t in targets))
        return template.lines(interfaces, restore=restore) if template else []

    # --- the transaction (napalm: load_merge_candidate, compare, commit, confirm, discard) -

    def recover_candidate(self, session: Session, device: str, own: Sequence[str]) -> str | None:
        """On a platform whose changes wait in a candidate configuration: if the candidate
        holds exactly isolement's own uncommitted lines (`own`: those it journaled whose outcome
        is missing, a run killed before its commit), put it back as the running configuration
        and say so; None if there was nothing to recover. Raises DeviceError, with nothing
        changed, when it holds anything else. Platforms without a candidate have nothing."""
        return None

    def begin(self, session: Session, device: str) -> str:
        """Before the first line: refuse a candidate holding someone else's changes, enter the
        configuration. Nothing on a platform without a candidate (netmiko's send_config_set
        enters and leaves configuration mode around the lines it is given)."""
        return ""

    def load(self, session: Session, device: str, lines: Sequence[str]) -> str:
        """Send the lines; DeviceError if the device answered with an error, so an error is
        never reported as success, and nothing is committed after a refused line."""
        if self.facts.config_mode:
            output = session.send_config(lines)
        else:
            output = "\n".join(
                session.send_command(line, verify_echo=self.facts.verify_echo) for line in lines
            )
        self._check(device, output)
        return output

    def compare(self, session: Session, device: str) -> str | None:
        """The candidate's difference from the running configuration, once loaded (evidence
        of what the commit puts in effect); None where the platform cannot show it."""
        return None

    def commit(self, session: Session, device: str, confirm_minutes: int | None) -> str:
        """Put the candidate in effect; with `confirm_minutes`, a commit the device rolls back
        unless `confirm` follows in time. netmiko's commit() runs it (it knows how long a
        commit takes and how it fails)."""
        committed = session.commit(confirm_minutes=confirm_minutes)
        self._check(device, committed)
        return committed

    def confirm(self, session: Session, device: str) -> str:
        """Confirm a commit made with `confirm_minutes`, once the session proved it works."""
        return self.commit(session, device, None)

    def discard(self, session: Session, device: str) -> str | None:
        """After a refused line or commit: leave nothing pending. What it did, to tell with the
        refusal (None: nothing worth telling). Never raises: the refusal is what is reported."""
        return None

    def end(self, session: Session, device: str) -> str:
        """Leave the configuration, back where the state is read."""
        return ""

    def find_error(self, output: str) -> str | None:
        """Every error line of the device's answer, in order, or None if it has none."""
        found = sorted(
            (match.start(), match.group(0).strip())
            for pattern in self.facts.error_patterns
            for match in pattern.finditer(output)
        )
        return "; ".join(dict.fromkeys(text for _, text in found)) or None

    def _check(self, device: str, output: str) -> None:
        error = self.find_error(output)
        if error:
            raise DeviceError(device, f"device answered with an error: {error}")

    def snapshot(self, session: Session) -> str:
        """The configuration, without the lines that change on their own."""
        return self.facts.without_volatile(session.send_command(self.facts.snapshot_command))

    # --- device-sourced probes ---------------------------------------------------------------

    def ping_command(
        self, to: IPv4Address, *, source: str | None, count: int, port: int | None
    ) -> str | None:
        """The CLI line(s) that make the device itself send `count` echo requests to `to`, from
        `source` (an address or an interface) when given; several lines are joined by newlines
        and sent one after the other (FortiOS sets its options first). None: this platform's
        CLI cannot send that probe (a TCP connection on most, a source on some)."""
        return None

    def parse_ping(self, output: str) -> PingReply:
        """Sent and received, from the answer to the last line of `ping_command`; raises
        UnexpectedOutput for an answer that is not a ping result (never a guess)."""
        raise UnexpectedOutput(f"{self.platform} has no ping isolement can read")

    # --- persistence (#12 §3): a cut that survives a reboot -------------------------------

    def save(self, session: Session, device: str) -> str:
        """Save the running configuration to the startup one; DeviceError on a refusal."""
        outputs = [
            session.send_command(c, timeout=self.facts.save_timeout_s)
            for c in self.facts.save_commands
        ]
        output = "\n".join(outputs)
        self._check(device, output)
        return output

    def unsaved_changes(self, session: Session, interfaces: Collection[str] = ()) -> UnsavedCheck:
        """Changes someone made and did not save, which a save would save with the cut; the
        state of the `interfaces` the change sets again is not someone else's change."""
        if self.facts.persistence != "save":
            return UnsavedCheck(False, f"nothing is saved on {self.platform}")
        return UnsavedCheck(None, f"{self.platform} cannot tell unsaved changes apart")
