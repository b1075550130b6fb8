"""The Juniper Junos profile of the emulator: what netmiko's `juniper_junos` driver, and so
isolement's JuniperJunosDriver, see of an EX switch or SRX firewall.

- operational mode `user@host> ` and configuration mode (a blank line, `[edit]`, `user@host# `),
  with the line `# commit confirmed will be rolled back in N minutes` above the prompt while a
  confirmed commit waits; `set cli screen-width|screen-length|complete-on-space` answered as
  netmiko's session preparation expects; `exit`/`quit`/`logout` end the session;
- `configure` (the shared candidate: "The configuration has been changed but not committed"),
  `set|delete interfaces X [unit N] disable|description|family inet address`, `show`,
  `show | compare`, `show | display set`, `commit`, `commit check`, `commit confirmed [N]`
  with a real timer that rolls the running configuration back, `rollback [N]`, `run ...`,
  `exit configuration-mode` with its "Exit with uncommitted changes? [yes,no] (yes)" question;
- `show interfaces terse`, `show configuration [| display set]` (no timestamp with `display
  set`), `show cli authorization`, in Junos's own layouts;
- Junos's refusals: a caret line, then `unknown command.`, `syntax error.`, `missing
  argument.`, `invalid interface type in 'X'.`; `warning: statement not found`. (`rollback N`
  past the history kept answers `error: rollback N does not exist`, a wording of this profile's
  own: no recorded answer was found for it.)

Not emulated: `configure private|exclusive`, `edit`/`up` hierarchy navigation, the broadcast
message sent to logged-in users when a confirmed commit rolls back, other users' sessions in
`configure` ("Users currently editing the configuration"), packet filters (the Junos driver cuts
by `disable` only, so `blocked_interfaces()` is always empty).

Only the running configuration is in effect: interface admin state follows its `disable`
statements, at commit and at the automatic rollback. Options: `login` (the user name in the
prompt, `isolement` by default), `minute_s` (seconds in a `commit confirmed` minute, 60 by
default, so that a test can watch the rollback happen) and `commit_seconds` (how long a commit
takes, 0 by default; a real one takes seconds). The candidate is the device's own: it outlives
the session that changed it, as on Junos, and the lab's state.json shows it (`candidate`).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import paramiko

from ..device import DeviceSpec, EmulatedDevice, InterfaceSpec
from ..grammar import IP, NUM, TEXT, WORD, Arg, CliError, Command, Messages, commands, is_ip, parse
from . import ping_layouts

VERSION = "21.4R3-S5.4"
JUNOS = Messages(
    invalid="syntax error.",
    incomplete="missing argument.",
    ambiguous="'{typed}' is ambiguous.",
)
UNCOMMITTED = "The configuration has been changed but not committed"
EXIT_QUESTION = "Exit with uncommitted changes? [yes,no] (yes) "

# Junos interface names: type-fpc/pic/port (a channel `:n` on a split port), or a named one.
_PORT = re.compile(r"(?:fe|ge|xe|et|mge|xle|so|at|t1|e1|gr|ip|lt|vt)-\d+/\d+/\d+(?::\d+)?")
_NAMED = re.compile(r"(?:ae|reth|lo|irb|vlan|fxp|em|me|vme|st|dsc|bme)\d*")

# A statement is the path of its nodes from the top: ("interfaces", "ge-0/0/0", "unit 0",
# "family inet", "address 198.18.0.1/30"); its `set` form joins them.
Statement = tuple[str, ...]
Configuration = frozenset[Statement]

# Where Junos prints a statement among its siblings (the schema's order); names sort after.
_RANK = {
    "version": 0,
    "system": 1,
    "interfaces": 2,
    "host-name": 0,
    "services": 3,
    "syslog": 4,
    "description": 0,
    "disable": 1,
    "unit": 2,
    "family": 3,
    "address": 0,
}


def _natural(text: str) -> tuple[object, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def _order(statement: Statement) -> tuple[object, ...]:
    return tuple((_RANK.get(node.split()[0], 9), _natural(node)) for node in statement)


def _set_line(statement: Statement) -> str:
    return "set " + " ".join(statement)


def _tree(statements: Iterable[Statement], sign: str = "") -> list[str]:
    """Statements in Junos's curly-brace layout; with a sign (`+`, `-`), as `show | compare`
    prints what it adds or removes under one `[edit ...]` header."""
    lines: list[str] = []

    def walk(group: list[Statement], depth: int) -> None:
        pad = sign + " " * (3 + 4 * depth) if sign else " " * (4 * depth)
        heads = dict.fromkeys(s[0] for s in group)
        for head in heads:
            children = [s[1:] for s in group if s[0] == head and len(s) > 1]
            if children:
                lines.append(f"{pad}{head} {{")
                walk(children, depth + 1)
                lines.append(f"{pad}}}")
            else:
                lines.append(f"{pad}{head};")

    walk(sorted(statements, key=_order), 0)
    return lines


def compare(old: Configuration, new: Configuration) -> list[str]:
    """`show | compare`: each change under the deepest hierarchy both configurations have."""
    shared = {s[:i] for s in old for i in range(1, len(s))} & {
        s[:i] for s in new for i in range(1, len(s))
    }
    groups: dict[Statement, dict[str, list[Statement]]] = {}
    for sign, changed in (("-", old - new), ("+", new - old)):
        for statement in changed:
            depth = max(i for i in range(len(statement)) if i == 0 or statement[:i] in shared)
            groups.setdefault(statement[:depth], {}).setdefault(sign, []).append(statement[depth:])
    lines: list[str] = []
    for header in sorted(groups, key=_order):
        lines.append(f"[edit{''.join(' ' + node for node in header)}]")
        for sign in ("-", "+"):
            lines += _tree(groups[header].get(sign, []), sign)
    return lines


@dataclass
class _Pending:
    """A `commit confirmed` waiting for its confirmation."""

    restore_to: Configuration
    deadline: float
    timer: threading.Timer


class JunosDevice(EmulatedDevice):
    platform = "juniper_junos"
    # Seconds in a `commit confirmed` minute; the `minute_s` option overrides it.
    MINUTE_S: ClassVar[float] = 60.0

    def __init__(self, spec: DeviceSpec, host_key: paramiko.PKey):
        super().__init__(spec, host_key)
        self.login = str(spec.options.get("login", "isolement"))
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", self.login) or self.login == "root":
            raise ValueError(f"{self.login!r} is not a Junos CLI login (root logs into a shell)")
        minute = spec.options.get("minute_s", self.MINUTE_S)
        if not isinstance(minute, int | float) or minute <= 0:
            raise ValueError("minute_s is a positive number of seconds")
        self.minute_s = float(minute)
        self.commit_seconds = float(str(spec.options.get("commit_seconds", 0.0)))
        self._running: Configuration = self._initial_configuration()
        self._candidate = self._running
        self._rollbacks: list[Configuration] = []  # [0] is `rollback 1`: before the last commit
        self._pending: _Pending | None = None
        self._last_commit = time.gmtime()

    @classmethod
    def check_interface_name(cls, name: str) -> None:
        if not (_PORT.fullmatch(name) or _NAMED.fullmatch(name)):
            raise ValueError(f"{name!r} is not a Junos interface name (ge-0/0/1, ae0, irb)")

    @classmethod
    def sample(cls, name: str) -> DeviceSpec:
        return DeviceSpec(
            name,
            [
                InterfaceSpec("ge-0/0/0", address="198.18.0.1/30", description="WAN datacentre"),
                InterfaceSpec("ge-0/0/1", address="198.18.0.5/30", description="LAN"),
                InterfaceSpec("ge-0/0/2", shutdown=True),
            ],
            platform=cls.platform,
        )

    def cli(self) -> JunosCli:
        return JunosCli(self)

    def extra_state(self) -> dict[str, object]:
        with self._lock:
            return {
                "configuration": [_set_line(s) for s in sorted(self._running, key=_order)],
                "uncommitted": self._candidate != self._running,
                "candidate": [_set_line(s) for s in sorted(self._candidate, key=_order)],
                "commit_confirmed_pending": self._pending is not None,
            }

    def set_shutdown(self, interface: str, shutdown: bool) -> None:
        # As a colleague on the console would do it: through the configuration, committed.
        statement = ("interfaces", interface, "disable")
        with self._lock:
            added = {statement} if shutdown else set()
            self._candidate = (self._candidate - {statement}) | added
            self._running = (self._running - {statement}) | added
        super().set_shutdown(interface, shutdown)

    # The configuration.

    def _initial_configuration(self) -> Configuration:
        statements: list[Statement] = [
            (f"version {VERSION}",),
            ("system", f"host-name {self.name}"),
            ("system", "services", "ssh"),
            ("system", "services", "netconf", "ssh"),
            ("system", "syslog", "file messages", "any notice"),
        ]
        for i in self._interfaces.values():
            if i.description:
                statements.append(("interfaces", i.name, _description(i.description)))
            if i.shutdown:
                statements.append(("interfaces", i.name, "disable"))
            family: Statement = ("interfaces", i.name, "unit 0", "family inet")
            statements.append((*family, f"address {i.address}") if i.address else family)
        return frozenset(statements)

    def running(self) -> list[str]:
        with self._lock:
            return [_set_line(s) for s in sorted(self._running, key=_order)]

    def candidate_lines(self) -> list[str]:
        with self._lock:
            return [_set_line(s) for s in sorted(self._candidate, key=_order)]

    def show_configuration(self, candidate: bool = False) -> list[str]:
        with self._lock:
            tree = _tree(self._candidate if candidate else self._running)
            stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", self._last_commit)
        return tree if candidate else [f"## Last commit: {stamp} by {self.login}", *tree]

    def compare(self) -> list[str]:
        with self._lock:
            return compare(self._running, self._candidate)

    def modified(self) -> bool:
        with self._lock:
            return self._candidate != self._running

    def edit(self, statement: Statement, *, delete: bool) -> bool:
        """Change the candidate; False when a deleted statement was not there."""
        with self._lock:
            if not delete:
                self._candidate = self._candidate | {statement}
                gone = {statement}
            else:
                gone = {s for s in self._candidate if s[: len(statement)] == statement}
                self._candidate = self._candidate - gone
        self._changed()  # the lab's state.json shows the candidate too
        return bool(gone)

    def rollback(self, number: int) -> bool:
        with self._lock:
            if number == 0:
                self._candidate = self._running
            elif number <= len(self._rollbacks):
                self._candidate = self._rollbacks[number - 1]
            else:
                return False
        self._changed()
        return True

    def commit(self, confirm_minutes: int | None = None) -> None:
        """Put the candidate in effect; with minutes, roll it back unless confirmed in time.
        Any commit confirms a pending `commit confirmed`, as on Junos."""
        time.sleep(self.commit_seconds)  # checking and activating take their time
        with self._lock:
            restore_to = self._running
            if self._pending is not None:
                self._pending.timer.cancel()
                restore_to = self._pending.restore_to
                self._pending = None
            self._rollbacks.insert(0, self._running)
            del self._rollbacks[49:]
            self._running = self._candidate
            self._last_commit = time.gmtime()
            if confirm_minutes is not None:
                seconds = confirm_minutes * self.minute_s
                timer = threading.Timer(seconds, self._roll_back)
                timer.daemon = True
                self._pending = _Pending(restore_to, time.monotonic() + seconds, timer)
                timer.start()
        self._put_in_effect()

    def confirm_check(self) -> None:
        """`commit check` confirms a pending `commit confirmed` too."""
        with self._lock:
            if self._pending is not None:
                self._pending.timer.cancel()
                self._pending = None

    def pending_minutes(self) -> int | None:
        with self._lock:
            if self._pending is None:
                return None
            left = self._pending.deadline - time.monotonic()
            return max(1, -int(-left // self.minute_s))

    def _roll_back(self) -> None:
        with self._lock:
            pending = self._pending
            if pending is None or threading.current_thread() is not pending.timer:
                return  # confirmed meanwhile
            self._pending = None
            self._rollbacks.insert(0, self._running)
            del self._rollbacks[49:]
            self._running = self._candidate = pending.restore_to
            self._last_commit = time.gmtime()
        self._put_in_effect()

    def restart(self) -> None:
        """A reboot: the interfaces follow the committed configuration (a commit persists)."""
        self._put_in_effect()

    def _put_in_effect(self) -> None:
        """Interfaces follow the `disable` statements of the running configuration."""
        with self._lock:
            wanted = {
                name: ("interfaces", name, "disable") in self._running for name in self._interfaces
            }
            changes = {
                n: down for n, down in wanted.items() if self._interfaces[n].shutdown != down
            }
        for name, down in changes.items():
            self._set(name, shutdown=down)
        if not changes:
            # A commit that changes no interface still changes the state the lab publishes
            # (the running configuration, a pending `commit confirmed` confirmed).
            self._changed()

    # What the CLI prints.

    def show_interfaces_terse(self) -> list[str]:
        rows = ["Interface               Admin Link Proto    Local                 Remote"]
        with self._lock:
            for i in self._interfaces.values():
                link = "up" if i.link_up and not i.shutdown else "down"
                rows.append(f"{i.name:<23} {'down' if i.shutdown else 'up':<5} {link}")
                mine = [s[2:] for s in self._running if s[:2] == ("interfaces", i.name)]
                for unit in sorted({s[0] for s in mine if s[0].startswith("unit ")}, key=_natural):
                    admin = "down" if (unit, "disable") in mine else "up"
                    local = " ".join(
                        s[2][8:] for s in mine if s[:2] == (unit, "family inet") and len(s) == 3
                    )
                    name = f"{i.name}.{unit.split()[1]}"
                    rows.append(f"{name:<23} {admin:<5} {link:<4} inet     {local}".rstrip())
            if "lo0" not in self._interfaces:
                rows += [
                    "lo0                     up    up",
                    "lo0.16384               up    up   inet     127.0.0.1           --> 0/0",
                ]
        return rows

    def show_cli_authorization(self) -> list[str]:
        # The layout of the Junos documentation's sample (`show cli authorization`).
        return [
            f"Current user: '{self.login}' login: '{self.login}' class 'super-user'",
            "Permissions:",
            "    admin       -- Can view user accounts",
            "    admin-control-- Can modify user accounts",
            "    clear       -- Can clear learned network info",
            "    configure   -- Can enter configuration mode",
            "    control     -- Can modify any config",
            "    interface   -- Can view interface configuration",
            "    interface-control-- Can modify interface configuration",
            "    network     -- Can access the network",
            "    view        -- Can view current values and statistics",
        ]


# --- the CLI ---------------------------------------------------------------------------------


Handler = Callable[["JunosCli", list[Arg]], list[str]]


class JunosCli:
    """One session: operational or configuration mode, and a pending yes/no question."""

    def __init__(self, device: JunosDevice):
        self.device = device
        self.configure = False
        self.asking = False  # "Exit with uncommitted changes?" waits for its answer
        self.closed = False
        self._line = ""

    @property
    def configuring(self) -> bool:
        return self.configure

    def prompt(self) -> str:
        if self.asking:
            return EXIT_QUESTION
        minutes = self.device.pending_minutes()
        banner = (
            f"# commit confirmed will be rolled back in {minutes} minutes\r\n" if minutes else ""
        )
        user = f"{self.device.login}@{self.device.name}"
        if self.configure:
            return f"\r\n{banner}[edit]\r\n{user}# "
        return f"\r\n{banner}{user}> "

    def invalid(self, line: str) -> list[str]:
        return self._caret(len(line) - len(line.lstrip()), "unknown command.")

    def ctrl_z(self) -> None:
        """Junos gives Ctrl-Z no meaning."""

    def execute(self, line: str) -> list[str]:
        if self.asking:
            return self._answer(line)
        if not line.strip():
            return []
        self._line = line
        table = _CONFIG if self.configure else _OPERATIONAL
        try:
            return self._run(line, table)
        except CliError as error:
            return error.lines

    def _caret(self, pos: int, message: str) -> list[str]:
        width = len(self.prompt().rsplit("\n", 1)[-1])
        return [" " * (width + pos) + "^", message]

    def _run(self, line: str, table: Sequence[Command[JunosCli]], offset: int = 0) -> list[str]:
        first = re.match(r"\s*(\S+)", line[offset:])
        if first and not any(c.words[0].startswith(first.group(1).lower()) for c in table):
            raise CliError(self._caret(offset + first.start(1), "unknown command."))
        prompt = self.prompt().rsplit("\n", 1)[-1]
        parsed = parse(prompt, line, table, offset, JUNOS)
        if parsed is None:
            return []
        command, args = parsed
        return command.run(self, args)

    def _answer(self, line: str) -> list[str]:
        answer = line.strip().lower() or "yes"
        if answer not in ("yes", "no"):
            return []  # Junos asks again
        self.asking = False
        if answer == "yes":
            self.configure = False
            return ["Exiting configuration mode"]
        return []

    # Operational mode.

    def _nothing(self, args: list[Arg]) -> list[str]:
        return []

    def _close(self, args: list[Arg]) -> list[str]:
        self.closed = True
        return []

    def _screen_width(self, args: list[Arg]) -> list[str]:
        return [f"Screen width set to {args[0].text}"]

    def _screen_length(self, args: list[Arg]) -> list[str]:
        return [f"Screen length set to {args[0].text}"]

    def _complete_on_space_off(self, args: list[Arg]) -> list[str]:
        return ["Disabling complete-on-space"]

    def _complete_on_space_on(self, args: list[Arg]) -> list[str]:
        return ["Enabling complete-on-space"]

    def _configure(self, args: list[Arg]) -> list[str]:
        self.configure = True
        lines = ["Entering configuration mode"]
        return [*lines, UNCOMMITTED] if self.device.modified() else lines

    def _ping(self, args: list[Arg]) -> list[str]:
        """`ping X count N [source A | interface I] rapid`, answered by a real ping."""
        to, count, *via = args
        if via and via[0].text not in self.device.admin_up() and not is_ip(via[0].text):
            return [f"ping: unknown interface {via[0].text}"]
        return ping_layouts.answer(
            self.device,
            to.text,
            via[0].text if via else None,
            int(count.text),
            lambda echoes: ping_layouts.bsd(echoes, rapid=True, stddev=True),
            lambda reason: [f"ping: {reason}"],
        )

    def _terse(self, args: list[Arg]) -> list[str]:
        return self.device.show_interfaces_terse()

    def _configuration(self, args: list[Arg]) -> list[str]:
        return self.device.show_configuration()

    def _display_set(self, args: list[Arg]) -> list[str]:
        return self.device.running()

    def _authorization(self, args: list[Arg]) -> list[str]:
        return self.device.show_cli_authorization()

    # Configuration mode.

    def _exit_configuration(self, args: list[Arg]) -> list[str]:
        if self.device.modified():
            self.asking = True
            return [UNCOMMITTED]
        self.configure = False
        return ["Exiting configuration mode"]

    def _run_operational(self, args: list[Arg]) -> list[str]:
        return self._run(self._line, _RUN, args[0].pos)

    def _show_candidate(self, args: list[Arg]) -> list[str]:
        return self.device.show_configuration(candidate=True)

    def _show_compare(self, args: list[Arg]) -> list[str]:
        return self.device.compare()

    def _show_candidate_set(self, args: list[Arg]) -> list[str]:
        return self.device.candidate_lines()

    def _set(self, args: list[Arg]) -> list[str]:
        self.device.edit(self._statement(args), delete=False)
        return []

    def _delete(self, args: list[Arg]) -> list[str]:
        if not self.device.edit(self._statement(args, partial=True), delete=True):
            return ["warning: statement not found"]
        return []

    def _commit(self, args: list[Arg]) -> list[str]:
        self.device.commit()
        return ["commit complete"]

    def _commit_confirmed(self, args: list[Arg]) -> list[str]:
        minutes = int(args[0].text) if args else 10
        if not 1 <= minutes <= 65535:
            message = f"Value {minutes} is not within range (1..65535) at '{minutes}'"
            raise CliError(self._caret(args[0].pos, message))
        self.device.commit(minutes)
        return [
            "configuration check succeeds",
            f"commit confirmed will be automatically rolled back in {minutes} minutes "
            "unless confirmed",
            "commit complete",
        ]

    def _commit_check(self, args: list[Arg]) -> list[str]:
        self.device.confirm_check()
        return ["configuration check succeeds"]

    def _rollback(self, args: list[Arg]) -> list[str]:
        number = int(args[0].text) if args else 0
        if not self.device.rollback(number):
            return [f"error: rollback {number} does not exist"]
        return ["load complete"]

    def _statement(self, args: list[Arg], *, partial: bool = False) -> Statement:
        """`interfaces NAME [unit N] (disable | description TEXT | family inet [address A])`;
        `delete` may stop at any level."""
        name = args[0]
        physical, _, unit = name.text.partition(".")
        if not _is_interface(physical) or (unit and not unit.isdigit()):
            raise CliError(self._caret(name.pos, f"invalid interface type in '{name.text}'."))
        path = ["interfaces", physical, *([f"unit {unit}"] if unit else [])]
        words = _split(args[1]) if len(args) > 1 else []
        if not unit and words and words[0].text == "unit":
            if len(words) < 2 or not words[1].text.isdigit():
                raise CliError(self._caret(words[0].pos, "missing argument."))
            path.append(f"unit {words[1].text}")
            words = words[2:]
        if not words:
            if partial:
                return tuple(path)
            raise CliError(self._caret(len(self._line.rstrip()) + 1, "missing argument."))
        leaf = _leaf(len(path) == 3, [w.text for w in words], partial=partial)
        if leaf is None:
            raise CliError(self._caret(words[0].pos, "syntax error."))
        return (*path, *leaf)


def _description(text: str) -> str:
    # Junos quotes a value only when it needs to.
    return (
        f'description "{text}"'
        if re.search(r"[\s;{}#]", text) or not text
        else (f"description {text}")
    )


def _is_interface(name: str) -> bool:
    return bool(_PORT.fullmatch(name) or _NAMED.fullmatch(name))


def _split(arg: Arg) -> list[Arg]:
    """The words of the rest of a line (a quoted description is one), where they were typed."""
    return [Arg(m.group(0), arg.pos + m.start()) for m in re.finditer(r'"[^"]*"|\S+', arg.text)]


def _leaf(in_unit: bool, words: list[str], *, partial: bool) -> Statement | None:
    """The statement's last nodes: what this profile knows under an interface or a unit."""
    keyword, rest = words[0], words[1:]
    if keyword == "disable" and not rest:
        return ("disable",)
    if keyword == "description" and rest:
        return (_description(" ".join(rest).strip('"')),)
    if keyword == "family" and in_unit and rest[:1] == ["inet"]:
        if len(rest) == 1:
            return ("family inet",)
        if len(rest) == 3 and rest[1] == "address" and re.fullmatch(r"[\d./]+", rest[2]):
            return ("family inet", f"address {rest[2]}")
    if keyword in ("description", "family") and partial and not rest:
        return (keyword,)
    return None


