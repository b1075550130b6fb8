"""The Cisco NX-OS profile of the emulator: what netmiko's `cisco_nxos` driver, and so
isolement's CiscoNxosDriver, see of a Nexus switch.

- prompts `NAME# `, `NAME(config)# `, `NAME(config-if)# ` (NX-OS prints a space after `#`);
  what netmiko's session preparation sends: `terminal width 511`, `terminal length 0`, an empty
  line for the prompt; `configure terminal` (or `configure`) with NX-OS's banner, `interface X`,
  `shutdown`, `no shutdown`, `description`, `ip address A.B.C.D/LEN`, `no switchport`, `exit`,
  `end`, Ctrl-Z, `do ...`, `copy running-config startup-config` (netmiko's `save_config`);
- `show interface brief` and `show interface [X]` in NX-OS's own layouts (the brief table's
  columns measured on the ntc-templates captures in tests/data/cisco_nxos), `show
  running-config [interface X]` with its `!Command:` / `!Running configuration last done at:` /
  `!Time:` header, the time printed being the real time (so a snapshot that keeps it differs);
- NX-OS's abbreviations (`conf t`, `sh int br`, `int eth1/3`, `interface ethernet 1/3`) and its
  refusals: a caret line and `% Invalid command at '^' marker.`, `% Invalid interface format at
  '^' marker.` for an interface it does not have, `% Incomplete command at '^' marker.`;
- `exit` at the exec prompt ends the session. `interface loopbackN` creates the loopback, as
  NX-OS does; other missing interfaces are refused.

Interfaces: `EthernetS/P` (layer-3 ports, `no switchport`), `loopbackN`, `mgmt0`. There is no
packet filter: isolement cuts NX-OS by shutdown, so `blocked_interfaces()` is always empty.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Callable, Sequence
from enum import Enum

import paramiko

from ..emulator import DeviceSpec, EmulatedDevice, Interface, InterfaceSpec
from ..grammar import IF, IP, NUM, TEXT, WORD, Arg, CliError, Command, Messages, commands, parse

CONFIG_BANNER = "Enter configuration commands, one per line. End with CNTL/Z."
NXOS = Messages(
    invalid="% Invalid command at '^' marker.",
    incomplete="% Incomplete command at '^' marker.",
    ambiguous="% Ambiguous command at '^' marker.",
)
BAD_INTERFACE = Messages(invalid="% Invalid interface format at '^' marker.")
BAD_VALUE = Messages(invalid="% Invalid parameter detected at '^' marker.")
VERSION = "version 9.3(8) Bios:version  "

# The names this profile gives interfaces, as the configuration and `show interface` spell them.
_NAME = re.compile(r"(Ethernet)(\d+/\d+(?:/\d+)?)|(loopback)(\d+)|(mgmt)(0)")
# As typed: `eth1/3`, `Ethernet 1/3`, `e1/3`, `lo0`, `mgmt0`.
_TYPED = re.compile(r"([A-Za-z][A-Za-z-]*?)\s*(\d[\d/]*)")
_ETHERNET_HEADER = (
    "Ethernet      VLAN    Type Mode   Status  Reason                   Speed     Port"
)
_TYPES = ("Ethernet", "loopback", "mgmt", "port-channel", "Vlan", "Tunnel")


def _split(name: str) -> tuple[str, str]:
    match = _NAME.fullmatch(name)
    assert match, name
    kind, number = [group for group in match.groups() if group is not None]
    return kind, number


def _stamp(seconds: float) -> str:
    """NX-OS's `Sun Mar  5 14:35:15 2023`: the day padded to two characters with a space."""
    t = time.localtime(seconds)
    return f"{time.strftime('%a %b', t)} {t.tm_mday:>2} {time.strftime('%H:%M:%S %Y', t)}"


