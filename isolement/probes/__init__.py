"""Reachability probes: real packets that prove a cut (or a reopened path).

`run_probes` sends each probe from where the inventory says (a lab namespace, the controller,
a managed device) and answers in the probes' order. Every kind shares one meaning
(probes/outcome.py): a probe that could not run is UNAVAILABLE, never "passes" nor "blocked".
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from isolement.model.inventory import Probe
from isolement.probes import controller, namespace
from isolement.probes.outcome import ProbeOutcome, ProbeResult

if TYPE_CHECKING:
    from isolement.flows.runtime import Runtime


def _device_probes(rt: Runtime, probes: list[Probe]) -> list[ProbeOutcome]:
    from isolement.probes import device  # imported late: it needs the drivers and sessions

    return device.run_device_probes(rt, probes)


def run_probes(rt: Runtime, probes: list[Probe]) -> list[ProbeOutcome]:
    """Each probe's outcome, in the order given (probe names are unique in an inventory); the
    three kinds run side by side."""
    kinds = {
        "netns": [p for p in probes if p.from_netns is not None],
        "controller": [p for p in probes if p.from_controller],
        "device": [p for p in probes if p.from_device is not None],
    }
    if probes:
        rt.watchers.probes_started([p.name for p in probes])
    with ThreadPoolExecutor(max_workers=3) as pool:
        running = {
            "netns": pool.submit(namespace.run_probes, kinds["netns"]),
            "controller": pool.submit(controller.run_probes, kinds["controller"]),
            "device": pool.submit(_device_probes, rt, kinds["device"]),
        }
        found: dict[str, ProbeOutcome] = {}
        for kind, future in running.items():
            try:
                outcomes = future.result()
            except Exception as exc:  # noqa: BLE001 - a kind that failed proves nothing; others count
                outcomes = [
                    ProbeOutcome(p, ProbeResult.UNAVAILABLE, f"{type(exc).__name__}: {exc}")
                    for p in kinds[kind]
                ]
            found.update((o.probe.name, o) for o in outcomes)
            if outcomes:
                rt.watchers.probes_done({o.probe.name: str(o.result) for o in outcomes})
    return [
        found.get(p.name, ProbeOutcome(p, ProbeResult.UNAVAILABLE, "no answer from its runner"))
        for p in probes
    ]
