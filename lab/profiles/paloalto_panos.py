"""The Palo Alto PAN-OS profile of the emulator: what netmiko's `paloalto_panos` driver, and so
isolement's PaloAltoPanosDriver, see of a single-vsys firewall.

- operational mode `admin@NAME> ` and configuration mode, entered with `configure` (`Entering
  configuration mode`) and left with `exit` (`Exiting configuration mode`), whose prompt follows
  a blank line and `[edit]`, as PAN-OS prints them;
- until `set cli scripting-mode on`, each line is repainted after the prompt as PAN-OS's
  interactive CLI does (netmiko's login waits for `> ...mode on` on one line); `set cli pager`,
  `set cli terminal width`, `set cli config-output-format`, and `show system info` (netmiko reads
  it to `operational-mode`) answered in the recorded layout;
- a candidate configuration, the device's own (every session sees it; it outlives the session
  that changed it, as on PAN-OS): `set|move|delete rulebase security rules ...` change it, `check
  pending-changes` says whether it differs from the running one, `show config candidate` prints
  it in the layout of `show config running`, `revert config` drops it, and
  `commit` validates it (zones named by rules must exist), takes a second or so with the job's
  progress line, and only then puts it in effect;
- `show interface all`, `show running security-policy` (the rules in effect, in order, then the
  two default rules) and `show config running` (XML, with the `admin`/`dirtyId`/`time` stamps
  PAN-OS puts on changed nodes) in PAN-OS's layout;
- PAN-OS's refusals: `Unknown command: WORD` for a command it does not have, `Invalid syntax.`
  for one it has with arguments it cannot take, and a commit's `Validation Error:` lines then
  `Commit failed`. The two first wordings are PAN-OS's; the exact text of a refused `move` or
  `delete` of a rule that does not exist was not found in a recording and is `Invalid syntax.`.

Options (`DeviceSpec.options`): `zones` (interface -> zone, each layer-3 interface in its zone),
`permits` (pairs of interfaces: an allow rule from the first one's zone to the second one's,
already in place), `commit_seconds` (how long a commit takes, 1.2 s by default),
`panorama_pre_rules` (a list of `{name, from, to, action}`, zones or `any`: rules a Panorama
pushed, evaluated and listed before the local rulebase) and `panorama` (answer `show
panorama-status` as managed and connected; on by default when pre-rules are given).

The data plane: an interface is blocked when, for traffic leaving its zone to every other zone
and entering it from every other zone, the first running rule that matches is a deny naming its
zone; a deny placed after a permit that matches first does not block. Only a rule for all
traffic between its zones (source, destination, application and service `any`, or service
`application-default`) decides that; an allow rule for chosen sources, destinations and
services (`set service NAME protocol tcp|udp port N`, or the `icmp` / `ping` applications)
placed above the deny that blocks a zone is a bubble (`bubbles()`): those flows pass.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import shlex
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from xml.sax.saxutils import escape, quoteattr

import paramiko

from ..device import Bubble, DeviceSpec, EmulatedDevice, InterfaceSpec
from . import ping_layouts

INVALID = "Invalid syntax."
COMMITTED = "Configuration committed successfully"
USER = "admin"  # the account the prompt shows; the emulator authenticates by key only
# Layer-3 interface names PAN-OS gives: ports, aggregates, their subinterfaces, and the
# logical interfaces (`tunnel.1`, `loopback.2`, `vlan.10`).
_INTERFACE = re.compile(r"(?:ethernet\d+/\d+|ae\d+)(?:\.\d+)?|(?:tunnel|loopback|vlan)(?:\.\d+)?")
_RULE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9 _.-]{0,62}")
_ACTIONS = ("allow", "deny", "drop", "reset-client", "reset-server", "reset-both")
_LISTS = ("from", "to", "source", "destination", "application", "service", "source-user")
_SINGLE = ("action", "description", "disabled", "log-start", "log-end")
_OTHER_ZONE = "\x00other"  # a zone no interface of the device is in, for `any` to match


@dataclass(frozen=True)
class Rule:
    name: str
    from_zones: tuple[str, ...] = ()
    to_zones: tuple[str, ...] = ()
    lists: tuple[tuple[str, tuple[str, ...]], ...] = ()  # source, destination, ...
    action: str = ""
    description: str = ""

    def whole(self) -> bool:
        """Whether the rule matches all traffic between its zones (no address, application or
        service chosen)."""
        lists = dict(self.lists)
        return all(
            lists.get(key, ("any",)) in (("any",), ("application-default",))
            for key in ("source", "destination", "application", "service")
        )

    def matches(self, source: str, destination: str) -> bool:
        return (
            self.whole()
            and ("any" in self.from_zones or source in self.from_zones)
            and ("any" in self.to_zones or destination in self.to_zones)
        )

    def summary(self) -> dict[str, object]:
        return {
            "name": self.name,
            "from": list(self.from_zones),
            "to": list(self.to_zones),
            "action": self.action,
        }


class PanosDevice(EmulatedDevice):
    platform = "paloalto_panos"

    def __init__(self, spec: DeviceSpec, host_key: paramiko.PKey) -> None:
        super().__init__(spec, host_key)
        zones = spec.options.get("zones", {})
        if not isinstance(zones, dict) or not set(zones) <= set(self._interfaces):
            raise ValueError(f"{spec.name}: zones must map interfaces of the device to zones")
        self._zones: dict[str, str] = {str(k): str(v) for k, v in zones.items()}
        self.commit_seconds = float(str(spec.options.get("commit_seconds", 1.2)))
        permits = spec.options.get("permits", [])
        if not isinstance(permits, list) or not all(
            isinstance(p, list | tuple) and len(p) == 2 and set(p) <= set(self._zones)
            for p in permits
        ):
            raise ValueError(f"{spec.name}: permits are pairs of interfaces that are in zones")
        running: list[Rule] = []
        for pair in permits:
            source, destination = (self._zones[str(i)] for i in pair)
            running.append(
                Rule(
                    f"{source}-to-{destination}",
                    (source,),
                    (destination,),
                    _ANY_LISTS,
                    "allow",
                )
            )
        self._running = running
        self._candidate = list(running)
        # Service objects: name -> (protocol, port or range), candidate and running.
        self._running_services: dict[str, tuple[str, str]] = {}
        self._candidate_services: dict[str, tuple[str, str]] = {}
        # Rules a Panorama pushed to the pre-rulebase: evaluated before the local rulebase,
        # listed first in `show running security-policy`, never changed by local lines.
        pre = spec.options.get("panorama_pre_rules", [])
        if not isinstance(pre, list) or not all(
            isinstance(r, dict) and {"name", "from", "to", "action"} <= set(r) for r in pre
        ):
            raise ValueError(f"{spec.name}: panorama_pre_rules are {{name, from, to, action}}")
        self._pre_rules = [
            Rule(str(r["name"]), (str(r["from"]),), (str(r["to"]),), _ANY_LISTS, str(r["action"]))
            for r in pre
        ]
        self._panorama = bool(spec.options.get("panorama", bool(pre)))
        self._jobs = 0
        self._stamp = ""  # the dirtyId/time stamp of the last commit that changed the rules
        self._commit_lock = threading.Lock()  # PAN-OS runs one commit job at a time

    @classmethod
    def check_interface_name(cls, name: str) -> None:
        if not _INTERFACE.fullmatch(name):
            raise ValueError(f"{name!r} is not a PAN-OS layer-3 interface name (ethernet1/1)")

    @classmethod
    def sample(cls, name: str) -> DeviceSpec:
        return DeviceSpec(
            name,
            [
                InterfaceSpec("ethernet1/1", address="198.18.0.1/30"),
                InterfaceSpec("ethernet1/2", address="198.18.0.5/30"),
                InterfaceSpec("ethernet1/3", shutdown=True),
            ],
            platform=cls.platform,
            options={
                "zones": {"ethernet1/1": "untrust", "ethernet1/2": "trust", "ethernet1/3": "dmz"},
                "permits": [["ethernet1/2", "ethernet1/1"]],
            },
        )

    def cli(self) -> PanosCli:
        return PanosCli(self)

    # State.

    def blocked_interfaces(self) -> frozenset[str]:
        with self._lock:
            rules, zones = [*self._pre_rules, *self._running], dict(self._zones)

        def denied_on(zone: str, source: str, destination: str) -> bool:
            """Whether the first running rule this traffic matches is a deny naming `zone`."""
            first = next((r for r in rules if r.matches(source, destination)), None)
            if first is None or first.action == "allow":
                return False
            return zone in (first.from_zones if source == zone else first.to_zones)

        others = set(zones.values()) | {_OTHER_ZONE}
        return frozenset(
            interface
            for interface, zone in zones.items()
            if all(
                denied_on(zone, zone, other) and denied_on(zone, other, zone)
                for other in others - {zone}
            )
        )

    def extra_state(self) -> dict[str, object]:
        with self._lock:
            return {
                "zones": dict(self._zones),
                "security_rules": [r.summary() for r in self._running],
                "pending_changes": self._differs(),
                # What the lab's tests read to see uncommitted lines (state.json).
                "candidate_rules": [r.summary() for r in self._candidate],
            }

    def persistent(self) -> dict[str, object]:
        return {
            **super().persistent(),
            "rules": (list(self._running), dict(self._running_services), self._stamp),
        }

    def reload(self, saved: dict[str, object]) -> None:
        # What was committed comes back; an uncommitted candidate does not survive a reboot.
        super().reload(saved)
        rules = saved["rules"]
        assert isinstance(rules, tuple)
        running, services, self._stamp = rules
        self._running, self._running_services = list(running), dict(services)
        self._candidate, self._candidate_services = list(running), dict(services)

    def pending(self) -> bool:
        with self._lock:
            return self._differs()

    def _differs(self) -> bool:
        return (self._candidate, self._candidate_services) != (
            self._running,
            self._running_services,
        )

    def bubbles(self) -> tuple[Bubble, ...]:
        """Each allow rule for chosen flows through a blocked interface's zone, evaluated
        before the rule that blocks it, as flows."""
        blocked = self.blocked_interfaces()
        with self._lock:
            rules, zones = [*self._pre_rules, *self._running], dict(self._zones)
            services = dict(self._running_services)
        found: list[Bubble] = []
        for interface in sorted(blocked):
            zone = zones[interface]
            for rule in rules:
                if zone not in rule.from_zones + rule.to_zones:
                    continue
                if rule.whole():
                    break  # the deny that blocks it: what comes after is never reached
                if rule.action == "allow":
                    found += _flows(interface, rule, services)
        return tuple(dict.fromkeys(found))

    def set_service(self, name: str, words: Sequence[str]) -> list[str]:
        if len(words) != 4 or words[0] != "protocol" or words[1] not in ("tcp", "udp"):
            return [INVALID]
        if words[2] != "port" or not re.fullmatch(r"\d{1,5}(?:-\d{1,5})?", words[3]):
            return [INVALID]
        with self._lock:
            self._candidate_services[name] = (words[1], words[3])
            self._config_changes += 1
        self._changed()
        return []

    def delete_service(self, name: str) -> list[str]:
        with self._lock:
            if self._candidate_services.pop(name, None) is None:
                return [INVALID]
            self._config_changes += 1
        self._changed()
        return []

    # The candidate configuration.

    def set_rule(self, name: str, words: Sequence[str]) -> list[str]:
        zones: dict[str, tuple[str, ...]] = {}
        text: dict[str, str] = {}
        lists: dict[str, tuple[str, ...]] = {}
        i = 0
        while i < len(words):
            key = words[i]
            if key not in _LISTS + _SINGLE or i + 1 >= len(words):
                return [INVALID]
            if words[i + 1] == "[":
                if "]" not in words[i + 2 :]:
                    return [INVALID]
                end = words.index("]", i + 2)
                values, i = tuple(words[i + 2 : end]), end + 1
            else:
                values, i = (words[i + 1],), i + 2
            if not values or (key in _SINGLE and len(values) != 1):
                return [INVALID]
            if key == "action" and values[0] not in _ACTIONS:
                return [INVALID]
            if key in ("from", "to"):
                zones[key] = values
            elif key in ("action", "description"):
                text[key] = values[0]
            elif key in _LISTS:
                lists[key] = values
        with self._lock:
            rules = self._candidate
            index = next((n for n, r in enumerate(rules) if r.name == name), None)
            rule = rules[index] if index is not None else Rule(name)
            rule = Rule(
                name,
                zones.get("from", rule.from_zones),
                zones.get("to", rule.to_zones),
                tuple(sorted((dict(rule.lists) | lists).items())),
                text.get("action", rule.action),
                text.get("description", rule.description),
            )
            if index is None:
                rules.append(rule)
            else:
                rules[index] = rule
            self._config_changes += 1
        self._changed()
        return []

    def move_rule(self, name: str, where: Sequence[str]) -> list[str]:
        with self._lock:
            rules = self._candidate
            rule = next((r for r in rules if r.name == name), None)
            if rule is None or not where:
                return [INVALID]
            rest = [r for r in rules if r.name != name]
            if list(where) == ["top"]:
                at = 0
            elif list(where) == ["bottom"]:
                at = len(rest)
            elif len(where) == 2 and where[0] in ("before", "after"):
                anchor = next((n for n, r in enumerate(rest) if r.name == where[1]), None)
                if anchor is None:
                    return [INVALID]
                at = anchor + (where[0] == "after")
            else:
                return [INVALID]
            rest.insert(at, rule)
            self._candidate = rest
            self._config_changes += 1
        self._changed()
        return []

    def delete_rule(self, name: str) -> list[str]:
        with self._lock:
            rules = self._candidate
            if not any(r.name == name for r in rules):
                return [INVALID]
            self._candidate = [r for r in rules if r.name != name]
            self._config_changes += 1
        self._changed()
        return []

    def revert(self) -> list[str]:
        with self._lock:
            self._candidate = list(self._running)
            self._candidate_services = dict(self._running_services)
        self._changed()
        return []

    def commit(self) -> list[str]:
        with self._commit_lock:
            with self._lock:
                if not self._differs():
                    return ["There are no changes to commit."]
                self._jobs += 1
                job = self._jobs
                candidate = list(self._candidate)
                candidate_services = dict(self._candidate_services)
                errors = self._validate(candidate, candidate_services)
            head = ["", f"Commit job {job} is in progress. Use Ctrl+C to return to command prompt"]
            # A commit job takes its time on PAN-OS; this one takes a little of it.
            time.sleep(self.commit_seconds / (2 if errors else 1))
            if errors:
                return [*head, "..55%.", "Validation Error:", *errors, "Commit failed"]
            with self._lock:
                self._running = candidate
                self._running_services = candidate_services
                self._stamp = f'admin="{USER}" dirtyId="{job}" time="{_now()}"'
                self.save()  # a commit persists: a reboot starts from the committed config
            self._changed()
            return [*head, "....55%.....75%.....98%.......100%", COMMITTED]

    def _validate(self, rules: Sequence[Rule], services: Mapping[str, object]) -> list[str]:
        known = set(self._zones.values()) | {"any"}
        errors: list[str] = []
        for rule in rules:
            where = f" rulebase -> security -> rules -> {rule.name}"
            errors += [
                f"{where} -> service '{name}' is not a valid reference"
                for name in dict(rule.lists).get("service", ())
                if name not in services and name not in ("any", "application-default")
            ]
            for key, zones in (("from", rule.from_zones), ("to", rule.to_zones)):
                if not zones:
                    errors.append(f"{where}  is missing '{key}'")
                errors += [
                    f"{where} -> {key} '{z}' is not a valid reference"
                    for z in zones
                    if z not in known
                ]
            if not rule.action:
                errors.append(f"{where}  is missing 'action'")
        return [*errors, " rulebase -> security -> rules is invalid"] if errors else []

    # What the CLI prints.

    def show_system_info(self) -> list[str]:
        # The recorded layout (tests/data/paloalto_panos/show_system_info.raw), a 10.1 PA-VM.
        fields = {
            "hostname": self.name,
            "ip-address": "198.19.255.10",
            "netmask": "255.255.255.0",
            "default-gateway": "198.19.255.1",
            "ipv6-address": "unknown",
            "mac-address": "00:1b:17:00:00:01",
            "time": time.strftime("%a %b %d %H:%M:%S %Y"),
            "family": "vm",
            "model": "PA-VM",
            "serial": "unknown",
            "sw-version": "10.1.9",
            "app-version": "8700-7709",
            "url-db": "paloaltonetworks",
            "platform-family": "vm",
            "vpn-disable-mode": "off",
            "multi-vsys": "off",
            "operational-mode": "normal",
        }
        return [f"{key}: {value}" for key, value in fields.items()] + [""]

    def show_interface_all(self) -> list[str]:
        with self._lock:
            interfaces = list(self._interfaces.values())
            zones = dict(self._zones)
        ports = [i for i in interfaces if "." not in i.name]
        lines = [
            f"total configured hardware interfaces: {len(ports)}",
            "name                    id    speed/duplex/state/fec        mac address",
            "-" * 80,
        ]
        for i in ports:
            if i.shutdown:
                state = "ukn/ukn/down((power-down))/ukn"
            elif i.link_up:
                state = "1000/full/up/auto"
            else:
                state = "ukn/ukn/down((autoneg))/ukn"
            lines.append(f"{i.name:<23} {_id(i.name):<5} {state:<29} {_mac(i.name)}")
        lines += [
            "",
            "aggregation groups: 0",
            "",
            "",
            f"total configured logical interfaces: {len(interfaces)}",
            "",
            "name                      id    vsys zone             forwarding               "
            "tag    address",
            "",
            "------------------- ----- ---- ---------------- ------------------------ ------ "
            "------------------",
        ]
        for i in interfaces:
            zone = zones.get(i.name, "")
            forwarding = "vr:default" if zone or i.address else "N/A"
            tag = i.name.split(".")[1] if "." in i.name else "0"
            address = str(i.address) if i.address else "N/A"
            lines.append(
                f"{i.name:<25} {_id(i.name):<5} 1    {zone:<16} {forwarding:<24} {tag:<6} {address}"
            )
        return lines

    def show_running_security_policy(self) -> list[str]:
        with self._lock:
            rules = [*self._pre_rules, *self._running]
        lines: list[str] = []
        defaults = [
            Rule("intrazone-default", ("any",), ("any",), (), "allow"),
            Rule("interzone-default", ("any",), ("any",), (), "deny"),
        ]
        for index, rule in enumerate([*rules, *defaults], start=1):
            lists = dict(rule.lists)
            lines += [
                f'"{rule.name}; index: {index}" {{',
                f"        from {_members(rule.from_zones)};",
                f"        source {_members(lists.get('source', ('any',)))};",
                "        source-region none;",
                f"        to {_members(rule.to_zones)};",
                f"        destination {_members(lists.get('destination', ('any',)))};",
                "        destination-region none;",
                "        category any;",
                "        application/service  0:any/any/any/any;",
                f"        action {rule.action};",
                "        icmp-unreachable: no",
                "        terminal yes;",
            ]
            if rule in defaults:
                lines.append(f"        type {rule.name.split('-')[0]};")
            lines += ["}", ""]
        return lines

    def show_panorama_status(self) -> list[str]:
        # The layout of tests/data/paloalto_panos/show_panorama-status.txt; nothing when no
        # Panorama is configured.
        if not self._panorama:
            return []
        return [
            "Panorama Server 1 : 198.18.255.1",
            "    Connected     : yes",
            "    HA state      : Unknown",
        ]

    def show_config_running(self, candidate: bool = False) -> list[str]:
        """`show config running`, or with `candidate` `show config candidate`, whose changed
        rulebase PAN-OS stamps with who changed it and when."""
        with self._lock:
            interfaces = list(self._interfaces.values())
            zones = dict(self._zones)
            rules = list(self._candidate if candidate else self._running)
            services = dict(self._candidate_services if candidate else self._running_services)
            stamp = f" {self._stamp}" if self._stamp else ""
            if candidate and self._differs():
                stamp = f' admin="{USER}" dirtyId="{self._jobs + 1}" time="{_now()}"'

        out = ['<config version="10.1.0" urldb="paloaltonetworks" detail-version="10.1.9">']
        out += [
            "  <mgt-config>",
            "    <users>",
            f'      <entry name="{USER}">',
            "        <phash>*****</phash>",
            "        <permissions><role-based><superuser>yes</superuser></role-based>"
            "</permissions>",
            "      </entry>",
            "    </users>",
            "  </mgt-config>",
            "  <devices>",
            '    <entry name="localhost.localdomain">',
            "      <network>",
            "        <interface>",
            "          <ethernet>",
        ]
        for i in interfaces:
            out.append(f"            <entry name={quoteattr(i.name)}>")
            if i.address:
                out.append(f'              <layer3><ip><entry name="{i.address}"/></ip></layer3>')
            if i.shutdown:
                out.append("              <link-state>down</link-state>")
            if i.description:
                out.append(f"              <comment>{escape(i.description)}</comment>")
            out.append("            </entry>")
        out += [
            "          </ethernet>",
            "        </interface>",
            "      </network>",
            f"      <deviceconfig><system><hostname>{self.name}</hostname></system></deviceconfig>",
            "      <vsys>",
            '        <entry name="vsys1">',
            "          <zone>",
        ]
        for zone in sorted(set(zones.values())):
            members = "".join(f"<member>{i}</member>" for i, z in zones.items() if z == zone)
            out.append(
                f"            <entry name={quoteattr(zone)}><network><layer3>{members}</layer3>"
                "</network></entry>"
            )
        out.append("          </zone>")
        if services:
            out.append("          <service>")
            for name, (protocol, port) in services.items():
                out.append(
                    f"            <entry name={quoteattr(name)}><protocol><{protocol}><port>"
                    f"{port}</port></{protocol}></protocol></entry>"
                )
            out.append("          </service>")
        out += ["          <rulebase>", "            <security>"]
        out.append(f"              <rules{stamp}>")
        for rule in rules:
            rule_id = uuid.uuid5(uuid.NAMESPACE_DNS, f"{self.name}/{rule.name}")
            out.append(f'                <entry name={quoteattr(rule.name)} uuid="{rule_id}">')
            for key, values in (("from", rule.from_zones), ("to", rule.to_zones), *rule.lists):
                members = "".join(f"<member>{escape(v)}</member>" for v in values)
                out.append(f"                  <{key}>{members}</{key}>")
            out.append(f"                  <action>{rule.action}</action>")
            if rule.description:
                out.append(
                    f"                  <description>{escape(rule.description)}</description>"
                )
            out.append("                </entry>")
        out += [
            "              </rules>",
            "            </security>",
            "          </rulebase>",
            "        </entry>",
            "      </vsys>",
            "    </entry>",
            "  </devices>",
            "</config>",
        ]
        return out


_ANY_LISTS = (
    ("application", ("any",)),
    ("destination", ("any",)),
    ("service", ("application-default",)),
    ("source", ("any",)),
    ("source-user", ("any",)),
)


def _flows(interface: str, rule: Rule, services: Mapping[str, tuple[str, str]]) -> list[Bubble]:
    """The flows of an allow rule for chosen traffic: its sources x destinations x services
    (or ICMP, for the `icmp` / `ping` applications with service `any`)."""
    lists = dict(rule.lists)
    kinds: list[tuple[str, int | None]] = []
    for name in lists.get("service", ()):
        if name in services:
            protocol, port = services[name]
            kinds.append((protocol, int(port) if port.isdigit() else None))
    if not kinds and {"icmp", "ping"} & set(lists.get("application", ())):
        kinds.append(("icmp", None))
    return [
        Bubble(interface, protocol, _network(source), _network(destination), port)
        for source in lists.get("source", ("any",))
        for destination in lists.get("destination", ("any",))
        for protocol, port in kinds
    ]


def _network(member: str) -> str:
    return "0.0.0.0/0" if member == "any" else str(ipaddress.IPv4Network(member))


def _id(name: str) -> int:
    port = re.fullmatch(r"ethernet(\d+)/(\d+)", name)
    if port:
        return 15 + (int(port.group(1)) - 1) * 64 + int(port.group(2))
    if name.startswith("ae") and "." not in name:
        return 63 + int(name[2:])
    base = {"vlan": 1, "loopback": 3, "tunnel": 4}.get(name)
    if base is not None:
        return base
    return 256 + int(hashlib.sha256(name.encode()).hexdigest()[:4], 16) % 4096


def _mac(name: str) -> str:
    value = _id(name)
    return f"00:1b:17:00:{value >> 8 & 0xFF:02x}:{value & 0xFF:02x}"


def _members(values: Sequence[str]) -> str:
    return values[0] if len(values) == 1 else f"[ {' '.join(values)} ]"


def _now() -> str:
    return time.strftime("%Y/%m/%d %H:%M:%S")


# --- the CLI ---------------------------------------------------------------------------------


class Mode(Enum):
    OPERATIONAL = "operational"
    CONFIGURE = "configure"


class PanosCli:
    """One session's command interpreter. No I/O: `execute` returns what PAN-OS prints."""

    def __init__(self, device: PanosDevice):
        self.device = device
        self.mode = Mode.OPERATIONAL
        self.scripting = False
        self.closed = False
        self._just_entered = False  # `configure` prints `[edit]` with no blank line before

    def prompt(self) -> str:
        name = f"{USER}@{self.device.name}"
        if self.mode is Mode.OPERATIONAL:
            return f"{name}> "
        lead = "" if self._just_entered else "\r\n"
        self._just_entered = False
        return f"{lead}[edit]\r\n{name}# "

    @property
    def configuring(self) -> bool:
        return self.mode is Mode.CONFIGURE

    def invalid(self, line: str) -> list[str]:
        return [INVALID]

    def ctrl_z(self) -> None:
        """PAN-OS gives Ctrl-Z no meaning; the line typed so far is dropped."""

    def execute(self, line: str) -> list[str]:
        try:
            words = shlex.split(line)
        except ValueError:  # an unbalanced quote
            return [INVALID]
        if not words:
            return []
        if self.mode is Mode.CONFIGURE:
            return self._configure_line(words)
        # Out of scripting mode, the interactive CLI repaints the prompt and the whole line once
        # it is complete (`set cli scripting-mode on` included: netmiko waits for that repaint).
        repaint = [] if self.scripting else [f"{USER}@{self.device.name}> {line}"]
        return [*repaint, *self._operational(words)]

    def _operational(self, words: list[str]) -> list[str]:
        handler = _OPERATIONAL.get(" ".join(words))
        if handler is not None:
            return handler(self)
        if words[0] == "ping":
            return self._ping(words[1:])
        if words[:2] == ["set", "cli"] and len(words) >= 4:
            return self._set_cli(words[2:])
        return _refusal(words, _OPERATIONAL_WORDS)

    def _ping(self, words: list[str]) -> list[str]:
        """`ping [source A] count N host X`, answered by a real ping (PAN-OS's management
        plane ping is Linux iputils, whose layout it prints)."""
        options = dict(zip(words[::2], words[1::2], strict=False))
        if len(words) % 2 or "host" not in options or not options.get("count", "1").isdigit():
            return [INVALID]
        return ping_layouts.answer(
            self.device,
            options["host"],
            options.get("source"),
            int(options.get("count", "5")),
            ping_layouts.iputils,
            lambda reason: [f"ping: {reason}"],
        )

    def _set_cli(self, words: list[str]) -> list[str]:
        setting, value = words[0], " ".join(words[1:])
        if setting == "scripting-mode" and value in ("on", "off"):
            self.scripting = value == "on"
        elif setting == "pager" and value in ("on", "off"):
            pass  # nothing here is long enough to page
        elif setting in ("terminal", "config-output-format") and value:
            pass
        else:
            return [INVALID]
        return []

    def _configure_line(self, words: list[str]) -> list[str]:
        if words[1:2] == ["service"] and len(words) > 2 and words[0] in ("set", "delete"):
            return self._service_line(words[0], words[2], words[3:])
        on_rule = _RULE_COMMANDS.get(" ".join(words[:4]))
        if on_rule is not None and len(words) > 4:
            return on_rule(self, words[4:])
        handler = _CONFIGURE.get(" ".join(words))
        if handler is not None:
            return handler(self)
        if words[0] == "run" and len(words) > 1:
            return self._operational(words[1:])
        return _refusal(words, _CONFIGURE_WORDS)

    # Configuration commands.

    def _service_line(self, verb: str, name: str, rest: list[str]) -> list[str]:
        if not _RULE_NAME.fullmatch(name) or (verb == "delete" and rest):
            return [INVALID]
        if verb == "set":
            return self.device.set_service(name, rest)
        return self.device.delete_service(name)

    def _set_rule(self, words: list[str]) -> list[str]:
        if not _RULE_NAME.fullmatch(words[0]):
            return [INVALID]
        return self.device.set_rule(words[0], words[1:])

    def _move_rule(self, words: list[str]) -> list[str]:
        return self.device.move_rule(words[0], words[1:])

    def _delete_rule(self, words: list[str]) -> list[str]:
        return self.device.delete_rule(words[0]) if len(words) == 1 else [INVALID]

    def _commit(self) -> list[str]:
        return self.device.commit()

    def _revert(self) -> list[str]:
        return self.device.revert()

    def _exit_configure(self) -> list[str]:
        self.mode = Mode.OPERATIONAL
        return ["Exiting configuration mode"]

    # Operational commands.

    def _configure(self) -> list[str]:
        self.mode = Mode.CONFIGURE
        self._just_entered = True
        return ["Entering configuration mode"]

    def _close(self) -> list[str]:
        self.closed = True
        return []

    def _pending(self) -> list[str]:
        return ["yes" if self.device.pending() else "no"]

    def _system_info(self) -> list[str]:
        return self.device.show_system_info()

    def _interface_all(self) -> list[str]:
        return self.device.show_interface_all()

    def _security_policy(self) -> list[str]:
        return self.device.show_running_security_policy()

    def _panorama_status(self) -> list[str]:
        return self.device.show_panorama_status()

    def _config_running(self) -> list[str]:
        return self.device.show_config_running()

    def _config_candidate(self) -> list[str]:
        return self.device.show_config_running(candidate=True)


