"""`isolement lab up|down|status|drill`: argument parsing for the rehearsal lab, and the call
into it. The lab is a distribution of its own (isolement-lab, the repository's lab/), which a
controller-only install does not have: then every `lab` command says so (exit 2)."""

from __future__ import annotations

import argparse
import importlib
from types import ModuleType
from typing import Any

from isolement.model.errors import InputError

EXIT_OK, EXIT_FAILED = 0, 4


def add_parser(sub: Any) -> None:
    lab = sub.add_parser("lab", help="the rehearsal lab on this machine")
    lsub = lab.add_subparsers(dest="lab_command", required=True)
    lsub.add_parser("up", help="stand the lab up")
    lsub.add_parser("down", help="remove everything 'lab up' created")
    lsub.add_parser("status", help="what the lab has running")
    drill = lsub.add_parser("drill", help="lab up, plan, cut, verify, restore, with timings")
    drill.add_argument("playbooks", nargs="*", default=["cut-all", "cut-intersite", "cut-internet"])
    drill.add_argument("--keep", action="store_true", help="leave the lab up afterwards")


def _lab() -> ModuleType:
    # The lab needs root and Linux, and it is a distribution of its own.
    try:
        return importlib.import_module("isolement.lab")
    except ModuleNotFoundError as exc:
        if exc.name not in ("isolement.lab", "isolement"):
            raise
        raise InputError(
            "the lab is not installed: it is a separate part, 'isolement-lab' (pip install "
            "isolement-lab, or ./scripts/setup.sh from a clone of the repository)"
        ) from None


def cmd_lab(args: argparse.Namespace) -> int:
    lab = _lab()
    sub = args.lab_command
    if sub == "up":
        print(lab.up())
    elif sub == "down":
        print(lab.down())
    elif sub == "status":
        text, running = lab.status()
        print(text)
        return EXIT_OK if running else EXIT_FAILED
    else:
        return int(lab.drill(args.playbooks, keep=args.keep))
    return EXIT_OK
