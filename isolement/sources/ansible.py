"""Import an Ansible inventory: the JSON of `ansible-inventory --list`, or an inventory file or
directory (INI, YAML) read through `ansible-inventory` itself when Ansible is installed.

Ansible resolves its own inheritance (all < parent group < child group < host) when it lists an
inventory, so the hosts' variables are taken as it gives them; the groups' `vars` of an
`--export` listing are merged the same way. Platforms come from `ansible_network_os` (or a
connection plugin's collection); sites, roles and links from the isolement_* variables
described in declared.py. Passwords (`ansible_password`, `ansible_become_password`, vaulted
values) are read only to be kept out of the file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from isolement.model.errors import InputError
from isolement.model.yamlfile import read_text
from isolement.sources.declared import HostFacts, add_host
from isolement.sources.mapping import NETWORK_OS, UserMapping
from isolement.sources.writer import Draft, Options

_PASSWORDS = ("ansible_password", "ansible_ssh_pass", "ansible_ssh_password")
_OTHER_SECRETS = ("ansible_become_password", "ansible_become_pass", "ansible_enable_password")
# Connections that are plain SSH to a shell: a Linux host, when no network OS is named.
_SHELL_CONNECTIONS = frozenset({"ssh", "paramiko", "paramiko_ssh", "smart"})


def list_inventory(path: Path) -> tuple[dict[str, Any], str]:
    """The `ansible-inventory --list` document for PATH, and what it was read from."""
    # The same size-capped reader as the YAML inputs: a huge or endless listing is refused
    # before json.loads holds it all.
    text = read_text(path) if path.is_file() else None
    if text is not None and text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"malformed JSON: {exc}", source=str(path)) from None
        if not isinstance(document, dict) or "_meta" not in document:
            raise InputError(
                "not the output of `ansible-inventory --list` (no _meta.hostvars)",
                source=str(path),
            )
        return document, str(path)
    if not path.exists():
        raise InputError("file not found", source=str(path))
    return _run_ansible_inventory(path), f"{path} (through ansible-inventory)"


def ansible_inventory_command() -> str | None:
    """ansible-inventory on PATH, or beside this Python (Ansible installed in the same venv)."""
    beside = Path(sys.executable).parent / "ansible-inventory"
    return shutil.which("ansible-inventory") or (str(beside) if beside.is_file() else None)


def _run_ansible_inventory(path: Path) -> dict[str, Any]:
    command = ansible_inventory_command()
    if command is None:
        raise InputError(
            "reading an INI or YAML inventory needs Ansible's ansible-inventory, which is not "
            "installed here; install Ansible, or give the JSON of "
            f"`ansible-inventory -i {path} --list` instead",
            source=str(path),
        )
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "False"}
    try:
        done = subprocess.run(
            [command, "-i", str(path), "--list"],
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InputError("ansible-inventory did not answer in 300 s", source=str(path)) from None
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1:] or ["no message"]
        raise InputError(
            f"ansible-inventory failed (exit {done.returncode}): {detail[0]}", source=str(path)
        )
    try:
        document = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise InputError(f"ansible-inventory printed no JSON: {exc}", source=str(path)) from None
    if not isinstance(document, dict):
        raise InputError("ansible-inventory printed no inventory", source=str(path))
    return document


def read(
    path: Path,
    draft: Draft,
    mapping: UserMapping,
    options: Options,
    groups: list[str] | None = None,
) -> None:
    """Add the hosts of an Ansible inventory to the draft (only those in `groups`, if given)."""
    document, source = list_inventory(path)
    draft.sources.append(source)
    hostvars = document.get("_meta", {}).get("hostvars", {})
    tree = {name: group for name, group in document.items() if name != "_meta"}
    membership = _membership(tree)
    wanted = _members_of(tree, groups) if groups else None
    for group in groups or []:
        if group not in tree:
            raise InputError(f"no group {group!r} in the inventory", source=source)
    for name in sorted(set(hostvars) | set(membership)):
        if wanted is not None and name not in wanted:
            continue
        host_groups = membership.get(name, [])
        variables = _merged_vars(tree, host_groups, hostvars.get(name) or {})
        for secret in secrets_of(variables):
            draft.secret(secret)
        add_host(
            draft, mapping, options, _facts(name, source, variables, host_groups, tree, mapping)
        )


def _membership(tree: Mapping[str, Any]) -> dict[str, list[str]]:
    """Host -> its groups, the ones that list it first, then their parents outward."""
    parents: dict[str, list[str]] = {}
    for name, group in tree.items():
        for child in (group or {}).get("children", []) or []:
            parents.setdefault(child, []).append(name)
    result: dict[str, list[str]] = {}
    for name, group in tree.items():
        for host in _hosts(group):
            result.setdefault(host, []).append(name)
    for host, direct in result.items():
        ordered: list[str] = []
        frontier = list(direct)
        while frontier:
            group = frontier.pop(0)
            if group in ordered:
                continue
            ordered.append(group)
            frontier.extend(parents.get(group, []))
        result[host] = ordered
    return result


def _hosts(group: Any) -> list[str]:
    hosts = (group or {}).get("hosts", []) or []
    # `--list` gives a list of names; `--export`/YAML-ish shapes may give a mapping.
    return list(hosts) if isinstance(hosts, list) else list(hosts.keys())


def _members_of(tree: Mapping[str, Any], groups: list[str]) -> set[str]:
    seen: set[str] = set()
    hosts: set[str] = set()
    frontier = list(groups)
    while frontier:
        name = frontier.pop()
        if name in seen or name not in tree:
            continue
        seen.add(name)
        hosts.update(_hosts(tree[name]))
        frontier.extend((tree[name] or {}).get("children", []) or [])
    return hosts


def _merged_vars(
    tree: Mapping[str, Any], host_groups: list[str], own: Mapping[str, Any]
) -> dict[str, Any]:
    """Group vars (outermost first) under the host's own: what `--export` leaves unmerged."""
    merged: dict[str, Any] = dict((tree.get("all") or {}).get("vars", {}) or {})
    for group in reversed(host_groups):
        merged.update((tree.get(group) or {}).get("vars", {}) or {})
    merged.update(own)
    return merged


