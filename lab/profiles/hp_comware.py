"""The HPE Comware 7 profile of the emulator (a FlexNetwork 5130 in routed access): what
netmiko's `hp_comware` driver (HPComwareSSH, unchanged), and so isolement's HpComwareDriver,
see of a switch.

- views as prompts: `<NAME>` (user view), `system-view` -> `[NAME]`, `interface X` ->
  `[NAME-GigabitEthernet1/0/1]`; `quit` goes up one view (and ends the session from user
  view), `return` and Ctrl-Z go back to user view; `display` commands run in every view;
- `screen-length disable` (netmiko's session preparation), `shutdown`, `undo shutdown`,
  `description`, `undo description`, `save force`;
- `display interface brief` in Comware 7's route-mode layout (`Brief information on interfaces
  in route mode:`, names abbreviated `GE1/0/1`, `XGE1/0/49`, Link `ADM` when shut), as the
  real captures in tests/data/hp_comware print it; `display current-configuration` (`#`
  separated blocks, one-space indents, `return` at the end);
- abbreviated keywords and interface types (`dis int br`, `int g1/0/1`) and Comware's
  refusals: a caret line under the word and ` % Unrecognized command found at '^' position.`,
  ` % Incomplete command found at '^' position.`, ` % Ambiguous command found at '^'
  position.`

No candidate, no commit: a line is in effect as typed. Not emulated: bridge-mode ports and
VLANs, `port link-mode`, interface ranges, the `Press Y or ENTER to continue` banner, `undo
shutdown` of a port with nothing plugged in saying so.
"""

from __future__ import annotations

import dataclasses
import re

from ..device import DeviceSpec, Interface, InterfaceSpec
from ..grammar import IF, NUM, TEXT, Arg, Messages, commands
from .ios_like import IosLikeCli, IosLikeDevice, Mode, typed_interface

# Comware interface names: a type word (with its dashes), then its number.
_INTERFACE = re.compile(r"([A-Za-z][A-Za-z-]*?)(\d[\d/.:]*)")
_TYPED_INTERFACE = re.compile(r"([A-Za-z][A-Za-z-]*?)\s*(\d[\d/.:]*)")
# The types a port may have, and how `display interface brief` abbreviates each.
_SHORT = {
    "GigabitEthernet": "GE",
    "Ten-GigabitEthernet": "XGE",
    "Twenty-FiveGigE": "WGE",
    "FortyGigE": "FGE",
    "HundredGigE": "HGE",
    "M-GigabitEthernet": "MGE",
    "LoopBack": "Loop",
    "Vlan-interface": "Vlan",
}
VERSION = "7.1.070, Release 3208P08"


# Comware's refusals: the caret under the word, then the reason, indented by one; an
# interface the device does not have is a wrong parameter of `interface`.
COMWARE = Messages(
    invalid=" % Unrecognized command found at '^' position.",
    incomplete=" % Incomplete command found at '^' position.",
    ambiguous=" % Ambiguous command found at '^' position.",
    blank=False,
)
WRONG_PARAMETER = dataclasses.replace(COMWARE, invalid=" % Wrong parameter found at '^' position.")


def _kind(name: str) -> str:
    match = _INTERFACE.fullmatch(name)
    return match.group(1) if match else name