class NxosDevice(EmulatedDevice):
    platform = "cisco_nxos"

    def __init__(self, spec: DeviceSpec, host_key: paramiko.PKey):
        super().__init__(spec, host_key)
        self._last_change = time.time()  # `!Running configuration last done at:`

    @classmethod
    def check_interface_name(cls, name: str) -> None:
        if not _NAME.fullmatch(name):
            raise ValueError(
                f"{name!r} is not an NX-OS interface name this profile has "
                "(Ethernet1/3, loopback0, mgmt0)"
            )

    @classmethod
    def sample(cls, name: str) -> DeviceSpec:
        # A Nexus with routed ports: two up, one shut, one with no cable (down, not shut: the
        # row whose reason does not tell the admin state), a loopback.
        return DeviceSpec(
            name,
            [
                InterfaceSpec("Ethernet1/1", address="198.18.0.1/30", description="uplink"),
                InterfaceSpec("Ethernet1/2", address="198.18.0.5/30"),
                InterfaceSpec("Ethernet1/3", shutdown=True),
                InterfaceSpec("Ethernet1/4", address="198.18.0.9/30", link_up=False),
                InterfaceSpec("loopback0", address="198.18.255.1/32"),
            ],
            platform=cls.platform,
        )

    def cli(self) -> NxosCli:
        return NxosCli(self)

    def _set(self, interface: str, **changes: object) -> None:
        with self._lock:
            self._last_change = time.time()
        super()._set(interface, **changes)

    # What the CLI prints.

    def _status(self, i: Interface) -> tuple[str, str]:
        if i.shutdown:
            return "down", "Administratively down"
        if i.link_up or i.name.startswith("loopback"):
            return "up", "none"
        return "down", "Link not connected"

    def show_interface_brief(self) -> list[str]:
        rule = "-" * 80
        with self._lock:
            interfaces = list(self._interfaces.values())
            mgmt = [i for i in interfaces if i.name.startswith("mgmt")]
            ports = [i for i in interfaces if i.name.startswith("Ethernet")]
            loops = [i for i in interfaces if i.name.startswith("loopback")]
            lines = [""]
            if mgmt:
                lines += [
                    rule,
                    f"{'Port':<7}{'VRF':<13}Status IP Address{' ' * 30}Speed    MTU",
                    rule,
                ]
                for i in mgmt:
                    status, _ = self._status(i)
                    address = str(i.address.ip) if i.address else "--"
                    speed = "1000" if status == "up" else "--"
                    lines.append(f"{i.name:<7}{'--':<13}{status:<7}{address:<40}{speed:<9}1500")
                lines.append("")
            if ports:
                lines += [
                    rule,
                    _ETHERNET_HEADER,
                    "Interface" + " " * 68 + "Ch #",
                    rule,
                ]
                for i in ports:
                    status, reason = self._status(i)
                    speed = "10G(D)" if status == "up" else "auto(D)"
                    short = "Eth" + _split(i.name)[1]
                    lines.append(
                        f"{short:<14}{'--':<8}{'eth':<5}{'routed':<7}{status:<8}{reason:<24}"
                        f"{speed:>10} --"
                    )
                lines.append("")
            if loops:
                lines += [rule, "Interface     Status     Description", rule]
                for i in loops:
                    status, _ = self._status(i)
                    short = "Lo" + _split(i.name)[1]
                    lines.append(f"{short:<14}{status:<11}{i.description or '--'}")
                lines.append("")
        return lines

    def show_interface(self, names: Sequence[str] | None = None) -> list[str]:
        lines: list[str] = []
        with self._lock:
            every = list(self._interfaces)
            for name in every if names is None else names:
                i = self._interfaces[name]
                status, reason = self._status(i)
                lines.append(f"{name} is {status}" + ("" if status == "up" else f" ({reason})"))
                admin = "down" if i.shutdown else "up"
                mac = f"5254.00a0.{every.index(name):04x}"
                kind = _split(name)[0]
                if kind == "Ethernet":
                    lines += [
                        f"admin state is {admin}, Dedicated Interface",
                        f"  Hardware: 1000/10000 Ethernet, address: {mac} (bia {mac})",
                    ]
                elif kind == "mgmt":
                    lines += [
                        f"admin state is {admin},",
                        f"  Hardware: GigabitEthernet, address: {mac} (bia {mac})",
                    ]
                else:
                    lines += [f"admin state is {admin},", "  Hardware: Loopback"]
                if i.description:
                    lines.append(f"  Description: {i.description}")
                if i.address:
                    lines.append(f"  Internet Address is {i.address.with_prefixlen}")
                if kind == "loopback":
                    lines.append("  MTU 1500 bytes, BW 8000000 Kbit, DLY 5000 usec")
                else:
                    lines += [
                        "  MTU 1500 bytes, BW 10000000 Kbit, DLY 10 usec",
                        "  reliability 255/255, txload 1/255, rxload 1/255",
                        "  Encapsulation ARPA, medium is broadcast",
                    ]
                if kind == "Ethernet":
                    lines.append("  Port mode is routed")
                lines.append("")
        return lines

    def _interface_block(self, i: Interface) -> list[str]:
        kind = _split(i.name)[0]
        lines = [f"interface {i.name}"]
        # As NX-OS prints a shut routed port: `shutdown` first, `no shutdown` last.
        if i.shutdown:
            lines.append("  shutdown")
        if i.description:
            lines.append(f"  description {i.description}")
        if kind == "Ethernet":
            lines.append("  no switchport")
        if kind == "mgmt":
            lines.append("  vrf member management")
        if i.address:
            lines.append(f"  ip address {i.address.with_prefixlen}")
        if kind == "Ethernet" and not i.shutdown:
            lines.append("  no shutdown")
        return lines

    def running_config(self, interface: str | None = None) -> list[str]:
        command = "show running-config" + (f" interface {interface}" if interface else "")
        with self._lock:
            header = [
                "",
                f"!Command: {command}",
                f"!Running configuration last done at: {_stamp(self._last_change)}",
                f"!Time: {_stamp(time.time())}",
                "",
                VERSION,
            ]
            if interface is not None:
                return [*header, "", *self._interface_block(self._interfaces[interface]), ""]
            body = [
                f"hostname {self.name}",
                f"vdc {self.name} id 1",
                "  limit-resource vlan minimum 16 maximum 4094",
                "  limit-resource vrf minimum 2 maximum 4096",
                "  limit-resource port-channel minimum 0 maximum 511",
                "  limit-resource u4route-mem minimum 248 maximum 248",
                "  limit-resource u6route-mem minimum 96 maximum 96",
                "  limit-resource m4route-mem minimum 58 maximum 58",
                "  limit-resource m6route-mem minimum 8 maximum 8",
                "",
                "feature ospf",
                "feature lldp",
                "",
                "no password strength-check",
                "username admin password 5 !  role network-admin",
                "username isolement password 5 !  role network-admin",
                "ip domain-lookup",
                "copp profile strict",
                "rmon event 1 description FATAL(1) owner PMON@FATAL",
                "",
                "vlan 1",
                "",
                "vrf context management",
                "",
            ]
            for i in self._interfaces.values():
                body += [*self._interface_block(i), ""]
            body += ["line console", "line vty", "boot nxos bootflash:/nxos.9.3.8.bin", ""]
        return [*header, *body]

    def resolve(self, typed: str, *, create: bool) -> tuple[str | None, int]:
        """The interface a typed name means, or None and the offset of the caret in `typed`.
        With `create`, a missing loopback is created (admin up, as NX-OS creates one)."""
        match = _TYPED.fullmatch(typed)
        if not match:
            return None, 0
        kind, number = match.group(1).lower(), match.group(2)
        candidates = [t for t in _TYPES if t.lower().startswith(kind)]
        if len(candidates) != 1:
            return None, 0
        name = candidates[0] + number
        with self._lock:
            if name in self._interfaces:
                return name, 0
            if not (create and candidates[0] == "loopback" and number.isdigit()):
                return None, match.start(2)
            self._interfaces[name] = Interface(name, False, None, True, "", "unset")
            self._last_change = time.time()
            self._config_changes += 1
        self._changed()
        return name, 0


