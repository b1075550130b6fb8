"""Aruba AOS-CX (CX 4100i/6000/8000/9000 switches): cut = `shutdown` of the port, restore =
`no shutdown`, each inside `interface <member/slot/port>` in configuration mode.

Why a shutdown: the links isolement cuts on an AOS-CX switch are whole ports (a site's WAN
uplink), and an administratively shut port drops everything in both directions whatever the
VLANs, VRFs and ACLs on it say. AOS-CX has no candidate configuration on the CLI: a line is in
effect as soon as it is typed, so there is no commit. (Its `checkpoint auto` would roll a change
back unless confirmed: not used, a cut never fails open.) Restore sends `no shutdown` only for
the ports isolement shut, which the journal knows; a port already shut before the cut stays so.

State is read from `show interface`: every interface prints `Interface <name> is up|down ...`
(`Aggregate lagN is ...` for a LAG), then `Admin state is up|down`, which is the administrative
state isolement changes and must put back; the first line is the link state, also `down` when
the far end was cut. Why not the two others:
- `show interface brief`: no real recording of it was found to test a parser on (ntc-templates
  has neither a template nor test data for it), whereas ntc-templates holds nine real
  `show interface` recordings from several 10.x releases (three are in tests/data/aruba_aoscx);
- `show running-config` states a port's admin state relative to the platform's default (ports
  are shut by default on the 8xxx, so only `no shutdown` is printed), so a port without the
  line can only be read by knowing the model's default.
A hand-written match of those two lines, rather than ntc-templates' TextFSM template: that
template stops with an error on any line it does not know (`^. -> Error`) and has had to learn
each line a release added (`Persona:`, `Leader-follower mode:`, `MDI mode:` ...): a cut must
not fail because a new firmware prints one more line. The tests check both agree.

Errors: AOS-CX answers a refused line with `Invalid input: <word>` (no `%`), an unfinished one
with `% Command incomplete.`, an ambiguous abbreviation with `% Ambiguous command.`; other
refusals start with `% ` or `Error:` too.

NAPALM: brings nothing here. The only driver, the community `napalm-aruba-cx`, speaks AOS-CX's
REST API through `pyaoscx`, not SSH: it needs the REST interface enabled on every switch
(`https-server rest access-mode read-write`), a second management path for a tool whose only
transport is CLI over SSH (and the lab's emulator is an SSH server); and it is mostly getters,
its own description saying configuration handling is still in development. NAPALM is not
installed; netmiko's own `aruba_aoscx` class (ArubaCxSSH) is used as it is.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from ipaddress import IPv4Address

from isolement.drivers.base import (
    Driver,
    PingReply,
    Session,
    UnsavedCheck,
    parse_bsd_ping,
    parse_iputils_ping,
)
from isolement.drivers.platform import INTERFACE_SHUTDOWN, Platform
from isolement.model.errors import UnexpectedOutput
from isolement.model.state import CutMethod, DeviceState

_AOSCX_ERRORS = (
    # A refused word: AOS-CX names it after the colon, without a caret or a `%`.
    re.compile(r"^Invalid input: .*$", re.MULTILINE),
    # `% Command incomplete.`, `% Ambiguous command.`, `% Unknown command.` and the like.
    re.compile(r"^% .*$", re.MULTILINE),
    re.compile(r"^Error: .*$", re.MULTILINE),
)

# `Interface 1/1/10 is down (Administratively down)`, `Aggregate lag1 is up `.
_HEADER = re.compile(r"^(?:Interface|Aggregate) (?P<name>\S+) is (?:up|down)\b", re.MULTILINE)
_ADMIN = re.compile(r"^ *Admin state is (?P<admin>up|down)\b", re.MULTILINE)


FACTS = Platform(
    name="aruba_aoscx",
    netmiko_device_type="aruba_aoscx",
    methods=frozenset({CutMethod.SHUTDOWN}),
    preferred_method=CutMethod.SHUTDOWN,
    # Nothing volatile in it (no timestamp, no change counter): compared as printed.
    snapshot_command="show running-config",
    error_patterns=_AOSCX_ERRORS,
    shutdown=INTERFACE_SHUTDOWN,
    persistence="save",
    persistence_note=(
        "saved with `write memory`; unsaved changes are found before the cut with `checkpoint "
        "diff startup-config running-config`"
    ),
    save_commands=("write memory",),
)


class ArubaAoscxDriver(Driver):
    facts = FACTS

    # --- device-sourced probes: `ping X repetitions N source Y` (AOS-CX's ping is Linux's)

    def ping_command(
        self, to: IPv4Address, *, source: str | None, count: int, port: int | None
    ) -> str | None:
        if port is not None:
            return None  # AOS-CX's ping is ICMP only
        via = f" source {source}" if source else ""
        return f"ping {to} repetitions {count}{via}"

    def parse_ping(self, output: str) -> PingReply:
        # AOS-CX prints Linux's layout; its OpenSwitch ancestor printed BSD's. Each summary
        # line is unambiguous, so either is read, and an answer holding neither is refused.
        try:
            return parse_iputils_ping(output)
        except UnexpectedOutput:
            return parse_bsd_ping(output)

    # --- persistence (#12 §3) -------------------------------------------------------------

    def unsaved_changes(self, session: Session, interfaces: Collection[str] = ()) -> UnsavedCheck:
        output = session.send_command("checkpoint diff startup-config running-config")
        error = self.find_error(output)
        if error:
            return UnsavedCheck(None, f"the device cannot compare: {error}")
        lines = [line.strip() for line in output.splitlines() if line.strip()[:1] in "+-"]
        if not lines:
            return UnsavedCheck(False)
        return UnsavedCheck(True, "; ".join(lines[:5]))

    def read_state(self, session: Session) -> DeviceState:
        return self.parse_show_interface(session.send_command("show interface"))

    @staticmethod
    def parse_show_interface(output: str) -> DeviceState:
        headers = list(_HEADER.finditer(output))
        if not headers:
            raise UnexpectedOutput(f"unrecognised 'show interface' output: {output[:80]!r}")
        interfaces: dict[str, bool] = {}
        for header, following in zip(headers, [*headers[1:], None], strict=True):
            block = output[header.end() : following.start() if following else len(output)]
            admin = _ADMIN.search(block)
            if admin is None:
                # Never guess an admin state: a wrong "up" would make a cut look undone.
                raise UnexpectedOutput(
                    f"'show interface' has no 'Admin state' line for {header['name']}"
                )
            interfaces[header["name"]] = admin["admin"] == "up"
        return DeviceState(interfaces=interfaces)
