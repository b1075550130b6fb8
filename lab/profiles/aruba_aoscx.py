"""The Aruba AOS-CX profile of the emulator: what netmiko's `aruba_aoscx` driver (ArubaCxSSH),
and so isolement's ArubaAoscxDriver, see of a CX switch (an 8xxx: routed ports, shut by default).

- the prompts `NAME# ` (manager) and `NAME> ` (operator, after `disable`), each with the space
  AOS-CX prints after it; `no page` and `page`, which netmiko's session preparation sends;
  `configure terminal` (netmiko types `configure term`) -> `NAME(config)# `, `interface
  <member/slot/port>` -> `NAME(config-if)# `, `shutdown`, `no shutdown`, `description`, `exit`,
  `end`, Ctrl-Z, `do <command>`; AOS-CX prints nothing when any of them succeeds;
- `show interface [PORT]` in the layout of 10.13 and later (`Interface 1/1/3 is down
  (Administratively down)`, ` Admin state is down`, then the port's details and counters) and
  `show running-config` (`Current configuration:`, `!Version ArubaOS-CX ...`, four-space
  indented interface blocks, `no shutdown` on enabled ports only, ports left at their defaults
  omitted), as recorded from real switches (tests/data/aruba_aoscx);
- abbreviations (`conf t`, `int 1/1/1`, `sh int`) and AOS-CX's refusals: `Invalid input: <word>`
  (for an unknown command, or a port the switch does not have), `% Command incomplete.`,
  `% Ambiguous command.`;
- `exit` at the manager prompt ends the session and closes the connection.

No commit: a configuration line is in effect when typed, as on a real CX. The admin state is the
only thing isolement changes here; no packet filter is emulated (`blocked_interfaces` is empty).
Not emulated: logical interfaces (`interface vlan|lag|loopback N`), ranges (`interface
1/1/1-1/1/4`), `routing` / `ip address` (the addresses come from the device's specification),
checkpoints, and the login banner. `write memory` saves what a restart (`restart()`) reloads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..device import DeviceSpec, Interface, InterfaceSpec
from ..grammar import IP, NUM, TEXT, Arg, CliError, Messages, commands, is_ip
from . import ping_layouts
from .ios_like import (
    CONFIG_COMMANDS,
    INTERFACE_COMMANDS,
    IosLikeCli,
    IosLikeDevice,
    Mode,
    do_commands_of,
)

# member/slot/port, and a split port's lane (`1/1/49:2`).
_PORT = re.compile(r"\d{1,2}/\d{1,2}/\d{1,3}(?::\d)?")
VERSION = "GL.10.13.1000"  # GL: the 8325 family


@dataclass(frozen=True)
class _Messages(Messages):
    """AOS-CX's refusals: the refused word after `Invalid input: `, no caret, no blank line."""

    def invalid_at(self, prompt: str, pos: int, line: str = "") -> CliError:
        word = line[pos:].split(maxsplit=1)
        return CliError([f"Invalid input: {word[0] if word else ''}"])


AOSCX = _Messages(
    incomplete="% Command incomplete.", ambiguous="% Ambiguous command.", caret=False, blank=False
)


class AoscxDevice(IosLikeDevice):
    platform = "aruba_aoscx"
    interface_name = _PORT
    interface_name_rule = "an AOS-CX port name (member/slot/port: 1/1/1)"

    @classmethod
    def sample(cls, name: str) -> DeviceSpec:
        return DeviceSpec(
            name,
            [
                InterfaceSpec("1/1/1", address="198.18.0.1/30", description="WAN to DC"),
                InterfaceSpec("1/1/2", address="198.18.0.5/30"),
                InterfaceSpec("1/1/3", shutdown=True),
            ],
            platform=cls.platform,
        )

    def cli(self) -> AoscxCli:
        return AoscxCli(self)

    # What the CLI prints.

    def show_interface(self, only: str | None = None) -> list[str]:
        lines: list[str] = []
        with self._lock:
            for number, i in enumerate(self._interfaces.values(), start=1):
                if only is None or i.name == only:
                    if lines:
                        lines.append("")
                    lines += _interface_details(i, _mac(number))
        return lines

    def running_config(self) -> list[str]:
        body = [
            "Current configuration:",
            "!",
            f"!Version ArubaOS-CX {VERSION}",
            "!export-password: default",
            f"hostname {self.name}",
            "!",
            "!",
            "!",
            "!",
            "ssh server vrf mgmt",
            "vlan 1",
            "interface mgmt",
            "    no shutdown",
            "    ip dhcp",
        ]
        with self._lock:
            for i in self._interfaces.values():
                settings = [] if i.shutdown else ["no shutdown"]
                if i.description:
                    settings.append(f"description {i.description}")
                if i.address:
                    settings.append(f"ip address {i.address.with_prefixlen}")
                # A port left at its defaults (shut, routed, no address) is not printed.
                if settings:
                    body += [f"interface {i.name}", *(f"    {s}" for s in settings)]
        return [*body, "!", "!", "!", "!", "!", "https-server vrf mgmt"]

    def resolve(self, typed: str, *, create: bool = False) -> tuple[str | None, int]:
        """A port by its full name only (`1/1/3`); AOS-CX creates none here."""
        name = typed.strip()
        with self._lock:
            return (name if name in self._interfaces else None), 0


