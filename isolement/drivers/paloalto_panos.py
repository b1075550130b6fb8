"""Palo Alto Networks PAN-OS firewalls: the cut is a pair of deny security rules, placed first.

PAN-OS security rules match zones, never interfaces. So the driver reads which zone each
layer-3 interface is in (`show interface all`, parsed with ntc-templates), and cuts an
interface with two rules, `from <zone> to any` and `from any to <zone>`, both `action deny`,
moved to the top of the rulebase so that no existing allow rule is matched before them:

    set rulebase security rules isolement-ethernet1_1-inet-h4-in from untrust to any ...
    move rulebase security rules isolement-ethernet1_1-inet-h4-in top

A rule names a zone, so it cuts every interface of that zone: the driver refuses (PlanRefused,
before anything is sent) to cut an interface whose zone also holds interfaces the cut does not
target. Put a link's interface in a zone of its own, or cut the zone's other links too.

Changes go to the candidate configuration and take effect at `commit`. Before touching it, the
driver asks `check pending-changes` (an operational-mode command): a candidate holding changes
nobody committed is someone else's half-done work, and committing would push it with ours, so
the change is refused. If a line or the commit is refused, the candidate is put back as it was
with `revert config`, so nothing half-done stays pending.

A run killed between its `set` lines and its commit leaves them in the candidate, which PAN-OS
keeps across sessions. `recover_candidate` is given the lines isolement journaled whose outcome
is missing: it reads `show config candidate` and `show config running` (the same XML; comparing
the two is how PowerAlto's Get-PaConfigDiff finds pending changes) and, when every difference is
one of isolement's own rules named in those lines and holding exactly what they set (or a rule
they delete), drops them with `revert config` so that the change is sent again whole, from
today's plan; committing a prefix of an interrupted change is never done. Any other difference
(someone's object, a rule of ours edited by hand) is named, and nothing is reverted or sent.

The commit is sent as a configuration line, ended by the prompt, rather than through netmiko's
`commit()`: netmiko 4.8 waits for "100%", which a failed PAN-OS commit never prints ("..55%."
then "Commit failed", netmiko issue #3033), so the device's own verdict would be lost in a
timeout.

Rule names (PAN-OS: 63 characters, letters, digits, `-`, `_`, `.` and spaces) carry
"isolement", the interface (`/` written `_`: PAN-OS interface names hold no `_`) and the link,
shortened with a hash when it is long or holds characters PAN-OS refuses; the description holds
them verbatim. State is read back from `show running security-policy`: the rules in effect, in
order (a rule only in the candidate is not a cut). Restore deletes exactly the rules named
there, then commits. Administrative state: a port set `link-state down` shows `power-down` in
`show interface all`; any other `down` is a port with no link, administratively up. Single-vsys
firewalls only: on a multi-vsys one the rules would need `vsys <name>` in every line.

Central management: `show panorama-status` says whether a Panorama manages the firewall (the
`managed_by` fact). Panorama's pre-rules are evaluated before the local rulebase, so `move ...
top` puts isolement's deny only at the top of the local part: the read-back walks `show running
security-policy` in the order the firewall evaluates it (pushed pre-rules first) and an allow
rule reaching the zone before isolement's deny makes that cut not in effect (`shadowed`).

NAPALM: napalm-panos is a community driver that talks to the XML API (pan-python) for its
getters and commits, and opens a netmiko SSH session beside it to merge `set` lines; it needs
the HTTPS management API and an API key on top of SSH, and its merge is not atomic (its own
documentation says so). Writing a security rule through it is the same `set` lines sent by
netmiko that this driver sends, so it would add a second channel to every firewall for nothing
the CLI does not give, and the emulator serves SSH only. It is not used.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import re
import shlex
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from ipaddress import IPv4Address

from isolement.drivers import ntc
from isolement.drivers.base import (
    COMMIT_TIMEOUT_S,
    AllowTarget,
    CutTarget,
    Driver,
    PingReply,
    Session,
    is_address,
    parse_iputils_ping,
)
from isolement.drivers.platform import PLAIN_COMMIT, Platform
from isolement.model.errors import (
    ConnectionLost,
    DeviceError,
    IsolementError,
    NoAnswer,
    PlanRefused,
    UnexpectedOutput,
)
from isolement.model.state import CutMethod, DeviceState

_TAG = "isolement"
# A bubble's rules: `isolement-allow-<interface>-<stage>-<flow><protocol>-<in|out>`; a TCP or
# UDP flow's service object is the rule's name without the direction.
_ALLOW = f"{_TAG}-allow-"
_ALLOW_REST = re.compile(r"^(?P<stage>.+)-(?P<flow>\d+)(?P<protocol>[tui])-(?:in|out)$")
_NAME_MAX = 63  # PAN-OS rule names
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_INTERFACE_ALL = "paloalto_panos_show_interface_all.textfsm"
# A rule's header in `show running security-policy`: `"name; index: 3" {` (PAN-OS 8.1 and
# later), or the bare or quoted name alone (older releases).
_RULE_HEADER = re.compile(
    r'^"?(?P<name>[^"{\s][^"{\n]*?)(?:; index: \d+)?"? \{[ \t]*$', re.MULTILINE
)
# The zone of one interface in `show interface <name>`: `Zone: untrust, virtual system: vsys1`
# (no real capture found; the layout of Palo Alto's CLI documentation and published examples,
# tests/data/paloalto_panos/SOURCES.md). PAN-OS zone names hold no comma.
_ZONE_LINE = re.compile(r"^\s*Zone:\s*([^,\n]*?[^,\s])\s*(?:,.*)?$", re.MULTILINE)
# The dashes under the logical section's header give each column's width: `name`, `id`,
# `vsys`, then `zone` (16 characters on every release captured).
_LOGICAL_HEADER = re.compile(r"^name\s+id\s+vsys\s+zone\s+forwarding\b.*\n(?P<dashes>[- ]+)$", re.M)
_ZONE_WIDTH = 16
_COMMITTED = "configuration committed successfully"
# `show panorama-status`: one block per Panorama configured (none: an empty answer), e.g.
#   Panorama Server 1 : 192.9.200.9
#       Connected     : yes
# (tests/data/paloalto_panos/show_panorama-status.txt and SOURCES.md).
_PANORAMA_STATUS = "show panorama-status"
_PANORAMA_SERVER = re.compile(r"^\s*Panorama Server \d+\s*:\s*(\S+)\s*$", re.MULTILINE)
_PANORAMA_CONNECTED = re.compile(r"^\s*Connected\s*:\s*(yes|no)\s*$", re.MULTILINE)
# A rule's zones and action inside its block of `show running security-policy`:
# `from Trust;`, `to [ DMZ Untrust ];`, `action allow;`.
_RULE_FIELD = re.compile(r"^\s*(from|to|action)\s+(?:\[\s*([^\]]*?)\s*\]|([^;\s]+))\s*;", re.M)
_PENDING = "check pending-changes"
_REVERT = "revert config"
_CANDIDATE = "show config candidate"
# One of isolement's own rule lines, as cut_lines and restore_lines write them.
_OWN_LINE = re.compile(r"^(set|move|delete) rulebase security rules (isolement-\S+)(?: (.*))?$")
_RULES_PATH = "./devices/entry/vsys/entry/rulebase/security/rules"
# What `set rulebase security rules NAME KEY VALUE ...` writes, as XML: a list of members, or
# one text value.
_MEMBER_KEYS = frozenset(
    {"from", "to", "source", "destination", "application", "service", "source-user"}
)
_TEXT_KEYS = frozenset({"action", "description", "disabled"})

_ERRORS = (
    re.compile(r"^\s*(?:Invalid syntax\.?|Unknown command: .*)$", re.MULTILINE),
    re.compile(r"^\s*(?:Server error ?: .*|Validation Error:.*|Error: .*)$", re.MULTILINE),
    re.compile(r"^\s*.* is not a valid reference$", re.MULTILINE),
    re.compile(r"^\s*Commit failed.*$", re.MULTILINE),
)


def rule_name(interface: str, link: str, direction: str) -> str:
    """The name of one of isolement's rules: `isolement-<interface>-<link>-<in|out>`."""
    head = f"{_TAG}-{interface.replace('/', '_')}-"
    room = _NAME_MAX - len(head) - len("-out")  # the same token for both directions
    token = _UNSAFE.sub("_", link)
    if token != link or len(token) > room:
        # Two links must never share a name: a lossy or shortened token carries a hash.
        digest = hashlib.sha256(f"{interface} {link}".encode()).hexdigest()[:8]
        token = f"{token[: room - len(digest) - 1]}.{digest}"
    return f"{head}{token}-{direction}"


