"""Cisco IOS / IOS-XE: cut = `shutdown` of the interface, restore = `no shutdown`.

State is read from `show ip interface brief`, parsed with ntc-templates (see drivers/ntc.py).
IOS-XE prints some names there abbreviated (`Te0/0/4`, `Tw0/1/0`, `Fo1/0/1`, `Hu1/0/1`: a
real ISR 4000 capture in genieparser's tests), while the configuration, NetBox and inventories
spell them in full (`TenGigabitEthernet0/0/4`); classic IOS prints them in full. The state
gives every interface its configuration's spelling, as the NX-OS driver does with its own
brief table, and `interface_name()` maps either spelling to it.
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
    parse_success_rate,
)
from isolement.drivers.platform import INTERFACE_SHUTDOWN, Platform
from isolement.model.errors import UnexpectedOutput
from isolement.model.state import CutMethod, DeviceState

# IOS marks a refused line with "% " in the configuration dialogue; some dialogues indent the
# refusal under the line they quote (IOS-XE `acm merge`, genieparser's AcmMerge capture).
_IOS_ERRORS = (
    re.compile(
        r"^[ \t]*% ?(Invalid input detected.*|Incomplete command.*|Ambiguous command.*|"
        r"Unknown command.*|Command incomplete.*|Invalid interface.*|.*not allowed.*)$",
        re.MULTILINE,
    ),
)


# The abbreviations IOS-XE prints in `show ip interface brief`, and the configuration's spelling
# of each: genieparser's interface-name table (`Common.convert_intf_name`) for IOS-XE, which
# its parsers apply to the same captures. Longest first: `Twe` is not `Tw` + "e".
_FULL_NAMES = {
    "Twe": "TwentyFiveGigE",
    "Tw": "TwoGigabitEthernet",
    "Te": "TenGigabitEthernet",
    "Fo": "FortyGigabitEthernet",
    "Fi": "FiveGigabitEthernet",
    "Hu": "HundredGigE",
    "Gi": "GigabitEthernet",
    "Fa": "FastEthernet",
    "Ap": "AppGigabitEthernet",
}
_ABBREVIATED = re.compile(rf"({'|'.join(_FULL_NAMES)})(\d[\d/.:]*)")


def interface_name(name: str) -> str:
    """The configuration's spelling of an IOS interface name, given either spelling:
    `Te0/0/4` and `TenGigabitEthernet0/0/4` -> `TenGigabitEthernet0/0/4`. Names IOS never
    abbreviates (`Loopback0`, `Tunnel1`, `Vlan10`, `ucse1/0/0`) are kept as they are."""
    match = _ABBREVIATED.fullmatch(name)
    return _FULL_NAMES[match.group(1)] + match.group(2) if match else name


FACTS: Platform = Platform(
    name="cisco_ios",
    netmiko_device_type="cisco_ios",
    methods=frozenset({CutMethod.SHUTDOWN}),
    preferred_method=CutMethod.SHUTDOWN,
    snapshot_command="show running-config",
    error_patterns=_IOS_ERRORS,
    # The header lines IOS and IOS-XE rewrite by themselves: the time of the last change
    # (every cut and restore) and of the last save, or that there was none since the restart
    # (tests/data/cisco_xe/SOURCES.md), so that an exact restore compares equal.
    volatile_lines=(
        re.compile(r"^! Last configuration change at "),
        re.compile(r"^! NVRAM config last updated at "),
        re.compile(r"^! No configuration change since last restart"),
    ),
    shutdown=INTERFACE_SHUTDOWN,
    persistence="save",
    persistence_note=(
        "saved with `write memory`; unsaved changes are found before the cut with `show "
        "archive config differences` (startup vs running; `ntp clock-period` ignored)"
    ),
    save_commands=("write memory",),
)


class CiscoIosDriver(Driver):
    facts = FACTS
    interface_name = staticmethod(interface_name)

    # --- device-sourced probes: `ping X source Y repeat N` (source: an address or interface)

    def ping_command(
        self, to: IPv4Address, *, source: str | None, count: int, port: int | None
    ) -> str | None:
        if port is not None:
            return None  # IOS's ping is ICMP only
        via = f" source {source}" if source else ""
        return f"ping {to}{via} repeat {count}"

    def parse_ping(self, output: str) -> PingReply:
        return parse_success_rate(output)

    # --- persistence (#12 §3) -------------------------------------------------------------

    def unsaved_changes(self, session: Session, interfaces: Collection[str] = ()) -> UnsavedCheck:
        output = session.send_command(
            "show archive config differences nvram:startup-config system:running-config"
        )
        return self.parse_config_differences(output, interfaces)

    def parse_config_differences(
        self, output: str, interfaces: Collection[str] = ()
    ) -> UnsavedCheck:
        """`show archive config differences`: `!No changes were found` when the startup and
        running configurations match; else the `+`/`-` lines of the difference, each under its
        parent (`interface X`). The clock drift IOS writes by itself (`ntp clock-period`) is
        no one's change, nor is a `shutdown` of an interface the change sets again (`interfaces`:
        a cut reopened by hand, which the cut undoes)."""
        if self.find_error(output):
            return UnsavedCheck(None, f"the device cannot compare: {self.find_error(output)}")
        if "No changes were found" in output:
            return UnsavedCheck(False)
        ours = {f"interface {self.interface_name(i)}" for i in interfaces}
        lines, parent = [], ""
        for line in output.splitlines():
            text = line.strip()
            if not line.startswith(" ") and text[:1] not in ("+", "-", "!"):
                parent = text
            if text[:1] not in ("+", "-") or "ntp clock-period" in text:
                continue
            if parent in ours and text[1:].strip() in ("shutdown", "no shutdown"):
                continue
            lines.append(f"{parent}: {text}" if line.startswith(" ") and parent else text)
        if not lines and "Contextual Config Diffs" in output:
            return UnsavedCheck(False)
        if not lines:
            return UnsavedCheck(None, "the comparison's answer is not one isolement reads")
        return UnsavedCheck(True, "; ".join(lines[:5]) + (" ..." if len(lines) > 5 else ""))

    def read_state(self, session: Session) -> DeviceState:
        return self.parse_interface_brief(session.send_command("show ip interface brief"))

    @staticmethod
    def parse_interface_brief(output: str) -> DeviceState:
        rows = ntc.parse(_BRIEF_TEMPLATE, output)
        if not rows and output.strip():
            raise UnexpectedOutput(
                f"unrecognised 'show ip interface brief' output: {output[:80]!r}"
            )
        return DeviceState(
            interfaces={
                interface_name(row["interface"]): row["status"] != "administratively down"
                for row in rows
            }
        )


# The template ntc-templates' index names for `cisco_ios` + `show ip interface brief`.
_BRIEF_TEMPLATE = "cisco_ios_show_ip_interface_brief.textfsm"
