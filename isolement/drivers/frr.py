"""FRRouting's vtysh: an IOS-like CLI where `shutdown` really takes the kernel link down.

Only the state reading differs from IOS. vtysh has no `show ip interface brief`; its `show
interface brief` Status column is the kernel's administrative flag (IFF_UP: zebra prints it
with `if_is_up()`), not the link: a port whose far end is shut still reads `up` there (its
`show interface` says `line protocol is down`). That flag is what the device forwards by, so
it is the state isolement reads, whoever set it: `shutdown` in vtysh, `ip link set down`, the
distribution, or a cut that outlived a restart of FRR's daemons. The running configuration
is not: after the daemons restart, zebra reads its startup configuration, which never held
the (unsaved) `shutdown`, while the kernel link stays down (observed on the lab's FRR 8.4);
reading the `shutdown` lines then says "open" of a link that forwards nothing. Conversely a
port set down before a cut reads as already cut, so nothing is changed or journaled for it,
and a restore, which undoes only what the journal says isolement changed, leaves it down.

A `down` row can also be an interface that exists only in FRR's configuration (`interface X`
for a link the kernel does not have): when a row is down, `show interface` is read as well,
and an interface it calls a `pseudo interface` (or `inactive interface`) is left out of the
state, since there is no link to cut or to call cut. The other down rows are checked against
that output's `flags: <...>` line, the kernel's own flags.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import replace
from ipaddress import IPv4Address
from typing import ClassVar

from isolement.drivers.base import PingReply, Session, UnsavedCheck, parse_iputils_ping
from isolement.drivers.cisco_ios import FACTS as IOS_FACTS
from isolement.drivers.cisco_ios import CiscoIosDriver
from isolement.drivers.platform import Platform
from isolement.model.errors import UnexpectedOutput
from isolement.model.state import DeviceState

# A row of `show interface brief` (one table per VRF with `vrf all`); an address-only line
# continuing a row starts with spaces and is not a row.
_BRIEF_ROW = re.compile(r"^(?P<name>\S+)\s+(?P<status>up|down)\s+\S+")
_BRIEF_HEADER = re.compile(r"^(?:Interface\s+Status\s+VRF\s+Addresses|-+\s+-+\s+-+\s+-+)\s*$")
# `show interface`: a block per interface, `Interface X is up, line protocol is ...` or
# `Interface X is down`, then the kernel's flags, or the reason it has none.
_DETAIL_HEADER = re.compile(r"^Interface (?P<name>\S+) is (?:up|down)\b")
_FLAGS = re.compile(r"^\s+flags: <(?P<flags>[^>]*)>")
_ABSENT = re.compile(r"^\s+(?:pseudo interface|index -?\d+ inactive interface)\s*$")


# IOS's facts (netmiko's cisco_ios driver serves vtysh), but for its ping and what a save sees.
FACTS: Platform = replace(
    IOS_FACTS,
    name="frr",
    # vtysh's `ping X` runs the system's (iputils) ping with no option at all: no count (it is
    # stopped with Ctrl-C) and no source.
    ping_runs_until_interrupted=True,
    persistence_note=(
        "saved with vtysh `write memory` (to the daemons' configuration files); vtysh cannot "
        "show the startup configuration, so someone else's unsaved changes cannot be found "
        "and would be saved with the cut"
    ),
)


class FrrDriver(CiscoIosDriver):
    facts: ClassVar[Platform] = FACTS

    # --- device-sourced probes: vtysh's `ping X`

    def ping_command(
        self, to: IPv4Address, *, source: str | None, count: int, port: int | None
    ) -> str | None:
        if port is not None or source is not None:
            return None  # vtysh passes no option to ping: no TCP, no source
        return f"ping {to}"

    def parse_ping(self, output: str) -> PingReply:
        return parse_iputils_ping(output)

    # --- persistence (#12 §3) -------------------------------------------------------------

    def unsaved_changes(self, session: Session, interfaces: Collection[str] = ()) -> UnsavedCheck:
        return UnsavedCheck(None, "vtysh cannot show the startup configuration to compare with")

    def read_state(self, session: Session) -> DeviceState:
        brief = session.send_command("show interface brief")
        rows = self.parse_brief(brief)
        details = session.send_command("show interface") if not all(rows.values()) else None
        return self.parse_state(brief, details)

    @staticmethod
    def parse_brief(output: str) -> dict[str, bool]:
        """Interface -> the kernel's administrative flag, as `show interface brief` prints it.
        Every non-blank line is a header, a row or an address continuing a row: anything else
        is refused, never skipped."""
        rows: dict[str, bool] = {}
        for line in output.splitlines():
            if not line.strip() or _BRIEF_HEADER.match(line) or line[0].isspace():
                continue
            row = _BRIEF_ROW.match(line)
            if row is None:
                raise UnexpectedOutput(f"unrecognised 'show interface brief' line: {line!r}")
            rows[row["name"]] = row["status"] == "up"
        if not rows:
            raise UnexpectedOutput(f"no interface in 'show interface brief': {output[:80]!r}")
        return rows

    @staticmethod
    def parse_details(output: str) -> dict[str, bool | None]:
        """Interface -> whether the kernel has it UP, from `show interface`; None for an
        interface the kernel does not have (FRR's `pseudo interface`, `inactive interface`)."""
        details: dict[str, bool | None] = {}
        current: str | None = None
        for line in output.splitlines():
            header = _DETAIL_HEADER.match(line)
            if header:
                current = header["name"]
                continue
            if current is None:
                continue
            flags = _FLAGS.match(line)
            if flags:
                details[current] = "UP" in flags["flags"].split(",")
            elif _ABSENT.match(line):
                details[current] = None
        if not details and output.strip():
            raise UnexpectedOutput(f"unrecognised 'show interface' output: {output[:80]!r}")
        return details

    @classmethod
    def parse_state(cls, brief: str, details: str | None = None) -> DeviceState:
        """The state from `show interface brief`, and `show interface` (`details`) when a row
        is down: without it, a down row is read as the kernel's flag it is."""
        rows = cls.parse_brief(brief)
        if details is None:
            return DeviceState(interfaces=rows)
        kernel = cls.parse_details(details)
        interfaces: dict[str, bool] = {}
        for name, up in rows.items():
            if up:
                interfaces[name] = True
                continue
            if name not in kernel:
                raise UnexpectedOutput(
                    f"'show interface' gives no flags for {name}, down in 'show interface "
                    "brief': it cannot be told whether the kernel has that link"
                )
            flag = kernel[name]
            if flag is not None:  # None: FRR knows it from its configuration only
                interfaces[name] = flag
        return DeviceState(interfaces=interfaces)
