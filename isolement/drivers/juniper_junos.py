"""Juniper Junos (EX switches, SRX firewalls, MX routers), over the CLI.

Cut = `set interfaces X disable`, then a plain `commit`; restore = `delete interfaces X disable`,
committed with `commit confirmed 5`, then confirmed by a plain `commit` once the session has
proved it still works (the state is read in between): the runner's transaction
(flows/transaction.py) through this driver's verbs, with `show | compare` before the commit as
evidence of what it puts in effect. Junos changes a candidate configuration that only a commit
puts in effect, so:

- a restore that cut the controller's own path is never confirmed, and the device rolls itself
  back to the cut state after 5 minutes: safe. A cut is never committed with `commit confirmed`:
  its automatic rollback would reopen the link (fail-open is acceptable only for a restore). A
  plain commit also confirms a `commit confirmed` someone left pending, which is what keeps a
  cut in place: the pending rollback would otherwise take the cut away with it;
- the candidate is shared by every `configure` session: if it already holds changes that are
  not isolement's, the change is refused rather than committing someone else's work. Changes
  that are exactly isolement's own (`recover_candidate`: statements the lines it journaled, with
  no outcome, add or delete; a run killed before its commit) are discarded with `rollback 0`
  and the change is sent again whole; a candidate holding them and anything else is refused;
- after a refused line or a refused commit, `rollback 0` leaves nothing pending.

A unit (`ge-0/0/0.10`) is cut with `set interfaces ge-0/0/0 unit 10 disable`. State is read from
`show interfaces terse` (the Admin column, physical and logical rows); ntc-templates has no
template for it, so it is parsed here, strictly: a row that is not understood is an error, never
a guess. The snapshot is `show configuration | display set`.

NAPALM: its `junos` driver talks NETCONF through junos-eznc (PyEZ), not the CLI over SSH. It would
bring real things (an exclusive configuration lock, structured commit errors, `commit confirmed`
through `commit_config(revert_in=...)`), but it needs NETCONF enabled and reachable on every
device, a second transport and dependency stack beside netmiko, and the lab's emulator speaks
the SSH CLI only. isolement drives every platform through netmiko's CLI, so it is not used;
the CLI gives the same guarantees here through the candidate checks above.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from ipaddress import IPv4Address

from isolement.drivers.base import CutTarget, Driver, PingReply, Session, is_address, parse_bsd_ping
from isolement.drivers.platform import PLAIN_COMMIT, Commit, Platform
from isolement.model.change import CommitMode
from isolement.model.errors import DeviceError, UnexpectedOutput
from isolement.model.state import CutMethod, DeviceState

# Minutes before a restore's commit rolls itself back unless confirmed.
CONFIRM_MINUTES = 5

# Junos refuses a line with a caret line then one of these, or with `error: ...` (commit,
# database lock, check-out failures).
_JUNOS_ERRORS = (
    re.compile(
        r"^(?:syntax error.*|unknown command\.|missing argument\.|invalid .*|"
        r"'.*' is ambiguous\.|Value .* is not within range .*)$",
        re.MULTILINE,
    ),
    re.compile(r"^error: .*$", re.MULTILINE),
)

# A `show interfaces terse` row: the name from the first column, then Admin and Link.
_TERSE_ROW = re.compile(r"^(\S+)\s+(up|down)\s+(up|down)(?:\s|$)")
_TERSE_HEADER = re.compile(r"^Interface\s+Admin\s+Link\b")
# Lines Junos adds around output on a chassis with several routing engines or members.
_CONTEXT = re.compile(r"^\{(?:master|backup|primary|secondary|line|linecard).*\}$")
# Statement lines of `| display set`.
_STATEMENT = re.compile(r"^(?:set|deactivate|activate|protect) \S.*$", re.MULTILINE)
# A difference in `show | compare`.
_DIFF = re.compile(r"^[-+]\s")
_UNCOMMITTED = "The configuration has been changed but not committed"
# Junos prints this above every prompt while a `commit confirmed` waits; netmiko strips only the
# prompt line itself, so it ends the output of any command sent meanwhile.
_PENDING = re.compile(r"^# commit confirmed will be rolled back in \d+ minutes?$")
# Lines of a snapshot that change while the configuration does not: the timestamp `show
# configuration` may print first, and the countdown above.
_VOLATILE = re.compile(rf"^## Last (?:commit|changed): .*$|{_PENDING.pattern}")


def _statement(interface: str) -> str:
    """The configuration statement that disables an interface, or one of its units."""
    physical, _, unit = interface.rpartition(".")
    if physical and unit.isdigit():
        return f"interfaces {physical} unit {unit} disable"
    return f"interfaces {interface} disable"


def _leave_configuration(session: Session) -> str:
    """Back to operational mode after a commit, where the state is read. netmiko's
    send_config_set ends by leaving configuration mode (its exit_config_mode answers Junos's
    questions and knows the prompt changes); given no line, that is all it does."""
    return session.send_config([])


FACTS = Platform(
    name="juniper_junos",
    netmiko_device_type="juniper_junos",
    methods=frozenset({CutMethod.SHUTDOWN}),
    preferred_method=CutMethod.SHUTDOWN,
    snapshot_command="show configuration | display set",
    error_patterns=_JUNOS_ERRORS,
    volatile_lines=(_VOLATILE,),
    # A cut is never committed with `commit confirmed`: its automatic rollback would reopen the
    # link. A restore is, so a restore that cut the controller's own path rolls itself back.
    cut_commit=PLAIN_COMMIT,
    restore_commit=Commit(CommitMode.CONFIRMED, CONFIRM_MINUTES),
    persistence="commit",
    persistence_note="Junos: the commit that puts the cut in effect also persists it",
)


class JuniperJunosDriver(Driver):
    facts = FACTS

    # --- device-sourced probes: `ping X count N source Y rapid` (`interface` for a name)

    def ping_command(
        self, to: IPv4Address, *, source: str | None, count: int, port: int | None
    ) -> str | None:
        if port is not None:
            return None  # Junos's ping is ICMP only
        via = ""
        if source:
            via = f" source {source}" if is_address(source) else f" interface {source}"
        return f"ping {to} count {count}{via} rapid"

    def parse_ping(self, output: str) -> PingReply:
        return parse_bsd_ping(output)

    def has_privilege(self, session: Session) -> bool:
        # The Junos prompt is `user@host>` whatever the rights: they come from the login class.
        return self.parse_authorization(session.send_command("show cli authorization"))

    @staticmethod
    def parse_authorization(output: str) -> bool:
        """Whether the permissions allow configuration mode and changing interfaces."""
        permissions = set(re.findall(r"^\s+([a-z-]+?)\s*--", output, re.MULTILINE))
        writable = permissions & {"all", "control", "interface-control"}
        return bool(writable) and bool(permissions & {"all", "configure"})

    def read_state(self, session: Session) -> DeviceState:
        return self.parse_terse(session.send_command("show interfaces terse"))

    def parse_terse(self, output: str) -> DeviceState:
        error = self.find_error(output)
        if error:
            raise UnexpectedOutput(f"'show interfaces terse' refused: {error}")
        interfaces: dict[str, bool] = {}
        for line in output.splitlines():
            if not line.strip() or line[0].isspace():
                continue  # a protocol or address continuing the row above
            row = _TERSE_ROW.match(line)
            if row:
                interfaces[row.group(1)] = row.group(2) == "up"
            elif not any(p.match(line.strip()) for p in (_TERSE_HEADER, _CONTEXT, _PENDING)):
                raise UnexpectedOutput(f"unrecognised 'show interfaces terse' line: {line[:80]!r}")
        if not interfaces and output.strip():
            raise UnexpectedOutput(f"no interface in 'show interfaces terse': {output[:80]!r}")
        return DeviceState(interfaces=interfaces)

    def cut_lines(self, targets: Sequence[CutTarget], state: DeviceState | None) -> list[str]:
        return [f"set {_statement(t.interface)}" for t in targets]

    def restore_lines(self, targets: Sequence[CutTarget], state: DeviceState) -> list[str]:
        return [f"delete {_statement(t.interface)}" for t in targets]

    # --- the transaction: the shared candidate checked, `show | compare`, commit, rollback

    def begin(self, session: Session, device: str) -> str:
        # Anything pending now is not isolement's: recover_candidate dealt with its own.
        self._take_candidate(session, device, ())
        return ""

    def compare(self, session: Session, device: str) -> str | None:
        return session.send_config(["show | compare"])

    def commit(self, session: Session, device: str, confirm_minutes: int | None) -> str:
        committed = session.commit(confirm_minutes=confirm_minutes)
        self._check(device, committed)
        return committed + "\n" + _leave_configuration(session)

    def discard(self, session: Session, device: str) -> str | None:
        """`rollback 0`: nothing refused stays pending. The refusal is what gets reported,
        even if the session is lost meanwhile."""
        with contextlib.suppress(DeviceError):
            session.send_config(["rollback 0"])
        return None

    def recover_candidate(self, session: Session, device: str, own: Sequence[str]) -> str | None:
        """Discard isolement's own uncommitted changes, left by a run killed before its commit
        (`own`: the lines it journaled whose outcome is missing), with `rollback 0`."""
        ours = [line for line in own if line.startswith(("set ", "delete "))]
        if not ours:
            return None
        return self._take_candidate(session, device, ours)

    def _take_candidate(self, session: Session, device: str, own: Sequence[str]) -> str | None:
        """Make sure the shared candidate holds no one else's uncommitted changes; when it holds
        only `own` ones (journaled by isolement, outcome unknown), roll them back."""
        compare = session.send_config(["show | compare"])
        if _UNCOMMITTED not in compare and not any(
            _DIFF.match(line) for line in compare.splitlines()
        ):
            return None
        candidate = set(_STATEMENT.findall(session.send_config(["show | display set"])))
        running = set(_STATEMENT.findall(session.send_command(self.facts.snapshot_command)))
        ours_added = {f"set {line[4:]}" for line in own if line.startswith("set ")}
        ours_removed = {f"set {line[7:]}" for line in own if line.startswith("delete ")}
        added, removed = candidate - running, running - candidate
        # A difference `display set` cannot show (an annotation) is not provably ours either.
        if not (added or removed) or not (added <= ours_added and removed <= ours_removed):
            foreign = sorted((added - ours_added) | (removed - ours_removed)) or ["?"]
            mixed = (
                "isolement's own uncommitted lines and "
                if (added & ours_added) or (removed & ours_removed)
                else ""
            )
            raise DeviceError(
                device,
                f"the candidate configuration holds {mixed}uncommitted changes that are not "
                f"isolement's (first: {foreign[0]!r}); refusing to commit someone else's "
                "work: review them with `show | compare` in configuration mode, then commit "
                "or `rollback 0` them",
            )
        # Only isolement's own changes, left by an attempt cut off before its commit.
        self._check(device, session.send_config(["rollback 0"]))
        shown = sorted(added | {f"delete {line[4:]}" for line in removed})
        return (
            "the candidate held only isolement's own uncommitted lines, left by a run whose "
            f"outcome is not journaled ({'; '.join(shown)}): discarded with `rollback 0`, then "
            "the change sent again whole"
        )
