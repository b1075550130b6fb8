"""A platform's facts, declared as data: what isolement must know of a CLI that is not parsing.

scrapli keeps prompts and failure strings in a table per platform; here one frozen `Platform`
per driver holds the same kind of knowledge: netmiko's device type, the cut methods, the
snapshot command and the lines of it that change on their own, how a refusal reads, how an
interface is shut and opened, how a change is committed, how it is saved. Code stays in the
driver for what must be code: parsers, and the renderers of stateful firewalls.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from isolement.model.change import CommitMode
from isolement.model.state import CutMethod

Persistence = Literal["save", "auto", "commit", "none"]


@dataclass(frozen=True)
class Shutdown:
    """The lines that shut one interface and open it again, `{interface}` standing for its
    name: a block (`interface X` / `shutdown` / `exit`) or one line (`... admin-state disable`)."""

    cut: tuple[str, ...]
    restore: tuple[str, ...]

    def lines(self, interfaces: Sequence[str], *, restore: bool = False) -> list[str]:
        template = self.restore if restore else self.cut
        return [line.format(interface=name) for name in interfaces for line in template]


# IOS's syntax, which FRR's vtysh, NX-OS, AOS-CX and the ASA share. Each block ends with `exit`
# back to `(config)#`: some netmiko drivers (AOS-CX's) only recognise that prompt as
# configuration mode, and a refused `interface` leaves the session there, where the `shutdown`
# after it is refused too: it never lands on another port.
INTERFACE_SHUTDOWN = Shutdown(
    cut=("interface {interface}", "shutdown", "exit"),
    restore=("interface {interface}", "no shutdown", "exit"),
)


@dataclass(frozen=True)
class Commit:
    """How a change set of this platform is committed: not at all (each line in effect as
    typed), by a plain commit, or by a commit the device rolls back unless confirmed."""

    mode: CommitMode = CommitMode.NONE
    confirm_minutes: int | None = None


NO_COMMIT = Commit()
PLAIN_COMMIT = Commit(CommitMode.PLAIN)


@dataclass(frozen=True)
class Platform:
    """Everything isolement knows of one platform that is a fact, not a parser."""

    name: str
    netmiko_device_type: str
    # The cut methods this platform implements; the planner refuses any other.
    methods: frozenset[CutMethod]
    # What `method: auto` in a playbook means on this platform.
    preferred_method: CutMethod
    # The command whose output is the device's configuration, compared before/after a restore.
    snapshot_command: str
    # Output lines that mean the device refused a command.
    error_patterns: tuple[re.Pattern[str], ...]
    # Lines of the snapshot that change while the configuration does not (timestamps,
    # counters): left out, so an exact restore compares equal.
    volatile_lines: tuple[re.Pattern[str], ...] = ()
    # How `shutdown` is rendered, where it is a template (None: the driver renders it).
    shutdown: Shutdown | None = None
    # Whether changes are sent inside the platform's configuration mode (netmiko's
    # send_config_set enters and leaves it) or typed one by one as commands.
    config_mode: bool = True
    # Whether the device echoes a change command back verbatim (a shell wraps long lines).
    verify_echo: bool = True
    # How a cut (and a bubble) is committed, and how a restore is.
    cut_commit: Commit = NO_COMMIT
    restore_commit: Commit = NO_COMMIT
    # Whether the platform can let chosen flows through a cut (reconnection "bubbles").
    can_allow: bool = False
    # Persistence (#12 §3): how a change survives a reboot. "save" (the `save_commands` copy
    # the running configuration to the startup one), "auto" (the device saves each change
    # itself), "commit" (the commit already persists it), or "none" (a reboot reopens the cut).
    persistence: Persistence = "none"
    # What the plan says of persistence on this platform (what a save does, what it cannot see).
    persistence_note: str = "a reboot reopens the cut: isolement cannot save it here"
    # Exec-mode commands that save the running configuration to the startup one.
    save_commands: tuple[str, ...] = ()
    # Seconds a save is waited for (NX-OS and large chassis take tens of seconds).
    save_timeout_s: float = 120.0
    # Whether the platform's ping runs until interrupted (FRR's vtysh `ping` has no count).
    ping_runs_until_interrupted: bool = False

    @property
    def candidate(self) -> bool:
        """Whether changes wait in a candidate configuration that only a commit puts in effect."""
        return CommitMode.NONE not in (self.cut_commit.mode, self.restore_commit.mode)

    def without_volatile(self, text: str) -> str:
        """The snapshot without the lines that change on their own."""
        if not self.volatile_lines:
            return text
        return "\n".join(
            line
            for line in text.splitlines()
            if not any(pattern.match(line) for pattern in self.volatile_lines)
        )
