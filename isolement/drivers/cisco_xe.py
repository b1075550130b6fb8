"""Cisco IOS-XE (Catalyst 9000, ISR 4000, ASR 1000, C8000), under netmiko's own name for it:
cut = `shutdown` of the interface, restore = `no shutdown`, as on classic IOS.

The CLI isolement uses is classic IOS's, so this driver is the IOS one (drivers/cisco_ios.py),
whose parsing already covers what IOS-XE prints differently where it matters to a cut and its
restore; it is reused, not copied:

- names: `show ip interface brief` prints a name longer than its 22-character column
  abbreviated (`Te0/0/4`, `Tw0/1/0`, `Fo1/0/1`, `Hu1/0/1`: genieparser's IOS-XE ISR 4000
  capture), while the configuration, NetBox and inventories spell it in full
  (`TenGigabitEthernet0/0/4`). The IOS driver matches both spellings both ways
  (`cisco_ios.interface_name`; the state holds the configuration's spelling);
- the snapshot: `show running-config` starts with `! Last configuration change at <time>`
  (and `! NVRAM config last updated at ...` once saved), rewritten by every change, a cut and
  its restore included (a real ISR4321's, tests/data/cisco_xe). The IOS driver leaves those
  lines out of the snapshot (classic IOS prints them too), so an exact restore compares equal.

What this class adds is the name: an inventory says `cisco_xe`, and netmiko's `cisco_xe`
device type (its IOS class) opens the session.

NAPALM: its `ios` driver is netmiko's IOS class underneath and changes the configuration by
copying a file to flash then `configure replace` or `copy ... running-config` (SCP enabled on
the device, an archive path configured): far more for one `shutdown` than the line itself, and
more ways to fail at 3 a.m. So this driver speaks the CLI through netmiko's `cisco_xe`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from isolement.drivers.cisco_ios import FACTS as IOS_FACTS
from isolement.drivers.cisco_ios import CiscoIosDriver
from isolement.drivers.platform import Platform

FACTS: Platform = replace(IOS_FACTS, name="cisco_xe", netmiko_device_type="cisco_xe")


class CiscoXeDriver(CiscoIosDriver):
    facts: ClassVar[Platform] = FACTS
