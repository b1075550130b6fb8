"""Every real device capture of ../shared/captures, read by the driver it belongs to.

The captures were taken on real equipment and published by other projects (their README and
`manifest.json` say where each comes from). Each manifest entry names the platform, the parser,
the outputs it is fed, the normalisation its source needs, and where the expected values come
from: the capture's own project (ntc-templates `.yml`, genieparser `expected.py`, napalm
`expected_result.json`), a `*.expected.json` read from the capture, or, for `column` and the
`eye_*` kinds, the table read here by its own header, without the drivers' code. A driver must
give exactly those values (none misread, none crashed), or refuse with UnexpectedOutput where
the capture does not hold what it needs to be sure (a zone cut short by the column it is printed
in). `_errors/` holds real error answers, which each driver's error detection must find, and
normal outputs of many commands, which it must not take for errors.

The captures are third-party data and stay outside the repository: `../shared/captures` from
the repository root (CI has `../shared` beside the clone), or the directory
`ISOLEMENT_CAPTURES` names. If they are missing, test_the_captures_are_there fails: this module
never passes by skipping.
"""

from __future__ import annotations

import ast
import json
import lzma
import re
import textwrap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from shared_captures import CAPTURES, capture

from isolement.drivers import driver_for
from isolement.drivers.alcatel_aos import AlcatelAosDriver
from isolement.drivers.aruba_aoscx import ArubaAoscxDriver
from isolement.drivers.cisco_asa import CiscoAsaDriver
from isolement.drivers.cisco_ios import CiscoIosDriver
from isolement.drivers.cisco_nxos import CiscoNxosDriver
from isolement.drivers.fortinet import FortinetDriver
from isolement.drivers.frr import FrrDriver
from isolement.drivers.juniper_junos import JuniperJunosDriver
from isolement.drivers.linux import LinuxDriver
from isolement.drivers.paloalto_panos import PaloAltoPanosDriver
from isolement.model.errors import UnexpectedOutput


def _manifest() -> list[dict[str, Any]]:
    path = CAPTURES / "manifest.json"
    return list(json.loads(path.read_text())) if path.exists() else []


MANIFEST = _manifest()


def test_the_captures_are_there() -> None:
    assert (CAPTURES / "manifest.json").is_file(), (
        f"no real device captures at {CAPTURES}: the drivers are tested on them. Put the "
        "shared captures beside the clone (../shared/captures) or name their directory in "
        "ISOLEMENT_CAPTURES"
    )
    assert MANIFEST, f"{CAPTURES / 'manifest.json'} lists no capture"


# --- reading a capture as netmiko would hand it to a driver -----------------------------------

# A command echoed before the output: `show ...` alone or after a prompt (`IOSv#`, `abc-defg# `,
# `root@junos_vmx1> `).
_ECHO = re.compile(r"^(?:\S+ ?[#>] ?)?(?:show|sh)\s")
_PROMPT_ONLY = re.compile(r"^\S+[#>]\s*$")


def normalised(text: str, steps: list[str]) -> str:
    """The capture as the session would return it. Line endings are already netmiko's (read in
    text mode); the other steps are the ones the manifest names for this capture."""
    if "zwsp" in steps:
        text = text.replace("\u200b", "")  # pasted from a web page, never printed by a device
    if "strip_echo" in steps:
        lines = text.splitlines()
        while lines and not lines[0].strip():
            lines.pop(0)
        if lines and _ECHO.match(lines[0].strip()):
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        if lines and _PROMPT_ONLY.match(lines[-1].strip()):
            lines.pop()  # the prompt netmiko strips at the end
        text = "\n".join(lines) + "\n"
    if "dedent" in steps:
        text = textwrap.dedent(text)  # the indentation of the Python string it was kept in
    return text


def inputs(entry: Mapping[str, Any]) -> dict[str, str]:
    return {
        name: normalised((CAPTURES / path).read_text(encoding="utf-8"), entry["normalize"])
        for name, path in entry["inputs"].items()
    }


# --- what the drivers read ---------------------------------------------------------------------


