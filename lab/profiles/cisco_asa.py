"""The Cisco ASA profile of the emulator: what netmiko's `cisco_asa` driver, and so isolement's
CiscoAsaDriver, see of a single-context ASA in routed mode.

- the login of a privileged user (`aaa authorization exec ... auto-enable`): the prompt is
  `NAME# ` at once, with the ASA's trailing space. netmiko's session preparation is answered as
  an ASA answers it: `show curpriv`, `login` (netmiko types it when it has no enable secret; at
  level 15 it changes nothing here, and netmiko returns as soon as it sees `#`), `terminal
  pager 0`, `configure terminal` (no banner; the call-home reporting question of a first
  `configure terminal` is taken as answered long ago, as on any ASA in service, since netmiko's
  driver does not answer it), `terminal width 511`, `end`;
- `configure terminal` -> `NAME(config)# `, `interface X` -> `NAME(config-if)# `, `shutdown`,
  `no shutdown`, `access-list NAME [line N] remark TEXT`, `access-list NAME [line N] extended
  permit|deny ip any any`, their `no` forms, `access-group NAME in|out interface NAMEIF` and its
  `no` form, `clear configure access-list NAME`, `exit`, `end`, Ctrl-Z; exec commands also run
  in configuration mode, as on an ASA;
- `show interface ip brief`, `show nameif`, `show running-config [access-group|access-list]`,
  `show curpriv`, in the ASA's own layouts (see tests/data/cisco_asa/SOURCES.md);
- abbreviations, and the ASA's refusals: the caret line then `ERROR: % Invalid input detected
  at '^' marker.`, `ERROR: % Incomplete command`. A name that is not a nameif, an ACL or entry
  that does not exist, are refused with the same caret answer (the ASA's exact wording for each
  of those was not found in recorded output).

No candidate configuration: each line is in effect once typed. The policy in effect is the
ACLs bound with `access-group`; `blocked_interfaces()` evaluates them in order, first match
wins, with the implicit deny at the end of a bound ACL, and no ACL bound meaning no filter
(the lab does not model security levels). Only `ip any any` entries decide whether an
interface is blocked: those are what isolement's cut writes and what the `permits` option
stands for. An `extended permit tcp|udp|icmp SOURCE DESTINATION [eq PORT]` (SOURCE and
DESTINATION `host A`, `A MASK` or `any4`) above the deny that blocks an interface is a bubble
(`bubbles()`): the ASA is stateful, so that flow and its replies pass.

Options (DeviceSpec.options): `nameifs` {interface: nameif}; `permits` [[from, to], ...]:
traffic from the first interface to the second already permitted, as `access-list
<nameif>_access_in extended permit ip any any` bound `in` on the first interface's nameif (the
name ASDM gives such an ACL).
"""

from __future__ import annotations

import copy
import hashlib
import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import paramiko

from ..device import Bubble, DeviceSpec, Interface, InterfaceSpec
from ..grammar import IF, IP, NUM, TEXT, WORD, Arg, CliError, Command, Messages, commands
from . import ping_layouts
from .ios_like import IosLikeCli, IosLikeDevice, Mode, typed_interface

INVALID = "ERROR: % Invalid input detected at '^' marker."
# The ASA prints its refusal and then the prompt, with no blank line between (IOS has one).
ASA = Messages(
    invalid=INVALID,
    incomplete="ERROR: % Incomplete command",
    ambiguous='ERROR: % Ambiguous command:  "{typed}"',
    blank=False,
)
DIRECTIONS = ("in", "out")
ACES = ("extended permit ip any any", "extended deny ip any any")

# ASA interface names: one of the ASA's interface types, slot/port numbers, a subinterface.
_TYPES = (
    "GigabitEthernet",
    "TenGigabitEthernet",
    "Ethernet",
    "Management",
    "Port-channel",
    "Redundant",
    "Vlan",
    "BVI",
    "Tunnel",
    "Loopback",
    "Internal-Data",
    "Internal-Control",
    "Virtual",
)
_INTERFACE = re.compile(rf"(?:{'|'.join(_TYPES)})\d+(?:/\d+)*(?:\.\d+)?")
_TYPED_INTERFACE = re.compile(r"([A-Za-z][A-Za-z-]*?)\s*(\d[\d/.]*)")
_NAMEIF = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,47}")