def bubble_rule(interface: str, stage: str, flow: int, protocol: str) -> str:
    """A bubble rule's name without its direction (also the name of its service object):
    `isolement-allow-<interface>-<stage>-<flow><t|u|i>`. The stage is written as named when
    PAN-OS takes it and it fits; else shortened with a hash (the read-back then knows the stage
    by that token, and a stage is re-sent whole when opened again, which changes nothing)."""
    head = f"{_ALLOW}{interface.replace('/', '_')}-"
    tail = f"-{flow}{protocol[0]}"
    room = _NAME_MAX - len(head) - len(tail) - len("-out")
    token = _UNSAFE.sub("_", stage)
    if token != stage or len(token) > room:
        digest = hashlib.sha256(f"{interface} {stage}".encode()).hexdigest()[:8]
        token = f"{token[: max(room - len(digest) - 1, 0)]}.{digest}"
    return f"{head}{token}{tail}"


FACTS = Platform(
    name="paloalto_panos",
    netmiko_device_type="paloalto_panos",
    methods=frozenset({CutMethod.DENY}),
    preferred_method=CutMethod.DENY,
    snapshot_command="show config running",
    error_patterns=_ERRORS,
    cut_commit=PLAIN_COMMIT,
    restore_commit=PLAIN_COMMIT,
    can_allow=True,
    persistence="commit",
    persistence_note="PAN-OS: the commit that puts the cut in effect also persists it",
)