_OPERATIONAL_COMMANDS: dict[str, Handler] = {
    "exit": JunosCli._close,
    "quit": JunosCli._close,
    "logout": JunosCli._close,
    f"set cli screen-width {NUM}": JunosCli._screen_width,
    f"set cli screen-length {NUM}": JunosCli._screen_length,
    "set cli complete-on-space off": JunosCli._complete_on_space_off,
    "set cli complete-on-space on": JunosCli._complete_on_space_on,
    "configure": JunosCli._configure,
    "show interfaces terse": JunosCli._terse,
    f"ping {IP} count {NUM} rapid": JunosCli._ping,
    f"ping {IP} count {NUM} source {IP} rapid": JunosCli._ping,
    f"ping {IP} count {NUM} interface {WORD} rapid": JunosCli._ping,
    "show configuration": JunosCli._configuration,
    "show configuration | display set": JunosCli._display_set,
    "show cli authorization": JunosCli._authorization,
}
_CONFIG_COMMANDS: dict[str, Handler] = {
    "exit": JunosCli._exit_configuration,
    "exit configuration-mode": JunosCli._exit_configuration,
    "quit": JunosCli._exit_configuration,
    "top": JunosCli._nothing,
    f"run {TEXT}": JunosCli._run_operational,
    "show": JunosCli._show_candidate,
    "show | compare": JunosCli._show_compare,
    "show | display set": JunosCli._show_candidate_set,
    f"set interfaces {WORD}": JunosCli._set,
    f"set interfaces {WORD} {TEXT}": JunosCli._set,
    f"delete interfaces {WORD}": JunosCli._delete,
    f"delete interfaces {WORD} {TEXT}": JunosCli._delete,
    "commit": JunosCli._commit,
    "commit check": JunosCli._commit_check,
    "commit confirmed": JunosCli._commit_confirmed,
    f"commit confirmed {NUM}": JunosCli._commit_confirmed,
    "rollback": JunosCli._rollback,
    f"rollback {NUM}": JunosCli._rollback,
}
_OPERATIONAL = commands(_OPERATIONAL_COMMANDS)
_CONFIG = commands(_CONFIG_COMMANDS)
# What `run` reaches from configuration mode: the operational show commands.
_RUN = commands({w: r for w, r in _OPERATIONAL_COMMANDS.items() if w.startswith("show")})
