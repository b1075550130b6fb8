"""Cisco ASA (Adaptive Security Appliance): a stateful firewall whose interfaces are known to
its policy by their `nameif`, and whose traffic is filtered by ACLs bound to a nameif with
`access-group ACL in|out interface NAMEIF` (one ACL per direction and interface).

Cut (`deny`, preferred): a remark naming isolement, the interface and the link, then
`extended deny ip any any`, inserted at lines 1 and 2 of the ACL bound to the interface's nameif,
in BOTH directions. The ASA is stateful: an `in` ACL alone stops what enters through the
interface, not connections opened from the other side and leaving through it, so the `out`
direction is cut too. Inserting at line 1 puts the deny ahead of every permit already there
(first match wins). Where no ACL is bound in a direction, isolement creates its own,
`isolement-<in|out>-<nameif>`, holding only its remark and deny, and binds it. Cut
(`shutdown`): `shutdown` in the interface; restore: `no shutdown`.

Restore removes exactly what the cut added, found back by the remark: the remark and the deny
ACE in an ACL that was already there (`no access-list ...`), or the binding and the whole ACL
isolement created (`no access-group ...`, `clear configure access-list ...`). Nothing else of the
ACLs is touched, so `show running-config` reads the same as before the cut. The ASA has no
candidate configuration: each line is in effect once typed (no commit).

State: `show interface ip brief` (admin state), `show nameif` (interface -> nameif, kept in
`AsaState.nameifs` with the ACLs bound to it), `show running-config access-group` and
`show running-config access-list` (isolement's remarks and denies). An interface counts as cut
only when both directions begin with isolement's remark and deny: a half-done cut (a session
lost between the two directions) reads as open, so a re-run completes it rather than leaving one
direction open.

Limits, known: a single-context ASA (no `changeto`); `access-group ... global` is left alone
(an interface's own ACL is checked before it, so the cut still wins); an ACL that already holds
an identical `extended deny ip any any` elsewhere was not tried on a real ASA, which may refuse
the duplicate: any `WARNING:` is reported as an error, never as a cut; like the IOS driver, the
change is not saved (`write memory`), so a reload of the ASA brings the path back.

NAPALM brings nothing here. NAPALM itself has no ASA driver; the community `napalm-asa` talks
to the ASA REST API over HTTPS (an agent that must be installed and enabled on the ASA, not
SSH) and implements getters only (facts, interfaces, ARP, config), no configuration change and
no ACL; `napalm-asa-ssh` is netmiko underneath, getters only too. isolement needs ordered ACL
edits over SSH, which netmiko's own `cisco_asa` driver does directly, and which the lab's SSH
emulator can stand in for.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from ipaddress import IPv4Address, IPv4Network

from pydantic import BaseModel, ConfigDict, Field

from isolement.drivers.base import (
    AllowTarget,
    CutTarget,
    Driver,
    PingReply,
    Session,
    is_address,
    parse_success_rate,
)
from isolement.drivers.platform import INTERFACE_SHUTDOWN, Platform
from isolement.model.errors import PlanRefused, UnexpectedOutput
from isolement.model.state import CutMethod, DeviceState

TAG = "isolement"
# A bubble: `remark isolement-allow <interface> <stage> <link>`, then its permit entries.
ALLOW_TAG = "isolement-allow"
DENY = "extended deny ip any any"
DIRECTIONS = ("in", "out")
# The ASA refuses a remark longer than 100 characters.
REMARK_MAX = 100

# ASA configuration lines print nothing when they succeed. Every refusal starts with `ERROR:`
# (`ERROR: % Invalid input detected at '^' marker.`, `ERROR: % Incomplete command`, ...). A
# `WARNING:` means the line did something other than what was asked (Netspoc-Approve, which
# manages ASA ACLs in production, stops on unexpected warnings too). The last two are the
# refusals Ansible's cisco.asa terminal plugin watches for besides `error:`.
_ASA_ERRORS = (
    re.compile(r"^ERROR: .*$", re.MULTILINE),
    re.compile(r"^WARNING: .*$", re.MULTILINE),
    re.compile(r"^.*Removing.* not allowed, it is being used.*$", re.MULTILINE),
    re.compile(r"^Command authorization failed.*$", re.MULTILINE),
)

# One row of `show interface ip brief`: the columns of ntc-templates' cisco_asa template. The
# template itself is not used: it refuses the whole output when the header lacks `OK?`, as one
# ASA 5506 capture in ntc-templates' own test data does. The Protocol column is empty on some
# rows (a management port: `Management0/0  10.10.1.1  YES CONFIG up`, in genieparser's ASA
# captures); the Status column, the one read, is always there.
_BRIEF_ROW = re.compile(
    r"^(?P<interface>\S+)\s+\S+\s+\S+\s+(?:\S+\s+)?"
    r"(?P<status>up|down|admin(?:istratively)? down)(?:\s+(?:up|down))?\s*$"
)
_BRIEF_HEADER = re.compile(r"^Interface\s+IP-Address\s+(?:OK\?\s+)?Method\s+Status\s+Protocol\s*$")
_NAMEIF_ROW = re.compile(r"^(?P<interface>\S+)\s+(?P<nameif>\S+)\s+\d+\s*$")
# `access-group ACL in|out interface NAMEIF [per-user-override | control-plane]` (Cisco ASA
# command reference). `per-user-override` binds the same through-traffic ACL; `control-plane`
# binds an ACL for traffic TO the ASA, beside the interface's own: it must never be taken for
# the ACL a cut goes in, or the cut would stop nothing that crosses the firewall.
_ACCESS_GROUP = re.compile(
    r"^access-group\s+(?P<acl>\S+)\s+(?P<direction>in|out)\s+interface\s+(?P<nameif>\S+)"
    r"(?:\s+per-user-override)?\s*$"
)
_OTHER_GROUP = re.compile(
    r"^access-group\s+\S+\s+(?:global|in\s+interface\s+\S+\s+control-plane)\s*$"
)
_ACCESS_LIST = re.compile(r"^access-list\s+(?P<acl>\S+)\s+(?P<entry>\S.*?)\s*$")
_CURPRIV = re.compile(r"^Current privilege level\s*:\s*(\d+)\s*$", re.MULTILINE)
# Lines of `show running-config` that are not configuration: `: Saved`, `: Written by ...`,
# `: Serial Number: ...` and the checksum, which a `write memory` by someone else or a reload
# may change while the configuration itself is the same.
_VOLATILE = re.compile(r"^(?::.*|Cryptochecksum:.*)$")


class Nameif(BaseModel):
    """How the ASA's policy knows one interface: its nameif, and the ACL bound to it in each
    direction (`access-group ACL in|out interface NAMEIF`)."""

    model_config = ConfigDict(frozen=True)

    name: str
    acls: dict[str, str] = {}


class AclEntry(BaseModel):
    """One of isolement's entries in a bound ACL, from its id in `DeviceState.denies`:
    `<direction> <acl> <remark>` for a remark + deny pair in an ACL that was there before,
    `<direction> <acl>` for an ACL isolement created, removed whole on restore."""

    model_config = ConfigDict(frozen=True)

    direction: str
    acl: str
    remark: str | None = None

    @classmethod
    def parse(cls, rule_id: str) -> AclEntry:
        direction, acl, *remark = rule_id.split(" ", 2)
        return cls(direction=direction, acl=acl, remark=remark[0] if remark else None)

    def __str__(self) -> str:
        return " ".join([self.direction, self.acl, *([self.remark] if self.remark else [])])


class AsaState(DeviceState):
    """DeviceState plus each interface's nameif and bound ACLs (`contexts` holds the nameif)."""

    nameifs: dict[str, Nameif] = Field(default_factory=dict)