class PaloAltoPanosDriver(Driver):
    facts = FACTS
    # The prompts of the transaction under way (`admin@fw>`, then the pattern of `admin@fw#`),
    # set by `begin`: a driver instance serves one device's task.
    _prompts: tuple[str, str] = ("", "")

    # --- device-sourced probes: `ping source Y count N host X` (the management plane's
    # iputils ping; source: an address of a dataplane interface)

    def ping_command(
        self, to: IPv4Address, *, source: str | None, count: int, port: int | None
    ) -> str | None:
        if port is not None or (source is not None and not is_address(source)):
            return None  # ICMP only, and `source` takes an address
        via = f"source {source} " if source else ""
        return f"ping {via}count {count} host {to}"

    def parse_ping(self, output: str) -> PingReply:
        return parse_iputils_ping(output)

    def has_privilege(self, session: Session) -> bool:
        # PAN-OS has no prompt that tells a superuser from a reader, nor an operational command
        # that shows the session's own role; what the driver needs first is to read the
        # candidate's state. A reader is refused at the first `set`, which is then reverted.
        try:
            self._pending_changes(session, "")
        except (NoAnswer, ConnectionLost):
            raise  # slow or gone is not refused: the caller says which
        except IsolementError:
            return False
        return True

    def _pending_changes(self, session: Session, device: str) -> bool:
        """Whether the candidate configuration differs from the running one."""
        answer = session.send_command(_PENDING)
        self._check(device, answer)
        pending = _yes_no(answer)
        if pending is None:
            raise UnexpectedOutput(f"unrecognised answer to '{_PENDING}': {answer[:80]!r}")
        return pending

    def read_state(self, session: Session) -> DeviceState:
        interface_all = session.send_command("show interface all")
        details = {
            name: session.send_command(f"show interface {name}")
            for name in self.zones_cut_short(interface_all)
        }
        state = self.parse_state(
            interface_all, session.send_command("show running security-policy"), details
        )
        panorama = session.send_command(_PANORAMA_STATUS)
        error = self.find_error(panorama)
        if error:
            raise UnexpectedOutput(f"'{_PANORAMA_STATUS}' refused: {error}")
        if not parse_panorama_status(panorama):
            return state
        return state.model_copy(update={"facts": {**state.facts, "managed_by": "Panorama"}})

    @staticmethod
    def _interface_rows(interface_all: str) -> list[dict[str, str]]:
        try:
            rows = ntc.parse(_INTERFACE_ALL, interface_all)
        except Exception as exc:  # noqa: BLE001 - TextFSM raises its own error types
            raise UnexpectedOutput(f"unrecognised 'show interface all' output: {exc}") from None
        if not rows:
            raise UnexpectedOutput(
                f"unrecognised 'show interface all' output: {interface_all[:80]!r}"
            )
        return rows

    @classmethod
    def zones_cut_short(cls, interface_all: str) -> list[str]:
        """The interfaces whose zone fills the zone column of `show interface all`: PAN-OS
        cuts a longer name to the column's width (16), so such a zone may not be its name."""
        width = _zone_width(interface_all)
        return [
            row["interface"]
            for row in cls._interface_rows(interface_all)
            if len(row["zone"]) >= width
        ]

    @staticmethod
    def parse_zone(interface: str, details: str) -> str:
        """The zone of one interface, from its `show interface <name>`: `Zone: <name>, ...`."""
        found = _ZONE_LINE.findall(details)
        if len(found) != 1:
            raise UnexpectedOutput(
                f"'show interface {interface}' names {len(found)} zones (expected one "
                f"`Zone: <name>,` line): {details[:120]!r}"
            )
        return str(found[0])

    @classmethod
    def parse_state(
        cls,
        interface_all: str,
        security_policy: str,
        details: Mapping[str, str] | None = None,
    ) -> DeviceState:
        """The state from `show interface all` and `show running security-policy`; `details`
        holds `show interface <name>` for each interface of `zones_cut_short`, whose zone is
        taken from there (a rule naming a cut-short zone would be refused at commit, and two
        zones sharing the first 16 characters would read as one)."""
        rows = cls._interface_rows(interface_all)
        cut_short = set(cls.zones_cut_short(interface_all))
        # The hardware section holds the link state, the logical one the zone; a subinterface
        # (ethernet1/1.10) is down when its port is. `power-down` is a port set `link-state
        # down`; `autoneg` and the like are a port with no link, administratively up.
        hardware = {r["interface"]: "power-down" not in r["state"] for r in rows if r["state"]}
        interfaces: dict[str, bool] = {}
        contexts: dict[str, str] = {}
        for row in rows:
            name = row["interface"]
            interfaces[name] = hardware.get(name, hardware.get(name.split(".")[0], True))
            if not row["zone"]:
                continue
            if name not in cut_short:
                contexts[name] = row["zone"]
                continue
            detail = (details or {}).get(name)
            if detail is None:
                raise UnexpectedOutput(
                    f"the zone of {name} fills the zone column of 'show interface all' "
                    f"({row['zone']!r}): it may be cut short; read 'show interface {name}' "
                    "for its full name"
                )
            zone = cls.parse_zone(name, detail)
            if not zone.startswith(row["zone"]):
                raise UnexpectedOutput(
                    f"'show interface {name}' names zone {zone!r}, which 'show interface "
                    f"all' prints as {row['zone']!r}: the two reads disagree"
                )
            contexts[name] = zone
        names = PaloAltoPanosDriver.parse_rule_names(security_policy)
        denies = _owned_rules([n for n in names if not n.startswith(_ALLOW)], interfaces)
        return DeviceState(
            interfaces=interfaces,
            denies=denies,
            allows=_owned_bubbles(names, interfaces),
            contexts=contexts,
            shadowed=_shadowed(parse_rules(security_policy), denies, contexts),
        )

    @staticmethod
    def parse_rule_names(security_policy: str) -> list[str]:
        """The rules in effect, in order, from `show running security-policy`."""
        names: list[str] = _RULE_HEADER.findall(security_policy)
        if not names and security_policy.strip():
            raise UnexpectedOutput(
                f"unrecognised 'show running security-policy' output: {security_policy[:80]!r}"
            )
        return names

    def unresolved(self, targets: Sequence[CutTarget]) -> list[str]:
        return [
            f"deny rules from and to the zone of {t.interface} (link {t.link}), moved to the "
            "top of the rulebase: resolved when the device is read"
            for t in targets
        ]

    def cut_lines(self, targets: Sequence[CutTarget], state: DeviceState | None) -> list[str]:
        if state is None:
            return []  # the zones are only known once the firewall is read: `unresolved`
        _refuse_shared_zones(targets, state)
        # A bubble opened by a reconnection stage closes with the cut.
        lines = _close_bubbles([t.interface for t in targets], state)
        for target in targets:
            if state.denies.get(target.interface):
                continue
            zone = state.contexts.get(target.interface)
            if zone is None:
                raise PlanRefused(
                    f"{target.interface} (link {target.link}) is in no security zone on this "
                    "firewall: no rule can name it. Check the link's interface in the inventory"
                )
            entering = rule_name(target.interface, target.link, "in")
            leaving = rule_name(target.interface, target.link, "out")
            common = (
                "source any destination any application any service any action deny "
                f'description "{_TAG} {target.interface} {target.link}"'
            )
            lines += [
                f"set rulebase security rules {entering} from {zone} to any {common}",
                f"set rulebase security rules {leaving} from any to {zone} {common}",
                # Each goes above every rule in place, the permits included.
                f"move rulebase security rules {entering} top",
                f"move rulebase security rules {leaving} top",
            ]
        return lines

    def restore_lines(self, targets: Sequence[CutTarget], state: DeviceState) -> list[str]:
        interfaces = list(dict.fromkeys(target.interface for target in targets))
        return _close_bubbles(interfaces, state) + [
            f"delete rulebase security rules {name}"
            for interface in interfaces
            for name in state.denies.get(interface, [])
        ]

    # --- bubbles (#12 §2): allow rules moved above isolement's deny ----------------------
    def allow_lines(self, targets: Sequence[AllowTarget], state: DeviceState | None) -> list[str]:
        """Per flow, two allow rules (from the interface's zone, to it) with the flow's source
        and destination, moved to the top, above isolement's deny; a TCP or UDP flow gets a
        service object of its own (its port, or all ports), ICMP the `icmp` and `ping`
        applications. PAN-OS is stateful: the replies pass. Then one commit."""
        commands: list[str] = []
        for target in targets:
            if state is None:
                raise PlanRefused(
                    f"a bubble through {target.interface} names its zone: it is planned from "
                    "the firewall's state, read when the device is (not offline)"
                )
            zone = state.contexts.get(target.interface)
            if zone is None:
                raise PlanRefused(
                    f"{target.interface} (link {target.link}) is in no security zone on this "
                    "firewall: no rule can name it. Check the link's interface in the inventory"
                )
            description = (
                f'description "{_TAG}-allow {target.interface} {target.stage} {target.link}"'
            )
            for index, flow in enumerate(target.flows):
                base = bubble_rule(target.interface, target.stage, index, flow.protocol)
                if flow.protocol == "icmp":
                    match = "application [ icmp ping ] service any"
                else:
                    ports = flow.port or "1-65535"
                    commands.append(f"set service {base} protocol {flow.protocol} port {ports}")
                    match = f"application any service {base}"
                addresses = f"source {flow.source} destination {flow.destination}"
                common = f"{addresses} {match} action allow {description}"
                commands += [
                    f"set rulebase security rules {base}-in from {zone} to any {common}",
                    f"set rulebase security rules {base}-out from any to {zone} {common}",
                    f"move rulebase security rules {base}-in top",
                    f"move rulebase security rules {base}-out top",
                ]
        return commands

    def recover_candidate(self, session: Session, device: str, own: Sequence[str]) -> str | None:
        """Drop isolement's own uncommitted lines left by a run that never journaled their
        outcome (`own`); None when the candidate holds nothing pending or `own` names no rule.
        DeviceError, with nothing reverted, when the candidate holds anything else."""
        if not _own_rule_names(own) or not self._pending_changes(session, device):
            return None
        running = _config_tree(session.send_command("show config running"), "show config running")
        candidate = _config_tree(session.send_command(_CANDIDATE), _CANDIDATE)
        ours, foreign = candidate_differences(running, candidate, own)
        if foreign:
            more = f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else ""
            mixed = "isolement's own uncommitted rules and " if ours else ""
            raise DeviceError(
                device,
                f"the candidate configuration holds {mixed}changes that are not isolement's: "
                f"{foreign[0]}{more}; nothing was reverted, nothing sent. Review them (`show "
                "config diff` in configure mode), commit or revert them, then run again",
            )
        if not ours:
            raise DeviceError(
                device,
                "the firewall says changes are pending, yet its candidate and running "
                "configurations show no difference: not provably isolement's, so nothing was "
                "reverted or sent. Review them (`show config diff` in configure mode)",
            )
        operational = session.prompt().strip()
        configuring = re.escape(operational[:-1] + "#")
        session.send_command("configure", expect=configuring)
        try:
            answer = session.send_command(_REVERT, expect=configuring)
            self._check(device, answer)
        finally:
            with contextlib.suppress(IsolementError):
                session.send_command("exit", expect=re.escape(operational))
        if self._pending_changes(session, device):
            raise DeviceError(device, "`revert config` left changes pending; nothing was sent")
        return (
            "the candidate held only isolement's own uncommitted lines, left by a run whose "
            f"outcome is not journaled (rules {', '.join(ours)}): reverted with `{_REVERT}`, "
            "then the change sent again whole"
        )

    # --- the transaction: the candidate checked, `configure`, one line at a time, `commit`

    def begin(self, session: Session, device: str) -> str:
        """Refuse a candidate someone else left uncommitted; enter configure mode.

        The lines then go one by one, each answer ending at the configuration prompt, rather
        than through netmiko's send_config_set: its PAN-OS configuration-mode check waits for
        two seconds of silence, four times per session (about 8.5 s per change and 17 s with
        the commit, on a real firewall as on the emulator), where the prompt tells the mode."""
        if self._pending_changes(session, device):
            raise DeviceError(
                device,
                "the candidate configuration holds changes nobody has committed; committing "
                "ours would push them too, so nothing was sent. Review them (`show config diff` "
                "in configure mode), commit or revert them, then run again",
            )
        operational = session.prompt().strip()  # admin@fw>
        self._prompts = (re.escape(operational), re.escape(operational[:-1] + "#"))
        return session.send_command("configure", expect=self._prompts[1])

    def load(self, session: Session, device: str, lines: Sequence[str]) -> str:
        output = []
        for line in lines:
            output.append(session.send_command(line, expect=self._prompts[1]))
            self._check(device, output[-1])
        return "\n".join(output)

    def commit(self, session: Session, device: str, confirm_minutes: int | None) -> str:
        answer = session.send_command("commit", expect=self._prompts[1], timeout=COMMIT_TIMEOUT_S)
        self._check(device, answer)
        if _COMMITTED not in answer.lower():
            raise DeviceError(device, f"commit not confirmed: {answer[-200:]!r}")
        return answer

    def discard(self, session: Session, device: str) -> str | None:
        """Put the candidate back as the running configuration; say whether it worked."""
        try:
            answer = session.send_command(_REVERT, expect=self._prompts[1])
        except IsolementError as exc:
            return f"the candidate change could NOT be reverted: {exc}"
        error = self.find_error(answer)
        if error:
            return f"the candidate change could NOT be reverted: {error}"
        return "the candidate change was reverted, nothing stays pending"

    def end(self, session: Session, device: str) -> str:
        with contextlib.suppress(IsolementError):  # a lost session says so already
            return session.send_command("exit", expect=self._prompts[0])
        return ""

    def snapshot(self, session: Session) -> str:
        # PAN-OS stamps each changed node of the configuration with who changed it, a change
        # counter and when (`admin="..." dirtyId="..." time="..."`): after an exact restore
        # they differ while the configuration is the same, so they are left out.
        return _VOLATILE.sub("", session.send_command(self.facts.snapshot_command))


