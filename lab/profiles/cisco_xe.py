"""The Cisco IOS-XE profile of the emulator (a Catalyst 9300 in routed access): what netmiko's
`cisco_xe` driver (its IOS class, unchanged), and so isolement's CiscoXeDriver, see of a device.

It is the IOS profile (lab/profiles/cisco_ios.py: modes, prompts, refusals, `write memory`,
`show archive config differences`, ping) with what IOS-XE prints differently where the driver
reads it:

- `show ip interface brief` prints a name longer than its 22-character column abbreviated
  (`Te1/1/1` for `TenGigabitEthernet1/1/1`, `Tw`, `Fo`), as genieparser's real IOS-XE ISR 4000
  capture does (`Te0/0/4`, `Tw0/1/0`); shorter names (`GigabitEthernet1/0/1`) in full;
- `show running-config` starts with `! Last configuration change at HH:MM:SS UTC Day Mon D
  YYYY`, rewritten by every change (the layout of a real ISR4321's configuration,
  tests/data/cisco_xe/SOURCES.md), and `! NVRAM config last updated at ...` once saved.

`show version` is the IOS profile's (an IOSv's): isolement does not read it.
"""

from __future__ import annotations

import time

import paramiko

from ..device import DeviceSpec, InterfaceSpec
from .cisco_ios import IosDevice

# The abbreviations IOS-XE prints for the names too long for the brief table's column.
_SHORT_TYPES = {
    "TenGigabitEthernet": "Te",
    "TwoGigabitEthernet": "Tw",
    "FortyGigabitEthernet": "Fo",
}
_NAME_COLUMN = 22
_BRIEF_HEADER = "Interface              IP-Address      OK? Method Status                Protocol"


def _stamp(when: float) -> str:
    """`16:36:11 UTC Mon Feb 25 2019`, the clock as IOS prints it in those header lines."""
    return time.strftime("%H:%M:%S UTC %a %b %-d %Y", time.gmtime(when))


class XeDevice(IosDevice):
    platform = "cisco_xe"
    interface_name_rule = "an IOS-XE interface name (TenGigabitEthernet1/1/1)"
    not_configuration = (*IosDevice.not_configuration, "! Last configuration", "! NVRAM config")

    def __init__(self, spec: DeviceSpec, host_key: paramiko.PKey):
        self._last_change = time.time()
        self._last_saved: float | None = None
        super().__init__(spec, host_key)

    @classmethod
    def sample(cls, name: str) -> DeviceSpec:
        return DeviceSpec(
            name,
            [
                InterfaceSpec("TenGigabitEthernet1/1/1", address="198.18.0.1/30"),
                InterfaceSpec("GigabitEthernet1/0/1", address="198.18.0.5/30"),
                InterfaceSpec("GigabitEthernet1/0/2", shutdown=True),
            ],
            platform=cls.platform,
        )

    def _set(self, interface: str, **changes: object) -> None:
        with self._lock:
            self._last_change = time.time()
        super()._set(interface, **changes)

    def save(self) -> None:
        with self._lock:
            self._last_saved = time.time()
            super().save()

    def show_ip_interface_brief(self) -> list[str]:
        rows = super().show_ip_interface_brief()
        return [_BRIEF_HEADER, *(_abbreviated(row) for row in rows[1:])]

    def running_config(self, interface: str | None = None) -> list[str]:
        lines = super().running_config(interface)
        if interface is not None:
            return lines
        with self._lock:
            header = ["!", f"! Last configuration change at {_stamp(self._last_change)}"]
            if self._last_saved is not None:
                header.append(f"! NVRAM config last updated at {_stamp(self._last_saved)}")
        at = next(n for n, line in enumerate(lines) if line.startswith("Current configuration"))
        return [*lines[: at + 1], *header, *lines[at + 1 :]]


def _abbreviated(row: str) -> str:
    """One brief row with its name abbreviated if it is longer than the column, re-aligned."""
    name, rest = row.split(" ", 1)
    if len(name) <= _NAME_COLUMN:
        return row
    for long, short in _SHORT_TYPES.items():
        if name.startswith(long):
            return f"{short + name[len(long) :]:<{_NAME_COLUMN}} {rest.lstrip()}"
    return row