# --- the CLI ---------------------------------------------------------------------------------


class Mode(Enum):
    EXEC = "exec"
    CONFIG = "config"
    CONFIG_IF = "config-if"


Handler = Callable[["NxosCli", list[Arg]], list[str]]


class NxosCli:
    """The command interpreter of one session: its mode, and what each line does to the device.
    No I/O here: `execute` takes a line and returns what NX-OS prints for it."""

    def __init__(self, device: NxosDevice):
        self.device = device
        self.mode = Mode.EXEC
        self.interface: str | None = None
        self.closed = False
        self._line = ""

    def prompt(self) -> str:
        name = self.device.name
        return {
            Mode.EXEC: f"{name}# ",
            Mode.CONFIG: f"{name}(config)# ",
            Mode.CONFIG_IF: f"{name}(config-if)# ",
        }[self.mode]

    @property
    def configuring(self) -> bool:
        return self.mode is not Mode.EXEC

    def invalid(self, line: str) -> list[str]:
        return _answer(NXOS.invalid_at(self.prompt(), len(line) - len(line.lstrip())))

    def execute(self, line: str) -> list[str]:
        if not line.strip():
            return []
        self._line = line
        if line.lstrip().startswith("!"):
            return []  # a comment
        try:
            return self._run(self.prompt(), line, _COMMANDS[self.mode])
        except CliError as error:
            return _answer(error)

    def ctrl_z(self) -> None:
        self.mode, self.interface = Mode.EXEC, None

    def _run(
        self, prompt: str, line: str, table: Sequence[Command[NxosCli]], offset: int = 0
    ) -> list[str]:
        parsed = parse(prompt, line, table, offset, NXOS)
        if parsed is None:
            return []
        command, args = parsed
        return command.run(self, args)

    def _interface(self, arg: Arg, *, create: bool) -> str:
        name, offset = self.device.resolve(arg.text, create=create)
        if name is None:
            raise BAD_INTERFACE.invalid_at(self.prompt(), arg.pos + offset)
        return name

    def _current(self) -> str:
        assert self.interface is not None
        return self.interface

    # Handlers: each returns the lines printed.

    def _nothing(self, args: list[Arg]) -> list[str]:
        return []

    def _close(self, args: list[Arg]) -> list[str]:
        self.closed = True
        return []

    def _configure(self, args: list[Arg]) -> list[str]:
        self.mode = Mode.CONFIG
        return [CONFIG_BANNER]

    def _show_brief(self, args: list[Arg]) -> list[str]:
        return self.device.show_interface_brief()

    def _show_interface(self, args: list[Arg]) -> list[str]:
        return self.device.show_interface()

    def _show_one_interface(self, args: list[Arg]) -> list[str]:
        return self.device.show_interface([self._interface(args[0], create=False)])

    def _show_running(self, args: list[Arg]) -> list[str]:
        return self.device.running_config()

    def _show_running_interface(self, args: list[Arg]) -> list[str]:
        return self.device.running_config(self._interface(args[0], create=False))

    def _copy(self, args: list[Arg]) -> list[str]:
        return ["[########################################] 100%", "Copy complete."]

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
        return self._run(self.prompt(), self._line, _DO_COMMANDS, args[0].pos)

    def _shutdown(self, args: list[Arg]) -> list[str]:
        self.device._set(self._current(), shutdown=True)
        return []

    def _no_shutdown(self, args: list[Arg]) -> list[str]:
        self.device._set(self._current(), shutdown=False)
        return []

    def _description(self, args: list[Arg]) -> list[str]:
        self.device._set(self._current(), description=args[0].text[:254])
        return []

    def _no_description(self, args: list[Arg]) -> list[str]:
        self.device._set(self._current(), description="")
        return []

    def _ip_address(self, args: list[Arg]) -> list[str]:
        if len(args) == 1 and "/" not in args[0].text:
            raise CliError([NXOS.incomplete, ""])  # NX-OS wants the prefix length or a mask
        text = args[0].text if len(args) == 1 else f"{args[0].text}/{args[1].text}"
        try:
            value = ipaddress.IPv4Interface(text)
        except ValueError:
            raise BAD_VALUE.invalid_at(self.prompt(), args[-1].pos) from None
        self.device._set(self._current(), address=value, method="manual")
        return []

    def _no_ip_address(self, args: list[Arg]) -> list[str]:
        self.device._set(self._current(), address=None, method="unset")
        return []

    def _no_switchport(self, args: list[Arg]) -> list[str]:
        if not self._current().startswith("Ethernet"):
            raise NXOS.invalid_at(self.prompt(), args[0].pos if args else 3)
        return []  # the profile's Ethernet ports are routed already