_VOLATILE = re.compile(r' (?:admin|dirtyId|time)="[^"]*"')


def parse_panorama_status(answer: str) -> bool:
    """Whether `show panorama-status` names a Panorama: the firewall is centrally managed, be
    it connected now or not (a disconnected Panorama still pushed the rules in effect)."""
    servers = _PANORAMA_SERVER.findall(answer)
    if not servers and answer.strip():
        raise UnexpectedOutput(f"unrecognised '{_PANORAMA_STATUS}' output: {answer[:80]!r}")
    if len(_PANORAMA_CONNECTED.findall(answer)) != len(servers):
        raise UnexpectedOutput(
            f"'{_PANORAMA_STATUS}' names {len(servers)} Panorama servers but not as many "
            f"`Connected :` lines: {answer[:120]!r}"
        )
    return bool(servers)


def parse_rules(security_policy: str) -> list[tuple[str, tuple[str, ...], tuple[str, ...], str]]:
    """The rules in effect, in order (pushed pre-rules first, as the firewall evaluates
    them): (name, from zones, to zones, action)."""
    headers = list(_RULE_HEADER.finditer(security_policy))
    rules = []
    for i, header in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(security_policy)
        fields: dict[str, tuple[str, ...]] = {}
        for key, listed, single in _RULE_FIELD.findall(security_policy[header.end() : end]):
            fields.setdefault(key, tuple(listed.split()) if listed else (single,))
        rules.append(
            (
                header["name"],
                fields.get("from", ("any",)),
                fields.get("to", ("any",)),
                fields.get("action", ("",))[0],
            )
        )
    return rules


