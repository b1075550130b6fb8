"""Matching a typed command line against a CLI's command table, the way Cisco-style CLIs do.

Any unambiguous prefix of a keyword is accepted (`sh ip int br`), placeholders take a number,
an IPv4 address, or the rest of the line (an interface name, free text). Refusals carry what
the device prints for them; the messages are IOS's by default and a profile may pass its own.
Shared by the emulator profiles whose CLI works this way (IOS, NX-OS, ASA, AOS-CX, ...).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

INVALID_INPUT = "% Invalid input detected at '^' marker."
INCOMPLETE = "% Incomplete command."

# Placeholders in a command's words: a number, an IPv4 address, and two that take the rest of
# the line (so they come last): an interface name (`Gi0/1` or `GigabitEthernet 0/1`) and text.
NUM, IP, IF, TEXT, WORD = "<num>", "<ip>", "<interface>", "<text>", "<word>"
_REST = (IF, TEXT)


class CliError(Exception):
    """The line is refused; `lines` is what the device prints for it."""

    def __init__(self, lines: list[str]):
        super().__init__(lines[-1] if lines else "")
        self.lines = lines


@dataclass(frozen=True)
class Arg:
    text: str
    pos: int  # offset in the whole line typed, for the caret


C = TypeVar("C")


@dataclass(frozen=True)
class Command(Generic[C]):
    words: tuple[str, ...]
    run: Callable[[C, list[Arg]], list[str]]


def commands(table: Mapping[str, Callable[[C, list[Arg]], list[str]]]) -> tuple[Command[C], ...]:
    return tuple(Command(tuple(words.split()), run) for words, run in table.items())


def is_ip(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Messages:
    """How a CLI words its refusals."""

    invalid: str = INVALID_INPUT
    incomplete: str = INCOMPLETE
    ambiguous: str = '% Ambiguous command:  "{typed}"'
    caret: bool = True  # print a caret line under the offending word
    blank: bool = True  # a blank line after an invalid or incomplete command, before the prompt

    def refusal(self, *lines: str) -> CliError:
        """A refusal printing `lines`, then the blank line if this CLI prints one."""
        return CliError([*lines, ""] if self.blank else list(lines))

    def invalid_at(self, prompt: str, pos: int, line: str = "") -> CliError:
        """The refusal of the word at `pos` in `line` (the whole line typed, for a CLI that
        names the word it refuses), typed after `prompt`."""
        caret = [" " * (len(prompt) + pos) + "^"] if self.caret else []
        return self.refusal(*caret, self.invalid)


IOS = Messages()


def parse(
    prompt: str,
    line: str,
    table: Sequence[Command[C]],
    offset: int = 0,
    messages: Messages = IOS,
) -> tuple[Command[C], list[Arg]] | None:
    """Match `line[offset:]` against `table`: any unambiguous prefix of a keyword. Returns None
    for an empty line; raises CliError with the device's answer."""
    tokens = [(m.start() + offset, m.group(0)) for m in re.finditer(r"\S+", line[offset:])]
    if not tokens:
        return None
    alive = list(table)
    args: dict[int, list[Arg]] = {id(c): [] for c in alive}
    for index, (pos, token) in enumerate(tokens):
        matched: list[Command[C]] = []
        keywords: set[str] = set()
        for command in alive:
            if index >= len(command.words):
                continue
            word = command.words[index]
            if (
                (word == NUM and token.isdigit())
                or (word == IP and is_ip(token))
                or (word == WORD and not token.startswith("-"))
            ):
                matched.append(command)
                args[id(command)].append(Arg(token, pos))
            elif not word.startswith("<") and word.startswith(token.lower()):
                matched.append(command)
                keywords.add(word)
        exact = [c for c in matched if c.words[index] == token.lower()]
        if exact:
            matched = exact
        elif len(keywords) > 1:
            first = tokens[0][0]
            raise CliError([messages.ambiguous.format(typed=line[first : pos + len(token)])])
        if not matched:
            # A placeholder taking the rest of the line (an interface, free text) ends the match.
            for command in alive:
                if index < len(command.words) and command.words[index] in _REST:
                    return command, [*args[id(command)], Arg(line[pos:].rstrip(), pos)]
            raise messages.invalid_at(prompt, pos, line)
        alive = matched
    complete = [c for c in alive if len(c.words) == len(tokens)]
    if not complete:
        raise messages.refusal(messages.incomplete)
    return complete[0], args[id(complete[0])]
