"""The Cisco IOS profile of the emulator: what netmiko's `cisco_ios` driver, and so isolement's
CiscoIosDriver, see of a device.

- a prompt `NAME#` (`NAME>` after `disable`), `terminal length|width|monitor`, `configure
  terminal` -> `NAME(config)#`, `interface X` -> `NAME(config-if)#`, `shutdown`, `no shutdown`,
  `description`, `ip address`, `exit`, `end`, Ctrl-Z, `do ...`, `write memory`, `show ip
  interface brief`, `show running-config [interface X]` and `show version` (what Ansible's
  `cisco.ios` reads on connecting) in IOS's own layout;
- IOS's abbreviations (`conf t`, `sh ip int br`, `int gi0/1`) and its error answers: the caret
  line and `% Invalid input detected at '^' marker.`, `% Incomplete command.`,
  `% Ambiguous command:  "..."`;
- `exit` ends the session and closes the connection at once, as IOS does;
- option `enable_secret`: the session starts unprivileged, and `enable` asks for the secret.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from typing import ClassVar

import paramiko

from ..device import DeviceSpec, Interface, InterfaceSpec
from ..grammar import IF, IOS, IP, NUM, WORD, Arg, commands, is_ip
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

__all__ = ["CONFIG_BANNER", "IosCli", "IosDevice", "Mode"]

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


def _interface_type(name: str) -> str:
    match = _INTERFACE.fullmatch(name)
    return match.group(1) if match else name


class IosDevice(IosLikeDevice):
    platform = "cisco_ios"
    interface_name = _INTERFACE
    interface_name_rule = "an IOS interface name (GigabitEthernet0/1)"
    # The lines of `show running-config` that are no configuration line, left out of the
    # archive's differences (IOS-XE adds its own comment lines: lab/profiles/cisco_xe.py).
    not_configuration: ClassVar[tuple[str, ...]] = ("Building", "Current configuration")

    def __init__(self, spec: DeviceSpec, host_key: paramiko.PKey):
        super().__init__(spec, host_key)
        # Option `enable_secret`: sessions log in unprivileged (`NAME>`), and `enable` asks
        # for this secret, not echoed, as an account without `privilege 15` does.
        secret = spec.options.get("enable_secret")
        self.enable_secret = secret if isinstance(secret, str) else None
        self.startup_config()  # the configuration it starts with is the saved one (#12 §3)

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

    # --- persistence (#12 §3): a startup configuration, and a restart that reloads it ------

    def startup_config(self) -> list[str]:
        """What `write memory` last saved (the configuration at start until then)."""
        with self._lock:
            saved: list[str] | None = getattr(self, "_startup", None)
            if saved is None:
                saved = self._startup = self.running_config()
                self._startup_shut = {n for n, i in self._interfaces.items() if i.shutdown}
            return list(saved)

    def save(self) -> None:
        with self._lock:
            self.startup_config()
            self._startup = self.running_config()
            self._startup_shut = {n for n, i in self._interfaces.items() if i.shutdown}

    def restart(self) -> None:
        """A reload: the interfaces come back as the startup configuration has them."""
        with self._lock:
            self.startup_config()
            for name, i in self._interfaces.items():
                i.shutdown = name in self._startup_shut

    def config_differences(self) -> list[str]:
        """`show archive config differences nvram:startup-config system:running-config`."""
        # The header (`Current configuration : N bytes`) is no configuration line.
        startup, running = (
            [line for line in lines if not line.startswith(self.not_configuration)]
            for lines in (self.startup_config(), self.running_config())
        )
        diffs = ["!Contextual Config Diffs:"]
        # As IOS prints them: a changed line under its parent (`interface X`), ` +` or ` -`.
        for sign, ours, theirs in (("+", running, startup), ("-", startup, running)):
            parent = ""
            for line in ours:
                if not line.startswith(" "):
                    parent = line
                if line in theirs:
                    continue
                if line.startswith(" "):
                    diffs += [parent, f" {sign}{line.strip()}"]
                else:
                    diffs.append(f"{sign}{line}")
        return diffs if len(diffs) > 1 else [*diffs, "!No changes were found"]

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

    def show_version(self) -> list[str]:
        # An IOSv's, the fields Ansible's cisco.ios cliconf reads: version, model, hostname
        # ("NAME uptime is"), image.
        with self._lock:
            gigabit = sum(1 for n in self._interfaces if n.startswith("GigabitEthernet"))
        return [
            "Cisco IOS Software, IOSv Software (VIOS-ADVENTERPRISEK9-M), Version 15.9(3)M4, "
            "RELEASE SOFTWARE (fc3)",
            "Technical Support: http://www.cisco.com/techsupport",
            "Copyright (c) 1986-2021 by Cisco Systems, Inc.",
            "Compiled Thu 28-Oct-21 15:36 by mcpre",
            "",
            "",
            "ROM: Bootstrap program is IOSv",
            "",
            f"{self.name} uptime is 1 hour, 2 minutes",
            "System returned to ROM by reload",
            'System image file is "flash0:/vios-adventerprisek9-m"',
            "Last reload reason: Unknown reason",
            "",
            "Cisco IOSv (revision 1.0) with  with 460137K/62464K bytes of memory.",
            "Processor board ID 9Y0LVXMNC4QF8K2A1B3C",
            f"{gigabit} Gigabit Ethernet interfaces",
            "DRAM configuration is 72 bits wide with parity disabled.",
            "256K bytes of non-volatile configuration memory.",
            "2097152K bytes of ATA System CompactFlash 0 (Read/Write)",
            "",
            "Configuration register is 0x0",
        ]

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

    def resolve(self, typed: str, *, create: bool = False) -> tuple[str | None, int]:
        """With `create`, a missing virtual interface (Loopback5) is created."""
        with self._lock:
            known = {_interface_type(n) for n in self._interfaces}
            types = sorted(known | set(_PHYSICAL_TYPES) | set(_VIRTUAL_TYPES))
            found = typed_interface(typed, _TYPED_INTERFACE, types)
            if found is None:
                return None, 0
            kind, number, offset = found
            name = kind + number
            if name in self._interfaces:
                return name, 0
            if create and kind in _VIRTUAL_TYPES and number.isdigit():
                self._interfaces[name] = Interface(name, False, None, True, "", "unset")
                return name, 0
            return None, offset


# --- the CLI ---------------------------------------------------------------------------------


class IosCli(IosLikeCli[IosDevice]):
    """IOS's prompts and refusals are the shared CLI's defaults."""

    config_banner = (CONFIG_BANNER,)
    description_length = 240

    # --- persistence (#12 §3) ---------------------------------------------------------------

    def _write_memory(self, args: list[Arg]) -> list[str]:
        self.device.save()
        return self._write(args)

    def _show_config_differences(self, args: list[Arg]) -> list[str]:
        return self.device.config_differences()

    # --- an enable secret (#13) -----------------------------------------------------------

    def __init__(self, device: IosDevice):
        super().__init__(device)
        self._asking = False  # `enable` typed: the next line is the secret
        if device.enable_secret is not None:
            self.mode = Mode.USER

    @property
    def echo(self) -> bool:
        """Whether typed characters are echoed (not a secret's)."""
        return not self._asking

    def prompt(self) -> str:
        return "Password: " if self._asking else super().prompt()

    def execute(self, line: str) -> list[str]:
        if not self._asking:
            return super().execute(line)
        self._asking = False
        secret = self.device.enable_secret or ""
        if hmac.compare_digest(line.encode(), secret.encode()):
            self.mode = Mode.EXEC
            return []
        return ["% Access denied"]

    def _enable(self, args: list[Arg]) -> list[str]:
        if self.device.enable_secret is None or self.mode is not Mode.USER:
            return super()._enable(args)
        self._asking = True
        return []

    def _show_brief(self, args: list[Arg]) -> list[str]:
        return self.device.show_ip_interface_brief()

    def _show_version(self, args: list[Arg]) -> list[str]:
        return self.device.show_version()

    def _show_running_interface(self, args: list[Arg]) -> list[str]:
        return self.device.running_config(self._interface(args[0], create=False))

    def _ip_address(self, args: list[Arg]) -> list[str]:
        address, mask = args
        try:
            value = ipaddress.IPv4Interface(f"{address.text}/{mask.text}")
        except ValueError:
            raise IOS.invalid_at(self.prompt(), mask.pos) from None
        self.device._set(self._current(), address=value, method="manual")
        return []

    def _ping(self, args: list[Arg]) -> list[str]:
        """`ping X [source A|I] repeat N`, answered by a real ping."""
        to, *via, count = args
        source = None
        if via:
            source = via[0].text if is_ip(via[0].text) else self._interface(via[0], create=False)
        return ping_layouts.answer(
            self.device, to.text, source, int(count.text), ping_layouts.cisco
        )


_USER_COMMANDS = {
    "enable": IosCli._enable,
    "exit": IosCli._close,
    "logout": IosCli._close,
    "quit": IosCli._close,
    **TERMINAL_COMMANDS,
    "show ip interface brief": IosCli._show_brief,
    "show version": IosCli._show_version,
}
_EXEC_COMMANDS = {
    **_USER_COMMANDS,
    "disable": IosCli._disable,
    f"ping {IP} repeat {NUM}": IosCli._ping,
    f"ping {IP} source {WORD} repeat {NUM}": IosCli._ping,
    "configure terminal": IosCli._configure,
    "show running-config": IosCli._show_running,
    f"show running-config interface {IF}": IosCli._show_running_interface,
    "write memory": IosCli._write_memory,
    "show archive config differences nvram:startup-config system:running-config": (
        IosCli._show_config_differences
    ),
}
_CONFIG_IF_COMMANDS = {
    **CONFIG_COMMANDS,
    **INTERFACE_COMMANDS,
    f"ip address {IP} {IP}": IosCli._ip_address,
    "no ip address": IosCli._no_ip_address,
}
IosCli.commands = {
    Mode.USER: commands(_USER_COMMANDS),
    Mode.EXEC: commands(_EXEC_COMMANDS),
    Mode.CONFIG: commands(CONFIG_COMMANDS),
    Mode.CONFIG_IF: commands(_CONFIG_IF_COMMANDS),
}
# What `do` may run from configuration mode: the exec commands that do not change the mode.
IosCli.do_commands = do_commands_of(_EXEC_COMMANDS, "show", "terminal", "write")
