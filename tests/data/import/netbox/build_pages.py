"""Writes the NetBox 4.1 API pages under v4.1/ from rows of NetBox's demo data (SOURCES.md says
which rows, and what was added). Not run by the tests: they read the pages it wrote.

    python tests/data/import/netbox/build_pages.py

Objects are in the shape the NetBox 4.x REST API returns them (brief nested objects, value/label
choices), pages in the order NetBox sorts them, cut at PAGE objects, with `next`/`previous`
links as Django REST framework builds them (query keys sorted). URLs keep the demo's host; the
test server rewrites it to its own address when it serves a page.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent / "v4.1"
BASE = "https://demo.netbox.dev"
PAGE = 4
SITE_IDS = [2, 3, 4]
STAMP = "2021-04-14T17:36:01.926000Z"


def url(path: str) -> str:
    return f"{BASE}/api/{path}"


def brief(kind: str, oid: int, display: str, **extra: Any) -> dict[str, Any]:
    return {"id": oid, "url": url(f"{kind}/{oid}/"), "display": display, **extra}


def choice(value: str, label: str) -> dict[str, str]:
    return {"value": value, "label": label}


TENANT = brief(
    "tenancy/tenants",
    5,
    "Dunder-Mifflin, Inc.",
    name="Dunder-Mifflin, Inc.",
    slug="dunder-mifflin",
    description="",
)
SITES = {
    2: ("DM-Akron", "dm-akron"),
    3: ("DM-Albany", "dm-albany"),
    4: ("DM-Binghamton", "dm-binghamton"),
}


def site_brief(sid: int) -> dict[str, Any]:
    name, slug = SITES[sid]
    return brief("dcim/sites", sid, name, name=name, slug=slug, description="")


ROLES = {
    1: ("Router", "router"),
    4: ("Access Switch", "access-switch"),
    5: ("PDU", "pdu"),
}
DEVICE_TYPES = {
    6: ("ISR 1111-8P", "isr1111", 3, "Cisco", "cisco"),
    7: ("C9200-48P", "c9200-48p", 3, "Cisco", "cisco"),
    8: ("AP7901", "ap7901", 11, "APC", "apc"),
}
PLATFORM = brief(
    "dcim/platforms",
    1,
    "Cisco IOS",
    name="Cisco IOS",
    slug="cisco-ios",
    description="",
    device_count=13,
    virtualmachine_count=0,
)
# Demo rows of dcim_device: id, name, role, type, platform?, rack (= site's comms closet), site.
DEVICES = [
    (27, "dmi01-akron-pdu01", 5, 8, False, 1, 2, 1.0),
    (1, "dmi01-akron-rtr01", 1, 6, True, 1, 2, 4.0),
    (14, "dmi01-akron-sw01", 4, 7, False, 1, 2, 10.0),
    (34, "dmi01-albany-pdu01", 5, 8, False, 2, 3, 1.0),
    (2, "dmi01-albany-rtr01", 1, 6, True, 2, 3, 4.0),
    (15, "dmi01-albany-sw01", 4, 7, False, 2, 3, 10.0),
    (35, "dmi01-binghamton-pdu01", 5, 8, False, 3, 4, 1.0),
    (3, "dmi01-binghamton-rtr01", 1, 6, True, 3, 4, 4.0),
    (16, "dmi01-binghamton-sw01", 4, 7, False, 3, 4, 10.0),
]
NAMES = {row[0]: row[1] for row in DEVICES}
# Added (the demo data has no primary IPs): documentation addresses, one out-of-band.
PRIMARY_IP4 = {1: (101, "192.0.2.11/24"), 2: (102, "192.0.2.12/24"), 3: (103, "192.0.2.13/24")}
OOB_IP = {1: (201, "198.51.100.11/24")}
# Added: Albany's router is managed in-band, through its MPLS circuit.
DEVICE_CUSTOM = {2: {"isolement_managed_via": "JHEW3951"}}


def ip_brief(pair: tuple[int, str] | None) -> dict[str, Any] | None:
    if pair is None:
        return None
    oid, address = pair
    return brief(
        "ipam/ip-addresses",
        oid,
        address,
        family=choice("4", "IPv4") | {"value": 4},
        address=address,
        description="",
    )


def device(row: tuple[Any, ...]) -> dict[str, Any]:
    did, name, role, dtype, has_platform, rack, sid, position = row
    model, slug, mid, mname, mslug = DEVICE_TYPES[dtype]
    rname, rslug = ROLES[role]
    counts = {6: (2, 1, 14), 7: (0, 1, 52), 8: (0, 1, 0)}[dtype]
    return {
        "id": did,
        "url": url(f"dcim/devices/{did}/"),
        "display_url": f"{BASE}/dcim/devices/{did}/",
        "display": name,
        "name": name,
        "device_type": brief(
            "dcim/device-types",
            dtype,
            model,
            manufacturer=brief(
                "dcim/manufacturers", mid, mname, name=mname, slug=mslug, description=""
            ),
            model=model,
            slug=slug,
            description="",
        ),
        "role": brief("dcim/device-roles", role, rname, name=rname, slug=rslug, description=""),
        "tenant": TENANT,
        "platform": PLATFORM if has_platform else None,
        "serial": "",
        "asset_tag": None,
        "site": site_brief(sid),
        "location": None,
        "rack": brief("dcim/racks", rack, "Comms closet", name="Comms closet", description=""),
        "position": position,
        "face": choice("front", "Front"),
        "latitude": None,
        "longitude": None,
        "parent_device": None,
        "status": choice("active", "Active"),
        "airflow": None,
        "primary_ip": ip_brief(PRIMARY_IP4.get(did)),
        "primary_ip4": ip_brief(PRIMARY_IP4.get(did)),
        "primary_ip6": None,
        "oob_ip": ip_brief(OOB_IP.get(did)),
        "cluster": None,
        "virtual_chassis": None,
        "vc_position": None,
        "vc_priority": None,
        "description": "",
        "comments": "",
        "config_template": None,
        "config_context": {},
        "local_context_data": None,
        "tags": [],
        "custom_fields": {"isolement_managed_via": None} | DEVICE_CUSTOM.get(did, {}),
        "created": "2020-12-20T00:00:00Z",
        "last_updated": "2020-12-20T02:51:03.257000Z",
        "console_port_count": counts[0],
        "console_server_port_count": 0,
        "power_port_count": counts[1],
        "power_outlet_count": 8 if dtype == 8 else 0,
        "interface_count": counts[2],
        "front_port_count": 0,
        "rear_port_count": 0,
        "device_bay_count": 0,
        "module_bay_count": 0,
        "inventory_item_count": 0,
    }


# Demo rows of circuits_circuit / circuittermination (Z ends at the sites; A ends of the MPLS
# circuits on provider network 1 "Level3 MPLS").
CIRCUITS = [
    # id, cid, provider (id, name, slug), type (id, name, slug), term Z id, site, cable
    (
        19,
        "1002840283",
        (2, "CenturyLink", "centurylink"),
        (1, "Internet Access", "internet"),
        23,
        2,
        21,
    ),
    (
        20,
        "1002840457",
        (2, "CenturyLink", "centurylink"),
        (1, "Internet Access", "internet"),
        24,
        3,
        22,
    ),
    (
        21,
        "1002841093",
        (2, "CenturyLink", "centurylink"),
        (1, "Internet Access", "internet"),
        25,
        4,
        23,
    ),
    (2, "JHEW3951", (5, "Level 3", "level-3"), (2, "MPLS", "mpls"), 2, 3, 4),
    (1, "KKDG4923", (5, "Level 3", "level-3"), (2, "MPLS", "mpls"), 1, 2, 7),
    (3, "PPJQ5091", (5, "Level 3", "level-3"), (2, "MPLS", "mpls"), 3, 4, 12),
]
MPLS_A_END = {1: 48, 2: 45, 3: 52}
# Added: tags and custom fields isolement reads.
TAG_BACKUP = brief(
    "extras/tags",
    50,
    "isolement-backup",
    name="isolement-backup",
    slug="isolement-backup",
    color="9e9e9e",
)
CIRCUIT_TAGS = {19: [TAG_BACKUP]}
CIRCUIT_CUSTOM = {
    3: {"isolement_protected": "SAMU telephony trunk to the regional dispatch centre"}
}


def circuit_brief(cid: int) -> dict[str, Any]:
    row = next(r for r in CIRCUITS if r[0] == cid)
    return brief("circuits/circuits", cid, row[1], cid=row[1], description="")


def termination_brief(tid: int, cid: int, side: str, cable: int | None) -> dict[str, Any]:
    row = next(r for r in CIRCUITS if r[0] == cid)
    return brief(
        "circuits/circuit-terminations",
        tid,
        f"{row[1]}: Termination {side}",
        circuit=circuit_brief(cid),
        term_side=side,
        description="",
        cable=cable,
        _occupied=cable is not None,
    )


def circuit(row: tuple[Any, ...]) -> dict[str, Any]:
    cid, number, (pid, pname, pslug), (tid, tname, tslug), term_z, sid, _cable = row
    term_a = None
    if cid in MPLS_A_END:
        term_a = brief(
            "circuits/circuit-terminations",
            MPLS_A_END[cid],
            f"{number}: Termination A",
            provider_network=brief(
                "circuits/provider-networks", 1, "Level3 MPLS", name="Level3 MPLS", description=""
            ),
            port_speed=None,
            upstream_speed=None,
            xconnect_id="",
            description="",
        )
    return {
        "id": cid,
        "url": url(f"circuits/circuits/{cid}/"),
        "display_url": f"{BASE}/circuits/circuits/{cid}/",
        "display": number,
        "cid": number,
        "provider": brief("circuits/providers", pid, pname, name=pname, slug=pslug, description=""),
        "provider_account": None,
        "type": brief("circuits/circuit-types", tid, tname, name=tname, slug=tslug, description=""),
        "status": choice("active", "Active"),
        "tenant": TENANT,
        "install_date": None,
        "termination_date": None,
        "commit_rate": None,
        "description": "",
        "termination_a": term_a,
        "termination_z": brief(
            "circuits/circuit-terminations",
            term_z,
            f"{number}: Termination Z",
            site=site_brief(sid),
            port_speed=None,
            upstream_speed=None,
            xconnect_id="",
            description="",
        ),
        "comments": "",
        "tags": CIRCUIT_TAGS.get(cid, []),
        "custom_fields": {"isolement_kind": None, "isolement_protected": None}
        | CIRCUIT_CUSTOM.get(cid, {}),
        "created": "2020-12-30T00:00:00Z",
        "last_updated": "2023-12-29T15:45:04.456697Z",
    }


# Interface ids and names: router n's ports start at 13*(n-1)+1 (GigabitEthernet0/0/0, 0/0/1,
# 0/1/0, 0/1/1...), switch ports at 170 + 51*(n-1) (GigabitEthernet1/0/1, 1/0/2...).
INTERFACES = {
    1: (1, "GigabitEthernet0/0/0"),
    2: (1, "GigabitEthernet0/0/1"),
    3: (1, "GigabitEthernet0/1/0"),
    4: (1, "GigabitEthernet0/1/1"),
    14: (2, "GigabitEthernet0/0/0"),
    15: (2, "GigabitEthernet0/0/1"),
    16: (2, "GigabitEthernet0/1/0"),
    17: (2, "GigabitEthernet0/1/1"),
    27: (3, "GigabitEthernet0/0/0"),
    28: (3, "GigabitEthernet0/0/1"),
    29: (3, "GigabitEthernet0/1/0"),
    30: (3, "GigabitEthernet0/1/1"),
    170: (14, "GigabitEthernet1/0/1"),
    171: (14, "GigabitEthernet1/0/2"),
    221: (15, "GigabitEthernet1/0/1"),
    222: (15, "GigabitEthernet1/0/2"),
    272: (16, "GigabitEthernet1/0/1"),
    273: (16, "GigabitEthernet1/0/2"),
}
# Demo rows of dcim_cable + dcim_cabletermination: id, type, color, A end, B end.
# An end is ("if", interface id) or ("ct", circuit termination id, circuit id).
CABLES = [
    (4, "smf", "ffeb3b", ("ct", 2, 2), ("if", 14)),
    (7, "smf", "ffeb3b", ("ct", 1, 1), ("if", 1)),
    (12, "smf", "ffeb3b", ("ct", 3, 3), ("if", 27)),
    (21, "cat5e", "2196f3", ("ct", 23, 19), ("if", 2)),
    (22, "cat5e", "2196f3", ("ct", 24, 20), ("if", 15)),
    (23, "cat5e", "2196f3", ("ct", 25, 21), ("if", 28)),
    (35, "cat5e", "ff5722", ("if", 3), ("if", 170)),
    (36, "cat5e", "ff5722", ("if", 4), ("if", 171)),
    (37, "cat5e", "ff5722", ("if", 16), ("if", 221)),
    (38, "cat5e", "ff5722", ("if", 17), ("if", 222)),
    (39, "cat5e", "ff5722", ("if", 29), ("if", 272)),
    (40, "cat5e", "ff5722", ("if", 30), ("if", 273)),
]


def interface_brief(iid: int, cable: int | None) -> dict[str, Any]:
    did, name = INTERFACES[iid]
    return brief(
        "dcim/interfaces",
        iid,
        name,
        device=brief("dcim/devices", did, NAMES[did], name=NAMES[did], description=""),
        name=name,
        description="",
        cable=cable,
        _occupied=cable is not None,
    )


def end_object(end: tuple[Any, ...], cable: int) -> tuple[str, int, dict[str, Any]]:
    if end[0] == "if":
        return "dcim.interface", end[1], interface_brief(end[1], cable)
    return "circuits.circuittermination", end[1], termination_brief(end[1], end[2], "Z", cable)


def cable(row: tuple[Any, ...]) -> dict[str, Any]:
    cid, ctype, color, a, b = row
    terms = []
    for end in (a, b):
        otype, oid, obj = end_object(end, cid)
        terms.append([{"object_type": otype, "object_id": oid, "object": obj}])
    return {
        "id": cid,
        "url": url(f"dcim/cables/{cid}/"),
        "display_url": f"{BASE}/dcim/cables/{cid}/",
        "display": f"#{cid}",
        "type": ctype,
        "a_terminations": terms[0],
        "b_terminations": terms[1],
        "status": choice("connected", "Connected"),
        "tenant": None,
        "label": "",
        "color": color,
        "length": None,
        "length_unit": None,
        "description": "",
        "comments": "",
        "tags": [],
        "custom_fields": {"isolement_kind": None, "isolement_protected": None},
        "created": "2020-12-30T00:00:00Z",
        "last_updated": "2020-12-30T19:32:32.279000Z",
    }


def interface(iid: int) -> dict[str, Any]:
    did, name = INTERFACES[iid]
    row = next(r for r in CABLES if ("if", iid) in (r[3], r[4]))
    cid = row[0]
    other = row[3] if row[4] == ("if", iid) else row[4]
    otype, _oid, peer = end_object(other, cid)
    if otype == "dcim.interface":
        connected, ctype, reachable = [peer], "dcim.interface", True
    elif other[2] in MPLS_A_END:
        connected = [
            brief(
                "circuits/provider-networks", 1, "Level3 MPLS", name="Level3 MPLS", description=""
            )
        ]
        ctype, reachable = "circuits.providernetwork", True
    else:  # an internet circuit: the path ends at the provider, unknown to NetBox
        connected, ctype, reachable = None, None, None
    fast = name.startswith("GigabitEthernet0/0")
    return {
        "id": iid,
        "url": url(f"dcim/interfaces/{iid}/"),
        "display_url": f"{BASE}/dcim/interfaces/{iid}/",
        "display": name,
        "device": brief("dcim/devices", did, NAMES[did], name=NAMES[did], description=""),
        "vdcs": [],
        "module": None,
        "name": name,
        "label": "",
        "type": choice("1000base-x-sfp", "SFP (1GE)")
        if fast
        else choice("1000base-t", "1000BASE-T (1GE)"),
        "enabled": True,
        "parent": None,
        "bridge": None,
        "lag": None,
        "mtu": None,
        "mac_address": None,
        "speed": None,
        "duplex": None,
        "wwn": None,
        "mgmt_only": False,
        "description": "",
        "mode": None,
        "rf_role": None,
        "rf_channel": None,
        "poe_mode": None,
        "poe_type": None,
        "rf_channel_frequency": None,
        "rf_channel_width": None,
        "tx_power": None,
        "untagged_vlan": None,
        "tagged_vlans": [],
        "mark_connected": False,
        "cable": brief("dcim/cables", cid, f"#{cid}", label="", description=""),
        "cable_end": "B",
        "wireless_link": None,
        "link_peers": [peer],
        "link_peers_type": otype,
        "wireless_lans": [],
        "vrf": None,
        "l2vpn_termination": None,
        "connected_endpoints": connected,
        "connected_endpoints_type": ctype,
        "connected_endpoints_reachable": reachable,
        "tags": [],
        "custom_fields": {},
        "created": "2021-04-14T00:00:00Z",
        "last_updated": STAMP,
        "count_ipaddresses": 0,
        "count_fhrp_groups": 0,
        "_occupied": True,
    }


def site(sid: int) -> dict[str, Any]:
    name, slug = SITES[sid]
    return {
        "id": sid,
        "url": url(f"dcim/sites/{sid}/"),
        "display_url": f"{BASE}/dcim/sites/{sid}/",
        "display": name,
        "name": name,
        "slug": slug,
        "status": choice("active", "Active"),
        "region": None,
        "group": None,
        "tenant": TENANT,
        "facility": "",
        "time_zone": None,
        "description": "",
        "physical_address": "",
        "shipping_address": "",
        "latitude": None,
        "longitude": None,
        "comments": "",
        "asns": [],
        "tags": [],
        "custom_fields": {},
        "created": "2020-12-20T00:00:00Z",
        "last_updated": "2020-12-20T02:00:00Z",
    }


def pages(
    path: str, filters: list[tuple[str, Any]], objects: list[dict[str, Any]]
) -> dict[str, Any]:
    """Every page pynetbox asks for with limit=PAGE: the first without offset, then with."""
    recorded: dict[str, Any] = {}
    count = len(objects)
    for offset in range(0, max(count, 1), PAGE):
        query = [*filters, ("limit", PAGE)] + ([("offset", offset)] if offset else [])

        def link(at: int) -> str:
            query = sorted([*filters, ("limit", PAGE), ("offset", at)])
            return f"{url(path)}?{urlencode(query, doseq=True)}"

        body = {
            "count": count,
            "next": link(offset + PAGE) if offset + PAGE < count else None,
            "previous": (
                link(offset - PAGE)
                if offset - PAGE > 0
                else f"{url(path)}?{urlencode(sorted([*filters, ('limit', PAGE)]))}"
                if offset
                else None
            ),
            "results": objects[offset : offset + PAGE],
        }
        recorded[f"/api/{path}?{urlencode(sorted(query, key=lambda kv: kv[0]))}"] = body
    return recorded


def main() -> None:
    scope = [("site_id", s) for s in SITE_IDS]
    recorded: dict[str, Any] = {
        "/api/status/": {
            "django-version": "5.0.9",
            "installed-apps": {},
            "netbox-version": "4.1.0",
            "plugins": {},
            "python-version": "3.12.3",
            "rq-workers-running": 1,
        }
    }
    recorded |= pages(
        "dcim/sites/", [("slug", SITES[s][1]) for s in SITE_IDS], [site(s) for s in SITE_IDS]
    )
    recorded |= pages("dcim/devices/", scope, [device(row) for row in DEVICES])
    order = sorted(INTERFACES, key=lambda i: (NAMES[INTERFACES[i][0]], INTERFACES[i][1]))
    recorded |= pages(
        "dcim/interfaces/", [("cabled", "True"), *scope], [interface(i) for i in order]
    )
    recorded |= pages("circuits/circuits/", scope, [circuit(row) for row in CIRCUITS])
    recorded |= pages("dcim/cables/", scope, [cable(row) for row in CABLES])
    HERE.mkdir(exist_ok=True)
    index = {}
    for key, body in sorted(recorded.items()):
        path, _, query = key.partition("?")
        offset = dict(kv.split("=") for kv in query.split("&") if kv).get("offset", "0")
        name = f"{path.strip('/').removeprefix('api/').replace('/', '-')}.offset-{offset}.json"
        (HERE / name).write_text(json.dumps(body, indent=2) + "\n")
        index[key] = name
    (HERE / "index.json").write_text(json.dumps(index, indent=2) + "\n")


if __name__ == "__main__":
    main()
