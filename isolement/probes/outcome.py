"""What a probe found: the one meaning every kind of probe (namespace, controller, device) shares.

UNAVAILABLE is a probe that could not run (no namespace, no route from the controller, a device
out of reach or without a ping the driver can read): it proves nothing either way, so it is never
counted as "passes" nor as "blocked".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from isolement.model.inventory import Probe


class ProbeResult(StrEnum):
    PASSES = "passes"
    BLOCKED = "blocked"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class ProbeOutcome:
    probe: Probe
    result: ProbeResult
    detail: str = ""