def _refusal(words: list[str], known: frozenset[str]) -> list[str]:
    return [INVALID] if words[0] in known else [f"Unknown command: {words[0]}"]


_OPERATIONAL: dict[str, Callable[[PanosCli], list[str]]] = {
    "configure": PanosCli._configure,
    "exit": PanosCli._close,
    "quit": PanosCli._close,
    "check pending-changes": PanosCli._pending,
    "show system info": PanosCli._system_info,
    "show interface all": PanosCli._interface_all,
    "show running security-policy": PanosCli._security_policy,
    "show panorama-status": PanosCli._panorama_status,
    "show config running": PanosCli._config_running,
    "show config candidate": PanosCli._config_candidate,
}
_RULE_COMMANDS: dict[str, Callable[[PanosCli, list[str]], list[str]]] = {
    "set rulebase security rules": PanosCli._set_rule,
    "move rulebase security rules": PanosCli._move_rule,
    "delete rulebase security rules": PanosCli._delete_rule,
}
_CONFIGURE: dict[str, Callable[[PanosCli], list[str]]] = {
    "commit": PanosCli._commit,
    "revert config": PanosCli._revert,
    "check pending-changes": PanosCli._pending,
    "exit": PanosCli._exit_configure,
    "quit": PanosCli._exit_configure,
}
# First words PAN-OS knows, in each mode: anything else is `Unknown command`.
_OPERATIONAL_WORDS = frozenset(
    {"check", "clear", "configure", "debug", "exit", "ping", "quit", "request", "set", "show"}
)
_CONFIGURE_WORDS = frozenset(
    {"check", "commit", "delete", "edit", "exit", "move", "quit", "revert", "run", "set", "show"}
)
