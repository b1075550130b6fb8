"""Arista EOS (7000-series datacentre switches, vEOS/cEOS): cut = `shutdown` of the interface,
restore = `no shutdown`, inside a named configuration session that one `commit` puts in effect.

Why a configuration session: the lines of one device's change wait in the session and go in
effect together at `commit`; a line EOS refuses makes the driver `abort` the session, so a
change is applied whole or not at all, never half (an uplink shut but not its twin). A session
is named after the change it holds (`isolement-<hash of its lines>`): a session of that name
left by a killed run holds the same lines, so entering it again and committing is the same
change, never someone else's.

Why netmiko's CLI rather than NAPALM's `eos` driver: NAPALM's core EOS driver does use a real
configuration session (`configure session`, `commit`, and `commit timer` for a confirmed
commit), but only over eAPI (HTTPS, `management api http-commands` enabled on every switch):
a second management path for a tool whose only transport is SSH, which a crisis cannot assume
is enabled, and which the lab (SSH emulators) does not offer. The same session and commit are
typed here over SSH with netmiko's `arista_eos` class. No commit timer on a cut: a cut never
fails open.

State is read from `show interfaces status` (ntc-templates' template): Status `disabled` is an
interface shut by its administrator; `connected`, `notconnect`, `errdisabled` and `inactive`
are admin up (`errdisabled` is shut by the switch itself, not by a `shutdown`). It abbreviates
names (`Et1`, `Et49/1`, `Po49`, `Ma1`); the state gives them as the configuration and
inventories spell them (`Ethernet1`, `Port-Channel49`, `Management1`).

Errors: EOS refuses a line with `% Invalid input (at token N: 'word')`, `% Incomplete command`,
`% Ambiguous command` and the like, each starting with `%`. It accepts `interface EthernetN`
for a port the switch does not have, with the warning `! Interface does not exist. The
configuration will not take effect until the module is inserted.`: a shutdown there would cut
nothing, so that warning is an error here too.

Persistence: `copy running-config startup-config`. Someone else's unsaved changes are not told
apart (no real capture of EOS's `show running-config diffs` to read it from): saved anyway.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from isolement.drivers import ntc
from isolement.drivers.base import CutTarget, Driver, Session
from isolement.drivers.cisco_ios import interface_blocks
from isolement.model.errors import DeviceError, UnexpectedOutput
from isolement.model.state import CutMethod, DeviceState

_EOS_ERRORS = (
    re.compile(r"^% ?\S.*$", re.MULTILINE),
    re.compile(r"^! Interface does not exist\..*$", re.MULTILINE),
)
# The template ntc-templates' index names for `arista_eos` + `show interfaces status`.
_STATUS_TEMPLATE = "arista_eos_show_interfaces_status.textfsm"
_ADMIN_DOWN = "disabled"
# Abbreviations of the status table -> the configuration's names.
_LONG_NAMES = {"Et": "Ethernet", "Po": "Port-Channel", "Ma": "Management"}
_ABBREVIATED = re.compile(r"(Et|Po|Ma)(\d[\d/.:]*)")
# The end of any EOS prompt (`NAME#`, `NAME(config-s-isolem)#`, `NAME(config-s-isolem-if-Et1)#`):
# the lines of a change move from one to the next, so none is waited for by name.
_ANY_PROMPT = r"[>#]\s*$"
SESSION_PREFIX = "isolement-"
COMMIT = "commit"
ABORT = "abort"


def interface_name(name: str) -> str:
    """`Et49/1` and `Ethernet49/1` -> `Ethernet49/1`; `Po49` -> `Port-Channel49`."""
    match = _ABBREVIATED.fullmatch(name)
    return _LONG_NAMES[match.group(1)] + match.group(2) if match else name


class AristaEosDriver(Driver):
    platform = "arista_eos"
    netmiko_device_type = "arista_eos"
    interface_name = staticmethod(interface_name)
    methods = frozenset({CutMethod.SHUTDOWN})
    preferred_method = CutMethod.SHUTDOWN
    snapshot_command = "show running-config"
    error_patterns = _EOS_ERRORS
    # The session is entered by the change's first line and ended by its `commit`: each line
    # is typed on its own and checked at once (see `apply`).
    uses_config_mode = False

    def cut_commands(
        self, targets: Sequence[CutTarget], state: DeviceState | None = None
    ) -> list[str]:
        return _in_session(interface_blocks(targets, "shutdown"))

    def restore_commands(self, targets: Sequence[CutTarget], state: DeviceState) -> list[str]:
        return _in_session(interface_blocks(targets, "no shutdown"))

    def apply(self, session: Session, device: str, commands: Sequence[str]) -> str:
        """Each line typed and checked as it is answered; on a refusal inside the session, the
        session is aborted (nothing of it in effect) before the error is raised."""
        outputs: list[str] = []
        entered = False
        for line in commands:
            answer = session.send_command(line, expect=_ANY_PROMPT)
            outputs.append(answer)
            entered = entered or line.startswith("configure session ")
            error = self.find_error(answer)
            if error:
                if entered:  # a commit refused leaves the session pending too
                    outputs.append(session.send_command(ABORT, expect=_ANY_PROMPT))
                raise DeviceError(device, f"device answered with an error: {error}")
        return "\n".join(outputs)

    # --- persistence (#12 §3) -------------------------------------------------------------
    persistence = "save"
    persistence_note = (
        "saved with `copy running-config startup-config`; someone else's unsaved changes are "
        "not told apart, and are saved with the cut"
    )
    save_commands = ("copy running-config startup-config",)

    def read_state(self, session: Session) -> DeviceState:
        return self.parse_interfaces_status(session.send_command("show interfaces status"))

    @staticmethod
    def parse_interfaces_status(output: str) -> DeviceState:
        try:
            rows = ntc.parse(_STATUS_TEMPLATE, output)
        except ntc.TemplateError:
            rows = []  # the template's own "not a table I know" (its `-> Error` rules)
        if not rows:
            raise UnexpectedOutput(
                f"unrecognised 'show interfaces status' output: {output.strip()[:80]!r}"
            )
        return DeviceState(
            interfaces={interface_name(r["port"]): r["status"] != _ADMIN_DOWN for r in rows}
        )


def _in_session(lines: list[str]) -> list[str]:
    """The lines inside a configuration session named after them, then its commit."""
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:12]
    return [f"configure session {SESSION_PREFIX}{digest}", *lines, COMMIT]
