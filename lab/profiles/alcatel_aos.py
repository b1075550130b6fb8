"""The Alcatel-Lucent OmniSwitch AOS 8 profile of the emulator: what netmiko's `alcatel_aos`
driver (AlcatelAosSSH, unchanged), and so isolement's AlcatelAosDriver, see of a switch.

- one prompt, `NAME-> ` (the `session prompt default "NAME->"` of the snapshot): AOS has no
  enable level and no configuration mode, a command is in effect once typed. netmiko's session
  preparation only reads up to `>` or `#` and finds the prompt with an empty line;
- `interfaces port C/S/P admin-state enable|disable` (and the older `interfaces C/S/P ...` form
  of the first AOS 8 releases), `show interfaces status` and `show configuration snapshot` in
  AOS 8's own layouts (tests/data/alcatel_aos/ holds real ones), `whoami`, `write memory
  [flash-synchro]` (netmiko's save_config), `exit` / `logout`, which close the session;
- AOS's one refusal: a caret under the offending word and `ERROR: Invalid entry: "word"`.
  Keywords are matched whole and in any case, as AOS does; no abbreviations.

No packet filter: an OmniSwitch port is cut by its admin state, so `blocked_interfaces()` stays
empty and there is no policy state beyond the ports'.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..device import DeviceSpec, EmulatedDevice, InterfaceSpec
from ..grammar import is_ip
from . import ping_layouts

# AOS 8 ports: chassis/slot/port, a letter for a split port (1/1/49A).
_PORT = re.compile(r"\d+/\d+/\d+[A-Z]?")

# The table's header, as AOS 8.6 and later print it (tests/data/alcatel_aos/
# show_interfaces_status_aos8.txt, byte for byte).
_STATUS_HEADER = [
    " Chas/                DETECTED-VALUES              CONFIGURED-VALUES    ",
    " Slot/   Admin  Auto  Speed   Duplex  Pause  FEC   Speed   Duplex  Pause  FEC   Link",
    " Port    Status Nego  (Mbps)                 Det   (Mbps)                 Cfg   Trap  EEE",
    "--------+------+----+--------+------+-------+----+--------+------+-------+-----+-----+---",
]
# The rest of a row after Port, Admin Status and Auto Nego, from the same recording: a port
# with its link up, and one without (disabled, or nothing plugged in).
_LINK_UP = "    1000   Full     -     DIS  10000    Full     -    AUTO  en   dis"
_LINK_DOWN = "     -      -       -    -     10000    Full     -    AUTO  en   dis"


class AlcatelAosDevice(EmulatedDevice):
    platform = "alcatel_aos"

    @classmethod
    def check_interface_name(cls, name: str) -> None:
        if not _PORT.fullmatch(name):
            raise ValueError(f"{name!r} is not an AOS 8 port name (chassis/slot/port: 1/1/1)")

    @classmethod
    def sample(cls, name: str) -> DeviceSpec:
        # An OS6860 at a hospital: WAN uplink, LAN, and a spare port left disabled.
        return DeviceSpec(
            name,
            [
                InterfaceSpec("1/1/1"),
                InterfaceSpec("1/1/2"),
                InterfaceSpec("1/1/3", shutdown=True),
            ],
            platform=cls.platform,
        )

    def cli(self) -> AosCli:
        return AosCli(self)

    # What the CLI prints.

    def show_interfaces_status(self) -> list[str]:
        rows = list(_STATUS_HEADER)
        with self._lock:
            for port in self._interfaces.values():
                admin = "dis" if port.shutdown else "en"
                up = port.link_up and not port.shutdown
                rows.append(f" {port.name:<8}{admin:>5}{'en':>6}{_LINK_UP if up else _LINK_DOWN}")
        return rows

    def configuration_snapshot(self) -> list[str]:
        """The running configuration in AOS 8's layout: every feature's `! Name:` header in
        AOS's order, its lines, and a blank line after a section that has any. A port's admin
        state is written only when disabled (enabled is the default)."""
        with self._lock:
            disabled = [
                f"interfaces port {p.name} admin-state disable"
                for p in self._interfaces.values()
                if p.shutdown
            ]
        sections: list[tuple[str, list[str]]] = [
            ("Chassis", [f'system name "{self.name}"']),
            ("Configuration", ["configuration error-file-limit 2"]),
            ("Capability Manager", []),
            ("Multi-Chassis", []),
            ("Virtual Flow Control", []),
            ("LFP", []),
            ("Interface", disabled),
            ("Port_Manager", []),
            ("Link Aggregate", []),
            ("VLAN", ["vlan 1 admin-state enable"]),
            ("PVLAN", []),
            ("Spanning Tree", ["spantree mode flat ", "spantree vlan 1 admin-state enable "]),
            ("DA-UNP", []),
            ("Bridging", []),
            ("Port Mirroring", []),
            ("Port Mapping", []),
            ("IP", []),
            ("IPv6", []),
            ("IPSec", []),
            ("IPMS", []),
            ("AAA", ['aaa authentication default "local" ', 'aaa authentication ssh "local" ']),
            ("NTP", []),
            ("QOS", []),
            ("Policy Manager", []),
            ("VLAN Stacking", []),
            ("ERP", []),
            ("MVRP", []),
            ("LLDP", []),
            ("UDLD", []),
            ("Server Load Balance", []),
            ("High Availability Vlan", []),
            ("Session Manager", [f'session prompt default "{self.name}->"']),
            ("Web", []),
            ("Trap Manager", []),
            ("Health Monitor", []),
            ("System Service", ["system timezone CET"]),
            ("SNMP", []),
            ("BFD", []),
            ("IP Route Manager", []),
            ("VRRP", []),
            ("UDP Relay", []),
            ("RIP", []),
            ("OSPF", []),
            ("BGP", []),
            ("Module", []),
            ("LAN Power", []),
            ("Security", []),
            ("Zero Configuration", []),
        ]
        lines: list[str] = []
        for title, body in sections:
            lines += [f"! {title}:", *body, *([""] if body else [])]
        return lines

    def whoami(self) -> list[str]:
        # The user record in the wording of AOS's `show user` (tests/data/alcatel_aos/
        # show_user.txt): a user with read-write rights on every domain.
        return [
            "User name = admin,",
            "  Password allow to be modified date     = None,",
            "  Account lockout     = None,",
            "  Password bad attempts     = 0,",
            "  Read Only for domains   = None,",
            "  Read/Write for domains  = All ,",
            "  Snmp allowed     = NO",
            "  Console-Only    = Disabled",
        ]

    def resolve_port(self, typed: str) -> str | None:
        """The port a typed name means (AOS takes `1/1/49a` for `1/1/49A`), or None."""
        name = typed.upper()
        with self._lock:
            return name if name in self._interfaces else None


# --- the CLI -------------------------------------------------------------------------------------


class _Refused(Exception):
    """The line is refused at this word (offset in the line)."""

    def __init__(self, word: str, pos: int):
        super().__init__(word)
        self.word = word
        self.pos = pos


class AosCli:
    """The command interpreter of one session. No I/O: `execute` takes a line and returns
    what AOS prints for it."""

    def __init__(self, device: AlcatelAosDevice):
        self.device = device
        self.closed = False

    def prompt(self) -> str:
        return f"{self.device.name}-> "

    @property
    def configuring(self) -> bool:
        # No configuration mode on AOS: no line is typed "in configuration mode", so the
        # emulator's drop-after-N-configuration-lines fault never triggers on this platform.
        return False

    def ctrl_z(self) -> None:
        """Nothing to leave: AOS has a single mode."""

    def invalid(self, line: str) -> list[str]:
        words = _words(line)
        word, pos = words[0] if words else ("", 0)
        return self._refusal(word, pos)

    def execute(self, line: str) -> list[str]:
        words = _words(line)
        if not words:
            return []
        try:
            return self._run(words)
        except _Refused as refused:
            return self._refusal(refused.word, refused.pos)

    def _refusal(self, word: str, pos: int) -> list[str]:
        return [" " * (len(self.prompt()) + pos) + "^", f'ERROR: Invalid entry: "{word}"']

    def _run(self, words: list[tuple[str, int]]) -> list[str]:
        keys = [w.lower() for w, _ in words]
        for pattern, handler in _COMMANDS:
            matched = _match(pattern, keys)
            if matched == len(pattern) == len(keys):
                return handler(self, words)
        # Refused at the first word no command of the table takes there.
        best = max(_match(pattern, keys) for pattern, _ in _COMMANDS)
        if best < len(words):
            raise _Refused(*words[best])
        word, pos = words[-1]  # every word fits, but the command stops short
        raise _Refused(word, pos)

    # Handlers: each returns the lines printed.

    def _close(self, words: list[tuple[str, int]]) -> list[str]:
        self.closed = True
        return []

    def _write_memory(self, words: list[tuple[str, int]]) -> list[str]:
        self.device.save()
        return []

    def _nothing(self, words: list[tuple[str, int]]) -> list[str]:
        return []

    def _whoami(self, words: list[tuple[str, int]]) -> list[str]:
        return self.device.whoami()

    def _show_status(self, words: list[tuple[str, int]]) -> list[str]:
        return self.device.show_interfaces_status()

    def _show_snapshot(self, words: list[tuple[str, int]]) -> list[str]:
        return self.device.configuration_snapshot()

    def _ping(self, words: list[tuple[str, int]]) -> list[str]:
        """`ping X count N [source-interface I]`, answered by a real ping."""
        source = words[5][0] if len(words) == 6 else None
        return ping_layouts.answer(
            self.device,
            words[1][0],
            source,
            int(words[3][0]),
            ping_layouts.omniswitch,
            lambda reason: [f"ERROR: {reason}"],
        )

    def _admin_state(self, words: list[tuple[str, int]]) -> list[str]:
        # `interfaces port P admin-state X` or `interfaces P admin-state X`.
        typed, pos = words[-3]
        port = self.device.resolve_port(typed)
        if port is None:
            raise _Refused(typed, pos)
        self.device._set(port, shutdown=words[-1][0].lower() == "disable")
        return []


Handler = Callable[[AosCli, list[tuple[str, int]]], list[str]]
_P, _V = "<port>", "<enable|disable>"
_A, _N, _W = "<address>", "<number>", "<word>"
_COMMANDS: list[tuple[tuple[str, ...], Handler]] = [
    (("exit",), AosCli._close),
    (("logout",), AosCli._close),
    (("whoami",), AosCli._whoami),
    (("show", "interfaces", "status"), AosCli._show_status),
    (("show", "configuration", "snapshot"), AosCli._show_snapshot),
    (("write", "memory"), AosCli._write_memory),
    (("write", "memory", "flash-synchro"), AosCli._write_memory),
    (("interfaces", "port", _P, "admin-state", _V), AosCli._admin_state),
    (("interfaces", _P, "admin-state", _V), AosCli._admin_state),
    (("ping", _A, "count", _N), AosCli._ping),
    (("ping", _A, "count", _N, "source-interface", _W), AosCli._ping),
]


def _fits(expected: str, word: str) -> bool:
    if expected == _P:
        return _PORT.fullmatch(word.upper()) is not None
    if expected == _V:
        return word in ("enable", "disable")
    if expected == _A:
        return is_ip(word)
    if expected == _N:
        return word.isdigit()
    if expected == _W:
        return True
    return word == expected


def _match(pattern: tuple[str, ...], words: list[str]) -> int:
    """How many leading words fit the pattern."""
    count = 0
    for expected, word in zip(pattern, words, strict=False):
        if not _fits(expected, word):
            break
        count += 1
    return count


def _words(line: str) -> list[tuple[str, int]]:
    return [(m.group(0), m.start()) for m in re.finditer(r"\S+", line)]
