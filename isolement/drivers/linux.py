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

from isolement.drivers.base import CutTarget, Driver, Session
from isolement.errors import UnexpectedOutput
from isolement.state import CutMethod, DeviceState

TABLE = "inet isolement"
_HOOKS = {"input": "iifname", "forward": None, "output": "oifname"}
# The echo is a marker whose text differs from the command's own echo (`$?` vs the number).
_FAILED = "isolement-failed: exit"


def _chain(hook: str) -> str:
    return f"add chain {TABLE} {hook} {{ type filter hook {hook} priority -10; policy accept; }}"


def _nft(statements: Sequence[str]) -> str:
    # Names are validated to hold no quote or semicolon, so single quotes are safe here.
    return f"nft '{'; '.join(statements)}' || echo \"{_FAILED} $?\""


class LinuxDriver(Driver):
    platform = "linux"
    netmiko_device_type = "linux"
    methods = frozenset({CutMethod.DENY})
    preferred_method = CutMethod.DENY
    snapshot_command = "nft list ruleset"
    uses_config_mode = False
    # bash redraws a line longer than the terminal, so the echo never matches the command; the
    # end of the answer is found by the prompt instead.
    verify_echo = False
    error_patterns = (
        re.compile(rf"^{_FAILED} \d+$", re.MULTILINE),
        re.compile(r"^Error: .*$", re.MULTILINE),
        re.compile(r"^.*: command not found$", re.MULTILINE),
    )

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
        try:
            links = json.loads(links_json)
            table = json.loads(table_json)["nftables"]
            if not isinstance(links, list) or not isinstance(table, list):
                raise TypeError("expected a JSON list")
            denies: dict[str, list[str]] = {}
            for item in table:
                rule = item.get("rule")
                if not rule or not str(rule.get("comment", "")).startswith("isolement "):
                    continue
                interface = rule["comment"].split(" ")[1]
                # A rule is deleted by chain and handle, so both make its id.
                denies.setdefault(interface, []).append(f"{rule['chain']}/{rule['handle']}")
            interfaces = {link["ifname"]: "UP" in link.get("flags", []) for link in links}
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            raise UnexpectedOutput(f"unrecognised JSON from ip/nft: {exc}") from None
        return DeviceState(interfaces=interfaces, denies=denies)

    def cut_commands(self, targets: Sequence[CutTarget]) -> list[str]:
        statements = [f"add table {TABLE}"] + [_chain(hook) for hook in _HOOKS]
        for target in targets:
            comment = f'comment "isolement {target.interface} {target.link}"'
            for hook, match in _HOOKS.items():
                for key in [match] if match else ["iifname", "oifname"]:
                    statements.append(
                        f'add rule {TABLE} {hook} {key} "{target.interface}" drop {comment}'
                    )
        return [_nft(statements)]

    def restore_commands(self, targets: Sequence[CutTarget], state: DeviceState) -> list[str]:
        restored = {target.interface for target in targets}
        statements = []
        for interface in sorted(restored):
            for rule_id in state.denies.get(interface, []):
                chain, handle = rule_id.split("/")
                statements.append(f"delete rule {TABLE} {chain} handle {handle}")
        if not statements:
            return []
        if restored >= set(state.denies):
            # Nothing of isolement's would remain: remove the table too, leaving the ruleset
            # exactly as it was before the first cut.
            statements = [f"delete table {TABLE}"]
        return [_nft(statements)]
