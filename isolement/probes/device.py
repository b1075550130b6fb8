"""Probes sent from a managed device through its driver's own ping.

A placeholder until device-sourced probes land (they are another helper's): every such probe
is answered UNAVAILABLE, which proves nothing either way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from isolement.model.inventory import Probe
from isolement.probes.outcome import ProbeOutcome, ProbeResult

if TYPE_CHECKING:
    from isolement.flows.runtime import Runtime


def run_device_probes(rt: Runtime, probes: list[Probe]) -> list[ProbeOutcome]:
    return [
        ProbeOutcome(
            p, ProbeResult.UNAVAILABLE, "device-sourced probes are not available in this build"
        )
        for p in probes
    ]