def _shadowed(
    rules: Sequence[tuple[str, tuple[str, ...], tuple[str, ...], str]],
    denies: Mapping[str, Sequence[str]],
    contexts: Mapping[str, str],
) -> dict[str, str]:
    """Interface -> the rule evaluated before isolement's deny rules for it that allows some
    of the zone's traffic (a Panorama pre-rule: the driver moves its own rules above every
    local one), so the deny is not in effect."""
    shadowed: dict[str, str] = {}
    for interface, owned in denies.items():
        zone = contexts.get(interface)
        if zone is None:
            continue
        for name, from_zones, to_zones, action in rules:
            if name in owned:
                break  # isolement's own deny comes first: traffic through the zone stops here
            if name.startswith(_ALLOW):
                continue  # a bubble isolement opened on purpose, for chosen flows only
            if action == "allow" and (
                zone in from_zones or zone in to_zones or "any" in from_zones + to_zones
            ):
                shadowed[interface] = (
                    f"shadowed by rule {name!r} (allow, evaluated before isolement's deny: a "
                    "Panorama pre-rule): the cut is NOT in effect"
                )
                break
    return shadowed


def _own_rule_names(own: Sequence[str]) -> set[str]:
    return {m.group(2) for line in own if (m := _OWN_LINE.match(line))}


