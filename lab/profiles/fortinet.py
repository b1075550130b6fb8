"""The FortiOS (FortiGate) profile of the emulator: what netmiko's `fortinet` driver, and so
isolement's FortinetDriver, see of a FortiGate.

- the prompt `NAME # `, `NAME (<context>) # ` inside `config` / `edit` (`(global)`, `(vdom)`,
  `(<vdom>)`, `(policy)`, `(interface)`, `(<entry>)`, `(console)`), a blank line before each
  prompt, `exit` ending the session;
- what netmiko sends at login, answered as FortiOS 7.2 does: `get system status | grep
  Virtual` / `| grep Version` (VDOM and version detection), `get system console` (inside
  `config global` when VDOMs are on; at the top level FortiOS then refuses it), and
  `config system console` / `set output more|standard` / `end`, a real setting that shows in
  the configuration (the factory default is `more`; netmiko sets `standard` and puts `more` back
  on logout);
- `config system interface` (`set status up|down`, `set description`), `config firewall
  policy` (`edit`, `set`, `unset`, `next`, `end`, `abort`, `delete`, `move <id> before|after
  <id>`), `config vdom` / `edit <vdom>` (`current vf=<vdom>:<n>`) and `config global` with VDOMs;
- a table entry takes effect on `next` or `end`, as on FortiOS: until then it is a draft
  (`abort` drops it), checked for the attributes a policy needs;
- `show` (at the top level, the whole configuration with its `#config-version=` /
  `#conf_file_ver=` header, in the backup layout with VDOMs), `show <table>`, `show
  full-configuration` (printed as `show`: defaults are left out), and `| grep <text>` after
  `get` / `show`;
- FortiOS's error answers: `command parse error before '<word>'` with `Command fail. Return code
  -61` for an unknown command or field, `entry not found in datasource` / `value parse error
  before '<value>'` / `Command fail. Return code -3` for a name that does not exist. The first
  is recorded from a device (tests/data/fortinet/SOURCES.md); the others follow the wording
  FortiOS is known for, without a first-hand recording, as does `Attribute '<x>' MUST be set.`
  for an incomplete entry (its return code, -56, is not verified).

- `config firewall address` (`set subnet`, `set comment`) and `config firewall service custom`
  (`set tcp-portrange` / `set udp-portrange`, `set comment`), per VDOM, entries a policy's
  `srcaddr` / `dstaddr` / `service` may name; `delete "<name>"` removes one;
- `execute ping-options reset|repeat-count N|source A` (kept for the session, as FortiOS keeps
  them) and `execute ping X`, answered by the namespace's real ping (lab/profiles/
  ping_layouts.py) in the layout of tests/data/ping/fortinet (BSD, times to one decimal); a
  ping that cannot be sent answers `Unable to ping: <why>` then `Command fail. Return code -1`
  (wording not recorded from a device);
- the data plane: an interface is blocked when no policy matching all its traffic (`all`
  addresses, service `ALL`) first-matches an accept; an accept for some addresses and services
  placed above the deny that blocks it is a bubble (`bubbles()`): those flows pass.

Not emulated: paging (`--More--`; netmiko turns it off before anything else is sent), zones,
address types other than a subnet, service groups, creating interfaces or
VDOMs (`edit` of an unknown interface is refused when the entry is applied), staying in an entry
whose `next` failed (the emulator leaves it, its draft dropped).

Options (`DeviceSpec.options`): `vdoms` (interface -> VDOM; VDOM mode is on when given, the
interfaces not named are in `root`) and `permits` (`[from, to]` interface pairs: accept
policies in place at start, ids 1, 2, ... in the VDOM of their interfaces) and `fortimanager`
(true: `show` holds the `config system central-management` section of a FortiGate registered
to a FortiManager, layout of tests/data/fortinet/central_management_fortimanager.txt).
"""

from __future__ import annotations

import copy
import functools
import ipaddress
import re
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import paramiko
from paramiko.kex_group14 import KexGroup14SHA256

from ..device import Bubble, DeviceSpec, EmulatedDevice, InterfaceSpec
from . import ping_layouts

