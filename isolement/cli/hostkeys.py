"""`isolement hostkeys collect`: in peacetime, review every device's host key and record it.

Each key is shown with its type and SHA256 fingerprint (as `ssh-keygen -lf` prints it) and its
standing against the inventory's known-hosts file; the file is written only after
confirmation, or with `--yes` (the list printed all the same). A CHANGED key is never replaced
unless `--replace HOST` names it. Exit 0: every device's key is on file now; 3: some are not
(CHANGED kept, REVOKED, not written, or not collected: listed); 2: bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from isolement.model.errors import InputError
from isolement.model.inventory import Inventory, load_inventory
from isolement.transport.known_hosts import host_key_name

if TYPE_CHECKING:
    from isolement.transport.hostkeys import HostKey

EXIT_OK, EXIT_INPUT, EXIT_PARTIAL = 0, 2, 3


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("hostkeys", help="review and record the devices' SSH host keys")
    hsub = parser.add_subparsers(dest="hostkeys_command", required=True)
    collect = hsub.add_parser(
        "collect",
        help="fetch every device's host key, show its fingerprint, write the known-hosts file",
        description="In peacetime: connect to every device of the inventory (key exchange "
        "only, no login), show each host key's type and SHA256 fingerprint against the "
        "inventory's known-hosts file, and write the new ones after confirmation. A CHANGED "
        "key is kept as it is on file unless --replace names its host. Exit 0: every key is "
        "on file; 3: some are not (listed); 2: bad input.",
    )
    collect.add_argument(
        "--yes", action="store_true", help="write without asking (the list is printed)"
    )
    collect.add_argument(
        "--replace",
        action="append",
        default=[],
        metavar="HOST",
        help="replace this host's CHANGED key ([host]:port as known_hosts names it, or the "
        "device's name); repeatable",
    )
    collect.add_argument(
        "--device", action="append", metavar="NAME", help="only this device (repeatable)"
    )


def cmd_hostkeys(args: argparse.Namespace) -> int:
    from isolement.transport import hostkeys  # paramiko: for this command only, not at start-up
    from isolement.transport.hostkeys import Status

    inventory = load_inventory(args.inventory)
    devices = args.device
    for name in devices or []:
        if name not in inventory.devices:
            raise InputError(f"unknown device {name!r}", field="--device")
    _check_replace(inventory, args.replace)
    keys = hostkeys.collect(
        inventory, devices=devices, replace=args.replace, timeout=min(args.timeout, 10.0)
    )
    lines = [f"known-hosts file: {inventory.known_hosts}", *(_line(k) for k in keys)]
    to_write = [k for k in keys if k.written]
    written = 0
    if to_write:
        print("\n".join(lines), file=sys.stderr if args.json else sys.stdout)
        lines = []
        if _confirmed(args, len(to_write), inventory):
            written = hostkeys.write(inventory.known_hosts, keys)
            lines.append(f"wrote {written} key(s) to {inventory.known_hosts}")
        else:
            lines.append("not confirmed: the known-hosts file was not changed")
    else:
        lines.append("nothing to write: the known-hosts file was not changed")
    missing = [k for k in keys if k.status is not Status.KNOWN and not (k.written and written)]
    if missing:
        lines.append(f"{len(missing)} host(s) without their key on file: see above")
    if args.json:
        print(json.dumps(_json(inventory, keys, written), indent=2))
    else:
        print("\n".join(lines))
    return EXIT_PARTIAL if missing else EXIT_OK


def _check_replace(inventory: Inventory, replace: list[str]) -> None:
    hosts = [(d.host, d.port) for d in inventory.devices.values()]
    hosts += [(j.host, j.port) for j in inventory.jump_hosts.values()]
    names = {host_key_name(host, port) for host, port in hosts}
    for host in replace:
        if host not in names and host not in inventory.devices:
            raise InputError(
                f"--replace {host}: no device of the inventory is {host} (give [host]:port as "
                "the list shows it, or a device's name)",
                field="--replace",
            )


def _line(key: HostKey) -> str:
    from isolement.transport import hostkeys
    from isolement.transport.hostkeys import Status

    devices = ", ".join(key.devices)
    if key.key is None:
        return f"  {key.status:<8} {key.name}  ({devices}): could not be read: {key.error}"
    text = f"  {key.status:<8} {key.name}  {hostkeys.shown(key.key)}  ({devices})"
    if key.status is Status.CHANGED:
        old = ", ".join(hostkeys.shown(k) for k in key.on_file)
        text += f"\n           on file: {old}"
        text += (
            "\n           replaced (--replace)"
            if key.replace
            else "\n           NOT replaced: check the new fingerprint on the device's console, "
            f"then run again with --replace {key.name}"
        )
    if key.status is Status.REVOKED:
        text += "\n           this key is marked @revoked in the file: never written"
    return text


def _confirmed(args: argparse.Namespace, count: int, inventory: Inventory) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise InputError(
            "refusing to write the known-hosts file without --yes when no one is at the "
            "terminal; nothing was written"
        )
    answer = input(f"Write {count} key(s) to {inventory.known_hosts}? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def _json(inventory: Inventory, keys: list[HostKey], written: int) -> dict[str, Any]:
    from isolement.transport import hostkeys

    return {
        "known_hosts": str(inventory.known_hosts),
        "written": written,
        "hosts": [
            {
                "host": k.name,
                "devices": k.devices,
                "status": k.status.value,
                "type": k.key.get_name() if k.key else None,
                "fingerprint": hostkeys.fingerprint(k.key) if k.key else None,
                "on_file": [hostkeys.shown(x) for x in k.on_file],
                "replace": k.replace,
                "error": k.error,
            }
            for k in keys
        ],
    }
