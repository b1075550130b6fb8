"""Arista EOS (7000-series datacentre switches, vEOS/cEOS): cut = `shutdown` of the interface,
restore = `no shutdown`, inside a named configuration session that one `commit` puts in effect.

Why a configuration session: the lines of one device's change wait in the session and go in
effect together at `commit`; a line EOS refuses makes the runner `discard` it (`abort`), so a
change is applied whole or not at all, never half (an uplink shut but not its twin). The
session is the platform's candidate: `load` enters it and types the lines, `commit` and
`discard` are the transaction's verbs (flows/transaction.py). A session is named after the
change it holds (`isolement-<hash of its lines>`): a session of that name
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

import contextlib
import hashlib
import re
from collections.abc import Sequence

from isolement.drivers import ntc
from isolement.drivers.base import Driver, Session
from isolement.drivers.platform import INTERFACE_SHUTDOWN, PLAIN_COMMIT, Platform
from isolement.model.errors import DeviceError
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


def session_name(lines: Sequence[str]) -> str:
    """The configuration session a change is typed in: named after its lines."""
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:12]
    return f"{SESSION_PREFIX}{digest}"


FACTS = Platform(
    name="arista_eos",
    netmiko_device_type="arista_eos",
    methods=frozenset({CutMethod.SHUTDOWN}),
    preferred_method=CutMethod.SHUTDOWN,
    snapshot_command="show running-config",
    error_patterns=_EOS_ERRORS,
    shutdown=INTERFACE_SHUTDOWN,
    # Each line is typed on its own and checked at once, in the session `load` enters.
    config_mode=False,
    cut_commit=PLAIN_COMMIT,
    restore_commit=PLAIN_COMMIT,
    persistence="save",
    persistence_note=(
        "saved with `copy running-config startup-config`; someone else's unsaved changes are "
        "not told apart, and are saved with the cut"
    ),
    save_commands=("copy running-config startup-config",),
)


class AristaEosDriver(Driver):
    facts = FACTS
    interface_name = staticmethod(interface_name)

    def load(self, session: Session, device: str, lines: Sequence[str]) -> str:
        """The session named after the lines, then each line, checked as it is answered."""
        outputs = []
        for line in [f"configure session {session_name(lines)}", *lines]:
            outputs.append(session.send_command(line, expect=_ANY_PROMPT))
            self._check(device, outputs[-1])
        return "\n".join(outputs)

    def commit(self, session: Session, device: str, confirm_minutes: int | None) -> str:
        # No commit timer: a cut never fails open, and a restore is not confirmed here.
        committed = session.send_command(COMMIT, expect=_ANY_PROMPT)
        self._check(device, committed)
        return committed

    def discard(self, session: Session, device: str) -> str | None:
        """`abort`: nothing of a refused change (a refused commit included) stays pending. The
        refusal is what gets reported, even if the session is lost meanwhile."""
        with contextlib.suppress(DeviceError):
            session.send_command(ABORT, expect=_ANY_PROMPT)
        return None

    def read_state(self, session: Session) -> DeviceState:
        return self.parse_interfaces_status(session.send_command("show interfaces status"))

    @staticmethod
    def parse_interfaces_status(output: str) -> DeviceState:
        rows = ntc.table(_STATUS_TEMPLATE, output, "show interfaces status")
        return DeviceState(
            interfaces={interface_name(r["port"]): r["status"] != _ADMIN_DOWN for r in rows}
        )