def _facts(
    name: str,
    source: str,
    variables: Mapping[str, Any],
    host_groups: list[str],
    tree: Mapping[str, Any],
    mapping: UserMapping,
) -> HostFacts:
    site_parent = (tree.get(mapping.site_groups) or {}).get("children", []) or []
    platform = variables.get("ansible_network_os")
    what = "ansible_network_os"
    connection = str(variables.get("ansible_connection") or "")
    if not platform and connection:
        what = "ansible_connection"
        # A collection's own connection plugin ("junipernetworks.junos.netconf") names the OS;
        # plain SSH to a shell is a Linux host.
        platform = "linux" if connection in _SHELL_CONNECTIONS else connection
    password = next((variables[k] for k in _PASSWORDS if variables.get(k) is not None), None)
    facts = HostFacts(
        name=name,
        source=source,
        address=_text(variables.get("ansible_host")),
        port=_port(variables.get("ansible_port")),
        username=_text(variables.get("ansible_user") or variables.get("ansible_ssh_user")),
        key_file=_text(
            variables.get("ansible_ssh_private_key_file")
            or variables.get("ansible_private_key_file")
        ),
        password=password,
        platform=_text(platform),
        platform_what=what,
        platform_table=NETWORK_OS,
        groups=host_groups,
        site_groups=[group for group in host_groups if group in site_parent],
        variables=variables,
    )
    return facts


def secrets_of(variables: Mapping[str, Any]) -> list[object]:
    return [variables[k] for k in (*_PASSWORDS, *_OTHER_SECRETS) if variables.get(k) is not None]


def _text(value: object) -> str | None:
    return str(value) if value is not None and value != "" else None


def _port(value: object) -> int | None:
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None