VERSION = "FortiGate-VM64 v7.2.5,build1517,230606 (GA.F)"
CONFIG_VERSION = "FGVM64-7.2.5-FW-build1517-230606"
BUILD = "1517"
ROOT = "root"
# FortiOS interface names: at most 15 characters.
_INTERFACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,14}")
_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|(\S+)')
_POLICY_ID_MAX = 4294967294
_NAME_MAX = 35
_COMMENTS_MAX = 1023
_ADDRESSES = ("all", "none")
# A predefined service of a bubble's flow: (protocol, port), port None for every port.
_SERVICE_FLOWS = {
    "ALL_ICMP": ("icmp", None),
    "PING": ("icmp", None),
    "ALL_TCP": ("tcp", None),
    "ALL_UDP": ("udp", None),
}
_SERVICES = ("ALL", "ALL_ICMP", "ALL_TCP", "ALL_UDP", "DNS", "HTTP", "HTTPS", "PING", "SSH")
# The attributes taking one word from a fixed set, and the defaults `show` leaves out.
_CHOICES = {
    "action": ("accept", "deny"),
    "status": ("enable", "disable"),
    "nat": ("enable", "disable"),
    "logtraffic": ("all", "utm", "disable"),
}
_DEFAULTS = {"action": "deny", "status": "enable", "nat": "disable", "logtraffic": "utm"}
# A policy's attributes in the order `show` prints them.
_SHOW_ORDER = (
    "name",
    "uuid",
    "srcintf",
    "dstintf",
    "action",
    "srcaddr",
    "dstaddr",
    "schedule",
    "service",
    "logtraffic",
    "nat",
    "status",
    "comments",
)
# The attributes of an address and of a custom service, in the order `show` prints them.
_OBJECT_KEYS = {
    "addresses": ("subnet", "comment"),
    "services": ("tcp-portrange", "udp-portrange", "comment"),
}
_OBJECT_NAME_MAX = 79
_PING_COUNT = 5  # FortiOS's default repeat count
_ENTRY_OF = {"addresses": "address", "services": "service"}
_TABLE_OF = {entry: table for table, entry in _ENTRY_OF.items()}
_REQUIRED = ("srcintf", "dstintf", "srcaddr", "dstaddr", "schedule", "service")


def _parse_error(word: str) -> list[str]:
    return [f"command parse error before '{word}'", "Command fail. Return code -61"]


def _not_found(value: str) -> list[str]:
    return [
        "entry not found in datasource",
        "",
        f"value parse error before '{value}'",
        "Command fail. Return code -3",
    ]


class CliFail(Exception):
    """A refused line; `lines` is what FortiOS prints for it."""

    def __init__(self, lines: list[str]):
        super().__init__(lines[0] if lines else "")
        self.lines = lines


@dataclass
class Policy:
    """One firewall policy: its id and attributes as set (lists for the multi-value ones)."""

    id: int
    values: dict[str, list[str]] = field(default_factory=dict)

    def one(self, key: str) -> str:
        found = self.values.get(key)
        return found[0] if found else _DEFAULTS.get(key, "")

    def copy(self) -> Policy:
        return Policy(self.id, {k: list(v) for k, v in self.values.items()})

    def whole(self) -> bool:
        """Whether the policy matches all traffic between its interfaces (no address or
        service chosen): only such a policy decides whether an interface is blocked."""
        return (
            self.values.get("srcaddr") == ["all"]
            and self.values.get("dstaddr") == ["all"]
            and self.values.get("service") == ["ALL"]
        )

    def matches(self, source: str, destination: str) -> bool:
        return (
            self.whole()
            and self.one("status") == "enable"
            and bool({source, "any"} & set(self.values.get("srcintf", [])))
            and bool({destination, "any"} & set(self.values.get("dstintf", [])))
        )

    def show(self) -> list[str]:
        lines = [f"    edit {self.id}"]
        for key in _SHOW_ORDER:
            if key not in self.values or self.one(key) == _DEFAULTS.get(key):
                continue
            words = self.values[key]
            if key == "uuid" or key in _CHOICES:
                lines.append(f"        set {key} {words[0]}")
            else:
                lines.append(f"        set {key} " + " ".join(f'"{w}"' for w in words))
        return [*lines, "    next"]


@functools.cache
def offer_group_exchange() -> None:
    """Let the emulator's SSH servers offer diffie-hellman-group-exchange-sha256.

    netmiko's FortinetSSH restricts the client to the key exchanges old FortiOS releases have
    (group1 / group14 with SHA-1, group exchange); of those, paramiko still speaks only
    group-exchange-sha256, and a paramiko server offers it only once it has primes to pick
    from. Without this, netmiko's own driver cannot log in at all. The system's OpenSSH moduli
    are used when present, else RFC 3526's group 14 prime (the one paramiko's group14 exchange
    uses). It is process-wide and only adds an algorithm, for every emulated platform."""
    if paramiko.Transport.load_server_moduli():
        return
    prime = KexGroup14SHA256.P
    line = f"20030101000000 2 6 100 {prime.bit_length() - 1} {KexGroup14SHA256.G} {prime:X}\n"
    with tempfile.TemporaryDirectory() as directory:
        moduli = Path(directory) / "moduli"
        moduli.write_text(line)
        paramiko.Transport.load_server_moduli(str(moduli))