def _config_tree(text: str, command: str) -> ET.Element:
    """The `<config>` element of `show config running|candidate`."""
    start, end = text.find("<config"), text.rfind("</config>")
    if start < 0 or end < start or "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise UnexpectedOutput(f"unrecognised '{command}' output: {text[:80]!r}")
    try:
        # A document type (and so any entity) is refused above; expat 2.4 and later bound
        # what is left (defusedxml is not a dependency).
        return ET.fromstring(text[start : end + len("</config>")])  # noqa: S314
    except ET.ParseError as exc:
        raise UnexpectedOutput(f"unreadable XML in '{command}': {exc}") from None


_Canon = tuple[str, tuple[tuple[str, str], ...], str, tuple["_Canon", ...]]


def _canon(element: ET.Element, *, ignore: frozenset[str] = frozenset()) -> _Canon:
    """An element compared by content: PAN-OS's who/when stamps left out."""
    attributes = tuple(
        sorted(
            (k, v)
            for k, v in element.attrib.items()
            if k not in {"admin", "dirtyId", "time"} | ignore
        )
    )
    children = tuple(_canon(child, ignore=ignore) for child in element)
    return (element.tag, attributes, (element.text or "").strip(), children)


def _first_difference(a: ET.Element, b: ET.Element, path: str) -> str:
    """Where two elements first differ, as an XPath-like path (`.../address/entry[web-1]`)."""
    here = f"{path}/{_step(b)}"
    if _canon(a)[:3] != _canon(b)[:3]:
        return f"{here} (changed)"
    kept = [_step(child) for child in a]
    new = [_step(child) for child in b]
    added = [step for step in new if step not in kept]
    if added:
        return f"{here}/{added[0]} (added)"
    gone = [step for step in kept if step not in new]
    if gone:
        return f"{here}/{gone[0]} (removed)"
    if kept != new:
        return f"{here} (order changed)"
    for x, y in zip(a, b, strict=True):
        if _canon(x) != _canon(y):
            return _first_difference(x, y, here)
    return f"{here} (changed)"


