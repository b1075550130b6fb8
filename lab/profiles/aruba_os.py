"""The HPE Aruba AOS-S (ProCurve) profile of the emulator: what netmiko's `aruba_osswitch`
driver (HPProcurveSSH, unchanged), and so isolement's ArubaOsDriver, see of a switch.

As a real 2530 running YA.16.11 answers (tests/data/aruba_os/session_2530_ya1611.txt):

- the login banner (model, release, `(C) Copyright ...`) ending with `Press any key to
  continue`, the prompt `NAME# ` only once a key is pressed; `no page`, `terminal width N`,
  which netmiko's session preparation sends;
- `configure terminal` (`config`) -> `NAME(config)# `, `interface N` -> `NAME(eth-N)# `, and the
  one-line forms `interface N disable|enable` in `(config)`; `disable`, `enable`, `name "X"`,
  `exit`, `end`; a change prints nothing;
- `show interfaces brief` in the layout of the real captures (`Status and Counters - Port
  Status`, `Enabled` Yes/No, `Status` Up/Down, the `Bcast Limit` column), `show
  running-config` (`Running configuration:`, the `; <model> Configuration Editor` lines,
  three-space indented blocks closed by `exit`, `disable` in a disabled port's block, one VLAN
  per addressed port holding its address), `write memory`;
- the refusals `Invalid input: <word>`, `Incomplete input: <line>`, `Module not present for
  port or invalid port: <port>`;
- `logout` (and `exit` at the manager prompt) asks `Do you want to log out [y/n]?`, which
  netmiko answers.

No candidate, no commit: a line is in effect as typed. Not emulated: the operator level and
`enable`, port ranges (`interface 1-4 disable`), trunks, `show interfaces N`, VLAN commands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..device import DeviceSpec, Interface, InterfaceSpec
from ..grammar import NUM, TEXT, WORD, Arg, CliError, Messages, commands
from .ios_like import IosLikeCli, IosLikeDevice, Mode

# A port: `24`, a chassis module's `A1`, a stack member's `1/28`.
_PORT = re.compile(r"(?:[A-Z]?\d{1,3}|\d/\d{1,2})")
PRODUCT, MODEL, RELEASE = "J9773A", "2530-24G-PoEP", "YA.16.11.0026"
LOGOUT_QUESTION = "Do you want to log out [y/n]? "
BANNER = (
    f"HP {PRODUCT} {MODEL} Switch\r\n"
    f"Software revision {RELEASE}\r\n\r\n"
    " (C) Copyright 2025 Hewlett Packard Enterprise Development LP\r\n\r\n"
    "                      RESTRICTED RIGHTS LEGEND\r\n"
    " Confidential computer software. Valid license from Hewlett Packard Enterprise\r\n"
    " Development LP required for possession, use or copying.\r\n\r\n"
    "Press any key to continue"
)


@dataclass(frozen=True)
class _Messages(Messages):
    """AOS-S names what it refuses after the colon: no caret, no blank line."""

    def invalid_at(self, prompt: str, pos: int, line: str = "") -> CliError:
        word = line[pos:].split(maxsplit=1)
        return CliError([f"Invalid input: {word[0] if word else ''}"])


AOSS = _Messages(
    incomplete="Incomplete input:", ambiguous="Ambiguous input: {typed}", caret=False, blank=False
)


class AossDevice(IosLikeDevice):
    platform = "aruba_os"
    interface_name = _PORT
    interface_name_rule = "an AOS-S port name (24, A1, 1/28)"

    @classmethod
    def sample(cls, name: str) -> DeviceSpec:
        return DeviceSpec(
            name,
            [
                InterfaceSpec("25", address="198.18.0.1/30", description="UPLINK-CORE"),
                InterfaceSpec("1", address="198.18.0.5/30"),
                InterfaceSpec("2", shutdown=True),
            ],
            platform=cls.platform,
        )

    def cli(self) -> AossCli:
        return AossCli(self)

    def resolve(self, typed: str, *, create: bool = False) -> tuple[str | None, int]:
        """A port by its name, in either case (`a1` is `A1`); AOS-S creates none."""
        name = typed.strip().upper()
        with self._lock:
            return (name if name in self._interfaces else None), 0

    # What the CLI prints.

    def show_interfaces_brief(self) -> list[str]:
        lines = [
            " Status and Counters - Port Status",
            "",
            "                          | Intrusion                           MDI  Flow Bcast",
            "  Port         Type       | Alert     Enabled Status Mode       Mode Ctrl Limit",
            "  ------------ ---------- + --------- ------- ------ ---------- ---- ---- -----",
        ]
        with self._lock:
            for i in self._interfaces.values():
                up = not i.shutdown and i.link_up
                mdi = "NA" if i.shutdown else "MDIX" if up else "Auto"
                lines.append(
                    f"  {i.name:<12} {'100/1000T':<10} | {'No':<9} "
                    f"{'No' if i.shutdown else 'Yes':<7} {'Up' if up else 'Down':<6} "
                    f"{'1000FDx':<10} {mdi:<4} off  0"
                )
        return lines

    def running_config(self) -> list[str]:
        body = [
            "Running configuration:",
            "",
            f"; {PRODUCT} Configuration Editor; Created on release #{RELEASE}",
            "; Ver #14:41.44.00.04.19.02.13.98.82.34.61.18.28.f3.84.9c.63.ff.37.27:05",
            f'hostname "{self.name}"',
            "no telnet-server",
        ]
        with self._lock:
            interfaces = list(self._interfaces.values())
            for i in interfaces:
                settings = [f'name "{i.description}"'] if i.description else []
                if i.shutdown:
                    settings.append("disable")
                if settings:
                    body += [f"interface {i.name}", *(f"   {s}" for s in settings), "   exit"]
            for number, i in enumerate((i for i in interfaces if i.address), start=1):
                body += [
                    f"vlan {100 + number}",
                    f'   name "PORT-{i.name}"',
                    f"   untagged {i.name}",
                    f"   ip address {_address(i)}",
                    "   exit",
                ]
        return [*body, ""]


def _address(i: Interface) -> str:
    assert i.address is not None
    return f"{i.address.ip} {i.address.netmask}"


# --- the CLI ---------------------------------------------------------------------------------


class AossCli(IosLikeCli[AossDevice]):
    """The manager level is `Mode.EXEC`, a port's context `Mode.CONFIG_IF` (`(eth-N)`)."""

    messages = AOSS
    interface_messages = None
    prompt_space = " "
    description_length = 64

    def __init__(self, device: AossDevice):
        super().__init__(device)
        self._greeted = False  # the banner is printed once, in place of the first prompt
        self._asking = False  # `logout` typed: the next line answers its question

    def prompt(self) -> str:
        if not self._greeted:
            # The prompt that follows is printed once a key is pressed (Enter, as netmiko).
            self._greeted = True
            return BANNER
        if self._asking:
            return LOGOUT_QUESTION
        if self.mode is Mode.CONFIG_IF:
            return f"{self.device.name}(eth-{self.interface})# "
        return super().prompt()

    def execute(self, line: str) -> list[str]:
        if self._asking:
            self._asking = False
            self.closed = line.strip().lower().startswith("y")
            return []
        answer = super().execute(line)
        if answer == [AOSS.incomplete]:
            return [f"{AOSS.incomplete} {line.strip()}"]
        return answer

    def _logout(self, args: list[Arg]) -> list[str]:
        self._asking = True
        return []

    def _port(self, arg: Arg) -> str:
        name, _ = self.device.resolve(arg.text)
        if name is None:
            raise CliError([f"Module not present for port or invalid port: {arg.text}"])
        return name

    def _enter_port(self, args: list[Arg]) -> list[str]:
        self.interface = self._port(args[0])
        self.mode = Mode.CONFIG_IF
        return []

    def _set_port(self, args: list[Arg], *, shutdown: bool) -> list[str]:
        port = self._port(args[0]) if args else self._current()
        self.device._set(port, shutdown=shutdown)
        return []

    def _disable_port(self, args: list[Arg]) -> list[str]:
        return self._set_port(args, shutdown=True)

    def _enable_port(self, args: list[Arg]) -> list[str]:
        return self._set_port(args, shutdown=False)

    def _name(self, args: list[Arg]) -> list[str]:
        self.device._set(self._current(), description=args[0].text.strip('"')[:64])
        return []

    def _show_brief(self, args: list[Arg]) -> list[str]:
        return self.device.show_interfaces_brief()

    def _write_memory(self, args: list[Arg]) -> list[str]:
        self.device.save()  # what a restart reloads (#12 §3)
        return []


_EXEC = {
    "logout": AossCli._logout,
    "exit": AossCli._logout,
    "no page": AossCli._nothing,
    "page": AossCli._nothing,
    f"terminal width {NUM}": AossCli._nothing,
    f"terminal length {NUM}": AossCli._nothing,
    "show interfaces brief": AossCli._show_brief,
    "show running-config": AossCli._show_running,
    "write memory": AossCli._write_memory,
    "configure terminal": AossCli._configure,
}
_CONFIG = {
    f"interface {WORD}": AossCli._enter_port,
    f"interface {WORD} disable": AossCli._disable_port,
    f"interface {WORD} enable": AossCli._enable_port,
    "exit": AossCli._exit_config,
    "end": AossCli._end,
    "show interfaces brief": AossCli._show_brief,
    "show running-config": AossCli._show_running,
    "write memory": AossCli._write_memory,
}
_PORT_CONTEXT = {
    **_CONFIG,
    "disable": AossCli._disable_port,
    "enable": AossCli._enable_port,
    f"name {TEXT}": AossCli._name,
}
AossCli.commands = {
    Mode.EXEC: commands(_EXEC),
    Mode.CONFIG: commands(_CONFIG),
    Mode.CONFIG_IF: commands(_PORT_CONTEXT),
}