@dataclass
class Reading:
    """What a driver read from a capture, or what the capture says it should read. A facet
    left None is not checked. `interfaces`: name -> administratively up; None where the output
    alone cannot tell (NX-OS's brief table, for a `down` row without an administrative reason)."""

    interfaces: dict[str, bool | None] | None = None
    zones: dict[str, str] | None = None
    nameifs: dict[str, str] | None = None
    groups: set[tuple[str, str, str]] | None = None  # (nameif, direction, ACL)
    acls: dict[str, list[str]] | None = None
    rule_names: list[str] | None = None
    denies: dict[str, list[str]] | None = None
    contexts: dict[str, str] | None = None
    # Words the driver's UnexpectedOutput must hold: the capture does not hold what it needs
    # (an interface and the command to read, a column the table lacks).
    refusal: tuple[str, ...] | None = None
    extra: dict[str, object] = field(default_factory=dict)


def _interfaces(values: Mapping[str, bool]) -> dict[str, bool | None]:
    return dict(values)


def _read_panos(i: dict[str, str]) -> Reading:
    state = PaloAltoPanosDriver.parse_state(i["interface_all"], i["security_policy"])
    return Reading(
        interfaces=_interfaces(state.interfaces),
        zones=dict(state.contexts),
        denies=dict(state.denies),
        rule_names=PaloAltoPanosDriver.parse_rule_names(i["security_policy"]),
    )


def _read_forti(i: dict[str, str]) -> Reading:
    state = FortinetDriver.parse_config(i["output"])
    return Reading(
        interfaces=_interfaces(state.interfaces),
        contexts=dict(state.contexts),
        denies=dict(state.denies),
    )


def _read_asa_groups(i: dict[str, str]) -> Reading:
    groups = CiscoAsaDriver.parse_access_groups(i["output"])
    return Reading(groups={(nameif, d, acl) for (nameif, d), acl in groups.items()})


PARSERS: dict[str, Callable[[dict[str, str]], Reading]] = {
    "ios_brief": lambda i: Reading(
        interfaces=_interfaces(CiscoIosDriver.parse_interface_brief(i["output"]).interfaces)
    ),
    "nxos_brief": lambda i: Reading(
        interfaces=dict(CiscoNxosDriver.parse_interface_brief(i["output"]))
    ),
    "nxos_show_interface": lambda i: Reading(
        interfaces=_interfaces(CiscoNxosDriver.parse_show_interface(i["output"]))
    ),
    "asa_brief": lambda i: Reading(
        interfaces=_interfaces(CiscoAsaDriver.parse_interface_brief(i["output"]))
    ),
    "asa_nameif": lambda i: Reading(nameifs=CiscoAsaDriver.parse_nameif(i["output"])),
    "asa_access_group": _read_asa_groups,
    "asa_access_list": lambda i: Reading(acls=CiscoAsaDriver.parse_access_lists(i["output"])),
    "junos_terse": lambda i: Reading(
        interfaces=_interfaces(JuniperJunosDriver().parse_terse(i["output"]).interfaces)
    ),
    "aoscx_show_interface": lambda i: Reading(
        interfaces=_interfaces(ArubaAoscxDriver.parse_show_interface(i["output"]).interfaces)
    ),
    "aos_status": lambda i: Reading(
        interfaces=_interfaces(AlcatelAosDriver.parse_interfaces_status(i["output"]).interfaces)
    ),
    "panos_state": _read_panos,
    "forti_config": _read_forti,
    # FRR's state is the brief table's Status (the kernel's flag); `show running-config` is not
    # read for it (drivers/frr.py says why), so the manifest's running_config input is not fed.
    "frr_state": lambda i: Reading(
        interfaces=_interfaces(FrrDriver.parse_state(i["brief"]).interfaces)
    ),
    "linux_state": lambda i: Reading(
        interfaces=_interfaces(LinuxDriver.parse_state(i["links"], i["table"]).interfaces)
    ),
}


# --- what the captures' own projects say ---------------------------------------------------------


def _expected_file(entry: Mapping[str, Any]) -> Path:
    return CAPTURES / str(entry["expected"])