class FortinetDevice(EmulatedDevice):
    platform = "fortinet"

    def __init__(self, spec: DeviceSpec, host_key: paramiko.PKey) -> None:
        offer_group_exchange()
        super().__init__(spec, host_key)
        options = dict(spec.options)
        vdoms = options.pop("vdoms", None) or {}
        permits = options.pop("permits", None) or []
        # A FortiManager registered (`config system central-management`, `set type
        # fortimanager`): shown in `show`; nothing is ever pushed from it.
        self.fortimanager = bool(options.pop("fortimanager", False))
        if options:
            raise ValueError(f"{spec.name}: unknown fortinet options {sorted(options)}")
        if not isinstance(vdoms, Mapping) or not isinstance(permits, list):
            raise ValueError(f"{spec.name}: vdoms is a mapping, permits a list of pairs")
        for interface in vdoms:
            if interface not in self._interfaces:
                raise ValueError(f"{spec.name}: vdoms names an unknown interface {interface!r}")
        self.vdom_mode = bool(vdoms)
        self.vdom_of = {name: str(vdoms.get(name, ROOT)) for name in self._interfaces}
        self.vdoms = [ROOT, *sorted(set(self.vdom_of.values()) - {ROOT})]
        self.policies: dict[str, list[Policy]] = {vdom: [] for vdom in self.vdoms}
        # Address and custom service objects per VDOM: name -> attribute -> value (as set).
        self.addresses: dict[str, dict[str, dict[str, str]]] = {vdom: {} for vdom in self.vdoms}
        self.services: dict[str, dict[str, dict[str, str]]] = {vdom: {} for vdom in self.vdoms}
        self.console_output = "more"  # FortiOS's factory default
        self.conf_file_ver = 1
        for number, pair in enumerate(permits, start=1):
            source, destination = (str(x) for x in pair)
            vdom = self.vdom_of.get(source)
            if vdom is None or self.vdom_of.get(destination) != vdom:
                raise ValueError(f"{spec.name}: permit {pair} needs two interfaces of one VDOM")
            self.policies[vdom].append(
                Policy(
                    number,
                    {
                        "name": [f"{source}-to-{destination}"],
                        "uuid": [str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{spec.name}.{number}"))],
                        "srcintf": [source],
                        "dstintf": [destination],
                        "action": ["accept"],
                        "srcaddr": ["all"],
                        "dstaddr": ["all"],
                        "schedule": ["always"],
                        "service": ["ALL"],
                        "nat": ["enable"],
                    },
                )
            )

    @classmethod
    def check_interface_name(cls, name: str) -> None:
        if not _INTERFACE.fullmatch(name) or name == "any":
            raise ValueError(f"{name!r} is not a FortiOS interface name (port1, wan1, dmz)")

    @classmethod
    def sample(cls, name: str) -> DeviceSpec:
        return DeviceSpec(
            name,
            [
                InterfaceSpec("port1", address="198.18.0.1/30", description="ISP"),
                InterfaceSpec("port2", address="198.18.0.5/30"),
                InterfaceSpec("port3", shutdown=True),
            ],
            platform=cls.platform,
            options={
                "vdoms": {"port1": "hospital", "port2": "hospital"},
                "permits": [["port2", "port1"]],
            },
        )

    def cli(self) -> FortinetCli:
        return FortinetCli(self)

    # The policy in effect.

    def blocked_interfaces(self) -> frozenset[str]:
        """An interface is blocked when no forwarded flow from or to it, towards or from any
        other interface of its VDOM, first-matches an accept policy (FortiOS's implicit deny
        drops what matches nothing)."""
        with self._lock:
            blocked = set()
            for interface, vdom in self.vdom_of.items():
                peers = [p for p, v in self.vdom_of.items() if v == vdom and p != interface]
                flows = [(interface, p) for p in peers] + [(p, interface) for p in peers]
                if not any(self._verdict(vdom, s, d) == "accept" for s, d in flows):
                    blocked.add(interface)
            return frozenset(blocked)

    def bubbles(self) -> tuple[Bubble, ...]:
        """Each accept policy for chosen addresses and services through a blocked interface,
        placed above the first policy that blocks it, as flows."""
        blocked = self.blocked_interfaces()
        found: list[Bubble] = []
        with self._lock:
            for interface in sorted(blocked):
                vdom = self.vdom_of[interface]
                for policy in self.policies[vdom]:
                    ends = set(policy.values.get("srcintf", [])) | set(
                        policy.values.get("dstintf", [])
                    )
                    if interface not in ends or policy.one("status") != "enable":
                        continue
                    if policy.whole():
                        break  # the deny that blocks it: what comes after is never reached
                    if policy.one("action") == "accept":
                        found += self._flows(interface, vdom, policy)
        return tuple(dict.fromkeys(found))

    def _flows(self, interface: str, vdom: str, policy: Policy) -> list[Bubble]:
        flows = []
        for service in policy.values.get("service", []):
            custom = self.services[vdom].get(service, {})
            kinds: list[tuple[str, int | None]] = [
                (protocol, int(custom[f"{protocol}-portrange"]))
                for protocol in ("tcp", "udp")
                if f"{protocol}-portrange" in custom
            ] or ([_SERVICE_FLOWS[service]] if service in _SERVICE_FLOWS else [])
            for source in policy.values.get("srcaddr", []):
                for destination in policy.values.get("dstaddr", []):
                    for protocol, port in kinds:
                        flows.append(
                            Bubble(
                                interface,
                                protocol,
                                self._subnet(vdom, source),
                                self._subnet(vdom, destination),
                                port,
                            )
                        )
        return flows

    def _subnet(self, vdom: str, name: str) -> str:
        if name == "all":
            return "0.0.0.0/0"
        address, mask = self.addresses[vdom][name]["subnet"].split()
        return str(ipaddress.IPv4Network(f"{address}/{mask}"))

    def _verdict(self, vdom: str, source: str, destination: str) -> str:
        for policy in self.policies[vdom]:
            if policy.matches(source, destination):
                return policy.one("action")
        return "deny"

    def extra_state(self) -> dict[str, object]:
        with self._lock:
            policies = {
                vdom: [
                    {
                        "id": p.id,
                        "name": p.one("name"),
                        "srcintf": p.values.get("srcintf", []),
                        "dstintf": p.values.get("dstintf", []),
                        "action": p.one("action"),
                        "status": p.one("status"),
                        "comments": p.one("comments"),
                    }
                    for p in table
                ]
                for vdom, table in self.policies.items()
            }
            vdoms = dict(self.vdom_of) if self.vdom_mode else {}
        return {"vdoms": vdoms, "policies": policies}

    # Changes, made by a session's CLI.

    def commit_policy(self, vdom: str, policy: Policy) -> None:
        with self._lock:
            table = self.policies[vdom]
            for index, existing in enumerate(table):
                if existing.id == policy.id:
                    table[index] = policy
                    break
            else:
                table.append(policy)
            self._saved()
        self._changed()

    def commit_object(self, table: str, vdom: str, name: str, values: dict[str, str]) -> None:
        with self._lock:
            objects = self.addresses if table == "addresses" else self.services
            objects[vdom][name] = {**objects[vdom].get(name, {}), **values}
            self._saved()
        self._changed()

    def delete_object(self, table: str, vdom: str, name: str) -> bool:
        with self._lock:
            objects = self.addresses if table == "addresses" else self.services
            if objects[vdom].pop(name, None) is None:
                return False
            self._saved()
        self._changed()
        return True

    def objects(self, table: str, vdom: str) -> dict[str, dict[str, str]]:
        with self._lock:
            objects = self.addresses if table == "addresses" else self.services
            return {name: dict(values) for name, values in objects[vdom].items()}

    def delete_policy(self, vdom: str, policy_id: int) -> None:
        with self._lock:
            self.policies[vdom] = [p for p in self.policies[vdom] if p.id != policy_id]
            self._saved()
        self._changed()

    def move_policy(self, vdom: str, moved: int, where: str, anchor: int) -> None:
        with self._lock:
            table = self.policies[vdom]
            policy = next(p for p in table if p.id == moved)
            table.remove(policy)
            index = next(i for i, p in enumerate(table) if p.id == anchor)
            table.insert(index if where == "before" else index + 1, policy)
            self._saved()
        self._changed()

    def set_status(self, interface: str, down: bool) -> None:
        self._set(interface, shutdown=down)
        with self._lock:
            self._saved()

    def set_description(self, interface: str, text: str) -> None:
        self._set(interface, description=text)
        with self._lock:
            self._saved()

    def set_console_output(self, mode: str) -> None:
        with self._lock:
            self.console_output = mode
            self._saved()

    def _saved(self) -> None:
        # `cfg-save automatic`: each applied change is written to flash, and a reboot keeps it.
        self.conf_file_ver += 1
        self._saved_state = self.persistent()

    def persistent(self) -> dict[str, object]:
        return {
            **super().persistent(),
            "tables": copy.deepcopy((self.policies, self.addresses, self.services)),
            "console": self.console_output,
        }

    def reload(self, saved: dict[str, object]) -> None:
        super().reload(saved)
        tables, console = saved["tables"], saved["console"]
        assert isinstance(tables, tuple) and isinstance(console, str)
        self.policies, self.addresses, self.services = tables
        self.console_output = console

    def policy(self, vdom: str, policy_id: int) -> Policy | None:
        with self._lock:
            return next((p.copy() for p in self.policies[vdom] if p.id == policy_id), None)

    # What `get` and `show` print.

    def system_status(self) -> list[str]:
        with self._lock:
            count = len(self.vdoms)
            mode = "multiple" if self.vdom_mode else "disable"
        now = datetime.now(UTC).strftime("%a %b %d %H:%M:%S %Y")
        return [
            f"Version: {VERSION}",
            "Firmware Signature: certified",
            "Serial-Number: FGVMEVLQOG000000",
            "License Status: Valid",
            "Log hard disk: Not available",
            f"Hostname: {self.name}",
            "Private Encryption: Disable",
            "Operation Mode: NAT",
            f"Current virtual domain: {ROOT}",
            "Max number of virtual domains: 10",
            f"Virtual domains status: {count} in NAT mode, 0 in TP mode",
            f"Virtual domain configuration: {mode}",
            "FIPS-CC mode: disable",
            "Current HA mode: standalone",
            f"Branch point: {BUILD}",
            "Release Version Information: GA",
            f"System time: {now}",
        ]

    def system_console(self) -> list[str]:
        with self._lock:
            output = self.console_output
        return [
            "mode                : line",
            "baudrate            : 9600",
            f"output              : {output}",
            "login               : enable",
            "fortiexplorer       : enable",
        ]

    def show_console(self) -> list[str]:
        with self._lock:
            standard = self.console_output == "standard"
        return ["config system console", *(["    set output standard"] if standard else []), "end"]

    def show_interfaces(self) -> list[str]:
        lines = ["config system interface"]
        with self._lock:
            for index, i in enumerate(self._interfaces.values(), start=1):
                lines += [f'    edit "{i.name}"', f'        set vdom "{self.vdom_of[i.name]}"']
                if i.address:
                    lines.append(f"        set ip {i.address.ip} {i.address.netmask}")
                lines.append("        set allowaccess ping https ssh")
                if i.shutdown:
                    lines.append("        set status down")
                lines.append("        set type physical")
                if i.description:
                    lines.append(f'        set description "{i.description}"')
                lines += [f"        set snmp-index {index}", "    next"]
        return [*lines, "end"]

    def show_policies(self, vdom: str) -> list[str]:
        with self._lock:
            body = [line for p in self.policies[vdom] for line in p.show()]
        return ["config firewall policy", *body, "end"]

    def show_objects(self, vdom: str) -> list[str]:
        """The address and custom service tables, when they hold anything (FortiOS lists
        them before the policies)."""
        lines: list[str] = []
        for table, title in (("addresses", "address"), ("services", "service custom")):
            objects = self.objects(table, vdom)
            if not objects:
                continue
            lines.append(f"config firewall {title}")
            for name, values in objects.items():
                lines.append(f'    edit "{name}"')
                for key in _OBJECT_KEYS[table]:
                    if key in values:
                        value = values[key] if key != "comment" else f'"{values[key]}"'
                        lines.append(f"        set {key} {value}")
                lines.append("    next")
            lines.append("end")
        return lines

    def show_global(self) -> list[str]:
        system = [
            "config system global",
            '    set alias "FortiGate-VM64"',
            f'    set hostname "{self.name}"',
            "    set timezone 28",
            "end",
        ]
        with self._lock:
            console = self.show_console() if self.console_output == "standard" else []
        central = (
            [
                "config system central-management",
                "    set type fortimanager",
                '    set fmg "198.18.255.2"',
                "end",
            ]
            if self.fortimanager
            else []
        )
        return [*system, *console, *central, *self.show_interfaces()]

    def show_all(self) -> list[str]:
        with self._lock:
            header = [
                f"#config-version={CONFIG_VERSION}:opmode=0:vdom={int(self.vdom_mode)}:user=admin",
                f"#conf_file_ver={self.conf_file_ver}",
                f"#buildno={BUILD}",
                "#global_vdom=1",
            ]
            if not self.vdom_mode:
                return [
                    *header,
                    *self.show_global(),
                    *self.show_objects(ROOT),
                    *self.show_policies(ROOT),
                ]
            listing = [line for vdom in self.vdoms for line in (f"edit {vdom}", "next")]
            contents = [
                line
                for vdom in self.vdoms
                for line in (
                    f"edit {vdom}",
                    *self.show_objects(vdom),
                    *self.show_policies(vdom),
                    "next",
                )
            ]
            return [
                *header,
                "config vdom",
                *listing,
                "end",
                "config global",
                *self.show_global(),
                "end",
                "config vdom",
                *contents,
                "end",
            ]


# --- the CLI ---------------------------------------------------------------------------------


@dataclass
class Frame:
    """One level of the CLI: `top`, `global`, `vdoms` (in `config vdom`), `vdom` (one VDOM),
    `policies` / `interfaces` / `console` (a table or object), `policy` / `interface` (an
    entry being edited, with its draft)."""

    kind: str
    label: str = ""
    vdom: str = ROOT
    draft: Policy | None = None
    key: str = ""
    changes: dict[str, str] = field(default_factory=dict)
    new: bool = False


class FortinetCli:
    """One session's interpreter: its stack of `config` / `edit` levels, and each line's effect.
    No I/O: `execute` returns what FortiOS prints for a line (before the blank line and the
    prompt)."""

    def __init__(self, device: FortinetDevice):
        self.device = device
        self.stack = [Frame("top")]
        self.closed = False
        # `execute ping-options`: FortiOS keeps them until the session ends or a reset.
        self.ping_count = _PING_COUNT
        self.ping_source: str | None = None

    @property
    def frame(self) -> Frame:
        return self.stack[-1]

    @property
    def configuring(self) -> bool:
        return len(self.stack) > 1

    def prompt(self) -> str:
        label = self.frame.label
        return f"{self.device.name} ({label}) # " if label else f"{self.device.name} # "

    def invalid(self, line: str) -> list[str]:
        return [*_parse_error((line.split(maxsplit=1) or [line])[0]), ""]

    def ctrl_z(self) -> None:
        """FortiOS gives Ctrl-Z no meaning."""

    def execute(self, line: str) -> list[str]:
        command, _, grep = line.partition(" | grep ")
        words = [a or b or c for a, b, c in _TOKEN.findall(command)]
        if not words:
            return []
        try:
            lines = self._run(words)
        except CliFail as fail:
            lines = fail.lines
        if grep:
            pattern = grep.strip().strip("\"'")
            lines = [text for text in lines if pattern in text]
        return [*lines, ""]

    def _run(self, words: list[str]) -> list[str]:
        kind = self.frame.kind
        verb = words[0]
        handlers: dict[str, Callable[[list[str]], list[str]]] = {
            "get": self._get,
            "show": self._show,
        }
        if kind == "top":
            handlers |= {"config": self._config, "exit": self._exit, "execute": self._execute}
        elif kind in ("global", "vdom"):
            handlers |= {"config": self._config, "end": self._end}
            if kind == "vdom":
                handlers |= {"execute": self._execute}
        elif kind == "vdoms":
            handlers |= {"edit": self._edit_vdom, "end": self._end}
        elif kind in ("policies", "interfaces", "addresses", "services"):
            handlers |= {"edit": self._edit, "end": self._end}
            if kind == "policies":
                handlers |= {"delete": self._delete, "move": self._move}
            elif kind != "interfaces":
                handlers |= {"delete": self._delete_object}
        elif kind == "console":
            handlers |= {"set": self._set_console, "end": self._end}
        else:  # an entry
            handlers |= {
                "set": self._set,
                "unset": self._unset,
                "next": self._next,
                "end": self._end,
                "abort": self._abort,
            }
        handler = _pick(handlers, verb)
        if handler is None:
            raise CliFail(_parse_error(verb))
        return handler(words[1:])

    # Moving between levels.

    def _config(self, args: list[str]) -> list[str]:
        path = " ".join(args)
        kind = self.frame.kind
        vdom_mode = self.device.vdom_mode
        if kind == "top" and vdom_mode:
            targets = {"global": Frame("global", "global"), "vdom": Frame("vdoms", "vdom")}
        else:
            global_level = kind == "global" or (kind == "top" and not vdom_mode)
            vdom_level = kind == "vdom" or (kind == "top" and not vdom_mode)
            targets = {}
            if global_level:
                targets["system interface"] = Frame("interfaces", "interface")
                targets["system console"] = Frame("console", "console")
            if vdom_level:
                vdom = self.frame.vdom
                targets["firewall policy"] = Frame("policies", "policy", vdom=vdom)
                targets["firewall address"] = Frame("addresses", "address", vdom=vdom)
                targets["firewall service custom"] = Frame("services", "custom", vdom=vdom)
        frame = targets.get(path)
        if frame is None:
            raise CliFail(_parse_error(args[-1] if args else "config"))
        self.stack.append(frame)
        return []

    def _edit_vdom(self, args: list[str]) -> list[str]:
        name = args[0] if args else ""
        if name not in self.device.vdoms:
            raise CliFail(_not_found(name))
        self.stack.append(Frame("vdom", name, vdom=name))
        return [f"current vf={name}:{self.device.vdoms.index(name)}"]

    def _edit(self, args: list[str]) -> list[str]:
        if len(args) != 1:
            raise CliFail(_parse_error(args[1] if args else "edit"))
        key = args[0]
        table = self.frame
        if table.kind == "interfaces":
            known = key in self.device.admin_up()
            self.stack.append(Frame("interface", key, key=key, new=not known))
            return [] if known else [f"new entry '{key}' added"]
        if table.kind in _OBJECT_KEYS:
            if len(key) > _OBJECT_NAME_MAX:
                raise CliFail([f"value parse error before '{key}'", "Command fail. Return code -3"])
            known = key in self.device.objects(table.kind, table.vdom)
            entry = _ENTRY_OF[table.kind]
            self.stack.append(Frame(entry, key, table.vdom, key=key, new=not known))
            return [] if known else [f"new entry '{key}' added"]
        if not key.isdigit() or int(key) > _POLICY_ID_MAX:
            raise CliFail([f"value parse error before '{key}'", "Command fail. Return code -61"])
        policy_id = int(key) or self._next_id(table.vdom)
        existing = self.device.policy(table.vdom, policy_id)
        draft = existing or Policy(policy_id, {"uuid": [str(uuid.uuid4())]})
        self.stack.append(Frame("policy", str(policy_id), table.vdom, draft, new=not existing))
        return [] if existing else [f"new entry '{policy_id}' added"]

    def _next_id(self, vdom: str) -> int:
        with self.device._lock:
            return max((p.id for p in self.device.policies[vdom]), default=0) + 1

    def _exit(self, args: list[str]) -> list[str]:
        self.closed = True
        return []

    def _end(self, args: list[str]) -> list[str]:
        # In an entry, `end` applies it as `next` does, then leaves its table too.
        entries = ("policy", "interface", *_TABLE_OF)
        output = self._next([]) if self.frame.kind in entries else []
        if self.frame.kind in ("global", "vdoms", "vdom"):
            del self.stack[1:]  # `config global` / `config vdom` end at the top level
        else:
            self.stack.pop()
        return output

    def _next(self, args: list[str]) -> list[str]:
        frame = self.stack.pop()
        if frame.kind == "interface":
            return self._commit_interface(frame)
        if frame.kind in _TABLE_OF:
            table = _TABLE_OF[frame.kind]
            if frame.new and table == "addresses" and "subnet" not in frame.changes:
                return ["Attribute 'subnet' MUST be set.", "Command fail. Return code -56"]
            self.device.commit_object(table, frame.vdom, frame.key, frame.changes)
            return []
        assert frame.draft is not None
        missing = [key for key in _REQUIRED if not frame.draft.values.get(key)]
        if missing:
            return [f"Attribute '{missing[0]}' MUST be set.", "Command fail. Return code -56"]
        self.device.commit_policy(frame.vdom, frame.draft)
        return []

    def _abort(self, args: list[str]) -> list[str]:
        self.stack.pop()
        return []

    def _commit_interface(self, frame: Frame) -> list[str]:
        if frame.new:
            # A new interface needs a type and a parent; creating one is not emulated.
            return ["Attribute 'interface' MUST be set.", "Command fail. Return code -56"]
        for key, value in frame.changes.items():
            if key == "status":
                self.device.set_status(frame.key, value == "down")
            else:
                self.device.set_description(frame.key, value)
        return []

    # Inside a table or an entry.

    def _delete(self, args: list[str]) -> list[str]:
        policy_id = self._existing_id(args[0] if args else "")
        self.device.delete_policy(self.frame.vdom, policy_id)
        return []

    def _move(self, args: list[str]) -> list[str]:
        if len(args) != 3 or args[1] not in ("before", "after"):
            raise CliFail(_parse_error(args[1] if len(args) > 1 else "move"))
        moved, anchor = self._existing_id(args[0]), self._existing_id(args[2])
        if moved != anchor:
            self.device.move_policy(self.frame.vdom, moved, args[1], anchor)
        return []

    def _delete_object(self, args: list[str]) -> list[str]:
        name = args[0] if len(args) == 1 else ""
        if not self.device.delete_object(self.frame.kind, self.frame.vdom, name):
            raise CliFail(_not_found(name))
        return []

    def _existing_id(self, text: str) -> int:
        if not text.isdigit() or self.device.policy(self.frame.vdom, int(text)) is None:
            raise CliFail(_not_found(text))
        return int(text)

    def _set(self, args: list[str]) -> list[str]:
        if not args:
            raise CliFail(_parse_error("set"))
        key, values = args[0], args[1:]
        frame = self.frame
        if frame.kind in _TABLE_OF:
            frame.changes[key] = self._object_value(_TABLE_OF[frame.kind], key, values)
            return []
        if frame.kind == "interface":
            status = key == "status" and values in (["up"], ["down"])
            if status or (key == "description" and len(values) == 1):
                frame.changes[key] = values[0]
            else:
                raise CliFail(_parse_error(values[0] if values else key))
            return []
        assert frame.draft is not None
        frame.draft.values[key] = self._policy_value(key, values)
        return []

    @staticmethod
    def _object_value(table: str, key: str, values: list[str]) -> str:
        if key not in _OBJECT_KEYS[table]:
            raise CliFail(_parse_error(key))
        if key == "subnet":
            try:
                ipaddress.IPv4Network("/".join(values))
            except ValueError:
                raise CliFail(_parse_error(values[-1] if values else key)) from None
        elif key.endswith("-portrange"):
            if len(values) != 1 or not values[0].isdigit() or not 0 < int(values[0]) < 65536:
                raise CliFail(_parse_error(values[0] if values else key))
        elif len(values) != 1 or len(values[0]) > _COMMENTS_MAX:
            raise CliFail(
                [f"value parse error before '{values[-1]}'", "Command fail. Return code -3"]
            )
        return " ".join(values)

    def _policy_value(self, key: str, values: list[str]) -> list[str]:
        if not values:
            raise CliFail(_parse_error(key))
        vdom = self.frame.vdom
        if key in ("srcintf", "dstintf"):
            known = {i for i, v in self.device.vdom_of.items() if v == vdom} | {"any"}
            for value in values:
                if value not in known:
                    raise CliFail(_not_found(value))
        elif key in ("srcaddr", "dstaddr", "service", "schedule"):
            allowed = {"schedule": ("always",), "service": _SERVICES}.get(key, _ADDRESSES)
            table = {"srcaddr": "addresses", "dstaddr": "addresses", "service": "services"}
            if key in table:
                allowed = (*allowed, *self.device.objects(table[key], vdom))
            for value in values:
                if value not in allowed:
                    raise CliFail(_not_found(value))
        elif key in _CHOICES:
            if len(values) != 1 or values[0] not in _CHOICES[key]:
                raise CliFail(_parse_error(values[0]))
        elif key in ("name", "comments"):
            limit = _NAME_MAX if key == "name" else _COMMENTS_MAX
            if len(values) != 1 or len(values[0]) > limit:
                raise CliFail(
                    [f"value parse error before '{values[-1]}'", "Command fail. Return code -3"]
                )
        else:
            raise CliFail(_parse_error(key))
        return values

    def _unset(self, args: list[str]) -> list[str]:
        frame = self.frame
        key = args[0] if args else "unset"
        if frame.draft is not None and key in _SHOW_ORDER and key != "uuid":
            frame.draft.values.pop(key, None)
            return []
        if frame.kind == "interface" and key in ("status", "description"):
            frame.changes[key] = "up" if key == "status" else ""
            return []
        raise CliFail(_parse_error(key))

    def _set_console(self, args: list[str]) -> list[str]:
        if len(args) != 2 or args[0] != "output" or args[1] not in ("more", "standard"):
            raise CliFail(_parse_error(args[-1] if args else "set"))
        self.device.set_console_output(args[1])
        return []

    # `execute ping`.

    def _execute(self, args: list[str]) -> list[str]:
        if args[:1] == ["ping-options"] and args[1:] == ["reset"]:
            self.ping_count, self.ping_source = _PING_COUNT, None
            return []
        if args[:2] == ["ping-options", "repeat-count"] and len(args) == 3 and args[2].isdigit():
            self.ping_count = int(args[2])
            return []
        if args[:2] == ["ping-options", "source"] and len(args) == 3:
            try:
                ipaddress.IPv4Address(args[2])
            except ValueError:
                raise CliFail(_parse_error(args[2])) from None
            self.ping_source = args[2]
            return []
        if args[:1] == ["ping"] and len(args) == 2:
            return ping_layouts.answer(
                self.device,
                args[1],
                self.ping_source,
                self.ping_count,
                lambda echoes: ping_layouts.bsd(echoes, digits=1),
                lambda reason: [f"Unable to ping: {reason}", "Command fail. Return code -1"],
            )
        raise CliFail(_parse_error(args[-1] if args else "execute"))

    # Reading.

    def _get(self, args: list[str]) -> list[str]:
        path = " ".join(args)
        kind = self.frame.kind
        if path == "system status":
            return self.device.system_status()
        console_here = kind in ("global", "console") or (
            kind == "top" and not self.device.vdom_mode
        )
        if path == "system console" and console_here:
            return self.device.system_console()
        raise CliFail(_parse_error(args[-1] if args else "get"))

    def _show(self, args: list[str]) -> list[str]:
        if args[:1] == ["full-configuration"]:
            args = args[1:]
        path = " ".join(args)
        frame = self.frame
        device = self.device
        vdom_mode = device.vdom_mode
        global_level = frame.kind == "global" or (frame.kind == "top" and not vdom_mode)
        vdom_level = frame.kind == "vdom" or (frame.kind == "top" and not vdom_mode)
        if not path:
            shows: dict[str, Callable[[], list[str]]] = {
                "top": device.show_all,
                "global": device.show_global,
                "vdom": lambda: device.show_policies(frame.vdom),
                "policies": lambda: device.show_policies(frame.vdom),
                "interfaces": device.show_interfaces,
                "console": device.show_console,
            }
            if frame.kind in shows:
                return shows[frame.kind]()
        elif path == "system interface" and global_level:
            return device.show_interfaces()
        elif path == "system console" and global_level:
            return device.show_console()
        elif path == "firewall policy" and vdom_level:
            return device.show_policies(frame.vdom)
        raise CliFail(_parse_error(args[-1] if args else "show"))


def _pick(
    handlers: dict[str, Callable[[list[str]], list[str]]], verb: str
) -> Callable[[list[str]], list[str]] | None:
    """The handler a verb names, in full or by an unambiguous prefix (`sh`, `conf`)."""
    if verb in handlers:
        return handlers[verb]
    found = [name for name in handlers if name.startswith(verb)]
    return handlers[found[0]] if len(found) == 1 else None