def _mac(n: int) -> str:
    return f"02:00:5e:00:00:{n:02x}"


def _counters(header: str, rows: Sequence[tuple[str, str]]) -> list[str]:
    """One of the two tables `show interface` ends a port with, every value zero."""
    rx, tx, total = ("RX", "TX", "Total (RX+TX)" if header == "Rate" else "Total")
    rule = " ".join(["-" * 16, *["-" * 20] * 3])
    lines = [f" {header:<16} {rx:>20} {tx:>20} {total:>20}", f" {rule}"]
    return lines + [f" {label:<16} {value:>20} {value:>20} {value:>20}" for label, value in rows]


_RATES = [
    ("Mbits / sec", "0.00"),
    ("KPkts / sec", "0.00"),
    ("  Unicast", "0.00"),
    ("  Multicast", "0.00"),
    ("  Broadcast", "0.00"),
    ("Utilization %", "0.00"),
]
_STATISTICS = [
    ("Packets", "0"),
    ("  Unicast", "0"),
    ("  Multicast", "0"),
    ("  Broadcast", "0"),
    ("Bytes", "0"),
    ("Jumbos", "0"),
    ("Dropped", "0"),
    ("Filtered", "0"),
    ("Pause Frames", "0"),
    ("Errors", "0"),
]


def _interface_details(i: Interface, mac: str) -> list[str]:
    if i.shutdown:
        head, link = "down (Administratively down)", "down"
    else:
        head = link = "up" if i.link_up else "down"
    lines = [f"Interface {i.name} is {head}", f" Admin state is {'down' if i.shutdown else 'up'}"]
    if not i.shutdown and not i.link_up:
        lines.append(" State information: Waiting for link")
    lines += [
        f" Link transitions: {0 if link == 'down' else 1}",
        f" Description: {i.description}".rstrip(),
        " Persona:",
        f" Hardware: Ethernet, MAC Address: {mac}",
    ]
    if i.address:
        lines.append(f" IPv4 address {i.address.with_prefixlen}")
    lines += [
        " MTU 1500",
        " Type 1GbT",
        " Full-duplex",
        " qos trust none",
        f" Speed {1000 if link == 'up' else 0} Mb/s",
        " Auto-negotiation is on",
        " Flow-control: off",
        " Error-control: off",
        " Rate collection interval: 300 seconds",
        "",
        *_counters("Rate", _RATES),
        "",
        *_counters("Statistic", _STATISTICS),
    ]
    return lines


# --- the CLI ---------------------------------------------------------------------------------


class AoscxCli(IosLikeCli[AoscxDevice]):
    """AOS-CX's contexts are the shared modes: the operator's is `Mode.USER`, the manager's
    `Mode.EXEC`. Its prompts end with a space; a change prints nothing, not even a banner."""

    messages = AOSCX
    prompt_space = " "
    description_length = 64

    def _write_memory(self, args: list[Arg]) -> list[str]:
        # What a real CX prints here was not recorded: nothing is printed.
        self.device.save()
        return []

    def _show_interface(self, args: list[Arg]) -> list[str]:
        return self.device.show_interface(self._interface(args[0], create=False) if args else None)

    def _ping(self, args: list[Arg]) -> list[str]:
        """`ping X repetitions N [source A|I]`, answered by a real ping (AOS-CX's is Linux's)."""
        to, count, *via = args
        source = None
        if via:
            source = via[0].text if is_ip(via[0].text) else self._interface(via[0], create=False)
        return ping_layouts.answer(
            self.device, to.text, source, int(count.text), ping_layouts.iputils
        )


_SHOW = {
    "show interface": AoscxCli._show_interface,
    f"show interface {TEXT}": AoscxCli._show_interface,
}
_OPERATOR_COMMANDS = {
    **_SHOW,
    "enable": AoscxCli._enable,
    "exit": AoscxCli._close,
    "no page": AoscxCli._nothing,
    "page": AoscxCli._nothing,
}
_MANAGER_COMMANDS = {
    **_OPERATOR_COMMANDS,
    f"ping {IP} repetitions {NUM}": AoscxCli._ping,
    f"ping {IP} repetitions {NUM} source {TEXT}": AoscxCli._ping,
    "show running-config": AoscxCli._show_running,
    "write memory": AoscxCli._write_memory,
    f"terminal width {NUM}": AoscxCli._nothing,
    "disable": AoscxCli._disable,
    "configure": AoscxCli._configure,
    "configure terminal": AoscxCli._configure,
}
AoscxCli.commands = {
    Mode.USER: commands(_OPERATOR_COMMANDS),
    Mode.EXEC: commands(_MANAGER_COMMANDS),
    Mode.CONFIG: commands(CONFIG_COMMANDS),
    Mode.CONFIG_IF: commands({**CONFIG_COMMANDS, **INTERFACE_COMMANDS}),
}
# What `do` runs from a configuration context: the manager's commands that keep the context.
AoscxCli.do_commands = do_commands_of(_MANAGER_COMMANDS, "show")