def _interface_type(name: str) -> str:
    match = _TYPED_INTERFACE.fullmatch(name)
    return match.group(1) if match else name


class AsaDevice(IosLikeDevice):
    platform = "cisco_asa"
    interface_name = _INTERFACE
    interface_name_rule = "an ASA interface name (GigabitEthernet0/1)"

    def __init__(self, spec: DeviceSpec, host_key: paramiko.PKey) -> None:
        super().__init__(spec, host_key)
        options: Mapping[str, object] = spec.options
        nameifs = options.get("nameifs", {})
        permits = options.get("permits", [])
        if not isinstance(nameifs, Mapping) or not isinstance(permits, Sequence):
            raise ValueError(f"{spec.name}: nameifs is a mapping and permits a list")
        self._nameifs: dict[str, str] = {}
        for interface, name in nameifs.items():
            if interface not in self._interfaces or not _NAMEIF.fullmatch(str(name)):
                raise ValueError(f"{spec.name}: bad nameif {name!r} for {interface!r}")
            self._nameifs[str(interface)] = str(name)
        # ACL -> its entries in order (`remark ...`, `extended permit ip any any`, ...).
        self._acls: dict[str, list[str]] = {}
        # (nameif, direction) -> the ACL bound there.
        self._groups: dict[tuple[str, str], str] = {}
        for pair in permits:
            source, _destination = (str(end) for end in pair)
            name = self._nameifs.get(source)
            if name is None or _destination not in self._nameifs:
                raise ValueError(f"{spec.name}: a permit needs two interfaces with a nameif")
            acl = f"{name}_access_in"
            if ACES[0] not in self._acls.setdefault(acl, []):
                self._acls[acl].append(ACES[0])
            self._groups[(name, "in")] = acl

    @classmethod
    def sample(cls, name: str) -> DeviceSpec:
        # A site firewall: outside to the ISP, inside to the site, a spare port shut; the
        # usual ASDM ACLs: the inside may go out, the outside reaches published services.
        return DeviceSpec(
            name,
            [
                InterfaceSpec("GigabitEthernet0/0", address="198.18.0.1/30"),
                InterfaceSpec("GigabitEthernet0/1", address="198.18.0.5/30"),
                InterfaceSpec("GigabitEthernet0/2", shutdown=True),
            ],
            platform=cls.platform,
            options={
                "nameifs": {"GigabitEthernet0/0": "outside", "GigabitEthernet0/1": "inside"},
                "permits": [
                    ["GigabitEthernet0/1", "GigabitEthernet0/0"],
                    ["GigabitEthernet0/0", "GigabitEthernet0/1"],
                ],
            },
        )

    def cli(self) -> AsaCli:
        return AsaCli(self)

    # --- the policy in effect ------------------------------------------------------------------

    def _passes(self, name: str, direction: str) -> bool:
        """Whether forwarded traffic passes the ACL bound on a nameif in one direction."""
        acl = self._groups.get((name, direction))
        if acl is None:
            return True
        for entry in self._acls.get(acl, []):
            if entry in ACES:
                return entry == ACES[0]
        return False  # the implicit deny at the end of every bound ACL

    def bubbles(self) -> tuple[Bubble, ...]:
        """The flow permits at the head of each blocked interface's ACLs, above the entry that
        blocks it, as flows (either direction's ACL lets its connections through)."""
        blocked = self.blocked_interfaces()
        found: list[Bubble] = []
        with self._lock:
            for interface in sorted(blocked):
                name = self._nameifs[interface]
                for direction in DIRECTIONS:
                    acl = self._groups.get((name, direction))
                    for entry in self._acls.get(acl, []) if acl else []:
                        if entry in ACES:
                            break
                        flow = _FLOW.fullmatch(entry)
                        if flow:
                            found.append(_bubble(interface, flow))
        return tuple(dict.fromkeys(found))

    def blocked_interfaces(self) -> frozenset[str]:
        with self._lock:
            return frozenset(
                interface
                for interface, name in self._nameifs.items()
                if not any(self._passes(name, d) for d in DIRECTIONS)
            )

    def persistent(self) -> dict[str, object]:
        # `write memory` saves the ACLs and their bindings with the interfaces.
        return {
            **super().persistent(),
            "acls": copy.deepcopy(self._acls),
            "groups": dict(self._groups),
        }

    def reload(self, saved: dict[str, object]) -> None:
        super().reload(saved)
        acls, groups = saved["acls"], saved["groups"]
        assert isinstance(acls, dict) and isinstance(groups, dict)
        self._acls, self._groups = acls, groups

    def extra_state(self) -> dict[str, object]:
        with self._lock:
            return {
                "nameifs": dict(self._nameifs),
                "access_lists": {acl: list(entries) for acl, entries in self._acls.items()},
                "access_groups": self.access_groups(),
            }

    # --- what the CLI prints ------------------------------------------------------------------

    def interface_of_nameif(self, name: str) -> str | None:
        with self._lock:
            return next((i for i, n in self._nameifs.items() if n == name), None)

    def nameif_of(self, name: str) -> str | None:
        with self._lock:
            return name if name in self._nameifs.values() else None

    def access_groups(self) -> list[str]:
        with self._lock:
            order = list(self._nameifs.values())
            keys = sorted(self._groups, key=lambda k: (order.index(k[0]), DIRECTIONS.index(k[1])))
            return [f"access-group {self._groups[k]} {k[1]} interface {k[0]}" for k in keys]

    def access_lists(self) -> list[str]:
        with self._lock:
            return [
                f"access-list {acl} {e}" for acl, entries in self._acls.items() for e in entries
            ]

    def show_interface_ip_brief(self) -> list[str]:
        rows = [
            "Interface                  IP-Address      OK? Method Status                Protocol"
        ]
        with self._lock:
            for i in self._interfaces.values():
                if i.shutdown:
                    status, protocol = "administratively down", "down"
                else:
                    status = protocol = "up" if i.link_up else "down"
                address = str(i.address.ip) if i.address else "unassigned"
                method = "CONFIG" if i.address else "unset"
                rows.append(f"{i.name:<27}{address:<16}YES {method:<7}{status:<22}{protocol:<4}")
        return rows

    def show_nameif(self) -> list[str]:
        rows = [f"{'Interface':<25}{'Name':<25}Security"]
        with self._lock:
            for interface, name in self._nameifs.items():
                rows.append(f"{interface:<25}{name:<25}{_security(name):>3}")
        return rows

    def _interface_block(self, i: Interface) -> list[str]:
        lines = [f"interface {i.name}"]
        if i.description:
            lines.append(f" description {i.description}")
        if i.shutdown:
            lines.append(" shutdown")
        name = self._nameifs.get(i.name)
        if name:
            lines += [f" nameif {name}", f" security-level {_security(name)}"]
        else:
            lines += [" no nameif", " no security-level"]
        if i.address:
            lines.append(f" ip address {i.address.ip} {i.address.netmask} ")
        else:
            lines.append(" no ip address")
        return lines

    def running_config(self) -> list[str]:
        serial = hashlib.sha256(self.name.encode()).hexdigest()[:11].upper()
        with self._lock:
            body = [f"hostname {self.name}", "names", "no mac-address auto", ""]
            for i in self._interfaces.values():
                body += ["!", *self._interface_block(i)]
            body += ["!", "ftp mode passive", *self.access_lists(), "pager lines 24"]
            body += [f"mtu {name} 1500" for name in self._nameifs.values()]
            body += [
                "no failover",
                "icmp unreachable rate-limit 1 burst-size 1",
                "no asdm history enable",
                "arp timeout 14400",
                *self.access_groups(),
                "timeout xlate 3:00:00",
                "aaa authentication ssh console LOCAL",
                "aaa authorization exec LOCAL auto-enable",
                "ssh version 2",
                "ssh timeout 60",
                "!",
            ]
        checksum = hashlib.md5("\n".join(body).encode(), usedforsecurity=False).hexdigest()
        return [
            ": Saved",
            ":",
            f": Serial Number: {serial}",
            ": Hardware:   ASAv, 2048 MB RAM, CPU Xeon 4100/6100/8100 series 2200 MHz",
            ":",
            "ASA Version 9.16(4)",
            "!",
            *body,
            f"Cryptochecksum:{checksum}",
            ": end",
        ]

    # --- what the CLI changes -------------------------------------------------------------------

    def _policy_changed(self) -> None:
        with self._lock:
            self._config_changes += 1
        self._changed()

    def add_entry(self, acl: str, entry: str, line: int | None) -> None:
        with self._lock:
            entries = self._acls.setdefault(acl, [])
            # `line N` inserts before the Nth line; past the end (or none), it appends.
            index = len(entries) if line is None else min(max(line, 1) - 1, len(entries))
            entries.insert(index, entry)
        self._policy_changed()

    def remove_entry(self, acl: str, entry: str) -> bool:
        with self._lock:
            entries = self._acls.get(acl, [])
            if entry not in entries:
                return False
            entries.remove(entry)  # the first match
            if not entries:
                # An ACL whose last line goes no longer exists, nor its bindings.
                self._drop_acl(acl)
        self._policy_changed()
        return True

    def _drop_acl(self, acl: str) -> None:
        self._acls.pop(acl, None)
        for key in [k for k, bound in self._groups.items() if bound == acl]:
            del self._groups[key]

    def clear_acl(self, acl: str) -> None:
        with self._lock:
            self._drop_acl(acl)
        self._policy_changed()

    def has_acl(self, acl: str) -> bool:
        with self._lock:
            return acl in self._acls

    def bind(self, acl: str, direction: str, name: str) -> None:
        with self._lock:
            self._groups[(name, direction)] = acl  # replaces what was bound there
        self._policy_changed()

    def unbind(self, acl: str, direction: str, name: str) -> bool:
        with self._lock:
            if self._groups.get((name, direction)) != acl:
                return False
            del self._groups[(name, direction)]
        self._policy_changed()
        return True

    def resolve(self, typed: str, *, create: bool = False) -> tuple[str | None, int]:
        """An interface the ASA has (`gi0/1`, `GigabitEthernet 0/1`); it creates none, and
        refuses a name it does not have at its first word."""
        with self._lock:
            types = sorted({_interface_type(n) for n in self._interfaces})
            found = typed_interface(typed, _TYPED_INTERFACE, types)
            name = found[0] + found[1] if found else None
            return (name if name in self._interfaces else None), 0


