"""The emulator's platform profiles: one explicit table from a platform name (the one the
inventory and isolement's driver registry use) to its emulated device class.

Adding a platform is one profile file here and one line in this table.
"""

from __future__ import annotations

from ..emulator import EmulatedDevice
from .cisco_ios import IosDevice

PROFILES: dict[str, type[EmulatedDevice]] = {
    "cisco_ios": IosDevice,
}
