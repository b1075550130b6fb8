"""FRRouting's vtysh: an IOS-like CLI where `shutdown` really takes the kernel link down.

Only the state reading differs from IOS: vtysh has no `show ip interface brief`, and its
`show interface brief` reports the operational state, which also reads "down" when the far end
was shut. The administrative state, which is what isolement changes and must restore, is the
`shutdown` line in the running configuration.
"""

from __future__ import annotations

import re

from isolement.drivers.base import Session
from isolement.drivers.cisco_ios import CiscoIosDriver
from isolement.model.errors import UnexpectedOutput
from isolement.model.state import DeviceState

_BRIEF_ROW = re.compile(r"^(?P<name>\S+)\s+(?P<status>up|down)\s+\S+", re.MULTILINE)
_INTERFACE_BLOCK = re.compile(r"^interface (?P<name>\S+)[^\n]*\n(?P<body>(?: [^\n]*\n)*)", re.M)


class FrrDriver(CiscoIosDriver):
    platform = "frr"

    def read_state(self, session: Session) -> DeviceState:
        return self.parse_state(
            session.send_command("show interface brief"),
            session.send_command("show running-config"),
        )

    @staticmethod
    def parse_state(brief: str, running_config: str) -> DeviceState:
        names = [m["name"] for m in _BRIEF_ROW.finditer(brief) if m["name"] != "Interface"]
        if not names:
            raise UnexpectedOutput(f"unrecognised 'show interface brief' output: {brief[:80]!r}")
        shut = {
            m["name"]
            for m in _INTERFACE_BLOCK.finditer(running_config)
            if re.search(r"^ shutdown\r?$", m["body"], re.MULTILINE)
        }
        return DeviceState(interfaces={name: name not in shut for name in names})
