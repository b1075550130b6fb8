"""Alcatel-Lucent Enterprise OmniSwitch, AOS Release 8 (OS6360, OS6465, OS6560, OS6860, OS6900,
OS9900): the campus and distribution switches of many French hospitals.

Cut: `interfaces port 1/1/1 admin-state disable`; restore: `... admin-state enable`, for the
ports that were cut and no others. An administrative disable is what AOS itself records in its
configuration (`! Interface:` section of the snapshot), it takes the link down at both ends and
needs nothing else on the switch; a switch port carries every VLAN of the link, so a filter
(QoS policy rules, which AOS has) would have to list them all and still leave the control
protocols (LACP, spanning tree, ERP) running through it. The `port` keyword is the form AOS 8
prints in its own snapshot (recorded in tests/data/alcatel_aos/), so the switch reads back,
and replays at boot, exactly the line isolement sends.

AOS has no configuration mode and no candidate configuration: a command is in effect as soon
as it is typed at the `->` prompt (netmiko's AlcatelAosSSH is NoConfig and NoEnable), so
changes are sent one by one as commands, each answer checked. Every refusal starts with
`ERROR:` (`ERROR: Invalid entry: "set"` under a caret, in ALE's Switch Management Guide). The
change is not saved (`write memory` would make it survive a reboot): as on the other
platforms, a cut lives in the running configuration only.

State: `show interfaces status`, the `Admin Status` column (`en`/`dis`) of AOS 8. The parser
finds that column by the table's own header, so both recorded AOS 8 layouts (with FEC
columns and without) read alike, where ntc-templates' `alcatel_aos_show_interfaces_status`
reads only the first. AOS 6's table has no such column (its admin state is elsewhere, and
its commands differ), so it is refused rather than guessed.

Privilege: AOS has no enable level; what a session may change is its user's read-write
domains. `whoami` prints them, read in the wording of AOS's user records (`Read/Write for
domains  = All ,`); the `interfaces` commands belong to the Physical domain (or to the
`interface` family, when rights are given by family). Anything unrecognised reads as no
privilege: pre-flight stops rather than changing a switch it may not be allowed to.

NAPALM: the one NAPALM driver for this platform is a community one
(napalm-automation-community/napalm-aos). It runs each command on its own paramiko exec
channel, and changes the configuration by copying a file to the switch with SCP, then
`configuration apply` on it (merge) or copying it over the boot configuration and reloading
(replace). For two lines of CLI that brings a file transfer and a second transport, which the
lab's SSH emulator (interactive shells only) does not serve and which adds ways to fail in a
crisis, and nothing netmiko's AlcatelAosSSH does not already do. Not used.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from ipaddress import IPv4Address

from isolement.drivers.base import (
    Driver,
    PingReply,
    Session,
    UnsavedCheck,
    parse_bsd_ping,
)
from isolement.drivers.platform import Platform, Shutdown
from isolement.model.errors import UnexpectedOutput
from isolement.model.state import CutMethod, DeviceState

# AOS starts every refusal with `ERROR:` (unknown keyword, bad value, port that does not exist,
# missing rights); warnings (`WARNING:`) are not refusals.
_AOS_ERRORS = (re.compile(r"^\s*ERROR:.*$", re.MULTILINE),)

# AOS 8 ports are chassis/slot/port; a split port of a QSFP gets a letter (1/1/49A).
_ROW = re.compile(r"^\s*(?P<port>\d+/\d+/\d+[A-Z]?)\s+(?P<admin>\S+)\s+\S")
# The three header lines over the AOS 8 table: Chas/ Slot/ Port, Admin Status.
_ADMIN_HEADER = (re.compile(r"^\s*Slot/\s+Admin\b"), re.compile(r"^\s*Port\s+Status\b"))
_SEPARATOR = re.compile(r"^-+(\+-+)+$")
_ADMIN = {"en": True, "dis": False}

# `whoami`: the user's rights, as AOS words them in its user records.
_RW_DOMAINS = re.compile(r"^\s*Read[-/ ]?[Ww]rite (?:for )?domains\s*=\s*(?P<v>.*)$", re.M)
_RW_FAMILIES = re.compile(r"^\s*Read[-/ ]?[Ww]rite (?:for )?families\s*=\s*(?P<v>.*)$", re.M)


FACTS = Platform(
    name="alcatel_aos",
    netmiko_device_type="alcatel_aos",
    methods=frozenset({CutMethod.SHUTDOWN}),
    preferred_method=CutMethod.SHUTDOWN,
    # The running configuration, as AOS would write it; AOS 8 prints no timestamp or counter
    # in it (recorded in tests/data/alcatel_aos/), so it is compared as it is.
    snapshot_command="show configuration snapshot",
    error_patterns=_AOS_ERRORS,
    # The `port` keyword is the form AOS 8 prints in its own snapshot.
    shutdown=Shutdown(
        cut=("interfaces port {interface} admin-state disable",),
        restore=("interfaces port {interface} admin-state enable",),
    ),
    # No configuration mode (netmiko's AlcatelAosSSH is NoConfig): each line is a command.
    config_mode=False,
    persistence="save",
    persistence_note=(
        "saved with `write memory`; unsaved changes are found before the cut with `show "
        "configuration status`"
    ),
    save_commands=("write memory",),
)


class AlcatelAosDriver(Driver):
    facts = FACTS

    # --- persistence (#12 §3) -------------------------------------------------------------

    def unsaved_changes(self, session: Session, interfaces: Collection[str] = ()) -> UnsavedCheck:
        return self.parse_configuration_status(session.send_command("show configuration status"))

    def parse_configuration_status(self, output: str) -> UnsavedCheck:
        """`Running configuration and saved configuration are identical` / `... different`."""
        if re.search(r"are identical", output):
            return UnsavedCheck(False)
        if re.search(r"are different", output):
            return UnsavedCheck(True, "running and saved configurations are different")
        return UnsavedCheck(None, "the configuration status is not one isolement reads")

    # --- device-sourced probes: `ping X count N source-interface Y` (an IP interface's name)

    def ping_command(
        self, to: IPv4Address, *, source: str | None, count: int, port: int | None
    ) -> str | None:
        if port is not None:
            return None  # the OmniSwitch's ping is ICMP only
        via = f" source-interface {source}" if source else ""
        return f"ping {to} count {count}{via}"

    def parse_ping(self, output: str) -> PingReply:
        return parse_bsd_ping(output)

    def has_privilege(self, session: Session) -> bool:
        return self.parse_whoami(session.send_command("whoami"))

    @staticmethod
    def parse_whoami(output: str) -> bool:
        """Whether the user may run `interfaces ... admin-state`: read-write on All or Physical
        domains, or on the `interface` family. Nothing recognised: not privileged."""
        domains, families = _rights(_RW_DOMAINS, output), _rights(_RW_FAMILIES, output)
        return bool(domains & {"all", "physical"}) or "interface" in families

    def read_state(self, session: Session) -> DeviceState:
        return self.parse_interfaces_status(session.send_command("show interfaces status"))

    @staticmethod
    def parse_interfaces_status(output: str) -> DeviceState:
        """Port -> administratively enabled, from AOS 8's `show interfaces status`."""
        lines = output.splitlines()
        separator = next((n for n, line in enumerate(lines) if _SEPARATOR.match(line)), None)
        header = lines[:separator] if separator is not None else []
        if not all(any(p.match(line) for line in header) for p in _ADMIN_HEADER):
            raise UnexpectedOutput(
                "unrecognised 'show interfaces status' output (no AOS 8 'Admin Status' "
                f"column): {output[:120]!r}"
            )
        assert separator is not None
        interfaces: dict[str, bool] = {}
        for line in lines[separator + 1 :]:
            if not line.strip():
                continue
            row = _ROW.match(line)
            if not row or row["admin"] not in _ADMIN:
                raise UnexpectedOutput(f"unrecognised 'show interfaces status' row: {line!r}")
            interfaces[row["port"]] = _ADMIN[row["admin"]]
        if not interfaces:
            raise UnexpectedOutput("'show interfaces status' lists no port")
        return DeviceState(interfaces=interfaces)


def _rights(pattern: re.Pattern[str], output: str) -> set[str]:
    """The words listed on the lines `pattern` matches (`All ,` -> {"all"})."""
    return {w.strip(",").lower() for m in pattern.finditer(output) for w in m["v"].split()}