def _security(nameif: str) -> int:
    # The ASA gives the nameif `inside` security level 100 and any other nameif 0.
    return 100 if nameif == "inside" else 0


# --- the CLI -----------------------------------------------------------------------------------


class AsaCli(IosLikeCli[AsaDevice]):
    """The ASA's prompts end with a space, `:` also starts a comment, exec commands run in
    configuration mode too, and a global command typed in interface mode leaves it."""

    messages = ASA
    prompt_space = " "
    comments = ("!", ":")

    def _ping(self, args: list[Arg]) -> list[str]:
        """`ping [NAMEIF] X repeat N`, answered by a real ping from that interface."""
        *nameif, to, count = args
        source = None
        if nameif:
            source = self.device.interface_of_nameif(nameif[0].text)
            if source is None:
                return [f"ERROR: % Invalid interface name {nameif[0].text}"]
        return ping_layouts.answer(
            self.device,
            to.text,
            source,
            int(count.text),
            ping_layouts.cisco,
            lambda reason: [f"ERROR: {reason}"],
        )

    def _apply(self, command: Command[Any], args: list[Arg]) -> list[str]:
        if self.mode is Mode.CONFIG_IF and command.run not in _IF_ONLY:
            # A global command typed in interface mode applies there and leaves it.
            self.mode, self.interface = Mode.CONFIG, None
        return command.run(self, args)

    def _refuse(self, arg: Arg) -> CliError:
        return ASA.invalid_at(self.prompt(), arg.pos)

    # Handlers: each returns the lines printed.

    def _close(self, args: list[Arg]) -> list[str]:
        self.closed = True
        return ["", "Logoff", ""]

    def _write_memory(self, args: list[Arg]) -> list[str]:
        self.device.save()
        return self._write(args)

    def _curpriv(self, args: list[Arg]) -> list[str]:
        mode = "P_CONF" if self.configuring else "P_PRIV"
        return ["Username : enable_15", "Current privilege level : 15", f"Current Mode/s : {mode}"]

    def _brief(self, args: list[Arg]) -> list[str]:
        return self.device.show_interface_ip_brief()

    def _nameif(self, args: list[Arg]) -> list[str]:
        return self.device.show_nameif()

    def _running_groups(self, args: list[Arg]) -> list[str]:
        return self.device.access_groups()

    def _running_acls(self, args: list[Arg]) -> list[str]:
        return self.device.access_lists()

    def _remark(self, args: list[Arg]) -> list[str]:
        acl, *line, text = args
        self.device.add_entry(acl.text, f"remark {text.text}", _line(line))
        return []

    def _no_remark(self, args: list[Arg]) -> list[str]:
        acl, *_line_number, text = args
        if not self.device.remove_entry(acl.text, f"remark {text.text}"):
            raise self._refuse(text)
        return []

    def _clear_acl(self, args: list[Arg]) -> list[str]:
        self.device.clear_acl(args[0].text)
        return []


