"""An emulated device: its specification, its state and what its CLI shares across platforms.

The profiles (lab/profiles/) build on this module; the SSH server that serves devices
(lab/emulator.py) builds on the profiles. Nothing here opens a socket.
"""

from __future__ import annotations

import copy
import dataclasses
import ipaddress
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import EllipsisType
from typing import Any, ClassVar, Protocol

import paramiko

_HOSTNAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,62}")


# --- device specifications and state -------------------------------------------------------


@dataclass(frozen=True)
class InterfaceSpec:
    """One interface as the device starts: `address` in CIDR form or None (unassigned);
    `link_up` False for a port with nothing plugged in (Status `down`, not shut)."""

    name: str
    shutdown: bool = False
    address: str | None = None
    link_up: bool = True
    description: str = ""

    def __post_init__(self) -> None:
        # The platform's own naming rule is checked by its profile (`check_interface_name`).
        if not self.name or any(ch.isspace() for ch in self.name):
            raise ValueError(f"{self.name!r} is not an interface name")
        if self.address is not None:
            ipaddress.IPv4Interface(self.address)  # raises on a malformed address
        if any(ch in self.description for ch in "\r\n"):
            raise ValueError("an interface description must stay on one line")


@dataclass(frozen=True)
class Faults:
    """What goes wrong on one device, for the tests of what isolement does then.

    - `drop_after_config_lines=N`: in every session, once the Nth non-empty line typed in
      configuration mode (IOS: `(config)#`, `(config-if)#`) has been applied, the connection is
      dropped at once: no answer, no prompt, no SSH goodbye, a TCP reset. With N=1, the first
      `interface X` is applied (the mode changes), then the connection dies. With
      `drop_once`, only the first session to reach it is dropped (the fault then clears): a
      device that fails once mid-change, as a flapping link or a supervisor switchover does.
    - `hang_after_login`: a session that opens while this is set prints its prompt, then never
      answers anything (it reads and discards what is typed until the client goes away).
    - `error_on`: this command line (compared with spaces collapsed, case-insensitively) is
      answered as the platform answers a command it does not know (IOS: the caret line and
      `% Invalid input detected at '^' marker.`), and is not applied, in whatever mode it is
      typed.
    - `slow_on` (with `slow_s`): this command line (compared as `error_on`) is answered only
      after `slow_s` more seconds, on top of the device's latency: one slow command on a device
      otherwise quick enough (a privilege check on a loaded firewall).
    - `drop_connections=N`: the next N connections to the device are reset as soon as they are
      accepted, before the SSH banner (a server shedding load); the ones after are served.
    - `silent_connections=N`: the next N connections are accepted and never get an SSH banner
      (a server too busy to answer), until the client goes away.
    - `slow_login_s`: each login (public key or password) is answered only after that many
      seconds (an SSH server starved of CPU: the key exchange done, the login not answered).
    """

    drop_after_config_lines: int | None = None
    hang_after_login: bool = False
    error_on: str | None = None
    slow_on: str | None = None
    slow_s: float = 0.0
    drop_once: bool = False
    drop_connections: int = 0
    silent_connections: int = 0
    slow_login_s: float = 0.0

    def __post_init__(self) -> None:
        if self.drop_after_config_lines is not None and self.drop_after_config_lines < 1:
            raise ValueError("drop_after_config_lines counts lines: 1 or more")
        if self.error_on is not None and (
            not self.error_on.strip() or any(ch in self.error_on for ch in "\r\n")
        ):
            raise ValueError("error_on is one non-empty command line")
        if self.slow_on is not None and (
            not self.slow_on.strip() or any(ch in self.slow_on for ch in "\r\n")
        ):
            raise ValueError("slow_on is one non-empty command line")
        if self.slow_s < 0 or self.slow_login_s < 0:
            raise ValueError("slow_s and slow_login_s are numbers of seconds: 0 or more")
        if self.drop_connections < 0 or self.silent_connections < 0:
            raise ValueError("drop_connections and silent_connections count connections: 0 or more")

    def refuses(self, line: str) -> bool:
        return self.error_on is not None and _words(line) == _words(self.error_on)

    def delay(self, line: str) -> float:
        """The extra seconds before `line` is answered (the `slow_on` fault), or 0."""
        slow = self.slow_on is not None and _words(line) == _words(self.slow_on)
        return self.slow_s if slow else 0.0


