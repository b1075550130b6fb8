"""`isolement inventory import netbox|ansible|nornir|containerlab ... --output FILE`: argument
parsing and rendering for the importers of isolement.sources.

The written inventory's summary goes to stdout (or the --json document); what could not be
mapped is listed on stderr, source by source, object by object, and in the JSON document.
Exit code 0: written, everything in scope mapped; 3: written, some objects not mapped (listed);
2: nothing written (bad input, or nothing importable).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from isolement.model.errors import InputError

if TYPE_CHECKING:
    from isolement.sources import writer

EXIT_OK, EXIT_INPUT, EXIT_PARTIAL = 0, 2, 3
SOURCES = ("netbox", "ansible", "nornir", "containerlab")


def add_parser(sub: Any) -> None:
    inventory = sub.add_parser("inventory", help="build an inventory from another tool's")
    isub = inventory.add_subparsers(dest="inventory_command", required=True)
    imp = isub.add_parser(
        "import",
        help="write an inventory from NetBox, Ansible, Nornir or containerlab",
        description="Write an isolement inventory from a source of truth the team already has. "
        "What cannot be mapped is listed (stderr, and --json) and never silently dropped; no "
        "secret is ever written. Exit 0: written; 3: written, some objects not mapped; "
        "2: nothing written.",
    )
    ssub = imp.add_subparsers(dest="source", required=True)

    def source(name: str, help_: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = ssub.add_parser(name, help=help_)
        p.add_argument("--output", type=Path, required=True, help="inventory file to write")
        p.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
        p.add_argument(
            "--mapping",
            type=Path,
            help="YAML tables overriding the built-in ones: platforms, roles, kinds, "
            "cross_site_kind, site_groups, site_variable, role_variable",
        )
        p.add_argument("--name", help="the inventory's name (default: OUTPUT's file name)")
        p.add_argument("--username", help="login for devices whose source names none")
        secret = p.add_mutually_exclusive_group()
        secret.add_argument(
            "--password-env",
            default="ISOLEMENT_PASSWORD",
            metavar="VAR",
            help="environment variable holding the password (default ISOLEMENT_PASSWORD)",
        )
        secret.add_argument("--key-file", help="SSH private key file instead of a password")
        p.add_argument(
            "--known-hosts",
            default="known_hosts",
            help="known-hosts file the inventory names (default: known_hosts beside OUTPUT)",
        )
        return p

    p = source("netbox", "NetBox 4.x through its REST API (pynetbox)")
    p.add_argument("--url", required=True, help="NetBox's address, e.g. https://netbox.example")
    p.add_argument(
        "--token-env",
        default="NETBOX_TOKEN",
        metavar="VAR",
        help="environment variable holding the API token (default NETBOX_TOKEN); never argv",
    )
    p.add_argument("--site", action="append", default=[], metavar="SLUG", help="repeatable")
    p.add_argument("--page-size", type=int, default=200, help="objects per API page")
    p = source("ansible", "`ansible-inventory --list` JSON, or an INI/YAML inventory")
    p.add_argument("path", type=Path, help="JSON of ansible-inventory --list, or an inventory")
    p.add_argument(
        "--group", action="append", default=[], help="only the hosts of this group (repeatable)"
    )
    p = source("nornir", "Nornir's simple inventory (hosts, groups, defaults)")
    p.add_argument("hosts", type=Path, help="hosts.yaml")
    p.add_argument("--groups", type=Path, help="groups.yaml (default: beside hosts.yaml)")
    p.add_argument("--defaults", type=Path, help="defaults.yaml (default: beside hosts.yaml)")
    p = source("containerlab", "a containerlab topology file (*.clab.yml)")
    p.add_argument("topology", type=Path)


def cmd_import(args: argparse.Namespace) -> int:
    # The importers only for this command: every other command's start-up is spared them.
    from isolement.sources import ansible, containerlab, nornir, writer
    from isolement.sources.mapping import load_mapping

    mapping = load_mapping(args.mapping)
    options = writer.Options(
        name=args.name,
        username=args.username,
        password_env=args.password_env,
        key_file=args.key_file,
        known_hosts=args.known_hosts,
    )
    name = args.name or args.output.name.split(".")[0]
    draft = writer.Draft(
        name=name,
        description=f"Imported from {args.source}",
        sources=[],
        known_hosts=args.known_hosts,
    )
    if args.source == "netbox":
        token = os.environ.get(args.token_env)
        if not token:
            raise InputError(
                f"environment variable {args.token_env} is not set: NetBox's API token is read "
                "from it (never from the command line)",
                source="--token-env",
            )
        draft.secret(token)
        try:
            # pynetbox and requests come with the 'netbox' extra only: loaded when asked for.
            from isolement.sources import netbox

            api = netbox.connect(args.url, token)
        except ImportError:
            raise InputError(
                "pynetbox is not installed: pip install 'isolement[netbox]'", source="netbox"
            ) from None
        netbox.read(api, args.url, draft, mapping, options, args.site, args.page_size)
    elif args.source == "ansible":
        ansible.read(args.path, draft, mapping, options, args.group or None)
    elif args.source == "nornir":
        nornir.read(args.hosts, draft, mapping, options, args.groups, args.defaults)
    else:
        containerlab.read(args.topology, draft, mapping, options)
    draft.description = f"Imported from {args.source}: {', '.join(draft.sources)}"
    try:
        built = writer.build(draft, mapping)
    except InputError:
        _list(draft.issues, draft.warnings)
        raise
    text = writer.render(built, draft, f"{args.source} ...")
    document = _document(args, built, draft)
    writer.check_no_secret(json.dumps(document), draft, "the report")
    writer.write(args.output, text, force=args.force)
    _list(built.issues, built.warnings)
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        counts = document["counts"]
        print(
            f"{args.output}: {counts['sites']} sites, {counts['devices']} devices, "
            f"{counts['links']} links, {counts['protected']} protected flows from "
            f"{', '.join(draft.sources)}; {len(built.issues)} objects not mapped\n"
            f"next: isolement --inventory {args.output} validate"
        )
    return EXIT_PARTIAL if built.issues else EXIT_OK


def _list(issues: list[writer.Issue], warnings: list[writer.Issue]) -> None:
    from isolement.sources import writer

    for text in (writer.issues_text(issues), writer.issues_text(warnings, "worth a look")):
        if text:
            print(text, file=sys.stderr)


def _document(args: argparse.Namespace, built: writer.Built, draft: writer.Draft) -> dict[str, Any]:
    inventory = built.inventory
    return {
        "output": str(args.output),
        "written": True,
        "source": args.source,
        "sources": draft.sources,
        "counts": {
            "sites": len(inventory.sites),
            "devices": len(inventory.devices),
            "links": len(inventory.links),
            "protected": len(inventory.protected),
        },
        "unmapped": [issue.as_dict() for issue in built.issues],
        "warnings": [issue.as_dict() for issue in built.warnings],
    }
