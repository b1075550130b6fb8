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
    up = lsub.add_parser("up", help="stand the lab up")
    topology(up)
    lsub.add_parser("down", help="remove everything 'lab up' created")
    lsub.add_parser("status", help="what the lab has running")
    drill = lsub.add_parser("drill", help="lab up, plan, cut, verify, restore, with timings")
    drill.add_argument("playbooks", nargs="*", default=["cut-all", "cut-intersite", "cut-internet"])
    drill.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    topology(drill)
    drill.add_argument(
        "--faults",
        action="append",
        default=[],
        metavar="NAME[=TARGET],...",
        help="the bad night: device-down, wrong-credentials, host-key-changed, slow-device, "
        "session-drop, unknown-link, management-lost (each on the lab's default device or "
        "link, or =TARGET)",
    )
    drill.add_argument(
        "--history",
        action="store_true",
        help="the drills kept, and the last one against the one before it; runs nothing",
    )


def topology(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--topology",
        metavar="NAME",
        help="the lab to stand up: hospital-group (the quick default) or grand-ouest (the "
        "group of the seeds: nine establishments in two regions)",
    )


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
        print(lab.up(lab.topology_path(args.topology)))
    elif sub == "down":
        print(lab.down())
    elif sub == "status":
        text, running = lab.status()
        print(text)
        return EXIT_OK if running else EXIT_FAILED
    else:
        return int(
            lab.drill(
                args.playbooks,
                keep=args.keep,
                topology=args.topology,
                faults=args.faults,
                show_history=args.history,
            )
        )
    return EXIT_OK
