"""A Linux firewall with nftables: the cut is a set of drop rules in a table isolement owns.

The table `inet isolement` holds nothing but isolement's rules, hooked just before the usual
filter priority, so the firewall's own ruleset is never edited. Each rule carries the comment
`isolement <interface> <link>`, which is how state is read back (`nft -j`) and how restore
deletes exactly the rules isolement added, by handle. Each cut or restore is one `nft`
invocation, which nftables applies as one atomic transaction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from isolement.drivers.base import (
    AllowTarget,
    CutTarget,
    Driver,
    PingReply,
    Session,
    parse_iputils_ping,
)
from isolement.drivers.platform import Platform
from isolement.model.errors import UnexpectedOutput
from isolement.model.state import CutMethod, DeviceState

TABLE = "inet isolement"
# Rule comments: `isolement <interface> <link>` for a cut, and
# `isolement-allow <interface> <stage> <link>` for a flow a reconnection stage lets through.
_DENY_TAG = "isolement"
_ALLOW_TAG = "isolement-allow"
_HOOKS = {"input": "iifname", "forward": None, "output": "oifname"}
# The echo is a marker whose text differs from the command's own echo (`$?` vs the number).
_FAILED = "isolement-failed: exit"
# What the TCP probe prints: a connection opened, or not (refused, or no answer in 2 s).
_TCP_OPEN = "isolement-tcp: open"
_TCP_SHUT = "isolement-tcp: not open"


@dataclass(frozen=True)
class NftRule:
    """One of isolement's rules, as nftables deletes it: by chain and handle. Its id in
    `DeviceState.denies` and `allows` (journaled) is `chain/handle`."""

    chain: str
    handle: int

    @classmethod
    def parse(cls, rule_id: str) -> NftRule:
        chain, handle = rule_id.split("/")
        return cls(chain, int(handle))

    def __str__(self) -> str:
        return f"{self.chain}/{self.handle}"

    def delete(self) -> str:
        return f"delete rule {TABLE} {self.chain} handle {self.handle}"


def _chain(hook: str) -> str:
    return f"add chain {TABLE} {hook} {{ type filter hook {hook} priority -10; policy accept; }}"


def _nft(statements: Sequence[str]) -> str:
    # Names are validated to hold no quote or semicolon, so single quotes are safe here.
    return f"nft '{'; '.join(statements)}' || echo \"{_FAILED} $?\""


FACTS = Platform(
    name="linux",
    netmiko_device_type="linux",
    methods=frozenset({CutMethod.DENY}),
    preferred_method=CutMethod.DENY,
    snapshot_command="nft list ruleset",
    error_patterns=(
        re.compile(rf"^{_FAILED} \d+$", re.MULTILINE),
        re.compile(r"^Error: .*$", re.MULTILINE),
        re.compile(r"^.*: command not found$", re.MULTILINE),
    ),
    # A shell: each line is a command.
    config_mode=False,
    # bash redraws a line longer than the terminal, so the echo never matches the command; the
    # end of the answer is found by the prompt instead.
    verify_echo=False,
    can_allow=True,
    persistence_note=(
        "a reboot reopens the cut: isolement's nftables table lives in the kernel only, and the "
        "distribution's ruleset file (/etc/nftables.conf) holds other rules, not isolement's to "
        "rewrite"
    ),
)


class LinuxDriver(Driver):
    facts = FACTS

    # --- device-sourced probes: `ping -n -c N -I Y X`; a TCP connection through bash

    def ping_command(
        self, to: IPv4Address, *, source: str | None, count: int, port: int | None
    ) -> str | None:
        if port is not None:
            # Opened and closed by bash, as the lab's namespace probes do; the answer is made
            # to read as a one-packet ping so one parser serves both.
            return (
                f"timeout 2 bash -c 'exec 3<>/dev/tcp/{to}/{port}' 2>/dev/null "
                f"&& echo '{_TCP_OPEN}' || echo '{_TCP_SHUT}'"
            )
        via = f" -I {source}" if source else ""
        # Echo requests a fifth of a second apart, each waited for one second at most.
        return f"ping -n -q -c {count} -i 0.2 -W 1{via} {to}"

    def parse_ping(self, output: str) -> PingReply:
        lines = {line.strip() for line in output.splitlines()}
        if _TCP_OPEN in lines:
            return PingReply(sent=1, received=1)
        if _TCP_SHUT in lines:
            return PingReply(sent=1, received=0)
        return parse_iputils_ping(output)

    def has_privilege(self, session: Session) -> bool:
        # nft needs root (CAP_NET_ADMIN); the shell prompt alone does not prove it.
        return session.send_command("id -u").strip() == "0"

    def read_state(self, session: Session) -> DeviceState:
        return self.parse_state(
            session.send_command("ip -j link show"),
            session.send_command(
                f"nft -j list table {TABLE} 2>/dev/null || echo '{{\"nftables\": []}}'"
            ),
        )

    @staticmethod
    def parse_state(links_json: str, table_json: str) -> DeviceState:
        for command, answer in (
            ("ip -j link show", links_json),
            (f"nft -j list table {TABLE}", table_json),
        ):
            try:
                json.loads(answer)
            except ValueError as exc:
                raise UnexpectedOutput(
                    f"'{command}' did not answer JSON ({exc}): {answer[:80]!r}"
                ) from None
        try:
            links = json.loads(links_json)
            table = json.loads(table_json)["nftables"]
            if not isinstance(links, list) or not isinstance(table, list):
                raise TypeError("expected a JSON list")
            denies: dict[str, list[str]] = {}
            allows: dict[str, dict[str, list[str]]] = {}
            for item in table:
                rule = item.get("rule")
                words = str(rule.get("comment", "")).split(" ") if rule else [""]
                # A rule is deleted by chain and handle, so both make its id.
                rule_id = str(NftRule(rule["chain"], int(rule["handle"]))) if rule else ""
                if words[0] == _DENY_TAG:
                    denies.setdefault(words[1], []).append(rule_id)
                elif words[0] == _ALLOW_TAG:
                    allows.setdefault(words[1], {}).setdefault(words[2], []).append(rule_id)
            interfaces = {link["ifname"]: "UP" in link.get("flags", []) for link in links}
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            raise UnexpectedOutput(
                f"unrecognised JSON from 'ip -j link show' / 'nft -j list table {TABLE}': {exc}"
            ) from None
        return DeviceState(interfaces=interfaces, denies=denies, allows=allows)

    def cut_lines(self, targets: Sequence[CutTarget], state: DeviceState | None) -> list[str]:
        statements = [f"add table {TABLE}"] + [_chain(hook) for hook in _HOOKS]
        for target in targets:
            # A bubble opened by a reconnection stage closes with the cut.
            for ids in (state.allows.get(target.interface, {}) if state else {}).values():
                statements += _deletes(ids)
            if state and state.denies.get(target.interface):
                continue
            comment = f'comment "{_DENY_TAG} {target.interface} {target.link}"'
            for hook, match in _HOOKS.items():
                for key in [match] if match else ["iifname", "oifname"]:
                    statements.append(
                        f'add rule {TABLE} {hook} {key} "{target.interface}" drop {comment}'
                    )
        return [_nft(statements)]

    def restore_lines(self, targets: Sequence[CutTarget], state: DeviceState) -> list[str]:
        restored = {target.interface for target in targets}
        statements = []
        for interface in sorted(restored):
            statements += _deletes(state.denies.get(interface, []))
            for ids in state.allows.get(interface, {}).values():
                statements += _deletes(ids)
        if not statements:
            return []
        if restored >= set(state.denies) | set(state.allows):
            # Nothing of isolement's would remain: remove the table too, leaving the ruleset
            # exactly as it was before the first cut.
            statements = [f"delete table {TABLE}"]
        return [_nft(statements)]

    def allow_lines(self, targets: Sequence[AllowTarget], state: DeviceState | None) -> list[str]:
        statements = []
        for target in targets:
            comment = f'comment "{_ALLOW_TAG} {target.interface} {target.stage} {target.link}"'
            for flow in target.flows:
                # Inserted at the head of the chain, ahead of the drops; both directions.
                out = _match(flow.protocol, flow.source, flow.destination, "dport", flow.port)
                # Replies only: the far side cannot open connections of its own through it.
                back = _match(flow.protocol, flow.destination, flow.source, "sport", flow.port)
                back += " ct state established,related"
                statements += [
                    f'insert rule {TABLE} forward oifname "{target.interface}" {out} accept '
                    f"{comment}",
                    f'insert rule {TABLE} forward iifname "{target.interface}" {back} accept '
                    f"{comment}",
                ]
        return [_nft(statements)] if statements else []


def _deletes(rule_ids: Sequence[str]) -> list[str]:
    return [NftRule.parse(rule_id).delete() for rule_id in rule_ids]


def _match(
    protocol: str, source: IPv4Network, destination: IPv4Network, port_key: str, port: int | None
) -> str:
    words = f"ip saddr {source} ip daddr {destination}"
    if protocol == "icmp":
        return f"{words} ip protocol icmp"
    return f"{words} {protocol} {port_key} {port}" if port else f"{words} meta l4proto {protocol}"