Handler = Callable[[AsaCli, list[Arg]], list[str]]


# Handlers made per action or direction.


def _ace(action: str) -> Handler:
    def add(cli: AsaCli, args: list[Arg]) -> list[str]:
        acl, *line = args
        cli.device.add_entry(acl.text, f"extended {action} ip any any", _line(line))
        return []

    return add


def _no_ace(action: str) -> Handler:
    def remove(cli: AsaCli, args: list[Arg]) -> list[str]:
        acl = args[0]
        if not cli.device.remove_entry(acl.text, f"extended {action} ip any any"):
            raise cli._refuse(acl)
        return []

    return remove


def _group(direction: str, *, bind: bool) -> Handler:
    def run(cli: AsaCli, args: list[Arg]) -> list[str]:
        acl, name = args
        if cli.device.nameif_of(name.text) is None:
            raise cli._refuse(name)
        if bind:
            if not cli.device.has_acl(acl.text):
                raise cli._refuse(acl)
            cli.device.bind(acl.text, direction, name.text)
        elif not cli.device.unbind(acl.text, direction, name.text):
            raise cli._refuse(acl)
        return []

    return run


def _permit_flow(cli: AsaCli, args: list[Arg]) -> list[str]:
    acl, *line, flow = args
    entry = f"extended permit {flow.text}"
    if not _FLOW.fullmatch(entry):
        raise cli._refuse(flow)
    cli.device.add_entry(acl.text, entry, _line(line))
    return []


