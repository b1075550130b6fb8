"""Reachability probes with real packets, sent from inside the lab's network namespaces."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from isolement.model.inventory import Probe
from isolement.probes.outcome import ProbeOutcome, ProbeResult


def run_probe(probe: Probe) -> ProbeOutcome:
    if probe.from_netns is None:
        return ProbeOutcome(probe, ProbeResult.UNAVAILABLE, f"sent from the {probe.origin}")
    if not Path("/run/netns", probe.from_netns).exists():
        return ProbeOutcome(probe, ProbeResult.UNAVAILABLE, f"no namespace {probe.from_netns}")
    netns = ["ip", "netns", "exec", probe.from_netns]
    if probe.port is not None:
        # A TCP connection, opened and closed by a shell inside the probe's namespace.
        tcp = f"exec 3<>/dev/tcp/{probe.to}/{probe.port}"
        command = [*netns, "timeout", "2", "bash", "-c", tcp]
    else:
        # Two echo requests a fifth of a second apart: one lost packet on a healthy veth is
        # not taken for a cut, and a blocked path is known within about a second.
        command = [*netns, "ping", "-n", "-q", "-c", "2", "-i", "0.2", "-W", "1", str(probe.to)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    result = ProbeResult.PASSES if done.returncode == 0 else ProbeResult.BLOCKED
    summary = done.stdout.strip().splitlines()[-2:] if done.stdout.strip() else [done.stderr]
    return ProbeOutcome(probe, result, " ".join(s.strip() for s in summary))


def run_probes(probes: list[Probe]) -> list[ProbeOutcome]:
    if not probes:
        return []
    with ThreadPoolExecutor(max_workers=min(32, len(probes))) as pool:
        return list(pool.map(run_probe, probes))
