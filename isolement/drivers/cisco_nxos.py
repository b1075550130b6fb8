"""Cisco NX-OS (Nexus datacentre switches): cut = `shutdown` of the interface, restore =
`no shutdown`, over the CLI in `configure terminal`.

Why shutdown: on a Nexus the WAN and uplink ports are layer-3 ports (`no switchport`, `ip
address`); shutting one stops every packet and every routing adjacency over the link at once,
the device keeps the rest of its configuration untouched, and `no shutdown` brings back exactly
what was there. No rule is added, so nothing has to be named or found again: the restore sends
`no shutdown` only for the interfaces this cut shut (the planner skips those already in the
wanted state). NX-OS applies each line as typed: there is no candidate configuration and no
commit (`configure session` exists but is not needed for one line per interface).

State is read from `show interface brief` (parsed with ntc-templates' template, as the IOS
driver does). Its Status column is the link; the administrative state is the Reason
"Administratively down". NX-OS prints one reason only, and not always that one: a shut port
without a transceiver says "XCVR not inserted" (napalm's N93180 capture, in tests/data), and
loopback, mgmt0 and tunnel rows have no Reason column at all. So a `down` row without
"Administratively down" is ambiguous; when any exists, one `show interface` is read as well and
its `admin state is up|down` line (tunnels: `Admin State: up`; older releases with no such
line: the reason on the first line) decides. The brief table abbreviates names (`Eth1/3`,
`Po10`, `Lo0`); they are given back as the configuration and `show interface` spell them
(`Ethernet1/3`, `port-channel10`, `loopback0`), the names an inventory uses.

The snapshot is `show running-config` without its `!Time:` and `!Running configuration last
done at:` header lines: the first changes every second, the second with every change, so an
exact restore would otherwise never compare equal.

NAPALM: its `nxos_ssh` driver is netmiko's `cisco_nxos` underneath, and its `nxos` driver needs
NX-API (HTTPS, `feature nxapi`), which a crisis tool cannot assume is enabled, let alone
reachable once the network is being cut. NAPALM has no "shut this interface" call anyway: a cut
would go through `load_merge_candidate` + `commit_config`, which on NX-OS is a checkpoint and
`rollback running-config` for one line, far slower and with more ways to fail than the line
itself. So NAPALM brings nothing real here; this driver speaks the CLI through netmiko.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from ipaddress import IPv4Address

from isolement.drivers import ntc
from isolement.drivers.base import (
    Driver,
    PingReply,
    Session,
    UnsavedCheck,
    is_address,
    parse_bsd_ping,
)
from isolement.drivers.platform import INTERFACE_SHUTDOWN, Platform
from isolement.model.errors import UnexpectedOutput
from isolement.model.state import CutMethod, DeviceState

# NX-OS refuses a line with a `%` line under a caret: `% Invalid command at '^' marker.`,
# `% Invalid interface format at '^' marker.`, `% Incomplete command at '^' marker.`,
# `% Invalid parameter detected at '^' marker.`, `% Permission denied for the role`; a few
# refusals start with `ERROR:` instead. Console log lines start with their timestamp, never with
# `%`, so every line starting with `%` is a refusal: ansible's cisco.nxos terminal plugin reads
# NX-OS's answers the same way (`^% \w+`, `error:`).
_NXOS_ERRORS = (
    re.compile(r"^% ?\S.*$", re.MULTILINE),
    re.compile(r"^(?:ERROR|Error|error): .*$", re.MULTILINE),
)

# The template ntc-templates' index names for `cisco_nxos` + `show interface brief`.
_BRIEF_TEMPLATE = "cisco_nxos_show_interface_brief.textfsm"
# Abbreviations of the brief table -> the names of the configuration and `show interface`.
_LONG_NAMES = {"Eth": "Ethernet", "Po": "port-channel", "Lo": "loopback"}
_ABBREVIATED = re.compile(r"(Eth|Po|Lo)(\d[\d/.:]*)")
_ADMIN_DOWN = "administratively down"

# `show interface`: a block starts with its header at the start of a line: `NAME is up|down[
# (reason)]`, on SVIs `..., line protocol is down[, autostate enabled]`, and on older releases
# `Vlan1 is administratively down (Administratively down), line protocol is down, autostate
# enabled`. Its admin state follows as `admin state is up|down,` (tunnels: `Admin State: up`).
_HEADER = re.compile(
    r"^(?P<name>[A-Za-z][\w./:-]*) is (?P<oper>up|down|administratively down)\b"
    r"(?: \((?P<reason>[^)]*)\))?"
)
_ADMIN = re.compile(r"^\s*admin state(?: is|:)\s*(?P<admin>up|down)\b", re.IGNORECASE)


FACTS = Platform(
    name="cisco_nxos",
    netmiko_device_type="cisco_nxos",
    methods=frozenset({CutMethod.SHUTDOWN}),
    preferred_method=CutMethod.SHUTDOWN,
    snapshot_command="show running-config",
    error_patterns=_NXOS_ERRORS,
    # The header lines that change on their own (see the module docstring).
    volatile_lines=(re.compile(r"^!Time:"), re.compile(r"^!Running configuration last done at:")),
    shutdown=INTERFACE_SHUTDOWN,
    persistence="save",
    persistence_note=(
        "saved with `copy running-config startup-config`; unsaved changes are found before "
        "the cut with `show running-config diff`"
    ),
    save_commands=("copy running-config startup-config",),
)


class CiscoNxosDriver(Driver):
    facts = FACTS

    # --- device-sourced probes: `ping X count N source Y` (or `source-interface` for a name)

    def ping_command(
        self, to: IPv4Address, *, source: str | None, count: int, port: int | None
    ) -> str | None:
        if port is not None:
            return None  # NX-OS's ping is ICMP only
        via = ""
        if source:
            via = f" source {source}" if is_address(source) else f" source-interface {source}"
        return f"ping {to} count {count}{via}"

    def parse_ping(self, output: str) -> PingReply:
        return parse_bsd_ping(output)

    @staticmethod
    def interface_name(name: str) -> str:
        return long_name(name)

    # --- persistence (#12 §3) -------------------------------------------------------------

    def unsaved_changes(self, session: Session, interfaces: Collection[str] = ()) -> UnsavedCheck:
        return self.parse_running_diff(session.send_command("show running-config diff"))

    def parse_running_diff(self, output: str) -> UnsavedCheck:
        """`show running-config diff`: nothing when the running configuration is the startup
        one; else a context diff (`*** Startup-config`, `--- Running-config`, `!`/`+`/`-`)."""
        error = self.find_error(output)
        if error:
            return UnsavedCheck(None, f"the device cannot compare: {error}")
        lines = [
            line.strip() for line in output.splitlines() if line.strip()[:2] in ("+ ", "- ", "! ")
        ]
        if not output.strip():
            return UnsavedCheck(False)
        return UnsavedCheck(True, "; ".join(lines[:5]) or output.strip().splitlines()[0])

    def read_state(self, session: Session) -> DeviceState:
        rows = self.parse_interface_brief(session.send_command("show interface brief"))
        if any(up is None for up in rows.values()):
            details = self.parse_show_interface(session.send_command("show interface"))
        else:
            details = {}
        return self.resolve(rows, details)

    @staticmethod
    def parse_interface_brief(output: str) -> dict[str, bool | None]:
        """Interface -> administratively up, or None where the brief table cannot tell (a
        `down` row without "Administratively down")."""
        try:
            rows = ntc.parse(_BRIEF_TEMPLATE, output)
        except ntc.TemplateError:
            rows = []  # the template's own "not a table I know" (its `-> Error` rules)
        if not rows and output.strip():
            raise UnexpectedOutput(f"unrecognised 'show interface brief' output: {output[:80]!r}")
        result: dict[str, bool | None] = {}
        for row in rows:
            name = long_name(row["interface"])
            reason = row["reason"].strip().lower()
            if row["status"] == "up":
                result[name] = True
            # `Admin` alone: the SVI table's reason column cut short on some releases.
            elif reason.startswith(_ADMIN_DOWN) or reason == "admin":
                result[name] = False
            else:
                result[name] = None
        return result

    @staticmethod
    def parse_show_interface(output: str) -> dict[str, bool]:
        """Interface -> administratively up, from `show interface`. A line at the start of a
        line that is neither a header nor an `admin state` line ends the block before it: what
        follows an unrecognised header is never credited to the interface above it."""
        result: dict[str, bool] = {}
        current: str | None = None
        for line in output.splitlines():
            header = _HEADER.match(line)
            if header:
                current = header["name"]
                reason = (header["reason"] or "").lower()
                shut = header["oper"] != "up" and (
                    header["oper"] == _ADMIN_DOWN or reason.startswith(_ADMIN_DOWN)
                )
                result[current] = not shut
                continue
            admin = _ADMIN.match(line)
            if admin:
                if current is not None:
                    result[current] = admin["admin"].lower() == "up"
            elif line[:1].strip():
                current = None  # an unrecognised header: its lines belong to no known block
        if not result and output.strip():
            raise UnexpectedOutput(f"unrecognised 'show interface' output: {output[:80]!r}")
        return result

    @staticmethod
    def resolve(rows: dict[str, bool | None], details: dict[str, bool]) -> DeviceState:
        unknown = [name for name, up in rows.items() if up is None and name not in details]
        if unknown:
            raise UnexpectedOutput(
                f"'show interface' says nothing of {', '.join(unknown)}, down in 'show "
                "interface brief' for a reason that does not tell whether it is shut"
            )
        return DeviceState(
            interfaces={name: details[name] if up is None else up for name, up in rows.items()}
        )


def long_name(name: str) -> str:
    """`Eth1/3` -> `Ethernet1/3`, `Po10.300` -> `port-channel10.300`, `Lo0` -> `loopback0`;
    names the brief table prints in full (`Vlan1`, `mgmt0`, `Tunnel101`) are kept."""
    match = _ABBREVIATED.fullmatch(name)
    return _LONG_NAMES[match.group(1)] + match.group(2) if match else name
