"""HPE Aruba AOS-S, formerly ProCurve (2530, 2930F/M, 3810, 5400R): the access switch of a great
many French hospitals. Cut = `interface <port> disable`, restore = `interface <port> enable`,
both one line in `configure terminal`.

The inventory names the platform `aruba_os`; netmiko's device type for AOS-S is
`aruba_osswitch` (its HPProcurveSSH class: the `Press any key to continue` banner, `no page`,
`logout` and its question). netmiko's own `aruba_os` is the Aruba wireless controller (ArubaOS),
a different CLI, never used here.

Why a port disable: on an access switch the link isolement cuts is a port (the uplink of a
segment, a site's WAN port), and a disabled port passes nothing whatever its VLANs say. AOS-S
applies each line as typed (no candidate, no commit). The restore enables only the ports the
cut disabled, which the journal knows: a port disabled before the cut stays disabled.

State is read from `show interfaces brief`, parsed with ntc-templates' `hp_procurve` template:
its `Enabled` column (Yes/No) is the administrative state; `Status` is the link, also `Down`
when the far end is cut. A port in a trunk is printed `1/28-Trk1` and one with a third-party
transceiver `A8*`: the state names them as the configuration does (`1/28`, `A8`), the names an
inventory uses.

Errors: AOS-S answers a refused line with `Invalid input: <word>`, `Incomplete input: <line>`,
`Module not present for port or invalid port: <port>` (a port the switch does not have), or
`... too long. Allowed length is N` (a real 2530's session, tests/data/aruba_os/SOURCES.md).
They follow the echoed line, on the same line once netmiko has removed AOS-S's screen codes, so
they are looked for anywhere in a line.

Persistence: `write memory`. AOS-S has no command that compares the running and startup
configurations line by line, so someone else's unsaved changes cannot be told apart: saved
anyway, and the plan says so.

NAPALM: its core has no AOS-S driver (only community ones, outside it); for one line per port
netmiko's own class is all that is needed, so NAPALM is not used.
"""

from __future__ import annotations

import re

from isolement.drivers import ntc
from isolement.drivers.base import Driver, Session
from isolement.drivers.platform import Platform, Shutdown
from isolement.model.state import CutMethod, DeviceState

_AOSS_ERRORS = (
    re.compile(r"(?:Invalid|Incomplete|Ambiguous) input: .*$", re.MULTILINE),
    re.compile(r"Module not present for port or invalid port: .*$", re.MULTILINE),
    re.compile(r"String .* too long\. Allowed length is .*$", re.MULTILINE),
)
# The template ntc-templates' index names for `hp_procurve` + `show interfaces brief`.
_BRIEF_TEMPLATE = "hp_procurve_show_interfaces_brief.textfsm"
# `1/28-Trk1`: the port and the trunk it belongs to.
_TRUNK_MEMBER = re.compile(r"-Trk\d+$")


FACTS = Platform(
    name="aruba_os",
    netmiko_device_type="aruba_osswitch",
    methods=frozenset({CutMethod.SHUTDOWN}),
    preferred_method=CutMethod.SHUTDOWN,
    # Nothing volatile in it (its `; Ver #...` line is the release's, not a change counter).
    snapshot_command="show running-config",
    error_patterns=_AOSS_ERRORS,
    shutdown=Shutdown(
        cut=("interface {interface} disable",), restore=("interface {interface} enable",)
    ),
    persistence="save",
    persistence_note=(
        "saved with `write memory`; AOS-S cannot say which changes are unsaved, so someone "
        "else's unsaved changes are saved with the cut"
    ),
    save_commands=("write memory",),
)


class ArubaOsDriver(Driver):
    facts = FACTS

    def read_state(self, session: Session) -> DeviceState:
        return self.parse_interfaces_brief(session.send_command("show interfaces brief"))

    @staticmethod
    def parse_interfaces_brief(output: str) -> DeviceState:
        rows = ntc.table(_BRIEF_TEMPLATE, output, "show interfaces brief")
        return DeviceState(
            interfaces={_TRUNK_MEMBER.sub("", row["port"]): row["enabled"] == "Yes" for row in rows}
        )