def _words(line: str) -> str:
    return " ".join(line.split()).lower()


@dataclass(frozen=True)
class DeviceSpec:
    """One emulated device. `platform` names its profile (`lab/profiles/`); `host_key` overrides
    the emulator's; `latency` (seconds per command) and `login_latency` (seconds before the
    first prompt) override the emulator's for this device only; `port` is the port it listens
    on (0: one the OS chooses); `faults` are its faults at start (see
    `EmulatedDevice.set_faults` to change them while running); `options` is what its profile
    reads at start (a VDOM, the policies already in place, ...)."""

    name: str
    interfaces: Sequence[InterfaceSpec | str]
    platform: str = "cisco_ios"
    host_key: paramiko.PKey | None = None
    latency: float | None = None
    login_latency: float | None = None
    port: int = 0
    faults: Faults = Faults()
    options: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _HOSTNAME.fullmatch(self.name):
            raise ValueError(f"{self.name!r} is not a valid hostname")
        specs = tuple(
            i if isinstance(i, InterfaceSpec) else InterfaceSpec(i) for i in self.interfaces
        )
        names = [i.name for i in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate interface names in {names}")
        object.__setattr__(self, "interfaces", specs)


@dataclass
class Interface:
    """One interface of a running device, as its profile changes it (under the device's lock)."""

    name: str
    shutdown: bool
    address: ipaddress.IPv4Interface | None
    link_up: bool
    description: str
    method: str  # how the address was set, as IOS's `show ip interface brief` says it

    @classmethod
    def from_spec(cls, spec: InterfaceSpec) -> Interface:
        address = ipaddress.IPv4Interface(spec.address) if spec.address else None
        return cls(
            spec.name,
            spec.shutdown,
            address,
            spec.link_up,
            spec.description,
            "NVRAM" if address else "unset",
        )


@dataclass(frozen=True)
class HistoryEntry:
    """One line a client sent, with the prompt it was typed at."""

    prompt: str
    line: str


class Cli(Protocol):
    """One session's command interpreter: its mode, and what each line does to the device.
    No I/O: `execute` takes a line and returns what the device prints for it (without the echo
    and the next prompt)."""

    closed: bool  # the session ended (`exit`, `logout`)

    @property
    def configuring(self) -> bool:
        """Whether a line typed now is a configuration line (counted by the drop fault)."""
        ...

    def prompt(self) -> str: ...

    def execute(self, line: str) -> list[str]: ...

    def invalid(self, line: str) -> list[str]:
        """What the platform prints for a command it does not know (the `error_on` fault)."""
        ...

    def ctrl_z(self) -> None: ...


@dataclass(frozen=True)
class Bubble:
    """A flow the device's running policy lets through the deny of one interface (an allow
    placed above it): in the lab, accepted by nftables before that interface's drops."""

    interface: str
    protocol: str  # tcp, udp or icmp
    source: str  # a network, 198.18.10.0/24
    destination: str
    port: int | None = None  # the destination port (tcp, udp); None for every port


@dataclass(frozen=True)
class Reply:
    """One echo reply the namespace's real ping received."""

    seq: int  # from 1, as Linux numbers them
    ttl: int
    time_ms: float


@dataclass(frozen=True)
class Echoes:
    """What a real ping sent from the device's namespace did: the device renders it in its
    platform's layout, so the answer on its CLI is real packets."""

    to: str
    source: str | None  # the address the requests left from, when one was asked for
    sent: int
    replies: tuple[Reply, ...]
    error: str | None = None  # the ping could not run (an unknown source, no route)

    @property
    def received(self) -> int:
        return len(self.replies)


class Pinger(Protocol):
    """Sends real echo requests from the device's namespace (the lab's data plane)."""

    def ping(self, to: str, source: str | None, count: int) -> Echoes: ...


class DataPlane(Protocol):
    """What a device's state drives outside the emulator: in the lab, the namespace's real
    links and packet filter. Called after every change, outside the device's lock."""

    def apply(self, device: EmulatedDevice) -> None: ...


class EmulatedDevice:
    """The live state of one emulated device, shared by every platform; every method is
    thread-safe. A profile (`lab/profiles/<platform>.py`) subclasses it with its own state
    (policies, candidate configuration, ...), what its show commands print, and its `cli()`."""

    platform: ClassVar[str]

    def __init__(self, spec: DeviceSpec, host_key: paramiko.PKey):
        for interface in spec.interfaces:
            assert isinstance(interface, InterfaceSpec)
            self.check_interface_name(interface.name)
        self.name = spec.name
        self.host_key = host_key
        self.latency = spec.latency
        self.login_latency = spec.login_latency
        self.port = spec.port  # the bound port once the emulator listens
        self.dataplane: DataPlane | None = None
        # Real pings in the lab; none elsewhere (an emulator on loopback sends no packet).
        self.pinger: Pinger | None = None
        self._lock = threading.RLock()
        self._dataplane_lock = threading.Lock()
        self._interfaces: dict[str, Interface] = {
            i.name: Interface.from_spec(i) for i in spec.interfaces if isinstance(i, InterfaceSpec)
        }
        self._history: list[HistoryEntry] = []
        self._logins = 0
        self._active = 0
        self._config_changes = 0
        self._faults = spec.faults

    # What a profile defines.

    @classmethod
    def check_interface_name(cls, name: str) -> None:
        """Raise ValueError for a name this platform would never give an interface."""

    @classmethod
    def sample(cls, name: str) -> DeviceSpec:
        """A typical device of this platform, for the driver contract tests: interfaces named
        as the platform names them, the first two administratively up, and the options a
        real one of its kind has (policies in place, a VDOM, ...)."""
        raise NotImplementedError

    def cli(self) -> Cli:
        raise NotImplementedError

    def blocked_interfaces(self) -> frozenset[str]:
        """Interfaces whose traffic the device's (running) policy drops: a deny rule placed
        where it wins. None on a platform without a packet filter."""
        return frozenset()

    def bubbles(self) -> tuple[Bubble, ...]:
        """The flows the running policy lets through the deny of a blocked interface (allow
        entries matched before it). None on a platform without a packet filter."""
        return ()

    def extra_state(self) -> dict[str, object]:
        """Platform state worth showing in `state()` (policies, pending commits, ...)."""
        return {}

    # Reading the state (for tests, benchmarks and the lab's data plane).

    def state(self) -> dict[str, object]:
        """The running state as data: what the lab writes to disk and its tests read."""
        return {
            "platform": self.platform,
            "admin_up": self.admin_up(),
            "blocked": sorted(self.blocked_interfaces()),
            **(
                {"bubbles": [dataclasses.asdict(b) for b in bubbles]}
                if (bubbles := self.bubbles())
                else {}
            ),
            **self.extra_state(),
        }

    def admin_up(self) -> dict[str, bool]:
        """Interface -> administratively up, the same meaning as isolement's DeviceState."""
        with self._lock:
            return {name: not i.shutdown for name, i in self._interfaces.items()}

    def shutdown_interfaces(self) -> set[str]:
        with self._lock:
            return {name for name, i in self._interfaces.items() if i.shutdown}

    def is_shutdown(self, interface: str) -> bool:
        with self._lock:
            return self._interfaces[interface].shutdown

    def description(self, interface: str) -> str:
        with self._lock:
            return self._interfaces[interface].description

    @property
    def history(self) -> list[HistoryEntry]:
        with self._lock:
            return list(self._history)

    @property
    def logins(self) -> int:
        with self._lock:
            return self._logins

    @property
    def active_sessions(self) -> int:
        with self._lock:
            return self._active

    @property
    def config_changes(self) -> int:
        """How many configuration lines changed something (a no-op `shutdown` counts too)."""
        with self._lock:
            return self._config_changes

    @property
    def faults(self) -> Faults:
        with self._lock:
            return self._faults

    def set_faults(
        self,
        *,
        drop_after_config_lines: int | EllipsisType | None = ...,
        drop_once: bool | EllipsisType = ...,
        hang_after_login: bool | EllipsisType = ...,
        error_on: str | EllipsisType | None = ...,
        slow_on: str | EllipsisType | None = ...,
        slow_s: float | EllipsisType = ...,
        drop_connections: int | EllipsisType = ...,
        silent_connections: int | EllipsisType = ...,
        slow_login_s: float | EllipsisType = ...,
    ) -> Faults:
        """Change this device's faults while it runs (those not named are kept); returns them.
        `drop_after_config_lines`, `error_on` and `slow_on` apply from the next line typed in
        any session, `hang_after_login` to the sessions opened from now on."""
        named: dict[str, Any] = {
            "drop_after_config_lines": drop_after_config_lines,
            "drop_once": drop_once,
            "hang_after_login": hang_after_login,
            "error_on": error_on,
            "slow_on": slow_on,
            "slow_s": slow_s,
            "drop_connections": drop_connections,
            "silent_connections": silent_connections,
            "slow_login_s": slow_login_s,
        }
        with self._lock:
            self._faults = dataclasses.replace(
                self._faults,
                **{k: v for k, v in named.items() if not isinstance(v, EllipsisType)},
            )
            return self._faults

    def _connection_fault(self) -> str | None:
        """What the connection just accepted meets: `drop`, `silent` or nothing; each counted
        off its fault."""
        with self._lock:
            faults = self._faults
            if faults.drop_connections:
                self._faults = dataclasses.replace(
                    faults, drop_connections=faults.drop_connections - 1
                )
                return "drop"
            if faults.silent_connections:
                left = faults.silent_connections - 1
                self._faults = dataclasses.replace(faults, silent_connections=left)
                return "silent"
            return None

    def clear_faults(self) -> None:
        with self._lock:
            self._faults = Faults()

    # --- persistence (#12 §3): a startup configuration, and a restart that reloads it ------
    # A profile whose saved state is more than its interfaces (policies, ACLs, rules) extends
    # `persistent` and `reload`; its save command calls `save`, a platform that saves each
    # change itself calls it on each change, one whose commit persists calls it on commit.

    def persistent(self) -> dict[str, object]:
        """What a save keeps (called under the lock): by default the interfaces' state."""
        return {"interfaces": copy.deepcopy(self._interfaces)}

    def reload(self, saved: dict[str, object]) -> None:
        """Put the saved state back as the running one (called under the lock)."""
        kept = saved["interfaces"]
        assert isinstance(kept, dict)
        for name, interface in kept.items():
            for attribute in dataclasses.fields(interface):
                value = getattr(interface, attribute.name)
                setattr(self._interfaces[name], attribute.name, copy.deepcopy(value))

    def boot(self) -> None:
        """The configuration the device starts with is its saved one."""
        with self._lock:
            if getattr(self, "_saved_state", None) is None:
                self._saved_state = self.persistent()

    def save(self) -> None:
        with self._lock:
            self._saved_state = self.persistent()

    def restart(self) -> None:
        """A reboot: the running state is what was last saved (the start one until then)."""
        self.boot()
        with self._lock:
            self.reload(copy.deepcopy(self._saved_state))
        self._changed()

    def set_shutdown(self, interface: str, shutdown: bool) -> None:
        """Change an interface behind the CLI's back (test set-up, a colleague on the console)."""
        with self._lock:
            self._interfaces[interface].shutdown = shutdown
        self._changed()

    # Used by the CLI.

    def _record(self, prompt: str, line: str) -> None:
        with self._lock:
            self._history.append(HistoryEntry(prompt, line))

    def _session_opened(self) -> None:
        with self._lock:
            self._logins += 1
            self._active += 1

    def _session_closed(self) -> None:
        with self._lock:
            self._active -= 1

    def _set(self, interface: str, **changes: object) -> None:
        with self._lock:
            target = self._interfaces[interface]
            for attribute, value in changes.items():
                setattr(target, attribute, value)
            self._config_changes += 1
        self._changed()

    def _changed(self) -> None:
        """Hand the new state to the data plane, one change at a time, in order."""
        if self.dataplane is not None:
            with self._dataplane_lock:
                self.dataplane.apply(self)