FACTS = Platform(
    name="cisco_asa",
    netmiko_device_type="cisco_asa",
    methods=frozenset({CutMethod.DENY, CutMethod.SHUTDOWN}),
    preferred_method=CutMethod.DENY,
    snapshot_command="show running-config",
    error_patterns=_ASA_ERRORS,
    volatile_lines=(_VOLATILE,),
    shutdown=INTERFACE_SHUTDOWN,
    can_allow=True,
    persistence="save",
    persistence_note=(
        "saved with `write memory`; the ASA has no command saying what is unsaved, so "
        "someone else's unsaved changes cannot be found and would be saved with the cut"
    ),
    save_commands=("write memory",),
)


class CiscoAsaDriver(Driver):
    facts = FACTS

    # --- device-sourced probes: `ping [NAMEIF] X repeat N` (the source is a nameif)

    def ping_command(
        self, to: IPv4Address, *, source: str | None, count: int, port: int | None
    ) -> str | None:
        if port is not None or (source is not None and is_address(source)):
            return None  # ICMP only; the ASA pings from an interface (its nameif), not an address
        via = f"{source} " if source else ""
        return f"ping {via}{to} repeat {count}"

    def parse_ping(self, output: str) -> PingReply:
        return parse_success_rate(output)

    def has_privilege(self, session: Session) -> bool:
        # Configuration commands are at privilege level 15 on an ASA; `#` alone means 2 to 15.
        match = _CURPRIV.search(session.send_command("show curpriv"))
        return match is not None and int(match.group(1)) == 15

    def read_state(self, session: Session) -> AsaState:
        return self.parse_state(
            session.send_command("show interface ip brief"),
            session.send_command("show nameif"),
            session.send_command("show running-config access-group"),
            session.send_command("show running-config access-list"),
        )

    # --- parsing ----------------------------------------------------------------------------

    @staticmethod
    def parse_interface_brief(output: str) -> dict[str, bool]:
        """Interface -> administratively up. `down` alone is the link, not a shutdown."""
        interfaces: dict[str, bool] = {}
        for line in output.splitlines():
            if not line.strip() or _BRIEF_HEADER.match(line):
                continue
            row = _BRIEF_ROW.match(line)
            if not row:
                raise UnexpectedOutput(f"unrecognised 'show interface ip brief' line: {line!r}")
            interfaces[row["interface"]] = not row["status"].startswith("admin")
        if not interfaces and output.strip():
            raise UnexpectedOutput(f"no interface in 'show interface ip brief': {output[:80]!r}")
        return interfaces

    @staticmethod
    def parse_nameif(output: str) -> dict[str, str]:
        """Interface -> nameif, from `show nameif` (interfaces without one are not listed)."""
        names: dict[str, str] = {}
        for line in output.splitlines():
            if not line.strip() or line.split()[:2] == ["Interface", "Name"]:
                continue
            row = _NAMEIF_ROW.match(line)
            if not row:
                raise UnexpectedOutput(f"unrecognised 'show nameif' line: {line!r}")
            names[row["interface"]] = row["nameif"]
        return names

    @staticmethod
    def parse_access_groups(output: str) -> dict[tuple[str, str], str]:
        """(nameif, direction) -> the ACL bound there. `access-group ACL global` binds no
        interface: the ASA checks an interface's own ACL first, so it does not change a cut;
        a `control-plane` binding filters traffic to the ASA itself, not through it.
        Other configuration lines are skipped (a whole `show running-config` reads the same);
        an `access-group` line of another form is refused: a binding missed here would have
        isolement bind its own ACL in its place, and unbind the firewall's at restore."""
        bound: dict[tuple[str, str], str] = {}
        for line in output.splitlines():
            match = _ACCESS_GROUP.match(line)
            if match:
                bound[(match["nameif"], match["direction"])] = match["acl"]
            elif line.startswith("access-group ") and not _OTHER_GROUP.match(line):
                raise UnexpectedOutput(
                    f"unrecognised 'show running-config access-group' line: {line!r}"
                )
        return bound

    @staticmethod
    def parse_access_lists(output: str) -> dict[str, list[str]]:
        """ACL -> its lines in order, each without `access-list NAME ` (`remark ...`,
        `extended deny ip any any`, ...)."""
        acls: dict[str, list[str]] = {}
        for match in map(_ACCESS_LIST.match, output.splitlines()):
            if match:
                acls.setdefault(match["acl"], []).append(match["entry"])
        return acls

    @classmethod
    def parse_state(cls, brief: str, nameif: str, groups: str, acls: str) -> AsaState:
        # A refused `show running-config access-group|access-list` holds no binding and no ACL
        # line: read as such, it would look like an ASA with no ACL bound. Refused, never read.
        for command, answer in (
            ("show running-config access-group", groups),
            ("show running-config access-list", acls),
        ):
            error = cls().find_error(answer)
            if error:
                raise UnexpectedOutput(f"'{command}' was refused: {error}")
        interfaces = cls.parse_interface_brief(brief)
        nameifs = cls.parse_nameif(nameif)
        bound = cls.parse_access_groups(groups)
        entries = cls.parse_access_lists(acls)
        contexts: dict[str, str] = {}
        named: dict[str, Nameif] = {}
        denies: dict[str, list[str]] = {}
        allows: dict[str, dict[str, list[str]]] = {}
        for interface, name in nameifs.items():
            acl_of = {d: bound[(name, d)] for d in DIRECTIONS if (name, d) in bound}
            contexts[interface] = name
            named[interface] = Nameif(name=name, acls=acl_of)
            ids: list[str] = []
            cut = True
            for direction in DIRECTIONS:
                acl = acl_of.get(direction)
                lines = entries.get(acl, []) if acl else []
                bubbles = _bubble_entries(lines)
                # A bubble's permits sit above the deny: the cut is the pair right after them.
                cut = cut and _is_ours(lines[sum(len(b) for _, b in bubbles) :][:2])
                own = acl == own_acl(direction, name)
                ids += _owned(direction, acl, lines, own=own, bubbles=bubbles)
                for stage, stage_lines in bubbles:
                    allows.setdefault(interface, {}).setdefault(stage, []).extend(
                        f"{direction} {acl} {line}" for line in stage_lines
                    )
            if cut:
                denies[interface] = ids
        return AsaState(
            interfaces=interfaces, denies=denies, allows=allows, contexts=contexts, nameifs=named
        )

    # --- commands ---------------------------------------------------------------------------

    def unresolved(self, targets: Sequence[CutTarget]) -> list[str]:
        return [
            f"remark + deny at the head of the ACLs bound in and out to the nameif of "
            f"{t.interface} (link {t.link}), or isolement's own ACLs bound where none is: "
            "resolved when the device is read"
            for t in targets
            if t.method is CutMethod.DENY
        ]

    def cut_lines(self, targets: Sequence[CutTarget], state: DeviceState | None) -> list[str]:
        # A bubble opened by a reconnection stage closes with the cut.
        lines = _close_bubbles([t.interface for t in targets], state)
        for target in targets:
            if target.method is CutMethod.SHUTDOWN:
                lines += self._shutdown([target], restore=False)
                continue
            # Offline (no state) the nameif and the bound ACLs are unknown: `unresolved`.
            if state is None or state.denies.get(target.interface):
                continue
            nameif = _nameif(state, target.interface)
            if nameif is None:
                # No nameif: no ACL can be bound to it, so a deny cut cannot be rendered.
                # Refused here, before anything reaches the device.
                raise PlanRefused(
                    f"{target.interface} (link {target.link}) has no nameif on this ASA: no "
                    "access-list can be bound to it. Check the link's interface in the "
                    "inventory, or cut it with method: shutdown"
                )
            remark = remark_for(target.interface, target.link)
            for direction in DIRECTIONS:
                acl = nameif.acls.get(direction) or own_acl(direction, nameif.name)
                lines += [
                    f"access-list {acl} line 1 remark {remark}",
                    f"access-list {acl} line 2 {DENY}",
                ]
                if direction not in nameif.acls:
                    lines.append(f"access-group {acl} {direction} interface {nameif.name}")
        return lines

    def restore_lines(self, targets: Sequence[CutTarget], state: DeviceState) -> list[str]:
        lines = _close_bubbles([t.interface for t in targets], state)
        for target in {(t.interface, t.method): t for t in targets}.values():
            if target.method is CutMethod.SHUTDOWN:
                lines += self._shutdown([target], restore=True)
                continue
            interface = target.interface
            nameif = _nameif(state, interface)
            name = nameif.name if nameif else interface
            for entry in map(AclEntry.parse, state.denies.get(interface, [])):
                if entry.remark is not None:
                    lines += [
                        f"no access-list {entry.acl} remark {entry.remark}",
                        f"no access-list {entry.acl} {DENY}",
                    ]
                else:
                    lines += [
                        f"no access-group {entry.acl} {entry.direction} interface {name}",
                        f"clear configure access-list {entry.acl}",
                    ]
        return lines

    # --- bubbles (#12 §2): permit entries above isolement's deny -------------------------
    def allow_lines(self, targets: Sequence[AllowTarget], state: DeviceState | None) -> list[str]:
        """In both ACLs of the interface (in, out), from line 1: a remark naming the bubble,
        then one `extended permit` per flow, source to destination, so they are matched before
        isolement's deny. The ASA is stateful: the replies of a permitted connection pass."""
        commands: list[str] = []
        for target in targets:
            nameif = _nameif(state, target.interface) if state is not None else None
            if nameif is None:
                # A bubble goes in the ACLs the cut is in: planned from the state read.
                raise PlanRefused(
                    f"{target.interface} (link {target.link}) has no nameif on this ASA: no "
                    "access-list can hold a bubble for it"
                )
            name, acl_of = nameif.name, nameif.acls
            entries = [f"remark {allow_remark(target.interface, target.stage, target.link)}"]
            entries += [
                permit_entry(f.protocol, f.source, f.destination, f.port) for f in target.flows
            ]
            for direction in DIRECTIONS:
                acl = acl_of.get(direction) or own_acl(direction, name)
                commands += [
                    f"access-list {acl} line {line} {entry}"
                    for line, entry in enumerate(entries, start=1)
                ]
        return commands


