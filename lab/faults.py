"""The bad night, injected by name into a drill: what goes wrong, on which device or link, and
how it is put right again (what the team does once it has understood).

Faults that are the controller's view of the network (wrong credentials, a changed host key, a
link nobody put in the inventory) are made in the drill's own copy of the inventory and
known-hosts; faults of the devices themselves (down, slow, dropping a session, out of reach) are
made on the running lab, and each is undone exactly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from isolement.model.errors import InputError

from .node import FAULTS_FILE
from .topology import NodeKind, Topology

# Seconds per command of the slow-device fault: slow enough to be seen, well under the drill's
# command timeout, so the tool reports it slow, never refused.
SLOW_S = 1.5


class FaultName(StrEnum):
    DEVICE_DOWN = "device-down"
    WRONG_CREDENTIALS = "wrong-credentials"
    HOST_KEY_CHANGED = "host-key-changed"
    SLOW_DEVICE = "slow-device"
    SESSION_DROP = "session-drop"
    UNKNOWN_LINK = "unknown-link"
    MANAGEMENT_LOST = "management-lost"


# What the fault is, and what the team had to do about it, in the drill report's words.
WHAT = {
    FaultName.DEVICE_DOWN: "{target} stops answering (its management processes are frozen)",
    FaultName.WRONG_CREDENTIALS: "the inventory's credential for {target} is refused",
    FaultName.HOST_KEY_CHANGED: "{target} presents a host key other than the known one",
    FaultName.SLOW_DEVICE: f"{{target}} answers each command {SLOW_S} s late",
    FaultName.SESSION_DROP: "{target} drops the session at its first configuration line",
    FaultName.UNKNOWN_LINK: "{target}, a real path, is missing from the inventory",
    FaultName.MANAGEMENT_LOST: "{target}'s management link is down (the device still forwards)",
}
TEAM = {
    FaultName.DEVICE_DOWN: "brought {target} back (on site), then ran the cut again",
    FaultName.WRONG_CREDENTIALS: "fixed the credential, then ran the cut again",
    FaultName.HOST_KEY_CHANGED: (
        "checked the new key out of band and put it in known_hosts, then ran the cut again"
    ),
    FaultName.SLOW_DEVICE: "nothing: waited",
    FaultName.SESSION_DROP: "nothing, if the tool's retry converged; else ran the cut again",
    FaultName.UNKNOWN_LINK: (
        "found the path from the packets, added {target} to the inventory, ran the cut again"
    ),
    FaultName.MANAGEMENT_LOST: "restored {target}'s management link, then ran the cut again",
}
# Faults on a device vs on a link; the emulator's faults need an emulated device.
_ON_LINK = {FaultName.UNKNOWN_LINK}
_EMULATED_ONLY = {FaultName.SLOW_DEVICE, FaultName.SESSION_DROP}


@dataclass(frozen=True)
class Fault:
    name: FaultName
    target: str

    @property
    def what(self) -> str:
        return WHAT[self.name].format(target=self.target)

    @property
    def team(self) -> str:
        return TEAM[self.name].format(target=self.target)


def parse_faults(
    texts: Sequence[str],
    topology: Topology,
    devices: Sequence[str],
    links: Sequence[str],
) -> list[Fault]:
    """`--faults device-down,slow-device=est-sw ...`: each a fault's name, with `=TARGET` or
    the topology's default target for it. Refused (InputError) before anything is touched: an
    unknown fault, a target the inventory does not have, a fault given twice."""
    faults: list[Fault] = []
    for text in (part.strip() for chunk in texts for part in chunk.split(",")):
        if not text:
            continue
        name_text, _, target = text.partition("=")
        try:
            name = FaultName(name_text)
        except ValueError:
            known = ", ".join(f.value for f in FaultName)
            raise InputError(f"--faults: unknown fault {name_text!r}; known: {known}") from None
        target = target or topology.drill_faults.get(name.value, "")
        if not target:
            raise InputError(
                f"--faults {name}: name its target ({name}=DEVICE): lab {topology.name} has no "
                "default one"
            )
        known_targets = links if name in _ON_LINK else devices
        if target not in known_targets:
            kind = "link" if name in _ON_LINK else "device"
            raise InputError(f"--faults {name}={target}: no {kind} {target!r} in the inventory")
        if name in _EMULATED_ONLY and topology.nodes[target].kind is not NodeKind.EMULATED:
            emulated = sorted(n for n, s in topology.nodes.items() if s.kind is NodeKind.EMULATED)
            raise InputError(
                f"--faults {name}={target}: only an emulated device can be made to do that; "
                f"emulated here: {', '.join(emulated)}"
            )
        if name is FaultName.MANAGEMENT_LOST and topology.nodes[target].inband:
            raise InputError(
                f"--faults {name}={target}: {target} is managed in-band; its management path is "
                "a data link: lose it with a cut, or name an out-of-band device"
            )
        if any(f.name is name for f in faults):
            raise InputError(f"--faults: {name} given twice")
        faults.append(Fault(name, target))
    return faults


def faulty_inventory(
    data: Mapping[str, Any], faults: Sequence[Fault], drill_dir: Path, known_hosts: Path
) -> dict[str, Any]:
    """The inventory as the controller sees it on the bad night: a copy of `data` with the
    inventory-side faults made, its known-hosts the drill's own copy (changed for a host key
    fault). Returns the new inventory data (the caller writes it)."""
    changed: dict[str, Any] = json.loads(json.dumps(data))
    lines = known_hosts.read_text().splitlines()
    for fault in faults:
        if fault.name is FaultName.WRONG_CREDENTIALS:
            key = _new_key(drill_dir / f"wrong-{fault.target}")
            credential = changed["devices"][fault.target]["credential"]
            wrong = dict(changed["credentials"][credential], key_file=str(key))
            changed["credentials"][f"{credential}-{fault.target}"] = wrong
            changed["devices"][fault.target]["credential"] = f"{credential}-{fault.target}"
        elif fault.name is FaultName.HOST_KEY_CHANGED:
            host = changed["devices"][fault.target]["host"]
            other = _new_key(drill_dir / f"hostkey-{fault.target}").with_suffix(".pub")
            kind, blob = other.read_text().split()[:2]
            lines = [f"{host} {kind} {blob}" if ln.split()[0] == host else ln for ln in lines]
        elif fault.name is FaultName.UNKNOWN_LINK:
            del changed["links"][fault.target]
            for probe in changed.get("probes", []):
                probe["crosses"] = [c for c in probe.get("crosses", []) if c != fault.target]
            changed["probes"] = [
                p for p in changed.get("probes", []) if p.get("crosses") or "crosses" not in p
            ]
    copy = drill_dir / "known_hosts"
    copy.write_text("\n".join(lines) + "\n")
    changed["known_hosts"] = str(copy)
    return changed


def _new_key(path: Path) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "drill", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path


class DeviceFaults:
    """The device-side faults, made on the running lab and undone exactly, each once."""

    def __init__(self, topology: Topology, lab_dir: Path, processes: Sequence[Mapping[str, Any]]):
        self._topology = topology
        self._lab_dir = lab_dir
        self._processes = processes
        self._undo: dict[Fault, Callable[[], None]] = {}

    def inject(self, fault: Fault) -> None:
        if fault.name is FaultName.DEVICE_DOWN:
            pids = self._management_pids(fault.target)
            _signal(pids, signal.SIGSTOP)
            self._undo[fault] = lambda: _signal(pids, signal.SIGCONT)
        elif fault.name is FaultName.MANAGEMENT_LOST:
            _netns(fault.target, "ip", "link", "set", "mgmt0", "down")
            self._undo[fault] = lambda: _netns(fault.target, "ip", "link", "set", "mgmt0", "up")
        elif fault.name in (FaultName.SLOW_DEVICE, FaultName.SESSION_DROP):
            control = self._lab_dir / fault.target / FAULTS_FILE
            wanted = (
                {"latency": SLOW_S}
                if fault.name is FaultName.SLOW_DEVICE
                else {"drop_after_config_lines": 1, "drop_once": True}
            )
            control.write_text(json.dumps(wanted))
            self._undo[fault] = lambda: control.unlink(missing_ok=True)

    def clear(self, fault: Fault) -> None:
        undo = self._undo.pop(fault, None)
        if undo is not None:
            undo()

    def clear_all(self) -> None:
        for fault in list(self._undo):
            self.clear(fault)

    def _management_pids(self, node: str) -> list[int]:
        """The processes a login reaches (sshd, or the emulator): not FRR's routing daemons."""
        return [
            int(p["pid"])
            for p in self._processes
            if str(p["name"]).split("/")[0] == node
            and str(p["name"]).split("/")[1] not in ("zebra", "staticd")
        ]


def _signal(pids: Sequence[int], which: signal.Signals) -> None:
    for pid in pids:
        os.kill(pid, which)


def _netns(node: str, *command: str) -> None:
    subprocess.run(
        ["ip", "netns", "exec", f"iso-{node}", *command], check=True, capture_output=True
    )
