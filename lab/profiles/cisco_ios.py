"""The Cisco IOS profile of the emulator: what netmiko's `cisco_ios` driver, and so isolement's
CiscoIosDriver, see of a device.

- a prompt `NAME#` (`NAME>` after `disable`), `terminal length|width|monitor`, `configure
  terminal` -> `NAME(config)#`, `interface X` -> `NAME(config-if)#`, `shutdown`, `no shutdown`,
  `description`, `ip address`, `exit`, `end`, Ctrl-Z, `do ...`, `write memory`, `show ip
  interface brief` and `show running-config [interface X]` in IOS's own layout;
- IOS's abbreviations (`conf t`, `sh ip int br`, `int gi0/1`) and its error answers: the caret
  line and `% Invalid input detected at '^' marker.`, `% Incomplete command.`,
  `% Ambiguous command:  "..."`;
- `exit` ends the session and closes the connection at once, as IOS does.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from enum import Enum

from ..emulator import DeviceSpec, EmulatedDevice, Interface, InterfaceSpec
from ..grammar import (
    IF,
    IOS,
    IP,
    NUM,
    TEXT,
    Arg,
    CliError,
    Command,
    commands,
    parse,
)

CONFIG_BANNER = "Enter configuration commands, one per line.  End with CNTL/Z."

# IOS interface names: a type word, then a slot/port number (`GigabitEthernet0/0/1.10`).
_INTERFACE = re.compile(r"([A-Za-z][A-Za-z-]*?)(\d[\d/.:]*)")
# As typed on the command line: `gi0/1`, `GigabitEthernet 0/1`, `lo 0`.
_TYPED_INTERFACE = re.compile(r"([A-Za-z][A-Za-z-]*?)\s*(\d[\d/.:]*)")

# Interface types IOS knows even when the device has none of them.
_PHYSICAL_TYPES = (
    "Ethernet",
    "FastEthernet",
    "GigabitEthernet",
    "TenGigabitEthernet",
    "TwentyFiveGigE",
    "FortyGigabitEthernet",
    "HundredGigE",
    "Serial",
)
# Interface types `interface X` creates when they do not exist yet.
_VIRTUAL_TYPES = ("Loopback", "Tunnel", "Vlan", "Port-channel")


# --- keys and known hosts ------------------------------------------------------------------


def _interface_type(name: str) -> str:
    match = _INTERFACE.fullmatch(name)
    return match.group(1) if match else name


class IosDevice(EmulatedDevice):
    platform = "cisco_ios"

    @classmethod
    def check_interface_name(cls, name: str) -> None:
        if not _INTERFACE.fullmatch(name):
            raise ValueError(f"{name!r} is not an IOS interface name (GigabitEthernet0/1)")

    @classmethod
    def sample(cls, name: str) -> DeviceSpec:
        return DeviceSpec(
            name,
            [
                InterfaceSpec("GigabitEthernet0/0", address="198.18.0.1/30"),
                InterfaceSpec("GigabitEthernet0/1", address="198.18.0.5/30"),
                InterfaceSpec("GigabitEthernet0/2", shutdown=True),
            ],
            platform=cls.platform,
        )

    def cli(self) -> IosCli:
        return IosCli(self)

    # What the CLI prints.

    def show_ip_interface_brief(self) -> list[str]:
        # IOS's fixed layout: "%-22s %-15s %-3s %-6s %-21s %s"; a longer name pushes the row.
        rows = ["Interface              IP-Address      OK? Method Status                Protocol"]
        with self._lock:
            for i in self._interfaces.values():
                if i.shutdown:
                    status, protocol = "administratively down", "down"
                elif i.link_up:
                    status, protocol = "up", "up"
                else:
                    status, protocol = "down", "down"
                address = str(i.address.ip) if i.address else "unassigned"
                rows.append(f"{i.name:<22} {address:<15} YES {i.method:<6} {status:<21} {protocol}")
        return rows

    def _interface_block(self, i: Interface) -> list[str]:
        lines = [f"interface {i.name}"]
        if i.description:
            lines.append(f" description {i.description}")
        if i.address:
            lines.append(f" ip address {i.address.ip} {i.address.netmask}")
        else:
            lines.append(" no ip address")
        if i.shutdown:
            lines.append(" shutdown")
        if i.name.startswith(("GigabitEthernet", "FastEthernet", "Ethernet")) and "." not in i.name:
            lines += [" duplex auto", " speed auto"]
        return lines

    def running_config(self, interface: str | None = None) -> list[str]:
        with self._lock:
            if interface is not None:
                body = ["!", *self._interface_block(self._interfaces[interface]), "end"]
            else:
                body = [
                    "!",
                    "version 15.9",
                    "service timestamps debug datetime msec",
                    "service timestamps log datetime msec",
                    "no service password-encryption",
                    "!",
                    f"hostname {self.name}",
                    "!",
                    "boot-start-marker",
                    "boot-end-marker",
                    "!",
                    "no aaa new-model",
                    "!",
                    "ip cef",
                    "no ipv6 cef",
                    "!",
                ]
                for i in self._interfaces.values():
                    body += [*self._interface_block(i), "!"]
                body += [
                    "ip forward-protocol nd",
                    "!",
                    "no ip http server",
                    "no ip http secure-server",
                    "ip ssh version 2",
                    "!",
                    "line con 0",
                    "line aux 0",
                    "line vty 0 4",
                    " login local",
                    " transport input ssh",
                    "!",
                    "end",
                ]
        size = sum(len(line) + 1 for line in body)
        return ["Building configuration...", "", f"Current configuration : {size} bytes", *body]

    def _resolve(self, typed: str, *, create: bool) -> tuple[str | None, int]:
        """The interface a typed name means, or None and the offset in `typed` IOS would put its
        caret at. With `create`, a missing virtual interface (Loopback5) is created."""
        match = _TYPED_INTERFACE.fullmatch(typed)
        if not match:
            return None, 0
        kind, number = match.group(1).lower(), match.group(2)
        with self._lock:
            known = {_interface_type(n) for n in self._interfaces}
            types = sorted(known | set(_PHYSICAL_TYPES) | set(_VIRTUAL_TYPES))
            exact = [t for t in types if t.lower() == kind]
            candidates = exact or [t for t in types if t.lower().startswith(kind)]
            if len(candidates) != 1:
                return None, 0
            name = candidates[0] + number
            if name in self._interfaces:
                return name, 0
            if create and candidates[0] in _VIRTUAL_TYPES and number.isdigit():
                self._interfaces[name] = Interface(name, False, None, True, "", "unset")
                return name, 0
            return None, match.start(2)


# --- the CLI ---------------------------------------------------------------------------------


class Mode(Enum):
    USER = "user"
    EXEC = "exec"
    CONFIG = "config"
    CONFIG_IF = "config-if"


Handler = Callable[["IosCli", list[Arg]], list[str]]


class IosCli:
    """The command interpreter of one session: its mode, and what each line does to the device.
    No I/O here: `execute` takes a line and returns what IOS prints for it."""

    def __init__(self, device: IosDevice):
        self.device = device
        self.mode = Mode.EXEC
        self.interface: str | None = None
        self.closed = False
        self._line = ""  # the line being executed

    def prompt(self) -> str:
        name = self.device.name
        return {
            Mode.USER: f"{name}>",
            Mode.EXEC: f"{name}#",
            Mode.CONFIG: f"{name}(config)#",
            Mode.CONFIG_IF: f"{name}(config-if)#",
        }[self.mode]

    @property
    def configuring(self) -> bool:
        return self.mode in (Mode.CONFIG, Mode.CONFIG_IF)

    def invalid(self, line: str) -> list[str]:
        return IOS.invalid_at(self.prompt(), len(line) - len(line.lstrip())).lines

    def execute(self, line: str) -> list[str]:
        """The lines IOS prints in answer to `line` (without the echo and the next prompt)."""
        prompt = self.prompt()
        if not line.strip():
            return []
        self._line = line
        if self.configuring and line.lstrip().startswith("!"):
            return []  # a comment in configuration mode
        try:
            return self._run(prompt, line, _COMMANDS[self.mode])
        except CliError as error:
            return error.lines

    def ctrl_z(self) -> None:
        if self.mode in (Mode.CONFIG, Mode.CONFIG_IF):
            self._end([])

    def _run(
        self, prompt: str, line: str, table: Sequence[Command[IosCli]], offset: int = 0
    ) -> list[str]:
        parsed = parse(prompt, line, table, offset)
        if parsed is None:
            return []
        command, args = parsed
        return command.run(self, args)

    def _interface(self, arg: Arg, *, create: bool) -> str:
        name, offset = self.device._resolve(arg.text, create=create)
        if name is None:
            raise IOS.invalid_at(self.prompt(), arg.pos + offset)
        return name

    # Handlers: each returns the lines printed.

    def _nothing(self, args: list[Arg]) -> list[str]:
        return []

    def _close(self, args: list[Arg]) -> list[str]:
        self.closed = True
        return []

    def _enable(self, args: list[Arg]) -> list[str]:
        self.mode = Mode.EXEC
        return []

    def _disable(self, args: list[Arg]) -> list[str]:
        self.mode = Mode.USER
        return []

    def _configure(self, args: list[Arg]) -> list[str]:
        self.mode = Mode.CONFIG
        return [CONFIG_BANNER]

    def _show_brief(self, args: list[Arg]) -> list[str]:
        return self.device.show_ip_interface_brief()

    def _show_running(self, args: list[Arg]) -> list[str]:
        return self.device.running_config()

    def _show_running_interface(self, args: list[Arg]) -> list[str]:
        return self.device.running_config(self._interface(args[0], create=False))

    def _write(self, args: list[Arg]) -> list[str]:
        return ["Building configuration...", "[OK]"]

    def _enter_interface(self, args: list[Arg]) -> list[str]:
        self.interface = self._interface(args[0], create=True)
        self.mode = Mode.CONFIG_IF
        return []

    def _exit_config(self, args: list[Arg]) -> list[str]:
        if self.mode is Mode.CONFIG_IF:
            self.mode, self.interface = Mode.CONFIG, None
        else:
            self.mode = Mode.EXEC
        return []

    def _end(self, args: list[Arg]) -> list[str]:
        self.mode, self.interface = Mode.EXEC, None
        return []

    def _do(self, args: list[Arg]) -> list[str]:
        # An exec command run from configuration mode; the caret still counts this prompt.
        return self._run(self.prompt(), self._line, _DO_COMMANDS, args[0].pos)

    def _current(self) -> str:
        assert self.interface is not None
        return self.interface

    def _shutdown(self, args: list[Arg]) -> list[str]:
        self.device._set(self._current(), shutdown=True)
        return []

    def _no_shutdown(self, args: list[Arg]) -> list[str]:
        self.device._set(self._current(), shutdown=False)
        return []

    def _description(self, args: list[Arg]) -> list[str]:
        self.device._set(self._current(), description=args[0].text[:240])
        return []

    def _no_description(self, args: list[Arg]) -> list[str]:
        self.device._set(self._current(), description="")
        return []

    def _ip_address(self, args: list[Arg]) -> list[str]:
        address, mask = args
        try:
            value = ipaddress.IPv4Interface(f"{address.text}/{mask.text}")
        except ValueError:
            raise IOS.invalid_at(self.prompt(), mask.pos) from None
        self.device._set(self._current(), address=value, method="manual")
        return []

    def _no_ip_address(self, args: list[Arg]) -> list[str]:
        self.device._set(self._current(), address=None, method="unset")
        return []


_USER_COMMANDS: dict[str, Handler] = {
    "enable": IosCli._enable,
    "exit": IosCli._close,
    "logout": IosCli._close,
    "quit": IosCli._close,
    f"terminal length {NUM}": IosCli._nothing,
    f"terminal width {NUM}": IosCli._nothing,
    "terminal monitor": IosCli._nothing,
    "terminal no monitor": IosCli._nothing,
    "show ip interface brief": IosCli._show_brief,
}
_EXEC_COMMANDS: dict[str, Handler] = {
    **_USER_COMMANDS,
    "disable": IosCli._disable,
    "configure terminal": IosCli._configure,
    "show running-config": IosCli._show_running,
    f"show running-config interface {IF}": IosCli._show_running_interface,
    "write memory": IosCli._write,
}
_CONFIG_COMMANDS: dict[str, Handler] = {
    f"interface {IF}": IosCli._enter_interface,
    "exit": IosCli._exit_config,
    "end": IosCli._end,
    f"do {TEXT}": IosCli._do,
}
_CONFIG_IF_COMMANDS: dict[str, Handler] = {
    **_CONFIG_COMMANDS,
    "shutdown": IosCli._shutdown,
    "no shutdown": IosCli._no_shutdown,
    f"description {TEXT}": IosCli._description,
    "no description": IosCli._no_description,
    f"ip address {IP} {IP}": IosCli._ip_address,
    "no ip address": IosCli._no_ip_address,
}
# What `do` may run from configuration mode: the exec commands that do not change the mode.
_DO_COMMANDS = commands(
    {
        words: run
        for words, run in _EXEC_COMMANDS.items()
        if words.startswith(("show", "terminal", "write"))
    }
)
_COMMANDS: dict[Mode, tuple[Command[IosCli], ...]] = {
    Mode.USER: commands(_USER_COMMANDS),
    Mode.EXEC: commands(_EXEC_COMMANDS),
    Mode.CONFIG: commands(_CONFIG_COMMANDS),
    Mode.CONFIG_IF: commands(_CONFIG_IF_COMMANDS),
}


# --- SSH -------------------------------------------------------------------------------------