def _no_permit_flow(cli: AsaCli, args: list[Arg]) -> list[str]:
    acl, flow = args
    if not cli.device.remove_entry(acl.text, f"extended permit {flow.text}"):
        raise cli._refuse(flow)
    return []


_ADDRESS = r"(?:host \d+\.\d+\.\d+\.\d+|\d+\.\d+\.\d+\.\d+ \d+\.\d+\.\d+\.\d+|any4?)"
# One flow permit, as the ASA prints it back (`host` for one address).
_FLOW = re.compile(
    rf"extended permit (?P<protocol>tcp|udp|icmp) (?P<source>{_ADDRESS}) "
    rf"(?P<destination>{_ADDRESS})(?: eq (?P<port>\d+))?"
)


def _network(text: str) -> str:
    words = text.split()
    if words[0] in ("any", "any4"):
        return "0.0.0.0/0"
    if words[0] == "host":
        return f"{words[1]}/32"
    return str(ipaddress.IPv4Network(f"{words[0]}/{words[1]}", strict=False))


def _bubble(interface: str, flow: re.Match[str]) -> Bubble:
    port = int(flow["port"]) if flow["port"] else None
    return Bubble(
        interface, flow["protocol"], _network(flow["source"]), _network(flow["destination"]), port
    )


def _line(args: Sequence[Arg]) -> int | None:
    return int(args[0].text) if args else None