def _step(element: ET.Element) -> str:
    name = element.get("name")
    return f"{element.tag}[{name}]" if name is not None else element.tag


def _expected_rule(lines: Sequence[str]) -> dict[str, tuple[str, ...]] | None:
    """What isolement's `set` lines for one rule put in it, key -> values; None if a line is
    not one the driver writes."""
    fields: dict[str, tuple[str, ...]] = {}
    for rest in lines:
        try:
            words = shlex.split(rest)
        except ValueError:
            return None
        i = 0
        while i + 1 < len(words):
            key = words[i]
            if words[i + 1] == "[" and "]" in words[i + 2 :]:
                end = words.index("]", i + 2)
                values, i = tuple(words[i + 2 : end]), end + 1
            else:
                values, i = (words[i + 1],), i + 2
            if key not in _MEMBER_KEYS | _TEXT_KEYS:
                return None
            fields[key] = values
        if i != len(words):
            return None
    return fields


def _rule_fields(entry: ET.Element) -> dict[str, tuple[str, ...]] | None:
    """A rule entry's content, key -> values, in the same form; None if it holds more."""
    fields: dict[str, tuple[str, ...]] = {}
    for child in entry:
        members = [m for m in child if m.tag == "member"]
        if child.tag in _MEMBER_KEYS and len(members) == len(child):
            fields[child.tag] = tuple((m.text or "").strip() for m in members)
        elif child.tag in _TEXT_KEYS and not len(child):
            fields[child.tag] = ((child.text or "").strip(),)
        else:
            return None
    return fields


def candidate_differences(
    running: ET.Element, candidate: ET.Element, own: Sequence[str]
) -> tuple[list[str], list[str]]:
    """How the candidate differs from the running configuration: (isolement's own rules it
    changes as `own` says, every other difference). A difference is isolement's only when the
    rule is named in `own` and its content is exactly what `own` sets, or it is gone and `own`
    deletes it."""
    sets: dict[str, list[str]] = {}
    deletes: set[str] = set()
    for line in own:
        match = _OWN_LINE.match(line)
        if match and match.group(1) == "set":
            sets.setdefault(match.group(2), []).append(match.group(3) or "")
        elif match and match.group(1) == "delete":
            deletes.add(match.group(2))
    names = set(sets) | deletes | _own_rule_names(own)
    stripped: list[ET.Element] = []
    own_entries: list[dict[str, ET.Element]] = []
    for original in (running, candidate):
        tree = copy.deepcopy(original)
        entries: dict[str, ET.Element] = {}
        for rules in tree.findall(_RULES_PATH):
            for entry in list(rules):
                if entry.get("name") in names:
                    entries[str(entry.get("name"))] = entry
                    rules.remove(entry)
        stripped.append(tree)
        own_entries.append(entries)
    foreign: list[str] = []
    if _canon(stripped[0]) != _canon(stripped[1]):
        foreign.append(_first_difference(stripped[0], stripped[1], ""))
    ours: list[str] = []
    uuid = frozenset({"uuid"})  # the firewall gives each new rule its own
    for name in sorted(names):
        before, after = own_entries[0].get(name), own_entries[1].get(name)
        if before is not None and after is not None and _canon(before) == _canon(after):
            continue
        if after is None and before is None:
            continue
        if after is None:
            (ours if name in deletes else foreign).append(
                name if name in deletes else f"rule {name} deleted by hand"
            )
            continue
        wanted = _expected_rule(sets.get(name, []))
        if name in sets and wanted is not None and _rule_fields(after) == wanted:
            if before is None or _canon(before, ignore=uuid) != _canon(after, ignore=uuid):
                ours.append(name)
            continue
        foreign.append(f"rule {name} holds what isolement's lines do not set")
    return ours, foreign


