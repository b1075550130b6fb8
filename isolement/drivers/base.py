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

from isolement.model.errors import DeviceError, UnexpectedOutput
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
    """Shared behaviour; a platform file overrides what differs (its syntax, its parsing)."""

    platform: ClassVar[str]
    netmiko_device_type: ClassVar[str]
    # The cut methods this platform implements; the planner refuses any other.
    methods: ClassVar[frozenset[CutMethod]]
    # What `method: auto` in a playbook means on this platform.
    preferred_method: ClassVar[CutMethod]
    # The command whose output is the device's configuration, compared before/after a restore.
    snapshot_command: ClassVar[str]
    # Output lines that mean the device refused a command.
    error_patterns: ClassVar[tuple[re.Pattern[str], ...]]
    # Whether the platform can let chosen flows through a cut (reconnection "bubbles").
    can_allow: ClassVar[bool] = False
    # Whether changes are sent inside the platform's configuration mode.
    uses_config_mode: ClassVar[bool] = True
    # Whether the device echoes a change command back verbatim (a shell wraps long lines).
    verify_echo: ClassVar[bool] = True
    # Whether changes go to a candidate configuration that only a commit puts in effect.
    commits: ClassVar[bool] = False
    # The last command of a change on a platform that `commits`.
    commit_command: ClassVar[str] = "commit"

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

    def cut_commands(
        self, targets: Sequence[CutTarget], state: DeviceState | None = None
    ) -> list[str]:
        """Cut the targets; with the state, also close any bubble open through them."""
        raise NotImplementedError

    def restore_commands(self, targets: Sequence[CutTarget], state: DeviceState) -> list[str]:
        raise NotImplementedError

    def allow_commands(
        self, targets: Sequence[AllowTarget], state: DeviceState | None = None
    ) -> list[str]:
        """Open the bubbles: rules letting their flows through, placed above the deny of each
        target's cut (from the state: where the rules live, what they go before)."""
        raise NotImplementedError(f"{self.platform} cannot let chosen flows through a cut")

    def find_error(self, output: str) -> str | None:
        """Every error line of the device's answer, in order, or None if it has none."""
        found = sorted(
            (match.start(), match.group(0).strip())
            for pattern in self.error_patterns
            for match in pattern.finditer(output)
        )
        return "; ".join(dict.fromkeys(text for _, text in found)) or None

    def recover_candidate(self, session: Session, device: str, own: Sequence[str]) -> str | None:
        """On a platform whose changes wait in a candidate configuration: if the candidate
        holds exactly isolement's own uncommitted lines (`own`: those it journaled whose outcome
        is missing, a run killed before its commit), put it back as the running configuration
        and say so; None if there was nothing to recover. Raises DeviceError, with nothing
        changed, when it holds anything else. Platforms without a candidate have nothing."""
        return None

    def apply(self, session: Session, device: str, commands: Sequence[str]) -> str:
        """Send configuration commands; raise DeviceError if the device answered with an error,
        so an error is never reported as success. On a platform that `commits`, the commands
        end with the commit, which netmiko's own commit() runs (it knows how long a commit
        takes and how it fails); nothing is committed after a refused line."""
        lines = list(commands)
        commit = bool(lines) and self.commits and lines[-1] == self.commit_command
        if commit:
            lines.pop()
        if self.uses_config_mode:
            output = session.send_config(lines) if lines else ""
        else:
            output = "\n".join(
                session.send_command(command, verify_echo=self.verify_echo) for command in lines
            )
        self._check(device, output)
        if commit:
            committed = session.commit()
            self._check(device, committed)
            output += "\n" + committed
        return output

    def _check(self, device: str, output: str) -> None:
        error = self.find_error(output)
        if error:
            raise DeviceError(device, f"device answered with an error: {error}")

    def snapshot(self, session: Session) -> str:
        return session.send_command(self.snapshot_command)

    # --- device-sourced probes ---------------------------------------------------------------

    # Whether the platform's ping runs until interrupted (FRR's vtysh `ping` has no count): the
    # command is then stopped with Ctrl-C after `count` seconds (one echo a second).
    ping_runs_until_interrupted: ClassVar[bool] = False

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
    # Kept in one block, apart from the other per-platform additions, to ease merges.
    #
    # How a change survives a reboot on this platform: "save" (the `save_commands` copy the
    # running configuration to the startup one), "auto" (the device saves each change
    # itself), "commit" (the commit that puts a change in effect already persists it), or
    # "none" (isolement cannot make it persist: a reboot reopens the cut).
    persistence: ClassVar[Literal["save", "auto", "commit", "none"]] = "none"
    # What the plan says of persistence on this platform (what a save does, what it cannot see).
    persistence_note: ClassVar[str] = "a reboot reopens the cut: isolement cannot save it here"
    # Exec-mode commands that save the running configuration to the startup one.
    save_commands: ClassVar[tuple[str, ...]] = ()
    # Seconds a save is waited for (NX-OS and large chassis take tens of seconds).
    save_timeout_s: ClassVar[float] = 120.0

    def save(self, session: Session, device: str) -> str:
        """Save the running configuration to the startup one; DeviceError on a refusal."""
        outputs = [session.send_command(c, timeout=self.save_timeout_s) for c in self.save_commands]
        output = "\n".join(outputs)
        self._check(device, output)
        return output

    def unsaved_changes(self, session: Session, interfaces: Collection[str] = ()) -> UnsavedCheck:
        """Changes someone made and did not save, which a save would save with the cut; the
        state of the `interfaces` the change sets again is not someone else's change."""
        if self.persistence != "save":
            return UnsavedCheck(False, f"nothing is saved on {self.platform}")
        return UnsavedCheck(None, f"{self.platform} cannot tell unsaved changes apart")
