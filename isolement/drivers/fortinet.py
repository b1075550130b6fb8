"""FortiOS (FortiGate): cut by deny policies placed first, or by `set status down`.

A FortiGate is a firewall first: the usual cut (`deny`, preferred) adds two deny policies for the
link's interface, `srcintf X dstintf any` and `srcintf any dstintf X`, and moves them before the
first policy of the interface's VDOM, so they win over every permit already there; the
interfaces stay up, so the firewall itself stays manageable through them. `shutdown` sets the
interface `status down` (in `config global` when VDOMs are on) and back to `up` on restore.

The policies isolement owns carry `set comments "isolement <interface> <link>"` (read back to
find them) and a name `isolement-<hash>-from|to` (FortiOS names are at most 35 characters); their
ids are derived from the interface and link in a reserved range (1000000000 and up) and moved
past any id already in use, so the same cut renders the same commands. The policy to move
before comes from the state read (`FortinetState.policies`); rendered without one (an offline
plan), the deny policies are shown as an intent, resolved when the device is read. Restore deletes
exactly those ids, in the interface's VDOM, and nothing else.

State is read from one `show` at the top level: without VDOMs it holds `config system
interface` and `config firewall policy`; with VDOMs (`config vdom` / `config global` sections,
as in a backup) each interface's `set vdom` says where its policies live, read into
`DeviceState.contexts`. The same `show` holds `config system central-management`: `set type
fortimanager` is a FortiGate a FortiManager manages (the `managed_by` fact), whose policy
package install may overwrite a local cut. FortiOS applies a table entry on `next` / `end`:
there is no separate commit, so `commits` stays False. Every change answers errors as text
(`Command fail. Return code -61`, `entry not found in datasource`, ...), matched by
`error_patterns`.

NAPALM: it has no FortiOS driver of its own, only community ones. The historical
napalm-fortios (over pyFG, SSH) has not installed on a current Python for years; the newer
ones (napalm-fortigate, orange-cloudfoundry/napalm-fortios) use the REST API and an API token.
This tool speaks CLI over SSH through netmiko's own `fortinet` driver, and its lab emulator is
an SSH CLI; a REST driver would add a second transport and credential for no capability
isolement lacks (FortiOS has no candidate configuration to compare or roll back), so NAPALM
is not used.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address

from pydantic import Field

from isolement.drivers.base import (
    AllowTarget,
    CutTarget,
    Driver,
    Flow,
    PingReply,
    Session,
    parse_bsd_ping,
)
from isolement.drivers.platform import Platform
from isolement.model.errors import UnexpectedOutput
from isolement.model.state import CutMethod, DeviceState

# The comment and name prefix of every policy isolement adds.
TAG = "isolement"
# The comment of a bubble's policies and objects: `isolement-allow <interface> <stage> <link>`.
ALLOW_TAG = "isolement-allow"
# Reserved policy ids: far above what the GUI allocates (1, 2, 3...), below FortiOS's maximum.
ID_BASE = 1_000_000_000
_SLOTS = 100_000_000
# The key of `FortinetState.policies` when VDOMs are off: one policy table for the device.
NO_VDOM = ""

# FortiOS answers a refused line with one of these; the first two carry a return code.
_ERRORS = (
    re.compile(r"^Command fail\..*$", re.MULTILINE),
    re.compile(r"^command parse error before .*$", re.MULTILINE),
    re.compile(r"^value parse error before .*$", re.MULTILINE),
    re.compile(r"^entry not found in datasource.*$", re.MULTILINE | re.IGNORECASE),
    re.compile(r"^node_check_object fail!.*$", re.MULTILINE),
    re.compile(r"^Attribute '[^']+' MUST be set\..*$", re.MULTILINE),
    re.compile(r"^'[^']+' is reserved and cannot be edited directly.*$", re.MULTILINE),
    re.compile(r"^Unknown action \d+.*$", re.MULTILINE),
)
_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|(\S+)')


class FortinetState(DeviceState):
    """DeviceState plus what a cut needs to put its policies first: each VDOM's policy ids in
    sequence order (the first is the one to move before; the others are ids already taken)."""

    policies: dict[str, list[str]] = Field(default_factory=dict)


FACTS = Platform(
    name="fortinet",
    netmiko_device_type="fortinet",
    methods=frozenset({CutMethod.DENY, CutMethod.SHUTDOWN}),
    preferred_method=CutMethod.DENY,
    snapshot_command="show",
    error_patterns=_ERRORS,
    # `#conf_file_ver=` changes on every saved change, even one undone since: an exact
    # restore must still compare equal, so the line is left out.
    volatile_lines=(re.compile(r"^#conf_file_ver="),),
    # FortiOS writes each configuration change to flash as it ends (`cfg-save automatic`, the
    # default); a device set to `cfg-save manual` or `revert` is not detected yet.
    can_allow=True,
    persistence="auto",
    persistence_note="FortiOS saves each change itself (cfg-save automatic, the default)",
)


class FortinetDriver(Driver):
    facts = FACTS

    # --- device-sourced probes: `execute ping-options ...`, then `execute ping X`

    def ping_command(
        self, to: IPv4Address, *, source: str | None, count: int, port: int | None
    ) -> str | None:
        if port is not None:
            return None  # FortiOS's `execute ping` is ICMP only
        # The options stay set for the session: reset first, so no earlier source is reused.
        lines = ["execute ping-options reset", f"execute ping-options repeat-count {count}"]
        if source:
            lines.append(f"execute ping-options source {source}")
        return "\n".join([*lines, f"execute ping {to}"])

    def parse_ping(self, output: str) -> PingReply:
        return parse_bsd_ping(output)

    def read_state(self, session: Session) -> FortinetState:
        return self.parse_config(session.send_command(self.facts.snapshot_command))

    @staticmethod
    def parse_config(text: str) -> FortinetState:
        """The state in a FortiOS configuration: a top-level `show`, `show full-configuration`,
        or only its `config system interface` / `config firewall policy` sections."""
        root = _parse(text)
        vdoms = root.tables.get("vdom")
        global_ = root.tables.get("global")
        vdom_mode = global_ is not None
        interfaces_table = (global_ or root).tables.get("system interface")
        if interfaces_table is None and "firewall policy" not in root.tables and not vdoms:
            raise UnexpectedOutput(f"'show' holds no FortiOS interfaces or policies: {text[:80]!r}")
        interfaces: dict[str, bool] = {}
        contexts: dict[str, str] = {}
        for name, entry in (interfaces_table.entries if interfaces_table else {}).items():
            interfaces[name] = entry.value("status") != "down"
            if vdom_mode:
                contexts[name] = entry.value("vdom") or "root"
        tables = (
            {vdom: entry.tables.get("firewall policy") for vdom, entry in vdoms.entries.items()}
            if vdom_mode and vdoms
            else {NO_VDOM: root.tables.get("firewall policy")}
        )
        policies: dict[str, list[str]] = {}
        denies: dict[str, list[str]] = {}
        for vdom, table in tables.items():
            policies[vdom] = list(table.entries) if table else []
            for policy_id, policy in (table.entries if table else {}).items():
                words = (policy.value("comments") or "").split()
                if len(words) >= 2 and words[0] == TAG:
                    denies.setdefault(words[1], []).append(policy_id)
        allows = _bubbles(root, vdoms if vdom_mode else None)
        return FortinetState(
            interfaces=interfaces,
            denies=denies,
            allows=allows,
            contexts=contexts,
            policies=policies,
            facts=_central_management((global_ or root).tables.get("system central-management")),
        )

    def unresolved(self, targets: Sequence[CutTarget]) -> list[str]:
        return [
            f"deny policies from and to {t.interface} (link {t.link}), placed before the first "
            "policy of its VDOM: their ids and place resolved when the device is read"
            for t in targets
            if t.method is CutMethod.DENY
        ]

    def cut_lines(self, targets: Sequence[CutTarget], state: DeviceState | None) -> list[str]:
        shut = [t for t in targets if t.method is CutMethod.SHUTDOWN]
        # A bubble opened by a reconnection stage closes with the cut.
        commands = _close_bubbles({t.interface for t in targets}, state)
        commands += _status(shut, "down", state)
        by_vdom: dict[str, list[CutTarget]] = {}
        # Offline (no state) the deny policies are left `unresolved`: their ids and place
        # depend on the policies already there.
        for target in targets if state is not None else ():
            assert state is not None
            if target.method is CutMethod.DENY and not state.denies.get(target.interface):
                by_vdom.setdefault(_vdom_of(target.interface, state), []).append(target)
        policies = state.policies if isinstance(state, FortinetState) else {}
        for vdom, group in by_vdom.items():
            existing = policies.get(vdom, [])
            taken = set(existing)
            body: list[str] = []
            new_ids: list[str] = []
            for target in group:
                for direction, policy_id in zip(
                    ("from", "to"), _policy_ids(target, taken), strict=True
                ):
                    body += _deny_policy(policy_id, target, direction)
                    new_ids.append(policy_id)
            # Evaluated in sequence order, first match wins: before every policy already there.
            if existing:
                body += [f"move {policy_id} before {existing[0]}" for policy_id in new_ids]
            commands += _in_vdom(vdom, ["config firewall policy", *body, "end"])
        return commands

    def restore_lines(self, targets: Sequence[CutTarget], state: DeviceState) -> list[str]:
        up = [t for t in targets if t.method is CutMethod.SHUTDOWN]
        commands = _close_bubbles({t.interface for t in targets}, state)
        commands += _status(up, "up", state)
        by_vdom: dict[str, list[str]] = {}
        for target in targets:
            if target.method is CutMethod.DENY:
                ids = state.denies.get(target.interface, [])
                by_vdom.setdefault(_vdom_of(target.interface, state), []).extend(ids)
        for vdom, ids in by_vdom.items():
            if ids:
                deletes = [f"delete {policy_id}" for policy_id in dict.fromkeys(ids)]
                commands += _in_vdom(vdom, ["config firewall policy", *deletes, "end"])
        return commands

    # --- bubbles (#12 §2): accept policies above isolement's deny ------------------------
    def allow_lines(self, targets: Sequence[AllowTarget], state: DeviceState | None) -> list[str]:
        """Per flow: an address object for its source and one for its destination, a custom
        service for a port (FortiOS's own ALL_TCP / ALL_UDP / ALL_ICMP otherwise), and two accept
        policies (from the interface, to it) moved before the first policy of the VDOM, which
        is isolement's deny: first match wins. A FortiGate is stateful: the replies pass."""
        policies = state.policies if isinstance(state, FortinetState) else {}
        taken = {i for ids in policies.values() for i in ids}
        by_vdom: dict[str, tuple[list[str], list[str], list[str], list[str]]] = {}
        for target in targets:
            vdom = _vdom_of(target.interface, state)
            addresses, services, body, new_ids = by_vdom.setdefault(vdom, ([], [], [], []))
            comment = f"{ALLOW_TAG} {target.interface} {target.stage} {target.link}"
            for index, flow in enumerate(target.flows):
                key = f"{target.interface} {target.stage} {target.link} {index}"
                name = f"{TAG}-{_digest(key)}"
                source, destination = f"{name}-src", f"{name}-dst"
                for address, network in ((source, flow.source), (destination, flow.destination)):
                    addresses += [
                        f'edit "{address}"',
                        f"set subnet {network.network_address} {network.netmask}",
                        f'set comment "{comment}"',
                        "next",
                    ]
                service = _service(flow)
                if service is None:
                    service = name
                    services += [
                        f'edit "{name}"',
                        f"set {flow.protocol}-portrange {flow.port}",
                        f'set comment "{comment}"',
                        "next",
                    ]
                ids = _free_ids(key, taken)
                for direction, policy_id in zip(("f", "t"), ids, strict=True):
                    srcintf, dstintf = (
                        (target.interface, "any") if direction == "f" else ("any", target.interface)
                    )
                    body += [
                        f"edit {policy_id}",
                        f'set name "{name}-{direction}"',
                        f'set srcintf "{srcintf}"',
                        f'set dstintf "{dstintf}"',
                        "set action accept",
                        f'set srcaddr "{source}"',
                        f'set dstaddr "{destination}"',
                        'set schedule "always"',
                        f'set service "{service}"',
                        "set logtraffic all",
                        f'set comments "{comment}"',
                        "next",
                    ]
                    new_ids.append(policy_id)
        commands: list[str] = []
        for vdom, (addresses, services, body, new_ids) in by_vdom.items():
            existing = policies.get(vdom, [])
            moves = [f"move {i} before {existing[0]}" for i in new_ids] if existing else []
            lines = ["config firewall address", *addresses, "end"]
            if services:
                lines += ["config firewall service custom", *services, "end"]
            lines += ["config firewall policy", *body, *moves, "end"]
            commands += _in_vdom(vdom, lines)
        return commands


# Where a bubble's parts live, in the order they are removed (a policy before the objects it
# names), and the prefix of their ids in `DeviceState.allows` (a policy's id is bare).
_BUBBLE_TABLES = (
    ("firewall policy", ""),
    ("firewall address", "address "),
    ("firewall service custom", "service "),
)


def _service(flow: Flow) -> str | None:
    """FortiOS's predefined service for a flow with no port; None: it needs its own."""
    if flow.protocol == "icmp":
        return "ALL_ICMP"
    return None if flow.port else f"ALL_{flow.protocol.upper()}"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def _bubbles(root: _Block, vdoms: _Block | None) -> dict[str, dict[str, list[str]]]:
    """Interface -> stage -> what isolement added for the bubble: its policy ids, then
    `address NAME` and `service NAME` for its objects (removed after the policies using them)."""
    places = list(vdoms.entries.values()) if vdoms else [root]
    allows: dict[str, dict[str, list[str]]] = {}
    for place in places:
        for table, prefix in _BUBBLE_TABLES:
            block = place.tables.get(table)
            for key, entry in (block.entries if block else {}).items():
                comment = entry.value("comments" if not prefix else "comment") or ""
                words = comment.split()
                if len(words) >= 3 and words[0] == ALLOW_TAG:
                    ids = allows.setdefault(words[1], {}).setdefault(words[2], [])
                    ids.append(f"{prefix}{key}")
    return allows


def _close_bubbles(interfaces: set[str], state: DeviceState | None) -> list[str]:
    """Delete every bubble through these interfaces: the policies, then their objects."""
    if state is None:
        return []
    by_vdom: dict[str, list[str]] = {}
    for interface in sorted(interfaces):
        for ids in state.allows.get(interface, {}).values():
            by_vdom.setdefault(_vdom_of(interface, state), []).extend(ids)
    commands: list[str] = []
    for vdom, ids in by_vdom.items():
        lines: list[str] = []
        for table, prefix in _BUBBLE_TABLES:
            mine = [i.removeprefix(prefix) for i in ids if _kind(i) == prefix]
            if mine:
                deletes = [f"delete {n}" if not prefix else f'delete "{n}"' for n in mine]
                lines += [f"config {table}", *deletes, "end"]
        if lines:
            commands += _in_vdom(vdom, lines)
    return commands


def _kind(allow_id: str) -> str:
    head = allow_id.split(" ", 1)[0]
    return f"{head} " if head in ("address", "service") else ""


def _vdom_of(interface: str, state: DeviceState | None) -> str:
    return state.contexts.get(interface, NO_VDOM) if state else NO_VDOM


def _in_vdom(vdom: str, lines: list[str]) -> list[str]:
    # `end` leaves the policy table, the second `end` the VDOM, back at the top level.
    return ["config vdom", f"edit {vdom}", *lines, "end"] if vdom else lines


def _status(targets: Sequence[CutTarget], status: str, state: DeviceState | None) -> list[str]:
    if not targets:
        return []
    lines = ["config system interface"]
    for target in targets:
        lines += [f'edit "{target.interface}"', f"set status {status}", "next"]
    lines.append("end")
    # Interfaces belong to the global configuration once VDOMs are on.
    return ["config global", *lines, "end"] if state and state.contexts else lines


def _policy_ids(target: CutTarget, taken: set[str]) -> tuple[str, str]:
    """Two free ids for the target's policies, the same for the same link and interface."""
    return _free_ids(f"{target.interface} {target.link}", taken)


def _free_ids(key: str, taken: set[str]) -> tuple[str, str]:
    """Two free policy ids derived from `key`, the same for the same key."""
    digest = hashlib.sha256(key.encode()).digest()
    slot = int.from_bytes(digest[:8], "big") % _SLOTS
    while True:
        ids = (str(ID_BASE + 2 * slot), str(ID_BASE + 2 * slot + 1))
        if not taken & set(ids):
            taken.update(ids)
            return ids
        slot = (slot + 1) % _SLOTS


def _deny_policy(policy_id: str, target: CutTarget, direction: str) -> list[str]:
    digest = hashlib.sha256(f"{target.interface} {target.link}".encode()).hexdigest()[:8]
    source, destination = (
        (target.interface, "any") if direction == "from" else ("any", target.interface)
    )
    return [
        f"edit {policy_id}",
        f'set name "{TAG}-{digest}-{direction}"',
        f'set srcintf "{source}"',
        f'set dstintf "{destination}"',
        "set action deny",
        'set srcaddr "all"',
        'set dstaddr "all"',
        'set schedule "always"',
        'set service "ALL"',
        # Denied attempts are evidence during the crisis: log them.
        "set logtraffic all",
        f'set comments "{TAG} {target.interface} {target.link}"',
        "next",
    ]


# --- reading FortiOS's configuration syntax -------------------------------------------------


@dataclass
class _Block:
    """One `config` table or `edit` entry: its `set` values, sub-tables and entries, in order."""

    values: dict[str, list[str]] = field(default_factory=dict)
    tables: dict[str, _Block] = field(default_factory=dict)
    entries: dict[str, _Block] = field(default_factory=dict)

    def value(self, key: str) -> str | None:
        words = self.values.get(key)
        return words[0] if words else None


def _central_management(block: _Block | None) -> dict[str, str]:
    """`managed_by: FortiManager` when `config system central-management` says `set type
    fortimanager` (tests/data/fortinet/SOURCES.md), unless `set mode backup`: then the
    FortiManager only keeps copies of the configuration and pushes nothing."""
    if block is None or block.value("type") != "fortimanager" or block.value("mode") == "backup":
        return {}
    return {"managed_by": "FortiManager"}


def _parse(text: str) -> _Block:
    """The tree of a configuration text. A `config` or `edit` seen twice at one level (a VDOM
    backup lists `config vdom` twice) is one block; lines outside the syntax are ignored."""
    root = _Block()
    stack = [root]
    for words in _statements(text):
        verb, args = words[0], words[1:]
        current = stack[-1]
        if verb == "config" and args:
            stack.append(current.tables.setdefault(" ".join(args), _Block()))
        elif verb == "edit" and args and len(stack) > 1:
            stack.append(current.entries.setdefault(args[0], _Block()))
        elif verb in ("next", "end") and len(stack) > 1:
            stack.pop()
        elif verb == "set" and args:
            current.values[args[0]] = args[1:]
    return root


def _statements(text: str) -> Iterator[list[str]]:
    """Each statement as words, quotes removed; a quoted value may span lines (`set buffer`)."""
    pending = ""
    for line in text.splitlines():
        pending = f"{pending}\n{line}" if pending else line.strip()
        if pending.startswith("#") or _open_quote(pending):
            if pending.startswith("#"):
                pending = ""
            continue
        words = [a or b or c for a, b, c in _TOKEN.findall(pending)]
        pending = ""
        if words:
            yield words


def _open_quote(line: str) -> bool:
    return len(re.findall(r'(?<!\\)"', line)) % 2 == 1
