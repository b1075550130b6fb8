"""Cisco IOS / IOS-XE: cut = `shutdown` of the interface, restore = `no shutdown`.

State is read from `show ip interface brief`, parsed with ntc-templates (see drivers/ntc.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from isolement.drivers import ntc
from isolement.drivers.base import CutTarget, Driver, Session
from isolement.model.errors import UnexpectedOutput
from isolement.model.state import CutMethod, DeviceState

# IOS marks a refused line with "% " in the configuration dialogue.
_IOS_ERRORS = (
    re.compile(
        r"^% ?(Invalid input detected.*|Incomplete command.*|Ambiguous command.*|"
        r"Unknown command.*|Command incomplete.*|Invalid interface.*|.*not allowed.*)$",
        re.MULTILINE,
    ),
)


class InterfaceShutdown:
    """Cut = `shutdown` inside `interface X`, restore = `no shutdown`: IOS's syntax, which
    FRR's vtysh, NX-OS and AOS-CX share. Each block ends with `exit` back to `(config)#`: some
    netmiko drivers (AOS-CX's) only recognise that prompt as configuration mode, and a refused
    `interface` leaves the session there, where the `shutdown` after it is refused too: it
    never lands on another port."""

    def cut_commands(
        self, targets: Sequence[CutTarget], state: DeviceState | None = None
    ) -> list[str]:
        return _interface_blocks(targets, "shutdown")

    def restore_commands(self, targets: Sequence[CutTarget], state: DeviceState) -> list[str]:
        return _interface_blocks(targets, "no shutdown")


def _interface_blocks(targets: Sequence[CutTarget], line: str) -> list[str]:
    commands: list[str] = []
    for target in targets:
        commands += [f"interface {target.interface}", line, "exit"]
    return commands


class CiscoIosDriver(InterfaceShutdown, Driver):
    platform = "cisco_ios"
    netmiko_device_type = "cisco_ios"
    methods = frozenset({CutMethod.SHUTDOWN})
    preferred_method = CutMethod.SHUTDOWN
    snapshot_command = "show running-config"
    error_patterns = _IOS_ERRORS

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
            interfaces={row["interface"]: row["status"] != "administratively down" for row in rows}
        )


# The template ntc-templates' index names for `cisco_ios` + `show ip interface brief`.
_BRIEF_TEMPLATE = "cisco_ios_show_ip_interface_brief.textfsm"