_SHOW: dict[str, Handler] = {
    "show curpriv": AsaCli._curpriv,
    "show interface ip brief": AsaCli._brief,
    "show nameif": AsaCli._nameif,
    "show running-config": AsaCli._show_running,
    "show running-config access-group": AsaCli._running_groups,
    "show running-config access-list": AsaCli._running_acls,
    f"terminal pager {NUM}": AsaCli._nothing,
    "write memory": AsaCli._write_memory,
}
_EXEC: dict[str, Handler] = {
    **_SHOW,
    f"ping {IP} repeat {NUM}": AsaCli._ping,
    f"ping {WORD} {IP} repeat {NUM}": AsaCli._ping,
    # netmiko types `login` when it has no enable secret; already at level 15, nothing to do.
    "login": AsaCli._nothing,
    "enable": AsaCli._nothing,
    "configure terminal": AsaCli._configure,
    "exit": AsaCli._close,
    "logout": AsaCli._close,
    "quit": AsaCli._close,
}


def _acl_commands() -> dict[str, Handler]:
    table: dict[str, Handler] = {
        f"access-list {WORD} remark {TEXT}": AsaCli._remark,
        f"access-list {WORD} line {NUM} remark {TEXT}": AsaCli._remark,
        f"no access-list {WORD} remark {TEXT}": AsaCli._no_remark,
        f"no access-list {WORD} line {NUM} remark {TEXT}": AsaCli._no_remark,
        f"clear configure access-list {WORD}": AsaCli._clear_acl,
    }
    for action in ("permit", "deny"):
        ace = f"extended {action} ip any any"
        table[f"access-list {WORD} {ace}"] = _ace(action)
        table[f"access-list {WORD} line {NUM} {ace}"] = _ace(action)
        table[f"no access-list {WORD} {ace}"] = _no_ace(action)
    # A flow permit (a bubble): what is not `ip any any` after `extended permit`.
    table[f"access-list {WORD} extended permit {TEXT}"] = _permit_flow
    table[f"access-list {WORD} line {NUM} extended permit {TEXT}"] = _permit_flow
    table[f"no access-list {WORD} extended permit {TEXT}"] = _no_permit_flow
    for direction in DIRECTIONS:
        group = f"access-group {WORD} {direction} interface {WORD}"
        table[group] = _group(direction, bind=True)
        table[f"no {group}"] = _group(direction, bind=False)
    return table


_CONFIG: dict[str, Handler] = {
    **_SHOW,
    f"terminal width {NUM}": AsaCli._nothing,
    f"interface {IF}": AsaCli._enter_interface,
    **_acl_commands(),
    "exit": AsaCli._exit_config,
    "end": AsaCli._end,
}
_CONFIG_IF: dict[str, Handler] = {
    **_CONFIG,
    "shutdown": AsaCli._shutdown,
    "no shutdown": AsaCli._no_shutdown,
}
# What keeps a session in interface mode; any other global command leaves it.
_IF_ONLY: tuple[Handler, ...] = (
    AsaCli._shutdown,
    AsaCli._no_shutdown,
    AsaCli._exit_config,
    AsaCli._end,
    *_SHOW.values(),
)
AsaCli.commands = {
    Mode.EXEC: commands(_EXEC),
    Mode.CONFIG: commands(_CONFIG),
    Mode.CONFIG_IF: commands(_CONFIG_IF),
}
