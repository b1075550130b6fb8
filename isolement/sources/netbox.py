"""Import from NetBox (4.x) through pynetbox: sites, devices, their cabled interfaces, cables
and circuits become the inventory's sites, devices and links.

What is read, and how it maps:

- Sites: the `--site` slugs (all sites when none is given); a site is written under its slug.
- Devices of those sites, status active: role slug -> router/switch/firewall (mapping.ROLES and
  the user's `roles:`), platform slug -> netmiko name (mapping.NETBOX_PLATFORMS and the user's
  `platforms:`), address = the out-of-band IP, else the primary IPv4, else the primary IPv6.
  Custom field `isolement_managed_via` (link names, comma-separated) says the device is managed
  in-band through those links; tag `isolement-skip` leaves a device out (and says so).
- Links, from cables: a cable from a device interface to a circuit termination makes that
  interface an end of the circuit's link (named after the circuit ID; both ends when both are
  on imported devices). A cable between two imported devices' interfaces is a link named after
  its label (or `cable-ID`). A cable whose far end is not imported is one-ended when it carries
  a kind of its own, and reported otherwise.
- A link's kind, first that applies: custom field `isolement_kind` on the cable or circuit;
  tag `isolement-<kind>` (isolement-internet, isolement-backup...); for a circuit, its type
  (mapping.CIRCUIT_KINDS and the user's `kinds:`); for a cable joining two sites, the
  mapping's `cross_site_kind` (intersite by default). Otherwise the link is reported.
- Protected flows: custom field `isolement_protected` (the reason) or tag `isolement-protected`.

The token is read from an environment variable and never written; every request is refused
unless it goes to the NetBox the user named (a `next` link to another host is an error, not a
redirect to follow).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from isolement.model.errors import InputError
from isolement.model.inventory import LinkKind
from isolement.sources.mapping import (
    CIRCUIT_KINDS,
    NETBOX_PLATFORMS,
    PlatformUnknown,
    UserMapping,
    kind_for,
    netmiko_platform,
    role_for,
)
from isolement.sources.writer import (
    Draft,
    DraftDevice,
    DraftLink,
    Options,
    check_safe,
    public_url,
)

_TAG_PREFIX = "isolement-"
_TIMEOUT_S = 30.0
_INTERFACE = "dcim.interface"
_CIRCUIT_END = "circuits.circuittermination"
KINDS = ", ".join(kind.value for kind in LinkKind)


class NetBoxError(InputError):
    """NetBox could not be read: unreachable, refused the token, or answered oddly."""


class SameHostSession(requests.Session):
    """A requests session that talks only to the NetBox it was made for, with a timeout.

    pynetbox follows the `next` links NetBox returns; a NetBox behind a proxy that rewrites
    them (or a recorded page) could point them elsewhere, and the token would go along.
    """

    def __init__(self, base_url: str):
        super().__init__()
        parts = urlsplit(base_url)
        self._origin = (parts.scheme, parts.hostname, parts.port)
        self._base = public_url(base_url)

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
        text = url if isinstance(url, str) else bytes(url).decode()
        parts = urlsplit(text)
        if (parts.scheme, parts.hostname, parts.port) != self._origin:
            raise NetBoxError(
                f"NetBox pointed to {public_url(str(parts.geturl()))}, which is not the NetBox "
                "asked for; nothing was sent there (check NetBox's BASE_PATH and proxy settings)",
                source=self._base,
            )
        kwargs.setdefault("timeout", _TIMEOUT_S)
        return super().request(str(method), text, *args, **kwargs)


def connect(url: str, token: str) -> Any:
    import pynetbox  # optional: the 'netbox' extra

    api = pynetbox.api(url, token=token)
    api.http_session = SameHostSession(url)
    return api


def read(
    api: Any,
    url: str,
    draft: Draft,
    mapping: UserMapping,
    options: Options,
    sites: list[str] | None = None,
    page_size: int = 200,
) -> None:
    """Add what NetBox holds for these sites (all sites if none) to the draft."""
    import pynetbox

    source = public_url(url)
    draft.sources.append(source)
    if not options.username:
        raise InputError(
            "NetBox holds no login: give --username NAME (and --password-env VAR or "
            "--key-file PATH) for the credential the devices will use",
            source=source,
        )
    try:
        _read(api, source, draft, mapping, options, sites or [], page_size)
    except pynetbox.RequestError as exc:
        status = getattr(exc.req, "status_code", "?")
        hint = " (check the token in the environment variable)" if status in (401, 403) else ""
        raise NetBoxError(f"NetBox answered {status}{hint}: {exc.error}", source=source) from None
    except requests.RequestException as exc:
        raise NetBoxError(
            f"NetBox could not be reached: {type(exc).__name__}", source=source
        ) from None


def _all(endpoint: Any, page_size: int, **filters: Any) -> list[dict[str, Any]]:
    # dict(record) keeps only what NetBox sent: attribute access on a pynetbox Record would
    # fetch missing fields from each object's URL, one request per object.
    return [dict(record) for record in endpoint.filter(limit=page_size, **filters)]


def _read(
    api: Any,
    source: str,
    draft: Draft,
    mapping: UserMapping,
    options: Options,
    wanted_sites: list[str],
    page_size: int,
) -> None:
    version = str((api.status() or {}).get("netbox-version", ""))
    if version and not re.match(r"^[4-9]\.", version):
        raise NetBoxError(
            f"NetBox {version} is older than 4.0, whose API this importer reads", source=source
        )
    site_filter = {"slug": wanted_sites} if wanted_sites else {}
    sites = _all(api.dcim.sites, page_size, **site_filter)
    found = {site["slug"] for site in sites}
    missing = [slug for slug in wanted_sites if slug not in found]
    if missing:
        raise InputError(f"no site with slug {', '.join(missing)} in NetBox", source=source)
    for site in sites:
        draft.sites[site["slug"]] = _one_line(site.get("name") or "")
    scope = {"site_id": [site["id"] for site in sites]}
    devices = _devices(draft, mapping, options, source, _all(api.dcim.devices, page_size, **scope))
    interfaces = {i["id"]: i for i in _all(api.dcim.interfaces, page_size, cabled=True, **scope)}
    circuits = {c["id"]: c for c in _all(api.circuits.circuits, page_size, **scope)}
    cables = _all(api.dcim.cables, page_size, **scope)
    _links(draft, mapping, source, devices, interfaces, circuits, cables)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:500]


def _slug(value: Any) -> str | None:
    return value.get("slug") if isinstance(value, Mapping) else None


def _tags(record: Mapping[str, Any]) -> list[str]:
    return [tag.get("slug", "") for tag in record.get("tags") or [] if isinstance(tag, Mapping)]


def _custom(record: Mapping[str, Any], name: str) -> Any:
    return (record.get("custom_fields") or {}).get(name)


def _address(device: Mapping[str, Any]) -> str | None:
    for field in ("oob_ip", "primary_ip4", "primary_ip6", "primary_ip"):
        ip = device.get(field)
        if isinstance(ip, Mapping) and ip.get("address"):
            return str(ip["address"]).split("/")[0]
    return None


def _devices(
    draft: Draft,
    mapping: UserMapping,
    options: Options,
    source: str,
    records: Iterable[Mapping[str, Any]],
) -> dict[int, str]:
    """Add the devices that can be managed; return NetBox id -> device name for them."""
    assert options.username is not None
    credential = draft.credential(
        options.username, options.key_file, None if options.key_file else options.password_env
    )
    imported: dict[int, str] = {}
    for device in records:
        name = device.get("name")
        obj = f"device {name}" if name else f"device #{device['id']} (unnamed)"
        status = (device.get("status") or {}).get("value")
        platform_slug = _slug(device.get("platform"))
        role_slug = _slug(device.get("role")) or _slug(device.get("device_role")) or ""
        if not name:
            draft.skip(source, obj, "it has no name in NetBox")
            continue
        if status != "active":
            draft.skip(source, obj, f"its status is {status!r}, not active")
            continue
        if f"{_TAG_PREFIX}skip" in _tags(device):
            draft.skip(source, obj, f"tagged {_TAG_PREFIX}skip")
            continue
        role = role_for([role_slug], None, mapping)
        if role is None or role == "skip":
            why = (
                "skipped by the mapping's roles"
                if role == "skip"
                else f"role {role_slug!r} is not mapped to router, switch or firewall; map it "
                "under 'roles:' in --mapping FILE to import such devices"
            )
            draft.skip(source, obj, why)
            continue
        if not platform_slug:
            draft.skip(source, obj, "it has no platform in NetBox")
            continue
        try:
            platform = netmiko_platform(
                platform_slug, NETBOX_PLATFORMS, mapping, what="NetBox platform"
            )
        except PlatformUnknown as exc:
            draft.skip(source, obj, str(exc))
            continue
        host = _address(device)
        if host is None:
            draft.skip(source, obj, "it has no out-of-band or primary IP address in NetBox")
            continue
        via = _custom(device, "isolement_managed_via") or ""
        draft.devices[name] = DraftDevice(
            site=str(_slug(device.get("site"))),
            role=role,
            platform=platform,
            host=host,
            credential=credential,
            managed_via=[v for v in re.split(r"[\s,]+", str(via)) if v],
            source=source,
        )
        imported[int(device["id"])] = name
    return imported


def _declared_kind(
    draft: Draft, source: str, obj: str, record: Mapping[str, Any], mapping: UserMapping
) -> LinkKind | None:
    value = _custom(record, "isolement_kind")
    if value:
        kind = kind_for(str(value), mapping, {})
        if kind is None:
            draft.skip(
                source,
                obj,
                f"custom field isolement_kind {value!r} is not a kind (ignored); kinds: "
                f"{', '.join(k.value for k in LinkKind)}",
            )
        else:
            return kind
    for tag in _tags(record):
        if tag.startswith(_TAG_PREFIX):
            kind = kind_for(tag[len(_TAG_PREFIX) :], mapping, {})
            if kind is not None:
                return kind
    return None


def _protected(record: Mapping[str, Any], origin: str) -> str | None:
    reason = _custom(record, "isolement_protected")
    if reason:
        return _one_line(str(reason))
    if f"{_TAG_PREFIX}protected" in _tags(record):
        return f"tagged {_TAG_PREFIX}protected in NetBox ({origin})"
    return None


def _links(
    draft: Draft,
    mapping: UserMapping,
    source: str,
    devices: Mapping[int, str],
    interfaces: Mapping[int, Mapping[str, Any]],
    circuits: Mapping[int, Mapping[str, Any]],
    cables: list[dict[str, Any]],
) -> None:
    circuit_ends: dict[int, list[tuple[str, str]]] = {}
    circuit_cables: dict[int, Mapping[str, Any]] = {}
    out_of_scope = 0
    for cable in cables:
        obj = f"cable #{cable['id']}" + (f" ({cable['label']})" if cable.get("label") else "")
        sides = [cable.get("a_terminations") or [], cable.get("b_terminations") or []]
        ours = [[_our_end(t, devices) for t in side] for side in sides]
        if not any(end for side in ours for end in side):
            out_of_scope += 1
            continue
        mgmt = next(
            (e for side in ours for e in side if e and interfaces.get(e[2], {}).get("mgmt_only")),
            None,
        )
        if mgmt:
            draft.skip(
                source,
                obj,
                f"{mgmt[0]} {mgmt[1]} is a management-only interface: the management network "
                "is not a link to cut",
            )
            continue
        _cable(draft, mapping, source, obj, cable, sides, ours, circuit_ends, circuit_cables)
    if out_of_scope:
        draft.skip(
            source,
            f"{out_of_scope} cables",
            "none of their ends is an interface of an imported device (power, console, patch "
            "panels, devices left out): not links",
        )
    for circuit_id, ends in sorted(circuit_ends.items()):
        circuit = circuits.get(circuit_id)
        if circuit is None:
            draft.skip(
                source,
                f"circuit #{circuit_id}",
                "its cable is in scope but the circuit was not returned by NetBox for these sites",
            )
            continue
        _circuit(draft, mapping, source, circuit, ends, circuit_cables[circuit_id])


def _our_end(
    termination: Mapping[str, Any], devices: Mapping[int, str]
) -> tuple[str, str, int] | None:
    """(device, interface, interface id) when the termination is an imported device's
    interface."""
    if termination.get("object_type") != _INTERFACE:
        return None
    obj = termination.get("object") or {}
    device_id = (obj.get("device") or {}).get("id")
    if not isinstance(device_id, int) or device_id not in devices or not obj.get("name"):
        return None
    return devices[device_id], str(obj["name"]), int(obj.get("id") or termination["object_id"])


def _cable(
    draft: Draft,
    mapping: UserMapping,
    source: str,
    obj: str,
    cable: Mapping[str, Any],
    sides: list[list[Mapping[str, Any]]],
    ours: list[list[tuple[str, str, int] | None]],
    circuit_ends: dict[int, list[tuple[str, str]]],
    circuit_cables: dict[int, Mapping[str, Any]],
) -> None:
    ends = [(end[0], end[1]) for side in ours for end in side if end]
    far = [
        t
        for side, mine in zip(sides, ours, strict=True)
        for t, m in zip(side, mine, strict=True)
        if m is None
    ]
    circuit_far = [t for t in far if t.get("object_type") == _CIRCUIT_END]
    if circuit_far:
        circuit_id = int(((circuit_far[0].get("object") or {}).get("circuit") or {}).get("id", 0))
        circuit_ends.setdefault(circuit_id, []).extend(ends)
        circuit_cables[circuit_id] = cable
        return
    kind = _declared_kind(draft, source, obj, cable, mapping)
    if far and kind is None:
        what = ", ".join(_termination_text(t) for t in far)
        draft.skip(
            source,
            obj,
            f"{' and '.join(f'{d} {i}' for d, i in ends)} goes to {what}, which is not an "
            f"imported device's interface; tag the cable {_TAG_PREFIX}<kind> to import the "
            "imported end as a one-ended link",
        )
        return
    label = str(cable.get("label") or "")
    name = label if label and check_safe(label) else f"cable-{cable['id']}"
    draft.links[name] = DraftLink(
        source=source,
        origin=obj,
        endpoints=ends,
        kind=kind,
        description=_one_line(str(cable.get("description") or f"NetBox {obj}")),
        protected=_protected(cable, obj),
    )


def _termination_text(termination: Mapping[str, Any]) -> str:
    obj = termination.get("object") or {}
    device = (obj.get("device") or {}).get("name")
    kind = str(termination.get("object_type", "?")).split(".")[-1]
    name = obj.get("name") or obj.get("display") or ""
    return " ".join(part for part in (kind, device, name) if part)


def _circuit(
    draft: Draft,
    mapping: UserMapping,
    source: str,
    circuit: Mapping[str, Any],
    ends: list[tuple[str, str]],
    cable: Mapping[str, Any],
) -> None:
    cid = str(circuit.get("cid") or f"circuit-{circuit['id']}")
    obj = f"circuit {cid}"
    kind = _declared_kind(draft, source, obj, circuit, mapping) or _declared_kind(
        draft, source, obj, cable, mapping
    )
    type_slug = _slug(circuit.get("type"))
    if kind is None and type_slug:
        kind = kind_for(type_slug, mapping, CIRCUIT_KINDS)
    if kind is None and len({d for d, _ in ends}) < 2:
        draft.skip(
            source,
            obj,
            f"its type {type_slug!r} maps to no link kind; map it under 'kinds:' in --mapping "
            f"FILE, or set custom field isolement_kind; kinds: {KINDS}",
        )
        return
    provider = (circuit.get("provider") or {}).get("name") or ""
    type_name = (circuit.get("type") or {}).get("name") or ""
    name = cid if check_safe(cid) else f"circuit-{circuit['id']}"
    draft.links[name] = DraftLink(
        source=source,
        origin=obj,
        endpoints=ends,
        kind=kind,
        description=_one_line(f"{provider} {type_name} circuit {cid}"),
        protected=_protected(circuit, obj) or _protected(cable, obj),
    )
