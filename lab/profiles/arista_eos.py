"""The Arista EOS profile of the emulator (a 7050-class switch in routed access): what netmiko's
`arista_eos` driver (AristaSSH, unchanged), and so isolement's AristaEosDriver, see of a switch.

- the prompts `NAME#` (`NAME>` after `disable`), `terminal width N` (`Width set to N
  columns.`) and `terminal length 0` (`Pagination disabled.`), which netmiko's session
  preparation sends and waits for;
- `configure terminal` -> `NAME(config)#`, `interface X` -> `NAME(config-if-Et1)#`: each line in
  effect as typed; `configure session S` -> `NAME(config-s-S6)#` (the session's name cut to
  six characters), `NAME(config-s-S6-if-Et1)#`: the lines wait in the session, `commit` puts
  them in effect and leaves to `NAME#`, `abort` drops them; `exit` and `end` leave the session
  pending, and entering it again finds its lines;
- `shutdown`, `no shutdown`, `description`, `exit`, `end`, Ctrl-Z; `show interfaces status`
  in the layout of the real captures (tests/data/arista_eos: `Et1`, Status `disabled` when
  shut, `connected`, `notconnect`), `show running-config` (three-space indents, `!` between
  blocks), `copy running-config startup-config`;
- EOS's refusals: `% Invalid input (at token N: 'word')`, `% Incomplete command`, `% Ambiguous
  command`, and for a port the switch does not have `! Interface does not exist. The
  configuration will not take effect until the module is inserted.` (its context is entered,
  what is typed there changes nothing).

Not emulated: `commit timer`, `rollback`, VLANs and switchports, ranges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import paramiko

from ..device import DeviceSpec, InterfaceSpec
from ..grammar import IF, NUM, TEXT, WORD, Arg, CliError, Messages, commands
from .ios_like import IosLikeCli, IosLikeDevice, Mode, typed_interface

_INTERFACE = re.compile(r"([A-Za-z][A-Za-z-]*?)(\d[\d/.:]*)")
_TYPED_INTERFACE = re.compile(r"([A-Za-z][A-Za-z-]*?)\s*(\d[\d/.:]*)")
# An Ethernet port as typed (`Ethernet9`, `et 9/1`), whether the switch has it or not.
_ETHERNET = re.compile(r"(?i)e(?:t(?:h(?:ernet)?)?)?\s*\d+(?:/\d+)*")
_TYPES = ("Ethernet", "Management", "Port-Channel", "Loopback", "Vlan")
_SHORT = {
    "Ethernet": "Et",
    "Management": "Ma",
    "Port-Channel": "Po",
    "Loopback": "Lo",
    "Vlan": "Vl",
}
NO_SUCH_PORT = (
    "! Interface does not exist. The configuration will not take effect until the module is "
    "inserted."
)
VERSION = "cEOSLab, EOS-4.28.0F"


@dataclass(frozen=True)
class _Messages(Messages):
    """EOS names the refused token by its index and text; no caret, no blank line."""

    def invalid_at(self, prompt: str, pos: int, line: str = "") -> CliError:
        index = len(line[:pos].split())
        word = line[pos:].split(maxsplit=1)
        return CliError([f"% Invalid input (at token {index}: '{word[0] if word else ''}')"])


EOS = _Messages(incomplete="% Incomplete command", ambiguous="% Ambiguous command", blank=False)


def _kind(name: str) -> str:
    match = _INTERFACE.fullmatch(name)
    return match.group(1) if match else name


def short_name(name: str) -> str:
    kind = _kind(name)
    return _SHORT.get(kind, kind) + name[len(kind) :]


class EosDevice(IosLikeDevice):
    platform = "arista_eos"
    interface_name = _INTERFACE
    interface_name_rule = "an EOS interface name (Ethernet1)"

    def __init__(self, spec: DeviceSpec, host_key: paramiko.PKey):
        super().__init__(spec, host_key)
        # Configuration sessions not yet committed: name -> (interface, shutdown) in order.
        self._sessions: dict[str, list[tuple[str, bool]]] = {}

    @classmethod
    def sample(cls, name: str) -> DeviceSpec:
        return DeviceSpec(
            name,
            [
                InterfaceSpec("Ethernet49", address="198.18.0.1/30", description="uplink core"),
                InterfaceSpec("Ethernet1", address="198.18.0.5/30"),
                InterfaceSpec("Ethernet2", shutdown=True),
            ],
            platform=cls.platform,
        )

    def cli(self) -> EosCli:
        return EosCli(self)

    def extra_state(self) -> dict[str, object]:
        with self._lock:
            return {"sessions": {name: len(lines) for name, lines in self._sessions.items()}}

    def resolve(self, typed: str, *, create: bool = False) -> tuple[str | None, int]:
        with self._lock:
            found = typed_interface(typed, _TYPED_INTERFACE, _TYPES)
            if found is None:
                return None, 0
            kind, number, offset = found
            name = kind + number
            return (name, 0) if name in self._interfaces else (None, offset)

    # Configuration sessions.

    def pending(self, session: str) -> list[tuple[str, bool]]:
        with self._lock:
            return self._sessions.setdefault(session, [])

    def commit(self, session: str) -> None:
        with self._lock:
            lines = self._sessions.pop(session, [])
        for interface, shutdown in lines:
            self._set(interface, shutdown=shutdown)

    def abort(self, session: str) -> None:
        with self._lock:
            self._sessions.pop(session, None)

    def sessions(self) -> list[str]:
        with self._lock:
            return sorted(self._sessions)

    # What the CLI prints.

    def show_interfaces_status(self) -> list[str]:
        lines = ["Port       Name                   Status       Vlan        Duplex  Speed Type"]
        with self._lock:
            for i in self._interfaces.values():
                if i.shutdown:
                    status, duplex, speed = "disabled", "auto", "auto"
                elif i.link_up:
                    status, duplex, speed = "connected", "full", "1G"
                else:
                    status, duplex, speed = "notconnect", "auto", "auto"
                lines.append(
                    f"{short_name(i.name):<10} {i.description[:22]:<22} {status:<12} "
                    f"{'routed':<11} {duplex:<7} {speed:<5} 1000BASE-T"
                )
        return lines

    def running_config(self) -> list[str]:
        body = [
            "! Command: show running-config",
            f"! device: {self.name} ({VERSION})",
            "!",
            "no aaa root",
            "!",
            f"hostname {self.name}",
            "!",
        ]
        with self._lock:
            for i in self._interfaces.values():
                body.append(f"interface {i.name}")
                if i.description:
                    body.append(f"   description {i.description}")
                if i.shutdown:
                    body.append("   shutdown")
                body.append("   no switchport")
                if i.address:
                    body.append(f"   ip address {i.address.with_prefixlen}")
                body.append("!")
        return [*body, "management ssh", "!", "end"]


# --- the CLI ---------------------------------------------------------------------------------


class EosCli(IosLikeCli[EosDevice]):
    messages = EOS
    description_length = 240

    def __init__(self, device: EosDevice):
        super().__init__(device)
        self.session: str | None = None  # the configuration session being edited
        self.phantom = False  # in the context of a port the switch does not have

    def prompt(self) -> str:
        where = "config" + (f"-s-{self.session[:6]}" if self.session else "")
        if self.mode is Mode.CONFIG_IF:
            port = short_name(self.interface or "")
            return f"{self.device.name}({where}-if-{port})#"
        if self.mode is Mode.CONFIG:
            return f"{self.device.name}({where})#"
        return super().prompt()

    def _leave(self) -> None:
        self.mode, self.interface, self.session, self.phantom = Mode.EXEC, None, None, False

    def ctrl_z(self) -> None:
        self._leave()

    def _end(self, args: list[Arg]) -> list[str]:
        self._leave()
        return []

    def _exit_config(self, args: list[Arg]) -> list[str]:
        if self.mode is Mode.CONFIG_IF:
            self.mode, self.interface, self.phantom = Mode.CONFIG, None, False
        else:
            self._leave()
        return []

    def _configure_session(self, args: list[Arg]) -> list[str]:
        self.session = args[0].text
        self.device.pending(self.session)
        self.mode = Mode.CONFIG
        return []

    def _commit(self, args: list[Arg]) -> list[str]:
        if self.session is None:
            raise EOS.invalid_at(self.prompt(), 0, self._line)
        self.device.commit(self.session)
        self._leave()
        return []

    def _abort(self, args: list[Arg]) -> list[str]:
        if self.session is None:
            raise EOS.invalid_at(self.prompt(), 0, self._line)
        self.device.abort(self.session)
        self._leave()
        return []

    def _enter_interface(self, args: list[Arg]) -> list[str]:
        name, offset = self.device.resolve(args[0].text)
        if name is None and _ETHERNET.fullmatch(args[0].text):
            # A port EOS knows how to name but this switch does not have: accepted, with its
            # warning; nothing typed in its context changes anything.
            self.mode, self.interface, self.phantom = Mode.CONFIG_IF, args[0].text, True
            return [NO_SUCH_PORT]
        if name is None:
            raise EOS.invalid_at(self.prompt(), args[0].pos + offset, self._line)
        self.mode, self.interface, self.phantom = Mode.CONFIG_IF, name, False
        return []

    def _set_shutdown(self, shutdown: bool) -> list[str]:
        if self.phantom:
            return []
        if self.session is not None:
            self.device.pending(self.session).append((self._current(), shutdown))
        else:
            self.device._set(self._current(), shutdown=shutdown)
        return []

    def _shutdown(self, args: list[Arg]) -> list[str]:
        return self._set_shutdown(True)

    def _no_shutdown(self, args: list[Arg]) -> list[str]:
        return self._set_shutdown(False)

    def _status(self, args: list[Arg]) -> list[str]:
        return self.device.show_interfaces_status()

    def _terminal_width(self, args: list[Arg]) -> list[str]:
        return [f"Width set to {args[0].text} columns."]

    def _terminal_length(self, args: list[Arg]) -> list[str]:
        return ["Pagination disabled."]

    def _copy(self, args: list[Arg]) -> list[str]:
        self.device.save()  # what a restart reloads (#12 §3)
        return ["Copy completed successfully."]


_SHOW = {
    "show interfaces status": EosCli._status,
    "show running-config": EosCli._show_running,
}
_USER = {
    **_SHOW,
    "enable": EosCli._enable,
    "exit": EosCli._close,
    "logout": EosCli._close,
    f"terminal width {NUM}": EosCli._terminal_width,
    f"terminal length {NUM}": EosCli._terminal_length,
}
_EXEC = {
    **_USER,
    "disable": EosCli._disable,
    "configure terminal": EosCli._configure,
    f"configure session {WORD}": EosCli._configure_session,
    "copy running-config startup-config": EosCli._copy,
    "write memory": EosCli._copy,
}
_CONFIG = {
    **_SHOW,
    f"interface {IF}": EosCli._enter_interface,
    "exit": EosCli._exit_config,
    "end": EosCli._end,
    "commit": EosCli._commit,
    "abort": EosCli._abort,
}
_CONFIG_IF = {
    **_CONFIG,
    "shutdown": EosCli._shutdown,
    "no shutdown": EosCli._no_shutdown,
    f"description {TEXT}": EosCli._description,
    "no description": EosCli._no_description,
}
EosCli.commands = {
    Mode.USER: commands(_USER),
    Mode.EXEC: commands(_EXEC),
    Mode.CONFIG: commands(_CONFIG),
    Mode.CONFIG_IF: commands(_CONFIG_IF),
}