def _zone_width(interface_all: str) -> int:
    header = _LOGICAL_HEADER.search(interface_all)
    columns = header["dashes"].split() if header else []
    return len(columns[3]) if len(columns) > 3 else _ZONE_WIDTH


def _yes_no(answer: str) -> bool | None:
    """`check pending-changes` answers `yes` or `no` on a line of its own."""
    words = {line.strip() for line in answer.splitlines()}
    if "yes" in words:
        return True
    if "no" in words:
        return False
    return None


def _owned_rules(names: Sequence[str], interfaces: dict[str, bool]) -> dict[str, list[str]]:
    """Interface -> the names of isolement's rules for it, found by the interface in the name
    (the longest known interface that fits, so `ethernet1_1` never takes `ethernet1_1.10`)."""
    tokens = sorted(
        ((name.replace("/", "_"), name) for name in interfaces), key=lambda t: -len(t[0])
    )
    owned: dict[str, list[str]] = {}
    for name in names:
        if not name.startswith(f"{_TAG}-"):
            continue
        rest = name[len(_TAG) + 1 :]
        interface = next(
            (iface for token, iface in tokens if rest.startswith(f"{token}-")),
            # An interface the device no longer lists: decoded from the name itself.
            rest.split("-", 1)[0].replace("_", "/"),
        )
        owned.setdefault(interface, []).append(name)
    return owned


def _owned_bubbles(
    names: Sequence[str], interfaces: dict[str, bool]
) -> dict[str, dict[str, list[str]]]:
    """Interface -> stage -> the bubble's rules, then `service NAME` for each service object
    they use (deleted after the rules)."""
    tokens = sorted(
        ((name.replace("/", "_"), name) for name in interfaces), key=lambda t: -len(t[0])
    )
    allows: dict[str, dict[str, list[str]]] = {}
    for name in names:
        if not name.startswith(_ALLOW):
            continue
        rest = name[len(_ALLOW) :]
        found = next(
            ((iface, rest[len(t) + 1 :]) for t, iface in tokens if rest.startswith(f"{t}-")), None
        )
        match = _ALLOW_REST.match(found[1]) if found else None
        if found is None or match is None:
            raise UnexpectedOutput(f"unrecognised name of an isolement bubble rule: {name!r}")
        ids = allows.setdefault(found[0], {}).setdefault(match["stage"], [])
        ids.append(name)
        service = f"service {name.rsplit('-', 1)[0]}"
        if match["protocol"] != "i" and service not in ids:
            ids.append(service)
    return allows


def _close_bubbles(interfaces: Sequence[str], state: DeviceState | None) -> list[str]:
    """Delete every bubble through these interfaces: its rules, then its service objects."""
    ids = [
        i
        for interface in dict.fromkeys(interfaces)
        for stage in (state.allows.get(interface, {}) if state else {}).values()
        for i in stage
    ]
    rules = [f"delete rulebase security rules {i}" for i in ids if not i.startswith("service ")]
    return rules + [f"delete {i}" for i in ids if i.startswith("service ")]


def _refuse_shared_zones(targets: Sequence[CutTarget], state: DeviceState) -> None:
    targeted = {target.interface for target in targets}
    for target in targets:
        zone = state.contexts.get(target.interface)
        others = sorted(
            name for name, z in state.contexts.items() if z == zone and name not in targeted
        )
        if zone and others:
            raise PlanRefused(
                f"{target.interface} (link {target.link}) is in zone {zone!r} with "
                f"{', '.join(others)}: a PAN-OS rule matches a zone, so the cut would cut them "
                "too. Put the link's interface in a zone of its own, or cut their links as well"
            )
