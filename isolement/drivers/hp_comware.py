"""HPE Comware 5 and 7 (HPE FlexNetwork/FlexFabric 5130, 5510, 5940, 7500; H3C S-series):
cut = `shutdown` in the interface's view, restore = `undo shutdown`, inside `system-view`.

Why a shutdown: the link isolement cuts on a Comware switch is a port (an access switch's
uplink, a WAN port); an administratively shut port passes nothing in either direction whatever
its VLANs and ACLs say. Comware applies each line as typed in system-view: no candidate, no
commit. The restore sends `undo shutdown` only for the ports the cut shut, which the journal
knows; a port shut before the cut stays shut. netmiko's `hp_comware` class enters system-view
for a change and leaves it with `return`; each interface block ends with `quit`, back to
`[NAME]`, so a refused `interface` line leaves the next `shutdown` refused too, never applied
to another port.

State is read from `display interface brief`, parsed with ntc-templates' template (both the
route-mode and bridge-mode tables, Comware 5's and 7's headings): its Link column says `ADM`
for an administratively shut port; `UP`, `DOWN` and `Stby` are admin up. The table abbreviates
names (`GE1/0/1`, `XGE1/0/49`, `BAGG1`, `Vlan1`); the state gives them as the configuration
and inventories spell them (`GigabitEthernet1/0/1`, `Ten-GigabitEthernet1/0/49`,
`Bridge-Aggregation1`, `Vlan-interface1`), and `interface_name()` maps either spelling to that.

Errors: Comware answers a refused line with a caret line and `% Unrecognized command found at
'^' position.` (or `Incomplete command`, `Too many parameters`, `Wrong parameter`, `Ambiguous
command`); a `%` followed by a space starts only such answers, while the device's log lines
start with `%` and a date (`%Dec  3 06:00:00:123 2026 ...`), never a space.

Privilege: Comware's prompt (`<NAME>`) is the same for every user role, and no command that
every release has prints the session's own role. The prompt is checked (a session at a
Comware prompt); a user without the rights to change an interface is refused at the first line,
which is then reported as the device's error, never as a cut.

Persistence: `save force` (no question asked). Someone else's unsaved changes cannot be told
apart on every release (Comware 5 has no comparison command): saved anyway, and the plan says
so.

NAPALM: its core has no Comware driver; the community ones (napalm-h3c-comware) drive netmiko's
same `hp_comware` class, and bring nothing to one `shutdown` per port. NAPALM is not used.
"""

from __future__ import annotations

import re

from isolement.drivers import ntc
from isolement.drivers.base import Driver, Session
from isolement.drivers.platform import Platform, Shutdown
from isolement.model.errors import UnexpectedOutput
from isolement.model.state import CutMethod, DeviceState

_COMWARE_ERRORS = (re.compile(r"^\s*% \S.*$", re.MULTILINE),)
# The template ntc-templates' index names for `hp_comware` + `display interface brief`.
_BRIEF_TEMPLATE = "hp_comware_display_interface_brief.textfsm"
# The abbreviations of `display interface brief`, and the configuration's spelling of each:
# the NOC Project's HP.Comware profile (`convert_interface_name`) and napalm-h3c-comware's
# `comware_interfaces`, which read the same table. Longest first: `XGE` is not `X` + `GE`.
_FULL_NAMES = {
    "M-GE": "M-GigabitEthernet",
    "MGE": "M-GigabitEthernet",
    "XGE": "Ten-GigabitEthernet",
    "FGE": "FortyGigE",
    "HGE": "HundredGigE",
    "WGE": "Twenty-FiveGigE",
    "GE": "GigabitEthernet",
    "BAGG": "Bridge-Aggregation",
    "RAGG": "Route-Aggregation",
    "InLoop": "InLoopBack",
    "Loop": "LoopBack",
    "Vlan": "Vlan-interface",
    "Tun": "Tunnel",
}
_ABBREVIATED = re.compile(rf"({'|'.join(map(re.escape, _FULL_NAMES))})(\d[\d/.:]*)")
# The Link column's values, as the table's own legend states them: `ADM - administratively
# down; Stby - standby`; anything else is refused, never read as up.
_LINK_ADMIN_UP = {"UP": True, "DOWN": True, "Stby": True, "ADM": False}


def interface_name(name: str) -> str:
    """The configuration's spelling of a Comware interface name, given either spelling:
    `XGE1/0/49` and `Ten-GigabitEthernet1/0/49` -> `Ten-GigabitEthernet1/0/49`. Names the
    table prints in full (`NULL0`, `Aux0`) are kept as they are."""
    match = _ABBREVIATED.fullmatch(name)
    return _FULL_NAMES[match.group(1)] + match.group(2) if match else name


FACTS = Platform(
    name="hp_comware",
    netmiko_device_type="hp_comware",
    methods=frozenset({CutMethod.SHUTDOWN}),
    preferred_method=CutMethod.SHUTDOWN,
    snapshot_command="display current-configuration",
    error_patterns=_COMWARE_ERRORS,
    # `quit` back to system-view after each port, as IOS's `exit` (drivers/platform.py).
    shutdown=Shutdown(
        cut=("interface {interface}", "shutdown", "quit"),
        restore=("interface {interface}", "undo shutdown", "quit"),
    ),
    persistence="save",
    persistence_note=(
        "saved with `save force`; Comware cannot say on every release which changes are "
        "unsaved, so someone else's unsaved changes are saved with the cut"
    ),
    save_commands=("save force",),
)


class HpComwareDriver(Driver):
    facts = FACTS
    interface_name = staticmethod(interface_name)

    def has_privilege(self, session: Session) -> bool:
        # See the module docstring: the prompt is all every release shows.
        prompt = session.prompt().strip()
        return prompt.startswith(("<", "[")) and prompt.endswith((">", "]"))

    def read_state(self, session: Session) -> DeviceState:
        return self.parse_interface_brief(session.send_command("display interface brief"))

    @staticmethod
    def parse_interface_brief(output: str) -> DeviceState:
        rows = ntc.table(_BRIEF_TEMPLATE, output, "display interface brief")
        unknown = [r["interface"] for r in rows if r["link"] not in _LINK_ADMIN_UP]
        if unknown:
            raise UnexpectedOutput(
                f"'display interface brief': a Link value that is none of UP, DOWN, ADM, Stby "
                f"for {', '.join(unknown)}"
            )
        return DeviceState(
            interfaces={interface_name(r["interface"]): _LINK_ADMIN_UP[r["link"]] for r in rows}
        )
