"""The emulator's platform profiles: one explicit table from a platform name (the one the
inventory and isolement's driver registry use) to its emulated device class.

Adding a platform is one profile file here and one line in this table.
"""

from __future__ import annotations

from ..device import EmulatedDevice
from .alcatel_aos import AlcatelAosDevice
from .arista_eos import EosDevice
from .aruba_aoscx import AoscxDevice
from .aruba_os import AossDevice
from .cisco_asa import AsaDevice
from .cisco_ios import IosDevice
from .cisco_nxos import NxosDevice
from .cisco_xe import XeDevice
from .fortinet import FortinetDevice
from .hp_comware import ComwareDevice
from .juniper_junos import JunosDevice
from .paloalto_panos import PanosDevice

PROFILES: dict[str, type[EmulatedDevice]] = {
    "alcatel_aos": AlcatelAosDevice,
    "arista_eos": EosDevice,
    "aruba_aoscx": AoscxDevice,
    "aruba_os": AossDevice,
    "cisco_asa": AsaDevice,
    "cisco_ios": IosDevice,
    "cisco_nxos": NxosDevice,
    "cisco_xe": XeDevice,
    "fortinet": FortinetDevice,
    "hp_comware": ComwareDevice,
    "juniper_junos": JunosDevice,
    "paloalto_panos": PanosDevice,
}