def _nameif(state: DeviceState, interface: str) -> Nameif | None:
    if isinstance(state, AsaState):
        return state.nameifs.get(interface)
    name = state.contexts.get(interface)
    return Nameif(name=name) if name else None


def permit_entry(
    protocol: str, source: IPv4Network, destination: IPv4Network, port: int | None
) -> str:
    """`extended permit tcp 198.18.1.0 255.255.255.0 host 198.18.2.5 eq 443`, as the ASA
    prints it back in `show running-config access-list`."""
    entry = f"extended permit {protocol} {_address(source)} {_address(destination)}"
    return f"{entry} eq {port}" if port else entry


def _address(network: IPv4Network) -> str:
    if network.prefixlen == 32:
        return f"host {network.network_address}"
    if network.prefixlen == 0:
        return "any4"
    return f"{network.network_address} {network.netmask}"


def allow_remark(interface: str, stage: str, link: str) -> str:
    """`isolement-allow <interface> <stage> <link>`, within the ASA's 100 characters (the link
    cut short with a hash of it, as `remark_for` does)."""
    remark = f"{ALLOW_TAG} {interface} {stage} {link}"
    if len(remark) <= REMARK_MAX:
        return remark
    digest = hashlib.sha256(link.encode()).hexdigest()[:8]
    room = REMARK_MAX - len(f"{ALLOW_TAG} {interface} {stage} ~{digest}")
    return f"{ALLOW_TAG} {interface} {stage} {link[: max(room, 0)]}~{digest}"[:REMARK_MAX]


