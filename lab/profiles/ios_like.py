"""The mode machine the emulator's Cisco-style CLIs share (IOS, NX-OS, AOS-CX, ASA): a base
device and a base CLI that each of those profiles subclasses with its own wording.

- modes: an unprivileged exec mode (`NAME>`), the privileged one (`NAME#`), `configure
  terminal` -> `NAME(config)#`, `interface X` -> `NAME(config-if)#`; `exit` goes up one mode
  (ending the session from the exec prompt, where the profile's table says so), `end` and
  Ctrl-Z return to the privileged exec mode, `do ...` runs an exec command from configuration;
- one line at a time: blank lines and comments print nothing, the rest is matched against the
  mode's command table (`grammar.parse`), and a refusal (CliError) prints what the platform
  prints for it;
- the interface commands (`shutdown`, `no shutdown`, `description`, `no description`, `no ip
  address`) and the typed interface names they and `interface X` resolve.

What stays in each profile: its prompts' trailing space, its refusals (`grammar.Messages`), its
banner, its command tables and show commands, its interface names, and its quirks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from enum import Enum
from typing import Any, ClassVar, Generic, TypeVar

from ..device import EmulatedDevice
from ..grammar import IF, IOS, NUM, TEXT, Arg, CliError, Command, Messages, commands, parse


class Mode(Enum):
    """Where a session is. A profile uses the modes its command tables name."""

    USER = "user"  # unprivileged: IOS's user EXEC, AOS-CX's operator context (`NAME>`)
    EXEC = "exec"  # privileged: IOS's privileged EXEC, AOS-CX's manager context (`NAME#`)
    CONFIG = "config"
    CONFIG_IF = "config-if"


_PROMPTS = {
    Mode.USER: ">",
    Mode.EXEC: "#",
    Mode.CONFIG: "(config)#",
    Mode.CONFIG_IF: "(config-if)#",
}


def typed_interface(
    typed: str, pattern: re.Pattern[str], types: Collection[str]
) -> tuple[str, str, int] | None:
    """A typed interface name (`gi0/1`, `GigabitEthernet 0/1`) as (type, number, offset of the
    number in `typed`). `pattern` splits it into an abbreviated type and a number; the type is
    matched as a keyword is: the type spelled in full (any case) first, else the only one it
    begins. None when `typed` does not split, or means no type or several."""
    match = pattern.fullmatch(typed)
    if not match:
        return None
    kind, number = match.group(1).lower(), match.group(2)
    exact = [t for t in types if t.lower() == kind]
    candidates = exact or [t for t in types if t.lower().startswith(kind)]
    if len(candidates) != 1:
        return None
    return candidates[0], number, match.start(2)


class IosLikeDevice(EmulatedDevice):
    """A device whose CLI is an `IosLikeCli`: the names its interfaces may have, and what the
    shared commands ask of it."""

    # The platform's interface names, and how a refusal describes them: `an IOS interface name
    # (GigabitEthernet0/1)`.
    interface_name: ClassVar[re.Pattern[str]]
    interface_name_rule: ClassVar[str]

    @classmethod
    def check_interface_name(cls, name: str) -> None:
        if not cls.interface_name.fullmatch(name):
            raise ValueError(f"{name!r} is not {cls.interface_name_rule}")

    def resolve(self, typed: str, *, create: bool = False) -> tuple[str | None, int]:
        """The interface a typed name means, or None and the offset in `typed` of the word
        refused. `create`: for `interface X`, which creates the interfaces the platform creates
        (loopbacks)."""
        raise NotImplementedError

    def running_config(self) -> list[str]:
        """What `show running-config` prints."""
        raise NotImplementedError


D = TypeVar("D", bound=IosLikeDevice)
C = TypeVar("C")


class IosLikeCli(Generic[D]):
    """The command interpreter of one session: its mode, and what each line does to the device.
    No I/O here: `execute` takes a line and returns what the device prints for it.

    A profile sets its wording in the class attributes below, and its command tables (`commands`,
    `do_commands`) once its handlers are defined."""

    messages: ClassVar[Messages] = IOS
    # How a name that is no interface of the device is refused (None: as any invalid word).
    interface_messages: ClassVar[Messages | None] = None
    prompt_space: ClassVar[str] = ""  # after the prompt's `#` or `>`
    comments: ClassVar[tuple[str, ...]] = ("!",)  # what a comment line starts with
    comments_in_exec: ClassVar[bool] = False  # not only in configuration modes
    config_banner: ClassVar[tuple[str, ...]] = ()  # what `configure terminal` prints
    description_length: ClassVar[int]  # the longest interface description kept
    # The command table of each mode, and what `do` runs from a configuration mode.
    commands: ClassVar[Mapping[Mode, Sequence[Command[Any]]]]
    do_commands: ClassVar[Sequence[Command[Any]]] = ()

    def __init__(self, device: D):
        self.device = device
        self.mode = Mode.EXEC
        self.interface: str | None = None
        self.closed = False
        self._line = ""  # the line being executed

    def prompt(self) -> str:
        return f"{self.device.name}{_PROMPTS[self.mode]}{self.prompt_space}"

    @property
    def configuring(self) -> bool:
        return self.mode in (Mode.CONFIG, Mode.CONFIG_IF)

    def invalid(self, line: str) -> list[str]:
        indent = len(line) - len(line.lstrip())
        return self.messages.invalid_at(self.prompt(), indent, line).lines

    def execute(self, line: str) -> list[str]:
        """The lines the device prints in answer to `line` (without the echo and the next
        prompt)."""
        if not line.strip():
            return []
        self._line = line
        commenting = self.configuring or self.comments_in_exec
        if commenting and line.lstrip().startswith(self.comments):
            return []  # a comment
        try:
            return self._run(self.prompt(), line, self.commands[self.mode])
        except CliError as error:
            return error.lines

    def ctrl_z(self) -> None:
        if self.configuring:
            self._end([])

    def _run(
        self, prompt: str, line: str, table: Sequence[Command[Any]], offset: int = 0
    ) -> list[str]:
        parsed = parse(prompt, line, table, offset, self.messages)
        if parsed is None:
            return []
        command, args = parsed
        return self._apply(command, args)

    def _apply(self, command: Command[Any], args: list[Arg]) -> list[str]:
        """Run a command matched in the current mode."""
        return command.run(self, args)

    def _interface(self, arg: Arg, *, create: bool) -> str:
        name, offset = self.device.resolve(arg.text, create=create)
        if name is None:
            messages = self.interface_messages or self.messages
            raise messages.invalid_at(self.prompt(), arg.pos + offset, self._line)
        return name

    def _current(self) -> str:
        assert self.interface is not None
        return self.interface

    # Handlers: each returns the lines printed.

    def _nothing(self, args: list[Arg]) -> list[str]:
        return []

    def _close(self, args: list[Arg]) -> list[str]:
        self.closed = True
        return []

    def _enable(self, args: list[Arg]) -> list[str]:
        self.mode = Mode.EXEC
        return []

    def _disable(self, args: list[Arg]) -> list[str]:
        self.mode = Mode.USER
        return []

    def _configure(self, args: list[Arg]) -> list[str]:
        self.mode = Mode.CONFIG
        return list(self.config_banner)

    def _show_running(self, args: list[Arg]) -> list[str]:
        return self.device.running_config()

    def _write(self, args: list[Arg]) -> list[str]:
        return ["Building configuration...", "[OK]"]

    def _enter_interface(self, args: list[Arg]) -> list[str]:
        self.interface = self._interface(args[0], create=True)
        self.mode = Mode.CONFIG_IF
        return []

    def _exit_config(self, args: list[Arg]) -> list[str]:
        if self.mode is Mode.CONFIG_IF:
            self.mode, self.interface = Mode.CONFIG, None
        else:
            self.mode = Mode.EXEC
        return []

    def _end(self, args: list[Arg]) -> list[str]:
        self.mode, self.interface = Mode.EXEC, None
        return []

    def _do(self, args: list[Arg]) -> list[str]:
        # An exec command run from configuration mode; the caret still counts this prompt.
        return self._run(self.prompt(), self._line, self.do_commands, args[0].pos)

    def _shutdown(self, args: list[Arg]) -> list[str]:
        self.device._set(self._current(), shutdown=True)
        return []

    def _no_shutdown(self, args: list[Arg]) -> list[str]:
        self.device._set(self._current(), shutdown=False)
        return []

    def _description(self, args: list[Arg]) -> list[str]:
        self.device._set(self._current(), description=args[0].text[: self.description_length])
        return []

    def _no_description(self, args: list[Arg]) -> list[str]:
        self.device._set(self._current(), description="")
        return []

    def _no_ip_address(self, args: list[Arg]) -> list[str]:
        self.device._set(self._current(), address=None, method="unset")
        return []


Handler = Callable[[IosLikeCli[Any], list[Arg]], list[str]]

# `terminal ...` as netmiko's session preparation types it.
TERMINAL_COMMANDS: dict[str, Handler] = {
    f"terminal length {NUM}": IosLikeCli._nothing,
    f"terminal width {NUM}": IosLikeCli._nothing,
    "terminal monitor": IosLikeCli._nothing,
    "terminal no monitor": IosLikeCli._nothing,
}
# Configuration mode: into an interface, up a mode, back to exec, an exec command.
CONFIG_COMMANDS: dict[str, Handler] = {
    f"interface {IF}": IosLikeCli._enter_interface,
    "exit": IosLikeCli._exit_config,
    "end": IosLikeCli._end,
    f"do {TEXT}": IosLikeCli._do,
}
# Interface configuration mode adds these to the configuration mode's commands.
INTERFACE_COMMANDS: dict[str, Handler] = {
    "shutdown": IosLikeCli._shutdown,
    "no shutdown": IosLikeCli._no_shutdown,
    f"description {TEXT}": IosLikeCli._description,
    "no description": IosLikeCli._no_description,
}


def do_commands_of(
    exec_commands: Mapping[str, Callable[[C, list[Arg]], list[str]]], *keep: str
) -> tuple[Command[C], ...]:
    """What `do` runs from a configuration mode: the exec commands that begin with one of the
    words `keep`, those that leave the mode as it is."""
    return commands({words: run for words, run in exec_commands.items() if words.startswith(keep)})
