"""The platform registry: one explicit table from the inventory's platform name to its driver.

Adding a platform is one driver file and one line here.
"""

from __future__ import annotations

from isolement.drivers.alcatel_aos import AlcatelAosDriver
from isolement.drivers.aruba_aoscx import ArubaAoscxDriver
from isolement.drivers.aruba_os import ArubaOsDriver
from isolement.drivers.base import CutTarget, Driver, Session
from isolement.drivers.cisco_asa import CiscoAsaDriver
from isolement.drivers.cisco_ios import CiscoIosDriver
from isolement.drivers.cisco_nxos import CiscoNxosDriver
from isolement.drivers.cisco_xe import CiscoXeDriver
from isolement.drivers.fortinet import FortinetDriver
from isolement.drivers.frr import FrrDriver
from isolement.drivers.hp_comware import HpComwareDriver
from isolement.drivers.juniper_junos import JuniperJunosDriver
from isolement.drivers.linux import LinuxDriver
from isolement.drivers.paloalto_panos import PaloAltoPanosDriver

PLATFORMS: dict[str, type[Driver]] = {
    "alcatel_aos": AlcatelAosDriver,
    "aruba_aoscx": ArubaAoscxDriver,
    "aruba_os": ArubaOsDriver,
    "cisco_asa": CiscoAsaDriver,
    "cisco_ios": CiscoIosDriver,
    "cisco_nxos": CiscoNxosDriver,
    "cisco_xe": CiscoXeDriver,
    "fortinet": FortinetDriver,
    "frr": FrrDriver,
    "hp_comware": HpComwareDriver,
    "juniper_junos": JuniperJunosDriver,
    "linux": LinuxDriver,
    "paloalto_panos": PaloAltoPanosDriver,
}


def supported_platforms() -> list[str]:
    return sorted(PLATFORMS)


def driver_for(platform: str) -> Driver:
    return PLATFORMS[platform]()


__all__ = ["PLATFORMS", "CutTarget", "Driver", "Session", "driver_for", "supported_platforms"]
