"""The lab's state read straight from the devices, never through isolement: each FRR router's
running configuration (vtysh), each Linux firewall's ruleset (nft), each emulated device's
running state and the nftables its data plane loaded, and every node's links' admin state. A
drill takes it before and after, and the two must be equal: the lab is back exactly."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .topology import NodeKind, Topology


def lab_state(topology: Topology, lab_dir: Path) -> dict[str, str]:
    """Node (and aspect) -> its state as text, for every managed node of the topology."""
    reads: dict[str, list[str]] = {}
    for name, node in topology.managed().items():
        netns = ["ip", "netns", "exec", f"iso-{name}"]
        reads[f"{name} links"] = [*netns, "ip", "-o", "link", "show"]
        if node.kind is NodeKind.FRR:
            reads[name] = [
                *netns,
                "vtysh",
                "--vty_socket",
                str(lab_dir / name / "run"),
                "--config_dir",
                str(lab_dir / name),
                "-c",
                "show running-config",
            ]
        else:
            reads[f"{name} nft"] = [*netns, "nft", "list", "ruleset"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = dict(zip(reads, pool.map(_read, reads.values()), strict=True))
    for aspect, text in list(found.items()):
        if aspect.endswith(" links"):
            found[aspect] = _admin_states(text)
    for name, node in topology.managed().items():
        if node.kind is NodeKind.EMULATED:
            state = json.loads((lab_dir / name / "state.json").read_text())
            found[name] = json.dumps(state, sort_keys=True)
    return found


def differences(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The aspects that differ, by name (both sides read the same nodes)."""
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def _read(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return done.stdout if done.returncode == 0 else f"unreadable: {done.stderr.strip()}"


def _admin_states(text: str) -> str:
    """`ip -o link` reduced to each link's name and whether it is administratively up (its
    counters and carrier come and go with the far end)."""
    states = []
    for line in text.splitlines():
        words = line.split()
        if len(words) < 3:
            continue
        flags = words[2].strip("<>").split(",")
        states.append(f"{words[1].split('@')[0].rstrip(':')} {'up' if 'UP' in flags else 'down'}")
    return "\n".join(sorted(states))
