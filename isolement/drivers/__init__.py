"""The platform registry: one explicit table from the inventory's platform name to its driver.

Adding a platform is one driver file and one line here.
"""

from __future__ import annotations

from isolement.drivers.base import CutTarget, Driver, Session
from isolement.drivers.cisco_ios import CiscoIosDriver
from isolement.drivers.frr import FrrDriver
from isolement.drivers.linux import LinuxDriver

PLATFORMS: dict[str, type[Driver]] = {
    "cisco_ios": CiscoIosDriver,
    "frr": FrrDriver,
    "linux": LinuxDriver,
}


def supported_platforms() -> list[str]:
    return sorted(PLATFORMS)


def driver_for(platform: str) -> Driver:
    return PLATFORMS[platform]()


__all__ = ["PLATFORMS", "CutTarget", "Driver", "Session", "driver_for", "supported_platforms"]