def _bubble_entries(lines: Sequence[str]) -> list[tuple[str, list[str]]]:
    """The bubbles at the head of an ACL: (stage, its remark and permit lines), in order."""
    bubbles: list[tuple[str, list[str]]] = []
    index = 0
    while index < len(lines) and lines[index].startswith(f"remark {ALLOW_TAG} "):
        words = lines[index].split()
        end = index + 1
        while end < len(lines) and lines[end].startswith("extended permit "):
            end += 1
        bubbles.append((words[3] if len(words) > 3 else "", list(lines[index:end])))
        index = end
    return bubbles


def _close_bubbles(interfaces: Sequence[str], state: DeviceState | None) -> list[str]:
    """Remove every bubble through these interfaces, entry by entry (`no access-list`)."""
    commands: list[str] = []
    for interface in dict.fromkeys(interfaces):
        for ids in (state.allows.get(interface, {}) if state else {}).values():
            for allow_id in ids:
                _, acl, entry = allow_id.split(" ", 2)
                commands.append(f"no access-list {acl} {entry}")
    return commands


def own_acl(direction: str, nameif: str) -> str:
    """The ACL isolement creates where no ACL is bound in a direction."""
    return f"{TAG}-{direction}-{nameif}"


def remark_for(interface: str, link: str) -> str:
    """`isolement <interface> <link>`; a link too long for the ASA's 100 characters is cut
    short and ends with a hash of its full name, so two long links stay apart."""
    remark = f"{TAG} {interface} {link}"
    if len(remark) <= REMARK_MAX:
        return remark
    digest = hashlib.sha256(link.encode()).hexdigest()[:8]
    room = REMARK_MAX - len(f"{TAG} {interface} ~{digest}")
    return f"{TAG} {interface} {link[: max(room, 0)]}~{digest}"[:REMARK_MAX]


