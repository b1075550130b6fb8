"""`isolement schema [NAME]`: the JSON Schema of each --json document, shipped in the package.

A script reading isolement's --json output checks it against these (draft 2020-12). They name
the fields a script may rely on; a document may carry more.
"""

from __future__ import annotations

import argparse
import json
from importlib import resources
from typing import Any

from isolement.model.errors import InputError

# Command -> the schema its --json document follows.
SCHEMA_OF = {
    "validate": "validate",
    "plan": "plan",
    "cut": "run",
    "restore --all": "run",
    "preflight": "preflight",
    "status": "status",
    "verify": "verify",
    "journal verify": "journal-verify",
    "any command, refused or failed": "error",
}


def names() -> list[str]:
    folder = resources.files("isolement.cli") / "schemas"
    return sorted(
        p.name.removesuffix(".schema.json")
        for p in folder.iterdir()
        if p.name.endswith(".schema.json")
    )


def schema(name: str) -> dict[str, Any]:
    if name not in names():
        raise InputError(f"no schema {name!r}; the schemas: {', '.join(names())}")
    text = (resources.files("isolement.cli") / "schemas" / f"{name}.schema.json").read_text()
    return dict(json.loads(text))


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "schema",
        help="the JSON Schema of a --json document (no NAME: which command prints which)",
    )
    p.add_argument("name", nargs="?", metavar="NAME")


def cmd_schema(args: argparse.Namespace) -> int:
    if args.name:
        print(json.dumps(schema(args.name), indent=2))
        return 0
    if args.json:
        print(json.dumps({"schemas": names(), "commands": SCHEMA_OF}, indent=2))
        return 0
    width = max(len(c) for c in SCHEMA_OF)
    for command, name in SCHEMA_OF.items():
        print(f"  {command:<{width}}  isolement schema {name}")
    return 0
