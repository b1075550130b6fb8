"""A two-wave cut whose devices are slow to print their configuration: what reading the later
waves' snapshots ahead (isolement/flows/evidence.py) saves. bench_containment.py's estate is
one wave, where nothing is read ahead.

PAIRS pairs of emulated IOS devices on 127.0.0.1 (lab/emulator.py): `edgeN`, managed in-band
through `wanN`, whose internet exit is cut in wave 1, and `coreN`, which cuts `wanN` in wave 2;
each answers `show running-config` after SLOW seconds, as a switch with a large configuration
does. The cut runs in this process (containment.cut, the sessions through netmiko); its wall
time is printed, the pre-flight included.

    .venv/bin/python bench/bench_snapshot_ahead.py [--pairs 4,20] [--slow 1.0]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import yaml
from isolement.lab.emulator import DeviceSpec, Emulator, generate_login_key, inventory_for

from isolement.flows import containment
from isolement.flows.runtime import Runtime
from isolement.model.inventory import load_inventory
from isolement.model.playbook import load_playbook

GI0, GI1 = "GigabitEthernet0/0", "GigabitEthernet0/1"
PLAYBOOK = {"name": "cut-all", "cut": [{"select": {"kind": ["intersite", "internet"]}}]}


def two_waves(pairs: int) -> tuple[list[str], dict[str, object], dict[str, str]]:
    """The devices, the links and each device's site."""
    devices, links, sites = [], {}, {}
    for n in range(1, pairs + 1):
        core, edge = f"core{n}", f"edge{n}"
        devices += [core, edge]
        sites |= {core: "dc", edge: f"s{n}"}
        links[f"wan{n}"] = {
            "kind": "intersite",
            "endpoints": [{"device": core, "interface": GI1}, {"device": edge, "interface": GI1}],
        }
        links[f"inet-{edge}"] = {
            "kind": "internet",
            "endpoints": [{"device": edge, "interface": GI0}],
        }
    return devices, links, sites


def cut_once(pairs: int, slow: float) -> tuple[float, str, int]:
    """The cut's wall time, its outcome and its number of waves, on a fresh estate."""
    with tempfile.TemporaryDirectory() as work:
        tmp = Path(work)
        key_file = tmp / "id_ed25519"
        key = generate_login_key(key_file)
        devices, links, sites = two_waves(pairs)
        with Emulator([DeviceSpec(d, [GI0, GI1]) for d in devices], key) as emu:
            emu.write_known_hosts(tmp / "known_hosts")
            for device in devices:
                emu.device(device).set_faults(slow_on="show running-config", slow_s=slow)
            data = inventory_for(
                "snapshot-ahead",
                emu.ports,
                username="isolement",
                key_file=str(key_file),
                links=links,
                sites=sites,
            )
            for n in range(1, pairs + 1):
                data["devices"][f"edge{n}"]["managed_via"] = [f"wan{n}"]  # type: ignore[index]
            (tmp / "inventory.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
            (tmp / "cut-all.yaml").write_text(yaml.safe_dump(PLAYBOOK))
            rt = Runtime(load_inventory(tmp / "inventory.yaml"), tmp / "state" / "journal.jsonl")
            playbook = load_playbook(str(tmp / "cut-all.yaml"), tmp)
            started = time.monotonic()
            report = containment.cut(rt, playbook, {}, reason="bench", operator="bench")
            wall = time.monotonic() - started
            return wall, str(report.outcome), len({s.wave for s in report.plan.steps})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default="4,20", help="edge/core pairs, comma-separated")
    parser.add_argument("--slow", type=float, default=1.0, help="seconds per show running-config")
    args = parser.parse_args()
    for pairs in [int(p) for p in args.pairs.split(",")]:
        wall, outcome, waves = cut_once(pairs, args.slow)
        print(
            f"{2 * pairs} devices, {waves} waves, show running-config {args.slow:g} s: "
            f"cut {wall:.2f} s ({outcome})"
        )


if __name__ == "__main__":
    main()