def _is_ours(pair: Sequence[str]) -> bool:
    return len(pair) == 2 and pair[0].startswith(f"remark {TAG} ") and pair[1] == DENY


def _pairs(lines: Sequence[str]) -> Iterator[str]:
    """The remark of each of isolement's remark + deny pairs in an ACL."""
    for index in range(len(lines) - 1):
        if _is_ours(lines[index : index + 2]):
            yield lines[index].removeprefix("remark ")


def _owned(
    direction: str,
    acl: str | None,
    lines: Sequence[str],
    *,
    own: bool,
    bubbles: Sequence[tuple[str, list[str]]] = (),
) -> list[str]:
    """The ids of isolement's entries in one bound ACL: `<direction> <acl> <remark>` for a pair
    in an ACL that was there before, `<direction> <acl>` for an ACL isolement created (its own
    name, holding nothing but isolement's pairs and bubbles), removed whole on restore."""
    if acl is None:
        return []
    remarks = list(_pairs(lines))
    bubble_lines = sum(len(b) for _, b in bubbles)
    if own and remarks and len(lines) == 2 * len(remarks) + bubble_lines:
        return [str(AclEntry(direction=direction, acl=acl))]
    return [str(AclEntry(direction=direction, acl=acl, remark=remark)) for remark in remarks]