def _answer(error: CliError) -> list[str]:
    """A refusal as NX-OS prints it: the prompt follows the message at once, no blank line
    (the shared grammar's messages end with one, as IOS prints them)."""
    lines = list(error.lines)
    while lines and not lines[-1]:
        lines.pop()
    return lines


_EXEC_COMMANDS: dict[str, Handler] = {
    "exit": NxosCli._close,
    "quit": NxosCli._close,
    f"terminal length {NUM}": NxosCli._nothing,
    f"terminal width {NUM}": NxosCli._nothing,
    "terminal monitor": NxosCli._nothing,
    "terminal no monitor": NxosCli._nothing,
    "configure": NxosCli._configure,
    "configure terminal": NxosCli._configure,
    "show interface": NxosCli._show_interface,
    "show interface brief": NxosCli._show_brief,
    f"show interface {IF}": NxosCli._show_one_interface,
    "show running-config": NxosCli._show_running,
    f"show running-config interface {IF}": NxosCli._show_running_interface,
    "copy running-config startup-config": NxosCli._copy,
}
_CONFIG_COMMANDS: dict[str, Handler] = {
    f"interface {IF}": NxosCli._enter_interface,
    "exit": NxosCli._exit_config,
    "end": NxosCli._end,
    f"do {TEXT}": NxosCli._do,
}
_CONFIG_IF_COMMANDS: dict[str, Handler] = {
    **_CONFIG_COMMANDS,
    "shutdown": NxosCli._shutdown,
    "no shutdown": NxosCli._no_shutdown,
    f"description {TEXT}": NxosCli._description,
    "no description": NxosCli._no_description,
    f"ip address {WORD}": NxosCli._ip_address,
    f"ip address {IP} {IP}": NxosCli._ip_address,
    "no ip address": NxosCli._no_ip_address,
    "no switchport": NxosCli._no_switchport,
}
# What `do` may run from configuration mode: the exec commands that do not change the mode.
_DO_COMMANDS = commands(
    {
        words: run
        for words, run in _EXEC_COMMANDS.items()
        if words.startswith(("show", "terminal", "copy"))
    }
)
_COMMANDS: dict[Mode, tuple[Command[NxosCli], ...]] = {
    Mode.EXEC: commands(_EXEC_COMMANDS),
    Mode.CONFIG: commands(_CONFIG_COMMANDS),
    Mode.CONFIG_IF: commands(_CONFIG_IF_COMMANDS),
}