def _ntc(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = yaml.safe_load(_expected_file(entry).read_text())["parsed_sample"]
    return rows


def _genie(entry: Mapping[str, Any]) -> Any:
    """The `expected_output = {...}` of a genieparser test, read as a literal."""
    module = ast.parse(_expected_file(entry).read_text())
    for node in module.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "expected_output":
            return ast.literal_eval(node.value)
    raise AssertionError(f"{entry['expected']}: no expected_output")


def _json(entry: Mapping[str, Any]) -> Any:
    return json.loads(_expected_file(entry).read_text())


def _ios_status_up(status: str) -> bool:
    return status.strip().lower() not in ("administratively down", "admin down")


def _columns_from_the_right(
    text: str, header: re.Pattern[str], indented_rows: bool = False
) -> Iterator[list[str]]:
    """The rows of a table under the header, split into words (no TextFSM, no driver). An
    indented line continues the row above, unless the table indents its rows."""
    inside = False
    for line in text.splitlines():
        if header.match(line):
            inside = True
            continue
        indented = line.startswith(" ") and not indented_rows
        if inside and line.strip() and not indented and not line.startswith("-"):
            yield line.split()


_IOS_HEADER = re.compile(r"^Interface\s+IP-Address\s+OK\?\s+Method\s+Status\s+Protocol")


def _ios_columns(entry: Mapping[str, Any]) -> Reading:
    """Status is the word (or `administratively down`) before Protocol, the last column."""
    result: dict[str, bool | None] = {}
    for words in _columns_from_the_right(inputs(entry)["output"], _IOS_HEADER):
        status = (
            " ".join(words[-3:-1]) if words[-3:-1] == ["administratively", "down"] else words[-2]
        )
        result[words[0]] = _ios_status_up(status)
    return Reading(interfaces=result)


def _nxos_brief_value(status: str, reason: str) -> bool | None:
    reason = reason.strip().lower()
    if status == "up":
        return True
    if reason.startswith("administratively down") or reason == "admin":
        return False
    return None  # down for a reason that does not say whether it is shut


def _genie_nxos_brief(entry: Mapping[str, Any]) -> Reading:
    result: dict[str, bool | None] = {}
    for table in _genie(entry)["interface"].values():
        for name, row in table.items():
            result[name] = _nxos_brief_value(row.get("status", ""), row.get("reason", ""))
    return Reading(interfaces=result)


def _ntc_nxos_show_interface(entry: Mapping[str, Any]) -> Reading:
    """ntc-templates' ADMIN_STATE, except where the template fills it from an SVI header's
    `NAME is <status>, line protocol is <X>` (the template's first header rule): there X is the
    line protocol, and the header's reason decides."""
    text = inputs(entry)["output"]
    result: dict[str, bool | None] = {}
    for row in _ntc(entry):
        admin = row["admin_state"].strip().lower()
        svi = re.search(rf"^{re.escape(row['interface'])} is .*, line protocol is ", text, re.M)
        if admin and not svi:
            result[row["interface"]] = admin.startswith("u")  # `u`: the template cuts it short
        else:  # no admin line (older releases): the header's reason decides
            result[row["interface"]] = "administratively down" not in row["link_status"].lower()
    return Reading(interfaces=result)


def _genie_nxos_show_interface(entry: Mapping[str, Any]) -> Reading:
    result: dict[str, bool | None] = {}
    for name, block in _genie(entry).items():
        if "admin_state" in block:
            result[name] = block["admin_state"] == "up"
        else:
            result[name] = bool(block["enabled"])
    return Reading(interfaces=result)


_JUNOS_HEADER = re.compile(r"^Interface\s+Admin\s+Link\b")


def _junos_columns(entry: Mapping[str, Any]) -> Reading:
    text = inputs(entry)["output"]
    if not _JUNOS_HEADER.search(text):  # `| match`: rows without the header
        text = "Interface Admin Link\n" + text
    return Reading(
        interfaces={w[0]: w[1] == "up" for w in _columns_from_the_right(text, _JUNOS_HEADER)}
    )


_AOS_SEPARATOR = re.compile(r"^-+(\+-+)+$")


def _aos_columns(entry: Mapping[str, Any]) -> Reading:
    rows = _columns_from_the_right(inputs(entry)["output"], _AOS_SEPARATOR, indented_rows=True)
    return Reading(interfaces={w[0]: w[1] == "en" for w in rows})


def _ntc_alcatel(entry: Mapping[str, Any]) -> Reading:
    rows = _ntc(entry)
    if not any(r["admin_status"] for r in rows):
        # AOS 6's table has no Admin Status column: nothing in it says a port is shut.
        return Reading(refusal=("show interfaces status", "Admin Status"))
    return Reading(interfaces={r["port"]: r["admin_status"] == "en" for r in rows})


def _ntc_panos_interface_all(entry: Mapping[str, Any]) -> Reading:
    rows = _ntc(entry)
    hardware = {r["interface"]: "power-down" not in r["state"] for r in rows if r.get("state")}
    interfaces: dict[str, bool | None] = {
        r["interface"]: hardware.get(
            r["interface"], hardware.get(r["interface"].split(".")[0], True)
        )
        for r in rows
    }
    zones = {r["interface"]: r["zone"] for r in rows if r.get("zone")}
    return Reading(interfaces=interfaces, zones=zones, denies={})


def _ntc_panos_security_policy(entry: Mapping[str, Any]) -> Reading:
    return Reading(rule_names=[r["name"].strip('"') for r in _ntc(entry)], denies={})


def _eye_panos(entry: Mapping[str, Any]) -> Reading:
    data = _json(entry)
    if "rule_names" in data:
        return Reading(rule_names=data["rule_names"], denies=data["denies"])
    # A zone as long as the column is printed cut short (the capture's notes say so of this
    # one): the driver must not name it before reading the interface's own zone line.
    cut = [(i, z) for i, z in data["zones"].items() if len(z) == 16]
    refusal = (cut[0][0], cut[0][1], f"show interface {cut[0][0]}") if cut else None
    return Reading(
        interfaces=data["interfaces"],
        zones=None if cut else data["zones"],
        refusal=refusal,
    )


def _eye_forti(entry: Mapping[str, Any]) -> Reading:
    data = _json(entry)
    return Reading(
        interfaces=data["interfaces"], denies=data["denies"], contexts=data.get("contexts")
    )


_FRR_HEADER = re.compile(r"^Interface\s+Status\s+VRF\s+Addresses")


def _frr_columns(entry: Mapping[str, Any]) -> Reading:
    rows = _columns_from_the_right(inputs(entry)["brief"], _FRR_HEADER)
    return Reading(interfaces={w[0]: w[1] == "up" for w in rows if w[0] != "Interface"})


def _linux_text(entry: Mapping[str, Any]) -> Reading:
    links = re.findall(
        r"^\d+: ([^:@]+)(?:@\S+)?: <([^>]*)>", _expected_file(entry).read_text(), re.M
    )
    return Reading(interfaces={name: "UP" in flags.split(",") for name, flags in links})


def _linux_json_flags(entry: Mapping[str, Any]) -> Reading:
    links = json.loads(inputs(entry)["links"])
    return Reading(interfaces={link["ifname"]: "UP" in link["flags"] for link in links})


EXPECTED: dict[str, Callable[[Mapping[str, Any]], Reading]] = {
    "ntc_ios_brief": lambda e: Reading(
        interfaces={r["interface"]: _ios_status_up(r["status"]) for r in _ntc(e)}
    ),
    "column": _ios_columns,
    "genie_ios_brief": lambda e: Reading(
        interfaces={n: _ios_status_up(r["status"]) for n, r in _genie(e)["interface"].items()}
    ),
    "ntc_nxos_brief": lambda e: Reading(
        interfaces={r["interface"]: _nxos_brief_value(r["status"], r["reason"]) for r in _ntc(e)}
    ),
    "genie_nxos_brief": _genie_nxos_brief,
    "ntc_nxos_show_interface": _ntc_nxos_show_interface,
    "napalm_is_enabled": lambda e: Reading(
        interfaces={n: bool(v["is_enabled"]) for n, v in _json(e).items()}
    ),
    "genie_nxos_show_interface": _genie_nxos_show_interface,
    "ntc_asa_brief": lambda e: Reading(
        interfaces={r["interface"]: _ios_status_up(r["status"]) for r in _ntc(e)}
    ),
    "genie_asa_brief": lambda e: Reading(
        interfaces={n: _ios_status_up(r["link_status"]) for n, r in _genie(e)["interfaces"].items()}
    ),
    "genie_asa_nameif": lambda e: Reading(nameifs={n: r["name"] for n, r in _genie(e).items()}),
    "ntc_asa_access_group": lambda e: Reading(
        groups={(r["interface"], r.get("direction") or "in", r["access_list"]) for r in _ntc(e)}
    ),
    "genie_junos_terse": lambda e: Reading(
        interfaces={n: r["admin_state"] == "up" for n, r in _genie(e).items()}
    ),
    "eye_junos_columns": _junos_columns,
    "ntc_aoscx": lambda e: Reading(
        interfaces={r["interface"]: r["link_admin"] == "up" for r in _ntc(e)}
    ),
    "ntc_alcatel": _ntc_alcatel,
    "eye_aos_columns": _aos_columns,
    "ntc_panos_interface_all": _ntc_panos_interface_all,
    "ntc_panos_security_policy": _ntc_panos_security_policy,
    "eye_frr_brief": _frr_columns,
    "eye_linux_text": _linux_text,
    "eye_linux_json_flags": _linux_json_flags,
}


def _eye(entry: Mapping[str, Any]) -> Reading:
    """`eye`: a `*.expected.json` read from the capture by a person, per platform."""
    data = _json(entry)
    if entry["platform"] == "paloalto_panos":
        return _eye_panos(entry)
    if entry["platform"] == "fortinet":
        return _eye_forti(entry)
    if "nameifs" in data:
        return Reading(nameifs=data["nameifs"])
    if "groups" in data:
        return Reading(groups={tuple(g) for g in data["groups"]})  # type: ignore[misc]
    if "acls" in data:
        return Reading(acls=data["acls"])
    raise AssertionError(f"{entry['id']}: an `eye` expectation this test cannot read: {data}")


def expected(entry: Mapping[str, Any]) -> Reading:
    kind = entry["expected_kind"]
    return _eye(entry) if kind == "eye" else EXPECTED[kind](entry)


# --- names: the capture's projects and the drivers spell some interfaces differently -----------

# NX-OS's brief table abbreviates (Eth1/1, Po10, Lo0); genieparser writes Port-channel where
# NX-OS writes port-channel; IOS-XE's brief abbreviates too (Te0/0/4). Compared by this key.
_SHORT = {
    "eth": "ethernet",
    "po": "port-channel",
    "lo": "loopback",
    "te": "tengigabitethernet",
    "tw": "twogigabitethernet",
    "twe": "twentyfivegige",
    "fo": "fortygigabitethernet",
    "hu": "hundredgige",
    "gi": "gigabitethernet",
    "fa": "fastethernet",
    "mgmt": "management",  # napalm names NX-OS's mgmt0 Management0
}
_KEY = re.compile(r"([a-z]+)(\d.*)")


def key(name: str) -> str:
    lower = name.lower()
    match = _KEY.fullmatch(lower)
    if match and match.group(1) in _SHORT:
        return _SHORT[match.group(1)] + match.group(2)
    return lower


def keyed(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key(name): value for name, value in values.items()}


# --- the tests -----------------------------------------------------------------------------------


READ = [e for e in MANIFEST if not e.get("exclude")]
# Not a device's text (the indentation lost where the capture was kept, or a person's note
# added to a line): read only to prove it is never misread (a refusal is acceptable).
EXCLUDED = [e for e in MANIFEST if e.get("exclude")]


def test_every_manifest_entry_has_a_parser_and_an_expectation_this_test_reads() -> None:
    unknown = [
        (e["id"], e["parser"], e["expected_kind"])
        for e in MANIFEST
        if e["parser"] not in PARSERS or (e["expected_kind"] not in EXPECTED | {"eye": _eye})
    ]
    assert MANIFEST and not unknown


# Platforms whose real outputs are in tests/data/<platform>/ (named in its SOURCES.md) rather
# than in the shared captures; their own tests read them.
RECORDED_IN_REPOSITORY = Path(__file__).resolve().parents[1] / "data"


def test_every_registered_platform_has_captures() -> None:
    from isolement.drivers import supported_platforms

    in_repository = {
        p for p in supported_platforms() if (RECORDED_IN_REPOSITORY / p / "SOURCES.md").is_file()
    }
    assert set(supported_platforms()) <= {e["platform"] for e in MANIFEST} | in_repository


def check(entry: Mapping[str, Any], got: Reading, want: Reading) -> None:
    for facet in ("interfaces", "zones", "contexts", "nameifs", "denies"):
        wanted = getattr(want, facet)
        if wanted is not None:
            assert keyed(getattr(got, facet)) == keyed(wanted), f"{entry['id']}: {facet}"
    for facet in ("groups", "acls", "rule_names"):
        wanted = getattr(want, facet)
        if wanted is not None:
            assert getattr(got, facet) == wanted, f"{entry['id']}: {facet}"


@pytest.mark.parametrize("entry", READ, ids=lambda e: e["id"])
def test_capture_is_read_as_its_source_says(entry: dict[str, Any]) -> None:
    want = expected(entry)
    read = PARSERS[entry["parser"]]
    if want.refusal is not None:
        with pytest.raises(UnexpectedOutput) as refused:
            read(inputs(entry))
        assert all(word in str(refused.value) for word in want.refusal), refused.value
        return

    got = read(inputs(entry))

    check(entry, got, want)


@pytest.mark.parametrize("entry", EXCLUDED, ids=lambda e: e["id"])
def test_excluded_captures_are_refused_or_read_right(entry: dict[str, Any]) -> None:
    """Their indentation is not the device's; the driver may refuse them, never misread."""
    want = expected(entry)
    try:
        got = PARSERS[entry["parser"]](inputs(entry))
    except UnexpectedOutput:
        return
    assert want.interfaces is not None and got.interfaces is not None
    wanted = keyed(want.interfaces)
    assert {k: v for k, v in keyed(got.interfaces).items() if k in wanted} == {
        k: v for k, v in wanted.items() if k in keyed(got.interfaces)
    }


# --- what a driver cannot read ----------------------------------------------------------------

# The command each parser reads, which its refusal must name. The ASA access-group and
# access-list readers are left out: they pick their lines out of any configuration text (a
# whole `show running-config` reads the same), and a refused answer is caught by the error
# check of CiscoAsaDriver.parse_state instead (tests/unit/test_drivers_cisco_asa.py).
COMMANDS = {
    "ios_brief": "show ip interface brief",
    "nxos_brief": "show interface brief",
    "nxos_show_interface": "show interface",
    "asa_brief": "show interface ip brief",
    "asa_nameif": "show nameif",
    "junos_terse": "show interfaces terse",
    "aoscx_show_interface": "show interface",
    "aos_status": "show interfaces status",
    "panos_state": "show interface all",
    "forti_config": "'show'",
    "frr_state": "show interface brief",
    "linux_state": "ip -j link show",
}


def test_every_parser_but_the_asa_line_filters_is_covered() -> None:
    assert set(PARSERS) - set(COMMANDS) == {"asa_access_group", "asa_access_list"}


@pytest.mark.parametrize("parser", sorted(COMMANDS))
def test_another_commands_capture_is_refused_naming_the_command(parser: str) -> None:
    """A real table of another platform's command, fed to each parser in place of its own: a
    refusal naming the command, never a state read out of it."""
    nxos = capture("cisco_nxos/ntc_show_interface_brief.raw")
    ios = capture("cisco_ios/napalm_facts_normal.raw")
    foreign = ios if parser.startswith("nxos") else nxos
    names = ("output", "brief", "interface_all", "security_policy", "links", "table")

    with pytest.raises(UnexpectedOutput) as refused:
        PARSERS[parser](dict.fromkeys(names, foreign))

    assert COMMANDS[parser] in str(refused.value)


# --- error detection -----------------------------------------------------------------------------


def _positives() -> list[dict[str, str]]:
    path = CAPTURES / "_errors" / "positives.json"
    return list(json.loads(path.read_text())) if path.exists() else []


def _normals() -> list[dict[str, str]]:
    path = CAPTURES / "_errors" / "normal_outputs.jsonl.xz"
    if not path.exists():
        return []
    with lzma.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@pytest.mark.parametrize("answer", _positives(), ids=lambda p: p["file"])
def test_real_error_answer_is_detected(answer: dict[str, str]) -> None:
    text = (CAPTURES / answer["file"]).read_text(encoding="utf-8")

    assert driver_for(answer["platform"]).find_error(text)


def test_no_normal_output_is_taken_for_an_error() -> None:
    normals = _normals()
    taken = [
        (n["platform"], n["source"], error)
        for n in normals
        if (error := driver_for(n["platform"]).find_error(n["text"]))
    ]

    assert len(normals) > 800 and not taken