class ComwareDevice(IosLikeDevice):
    platform = "hp_comware"
    interface_name = _INTERFACE
    interface_name_rule = "a Comware interface name (GigabitEthernet1/0/1)"

    @classmethod
    def sample(cls, name: str) -> DeviceSpec:
        return DeviceSpec(
            name,
            [
                InterfaceSpec("Ten-GigabitEthernet1/0/49", address="198.18.0.1/30"),
                InterfaceSpec("GigabitEthernet1/0/1", address="198.18.0.5/30"),
                InterfaceSpec("GigabitEthernet1/0/2", shutdown=True),
            ],
            platform=cls.platform,
        )

    def cli(self) -> ComwareCli:
        return ComwareCli(self)

    def resolve(self, typed: str, *, create: bool = False) -> tuple[str | None, int]:
        with self._lock:
            types = sorted({_kind(n) for n in self._interfaces} | set(_SHORT))
            found = typed_interface(typed, _TYPED_INTERFACE, types)
            if found is None:
                return None, 0
            kind, number, offset = found
            name = kind + number
            return (name, 0) if name in self._interfaces else (None, offset)

    # What the CLI prints.

    def display_interface_brief(self) -> list[str]:
        lines = [
            "Brief information on interfaces in route mode:",
            "Link: ADM - administratively down; Stby - standby",
            "Protocol: (s) - spoofing",
            "Interface            Link Protocol Primary IP        Description",
        ]
        with self._lock:
            for i in self._interfaces.values():
                kind = _kind(i.name)
                short = _SHORT.get(kind, kind) + i.name[len(kind) :]
                link = "ADM" if i.shutdown else "UP" if i.link_up else "DOWN"
                protocol = "UP" if link == "UP" else "DOWN"
                address = str(i.address.ip) if i.address else "--"
                row = f"{short:<20} {link:<4} {protocol:<8} {address:<17} {i.description}"
                lines.append(row.rstrip())
        return [*lines, ""]

    def running_config(self) -> list[str]:
        body = ["#", f" version {VERSION}", "#", f" sysname {self.name}", "#"]
        with self._lock:
            for i in self._interfaces.values():
                body += [f"interface {i.name}", *(f" {s}" for s in _settings(i)), "#"]
        return [*body, " ssh server enable", "#", "return"]


def _settings(i: Interface) -> list[str]:
    settings = ["port link-mode route"] if _kind(i.name) in _SHORT else []
    if i.description:
        settings.append(f"description {i.description}")
    if i.shutdown:
        settings.append("shutdown")
    if i.address:
        settings.append(f"ip address {i.address.ip} {i.address.netmask}")
    return settings


# --- the CLI ---------------------------------------------------------------------------------


class ComwareCli(IosLikeCli[ComwareDevice]):
    """User view is `Mode.EXEC`, system view `Mode.CONFIG`, an interface's view
    `Mode.CONFIG_IF`."""

    messages = COMWARE
    interface_messages = WRONG_PARAMETER
    config_banner = ("System View: return to User View with Ctrl+Z.",)
    description_length = 255

    def prompt(self) -> str:
        if self.mode is Mode.CONFIG_IF:
            return f"[{self.device.name}-{self.interface}]"
        if self.mode is Mode.CONFIG:
            return f"[{self.device.name}]"
        return f"<{self.device.name}>"

    def _brief(self, args: list[Arg]) -> list[str]:
        return self.device.display_interface_brief()

    def _save(self, args: list[Arg]) -> list[str]:
        self.device.save()  # what a restart reloads (#12 §3)
        return [
            "Validating file. Please wait...",
            "Saved the current configuration to mainboard device successfully.",
        ]

    def _quit(self, args: list[Arg]) -> list[str]:
        if self.mode is Mode.EXEC:
            self.closed = True
            return []
        return self._exit_config(args)

    def _undo_description(self, args: list[Arg]) -> list[str]:
        return self._no_description(args)


_DISPLAY = {
    "display interface brief": ComwareCli._brief,
    "display current-configuration": ComwareCli._show_running,
}
_ANY_VIEW = {**_DISPLAY, "quit": ComwareCli._quit, "return": ComwareCli._end}
_USER_VIEW = {
    **_DISPLAY,
    "quit": ComwareCli._quit,
    "screen-length disable": ComwareCli._nothing,
    f"screen-length {NUM}": ComwareCli._nothing,
    "system-view": ComwareCli._configure,
    "save force": ComwareCli._save,
}
_SYSTEM_VIEW = {
    **_ANY_VIEW,
    f"interface {IF}": ComwareCli._enter_interface,
    "save force": ComwareCli._save,
}
_INTERFACE_VIEW = {
    **_SYSTEM_VIEW,
    "shutdown": ComwareCli._shutdown,
    "undo shutdown": ComwareCli._no_shutdown,
    f"description {TEXT}": ComwareCli._description,
    "undo description": ComwareCli._undo_description,
}
ComwareCli.commands = {
    Mode.EXEC: commands(_USER_VIEW),
    Mode.CONFIG: commands(_SYSTEM_VIEW),
    Mode.CONFIG_IF: commands(_INTERFACE_VIEW),
}
