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
from collections.abc import Sequence

import paramiko

from ..device import DeviceSpec, Interface, InterfaceSpec
from ..grammar import IF, IP, NUM, WORD, Arg, Messages, commands
from . import ping_layouts
from .ios_like import (
    CONFIG_COMMANDS,
    INTERFACE_COMMANDS,
    TERMINAL_COMMANDS,
    IosLikeCli,
    IosLikeDevice,
    Mode,
    do_commands_of,
    typed_interface,
)

CONFIG_BANNER = "Enter configuration commands, one per line. End with CNTL/Z."
# NX-OS's refusals; the prompt follows the message at once, no blank line as IOS prints.
NXOS = Messages(
    invalid="% Invalid command at '^' marker.",
    incomplete="% Incomplete command at '^' marker.",
    ambiguous="% Ambiguous command at '^' marker.",
    blank=False,
)
BAD_INTERFACE = Messages(invalid="% Invalid interface format at '^' marker.", blank=False)
BAD_VALUE = Messages(invalid="% Invalid parameter detected at '^' marker.", blank=False)
VERSION = "version 9.3(8) Bios:version  "

# The names this profile gives interfaces, as the configuration and `show interface` spell them.
_NAME = re.compile(r"(Ethernet)(\d+/\d+(?:/\d+)?)|(loopback)(\d+)|(mgmt)(0)")
# As typed: `eth1/3`, `Ethernet 1/3`, `e1/3`, `lo0`, `mgmt0`.
_TYPED = re.compile(r"([A-Za-z][A-Za-z-]*?)\s*(\d[\d/]*)")
_ETHERNET_HEADER = (
    "Ethernet      VLAN    Type Mode   Status  Reason                   Speed     Port"
)
_NAME_RULE = "an NX-OS interface name this profile has (Ethernet1/3, loopback0, mgmt0)"
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


class NxosDevice(IosLikeDevice):
    platform = "cisco_nxos"
    interface_name = _NAME
    interface_name_rule = _NAME_RULE

    def __init__(self, spec: DeviceSpec, host_key: paramiko.PKey):
        super().__init__(spec, host_key)
        self._last_change = time.time()  # `!Running configuration last done at:`

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

    def resolve(self, typed: str, *, create: bool = False) -> tuple[str | None, int]:
        """With `create`, a missing loopback is created (admin up, as NX-OS creates one)."""
        found = typed_interface(typed, _TYPED, _TYPES)
        if found is None:
            return None, 0
        kind, number, offset = found
        name = kind + number
        with self._lock:
            if name in self._interfaces:
                return name, 0
            if not (create and kind == "loopback" and number.isdigit()):
                return None, offset
            self._interfaces[name] = Interface(name, False, None, True, "", "unset")
            self._last_change = time.time()
            self._config_changes += 1
        self._changed()
        return name, 0


# --- the CLI ---------------------------------------------------------------------------------


class NxosCli(IosLikeCli[NxosDevice]):
    """NX-OS's prompts end with a space, a `!` line is a comment in any mode, and refusals
    print no blank line."""

    messages = NXOS
    interface_messages = BAD_INTERFACE
    prompt_space = " "
    comments_in_exec = True
    config_banner = (CONFIG_BANNER,)
    description_length = 254

    def _show_brief(self, args: list[Arg]) -> list[str]:
        return self.device.show_interface_brief()

    def _show_interface(self, args: list[Arg]) -> list[str]:
        return self.device.show_interface()

    def _show_one_interface(self, args: list[Arg]) -> list[str]:
        return self.device.show_interface([self._interface(args[0], create=False)])

    def _show_running_interface(self, args: list[Arg]) -> list[str]:
        return self.device.running_config(self._interface(args[0], create=False))

    def _copy(self, args: list[Arg]) -> list[str]:
        self.device.save()
        return ["[########################################] 100%", "Copy complete."]

    def _ip_address(self, args: list[Arg]) -> list[str]:
        if len(args) == 1 and "/" not in args[0].text:
            raise NXOS.refusal(NXOS.incomplete)  # NX-OS wants the prefix length or a mask
        text = args[0].text if len(args) == 1 else f"{args[0].text}/{args[1].text}"
        try:
            value = ipaddress.IPv4Interface(text)
        except ValueError:
            raise BAD_VALUE.invalid_at(self.prompt(), args[-1].pos) from None
        self.device._set(self._current(), address=value, method="manual")
        return []

    def _no_switchport(self, args: list[Arg]) -> list[str]:
        if not self._current().startswith("Ethernet"):
            raise NXOS.invalid_at(self.prompt(), args[0].pos if args else 3)
        return []  # the profile's Ethernet ports are routed already

    def _ping(self, args: list[Arg]) -> list[str]:
        """`ping X count N [source A | source-interface I]`, answered by a real ping."""
        to, count, *via = args
        source = None
        if via:
            is_name = self._line.split()[-2].startswith("source-i")
            source = self._interface(via[0], create=False) if is_name else via[0].text
        return ping_layouts.answer(
            self.device,
            to.text,
            source,
            int(count.text),
            lambda echoes: ping_layouts.bsd(echoes, loss_decimals=2, timeouts=True),
        )


_EXEC_COMMANDS = {
    f"ping {IP} count {NUM}": NxosCli._ping,
    f"ping {IP} count {NUM} source {IP}": NxosCli._ping,
    f"ping {IP} count {NUM} source-interface {IF}": NxosCli._ping,
    "exit": NxosCli._close,
    "quit": NxosCli._close,
    **TERMINAL_COMMANDS,
    "configure": NxosCli._configure,
    "configure terminal": NxosCli._configure,
    "show interface": NxosCli._show_interface,
    "show interface brief": NxosCli._show_brief,
    f"show interface {IF}": NxosCli._show_one_interface,
    "show running-config": NxosCli._show_running,
    f"show running-config interface {IF}": NxosCli._show_running_interface,
    "copy running-config startup-config": NxosCli._copy,
}
_CONFIG_IF_COMMANDS = {
    **CONFIG_COMMANDS,
    **INTERFACE_COMMANDS,
    f"ip address {WORD}": NxosCli._ip_address,
    f"ip address {IP} {IP}": NxosCli._ip_address,
    "no ip address": NxosCli._no_ip_address,
    "no switchport": NxosCli._no_switchport,
}
NxosCli.commands = {
    Mode.EXEC: commands(_EXEC_COMMANDS),
    Mode.CONFIG: commands(CONFIG_COMMANDS),
    Mode.CONFIG_IF: commands(_CONFIG_IF_COMMANDS),
}
# What `do` may run from configuration mode: the exec commands that do not change the mode.
NxosCli.do_commands = do_commands_of(_EXEC_COMMANDS, "show", "terminal", "copy")
