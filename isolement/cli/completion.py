"""`isolement completion bash|zsh`: a shell completion script, generated from the parser itself
(shtab), so it never falls behind the commands and options."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

SHELLS = ("bash", "zsh")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "completion",
        help="print a shell completion script",
        description="Print a completion script for bash or zsh.",
        epilog="examples:\n"
        '  eval "$(isolement completion bash)"            # this shell\n'
        "  isolement completion bash > /etc/bash_completion.d/isolement\n"
        '  isolement completion zsh > "${fpath[1]}/_isolement"',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("shell", choices=SHELLS)


def cmd_completion(args: argparse.Namespace, parser: Callable[[], argparse.ArgumentParser]) -> int:
    import shtab  # only for this command: every other start-up is spared it

    print(shtab.complete(parser(), shell=args.shell))
    return 0
