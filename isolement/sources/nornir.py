"""Import Nornir's simple inventory: hosts.yaml, groups.yaml and defaults.yaml.

Inheritance is Nornir's: a host's attribute (hostname, port, username, platform...) is its own,
else its groups' in order (each group before the groups it belongs to), else the defaults';
`data` is merged key by key with the same priority. It is resolved once, here, when the hosts
are read. A netmiko connection option's `platform` wins over the host's (it is what Nornir's
netmiko plugin connects with); NAPALM driver names ("ios", "junos") are mapped too. Sites,
roles and links come from the isolement_* keys of `data` (see declared.py), or from the data
keys the mapping names (`site_variable: site_code`, `role_variable: device_type`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from isolement.model.errors import InputError
from isolement.model.yamlfile import read_yaml
from isolement.sources.declared import HostFacts, add_host
from isolement.sources.mapping import NETWORK_OS, UserMapping
from isolement.sources.writer import Draft, Options

_ATTRIBUTES = ("hostname", "port", "username", "password", "platform")


def _mapping_file(path: Path | None, what: str) -> dict[str, Any]:
    if path is None or not path.exists():
        return {}
    data = read_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"expected a mapping of {what} at the top level", source=str(path))
    return data


def read(
    hosts_file: Path,
    draft: Draft,
    mapping: UserMapping,
    options: Options,
    groups_file: Path | None = None,
    defaults_file: Path | None = None,
) -> None:
    """Add the hosts of a Nornir simple inventory. The groups and defaults files default to
    groups.yaml and defaults.yaml beside hosts.yaml, when they exist."""
    groups_file = groups_file or hosts_file.with_name("groups.yaml")
    defaults_file = defaults_file or hosts_file.with_name("defaults.yaml")
    hosts = _mapping_file(hosts_file, "hosts")
    if not hosts_file.exists():
        raise InputError("file not found", source=str(hosts_file))
    groups = _mapping_file(groups_file, "groups")
    defaults = _mapping_file(defaults_file, "defaults")
    draft.sources.append(str(hosts_file))
    for group in groups.values():
        _register_secrets(draft, group)
    _register_secrets(draft, defaults)
    site_parent = mapping.site_groups
    for name in sorted(hosts, key=str):
        host = hosts[name] or {}
        source = str(hosts_file)
        if not isinstance(host, dict):
            draft.skip(source, f"host {name}", "expected a mapping of the host's attributes")
            continue
        _register_secrets(draft, host)
        try:
            chain = _group_chain(host, groups)
        except KeyError as exc:
            draft.skip(source, f"host {name}", f"names group {exc.args[0]!r}, not in groups.yaml")
            continue
        layers = [host, *(groups[g] or {} for g in chain), defaults]
        attribute = {key: _first(layers, key) for key in _ATTRIBUTES}
        netmiko = _first_nested(layers, ("connection_options", "netmiko"))
        data = _merged_data(layers)
        platform = netmiko.get("platform") or attribute["platform"]
        add_host(
            draft,
            mapping,
            options,
            HostFacts(
                name=str(name),
                source=source,
                address=_text(netmiko.get("hostname") or attribute["hostname"]),
                port=_port(netmiko.get("port") or attribute["port"]),
                username=_text(netmiko.get("username") or attribute["username"]),
                key_file=_text((netmiko.get("extras") or {}).get("key_file")),
                password=netmiko.get("password") or attribute["password"] or None,
                platform=_text(platform),
                platform_what="platform",
                platform_table=NETWORK_OS,
                groups=chain,
                site_groups=[g for g in chain if site_parent in _group_chain(groups[g], groups)],
                variables=data,
            ),
        )


def _group_chain(owner: Mapping[str, Any], groups: Mapping[str, Any]) -> list[str]:
    """Nornir's order: each group, then the groups it belongs to, depth first, once each."""
    chain: list[str] = []

    def visit(name: str) -> None:
        if name in chain:
            return
        if name not in groups:
            raise KeyError(name)
        chain.append(name)
        for parent in (groups[name] or {}).get("groups", []) or []:
            visit(str(parent))

    for name in owner.get("groups", []) or []:
        visit(str(name))
    return chain


def _first(layers: list[Mapping[str, Any]], key: str) -> Any:
    for layer in layers:
        if layer.get(key) is not None:
            return layer[key]
    return None


def _first_nested(layers: list[Mapping[str, Any]], path: tuple[str, ...]) -> dict[str, Any]:
    """A connection option's fields, each from the most specific layer that sets it."""
    merged: dict[str, Any] = {}
    for layer in reversed(layers):
        node: Any = layer
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, Mapping):
            merged.update({k: v for k, v in node.items() if v is not None})
    return merged


def _merged_data(layers: list[Mapping[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for layer in reversed(layers):
        merged.update(layer.get("data") or {})
    return merged


def _register_secrets(draft: Draft, layer: Mapping[str, Any]) -> None:
    draft.secret(layer.get("password"))
    for options in (layer.get("connection_options") or {}).values():
        if isinstance(options, Mapping):
            draft.secret(options.get("password"))
            extras = options.get("extras") or {}
            if isinstance(extras, Mapping):
                for key in ("secret", "passphrase", "password"):
                    draft.secret(extras.get(key))


def _text(value: object) -> str | None:
    return str(value) if value is not None and value != "" else None


def _port(value: object) -> int | None:
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None
