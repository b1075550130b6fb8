"""Emulated estates for the benchmarks: N emulated Cisco IOS devices served on 127.0.0.1 by one
or more emulator processes (lab/emulator.py), the inventory and playbooks isolement reads for
them, and generated inventories of many links for the planner's benchmark.

The emulator processes are this module run as a script (`--serve`), one per slice of the
devices, so that the SSH servers of a large estate do not share one interpreter's lock. Each
speaks a line protocol on stdin/stdout (see `serve`); `Fleet` drives them all. Nothing here
listens anywhere but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

INTERFACES = ("GigabitEthernet0/0", "GigabitEthernet0/1")
TARGETED = INTERFACES[0]
SITES = 10
USERNAME = "isolement"
KEY_FILE = "id_ed25519"
PLAYBOOK_NAME = "bench-cut-internet"
PLAYBOOK = {
    "name": PLAYBOOK_NAME,
    "description": "cut every emulated device's internet link",
    "cut": [{"select": {"kind": "internet"}, "method": "auto"}],
}
# One emulator process serves at most this many devices by default: at 250 devices a process
# answers a 1000-device connection storm without its accept loop or its lock being the limit.
DEVICES_PER_EMULATOR = 250


def device_names(count: int) -> list[str]:
    return [f"r{i:04d}" for i in range(count)]


def raise_open_files_limit() -> None:
    """Every session is a socket on both sides: lift the soft limit to the hard one (what the
    isolement CLI does for itself), for this process and the ones it starts."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- what isolement reads ------------------------------------------------------------------


def estate_inventory(ports: Mapping[str, int], name: str = "bench-emulated") -> dict[str, object]:
    """The inventory of emulated devices (as YAML data): one `internet` link per device on
    `TARGETED`, the devices spread over `SITES` sites, the host keys in `known_hosts` and the
    login key in `KEY_FILE` beside the inventory."""
    from isolement.lab.emulator import exit_links, inventory_for

    names = sorted(ports)
    return inventory_for(
        name,
        ports,
        username=USERNAME,
        key_file=KEY_FILE,
        sites={device: f"s{n % SITES:02d}" for n, device in enumerate(names)},
        links=exit_links(names, TARGETED),
    )


def write_estate(work: Path, ports: Mapping[str, int]) -> tuple[Path, Path]:
    """Write the inventory and a playbooks directory holding `PLAYBOOK`; (inventory, playbooks).
    Also `targets.json` ({device: port}), the device list of the plain scripts."""
    (work / "targets.json").write_text(json.dumps(dict(sorted(ports.items()))))
    inventory = work / "inventory.yaml"
    inventory.write_text(yaml.safe_dump(estate_inventory(ports), sort_keys=False))
    playbooks = work / "playbooks"
    playbooks.mkdir(exist_ok=True)
    (playbooks / f"{PLAYBOOK_NAME}.yaml").write_text(yaml.safe_dump(PLAYBOOK, sort_keys=False))
    return inventory, playbooks


def planning_inventory(links: int, *, sites: int = 50, chain: int = 4) -> dict[str, object]:
    """An inventory of `links` links (rounded up to even) on links/2 routers, for the planner's
    benchmark; no device behind it. Router i has an internet exit `inet-i` on Gi0/0 and a WAN
    link `wan-i` to router i+1 (Gi0/1 to its Gi0/2), in a ring. In each run of `chain` routers,
    every router but the first is managed in-band through the WAN link from its predecessor, so
    a plan that cuts everything has to order `chain` waves and spare those ends."""
    count = max(2, math.ceil(links / 2))
    names = [f"d{i:05d}" for i in range(count)]
    devices: dict[str, object] = {}
    for i, name in enumerate(names):
        device: dict[str, object] = {
            "site": f"s{i * sites // count:03d}",
            "role": "router",
            "platform": "cisco_ios",
            "host": f"{name}.bench.invalid",
            "credential": "ops",
        }
        if i % chain:
            device["managed_via"] = [f"wan-{i - 1:05d}"]
        devices[name] = device
    link_map: dict[str, object] = {}
    for i, name in enumerate(names):
        link_map[f"inet-{i:05d}"] = {
            "kind": "internet",
            "endpoints": [{"device": name, "interface": "GigabitEthernet0/0"}],
        }
        link_map[f"wan-{i:05d}"] = {
            "kind": "intersite",
            "endpoints": [
                {"device": name, "interface": "GigabitEthernet0/1"},
                {"device": names[(i + 1) % count], "interface": "GigabitEthernet0/2"},
            ],
        }
    return {
        "name": f"bench-planning-{len(link_map)}",
        "known_hosts": "known_hosts",
        "credentials": {"ops": {"username": USERNAME, "key_file": KEY_FILE}},
        "sites": {f"s{n:03d}": {} for n in sorted({i * sites // count for i in range(count)})},
        "devices": devices,
        "links": link_map,
    }


PLANNING_PLAYBOOK = {
    "name": "bench-cut-all",
    "description": "cut every WAN link and every internet exit",
    "cut": [{"select": {"kind": ["intersite", "internet"]}, "method": "auto"}],
}


# --- one emulator process -------------------------------------------------------------------


def serve(args: argparse.Namespace) -> int:
    """Serve the devices named in `--names` until stdin closes. One line each way: writes
    `ready` once listening (ports in `ports-K.json`, host keys in `known_hosts-K`); answers
    `stats` with its CPU, peak RSS and session peak (the peak then counts again from now);
    `state` with the devices whose `TARGETED` port is shut and how many other ports are shut;
    `reopen` by reopening every shut `TARGETED` port itself (as a colleague on the console
    would), with how many it reopened."""
    import paramiko
    from isolement.lab.emulator import DeviceSpec, Emulator, InterfaceSpec

    raise_open_files_limit()
    work = Path(args.work)
    names = args.names.split(",")
    key = paramiko.Ed25519Key(filename=str(work / KEY_FILE))
    specs = [DeviceSpec(name, [InterfaceSpec(i) for i in INTERFACES]) for name in names]
    emulator = Emulator(
        specs, key, username=USERNAME, latency=args.latency, login_latency=args.login_latency
    )
    emulator.start()
    emulator.write_known_hosts(work / f"known_hosts-{args.index}")
    (work / f"ports-{args.index}.json").write_text(json.dumps(emulator.ports))
    print("ready", flush=True)
    try:
        for line in sys.stdin:
            request = line.strip()
            answer: dict[str, Any]
            if request == "stats":
                answer = {
                    "max_sessions": emulator.reset_session_peak(),
                    "active": emulator.active_sessions,
                    "rss_mb": _rss_mb(),
                    "cpu_s": _cpu_s(),
                }
            elif request == "state":
                devices = emulator.devices.values()
                answer = {
                    "cut": sorted(d.name for d in devices if d.is_shutdown(TARGETED)),
                    "other_shut": sum(
                        1 for d in devices for i in d.shutdown_interfaces() if i != TARGETED
                    ),
                }
            elif request == "reopen":
                reopened = 0
                for device in emulator.devices.values():
                    if device.is_shutdown(TARGETED):
                        device.set_shutdown(TARGETED, False)
                        reopened += 1
                answer = {"reopened": reopened}
            else:
                answer = {"error": f"unknown request {request!r}"}
            print(json.dumps(answer), flush=True)
    finally:
        emulator.stop()
    return 0


class _EmulatorProcess:
    def __init__(self, work: Path, index: int, names: list[str], args: list[str]):
        command = [sys.executable, __file__, "--serve", "--work", str(work), "--index", str(index)]
        command += ["--names", ",".join(names), *args]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def readline(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def ask(self, request: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(request + "\n")
        self.process.stdin.flush()
        line = self.readline()
        if not line:
            pid, code = self.process.pid, self.process.poll()
            raise RuntimeError(f"emulator process {pid} ended (exit {code})")
        return dict(json.loads(line))

    def stop(self) -> None:
        try:
            self.process.communicate(timeout=30)  # closes stdin: the emulator stops
        except subprocess.TimeoutExpired:
            self.process.kill()  # our own child, by its handle
            self.process.wait()


class Fleet:
    """N emulated IOS devices over ceil(N / per_process) emulator processes, all on 127.0.0.1;
    `ports` maps every device to its port, and `work/known_hosts` holds every host key.

        with Fleet(work, 200, latency=0.02, login_latency=0.2) as fleet:
            write_estate(work, fleet.ports)
            ...
            fleet.cut_devices()   # the devices whose targeted port is shut now

    `work` must hold the login key (`KEY_FILE`, see lab.emulator.generate_login_key)."""

    def __init__(
        self,
        work: Path,
        devices: int,
        *,
        latency: float,
        login_latency: float = 0.0,
        per_process: int = DEVICES_PER_EMULATOR,
    ):
        names = device_names(devices)
        slices = math.ceil(devices / max(1, per_process))
        size = math.ceil(devices / slices)
        options = ["--latency", str(latency), "--login-latency", str(login_latency)]
        self.names = names
        self._processes: list[_EmulatorProcess] = []
        try:
            for k in range(slices):
                part = names[k * size : (k + 1) * size]
                self._processes.append(_EmulatorProcess(work, k, part, options))
            for process in self._processes:
                if process.readline() != "ready":
                    raise RuntimeError("an emulator process did not start")
        except BaseException:
            self.stop()
            raise
        self.ports: dict[str, int] = {}
        known_hosts: list[str] = []
        for k in range(slices):
            self.ports.update(json.loads((work / f"ports-{k}.json").read_text()))
            known_hosts.append((work / f"known_hosts-{k}").read_text())
        (work / "known_hosts").write_text("".join(known_hosts))

    @property
    def processes(self) -> int:
        return len(self._processes)

    @property
    def pids(self) -> list[int]:
        return [p.process.pid for p in self._processes]

    def _ask_all(self, request: str) -> list[dict[str, Any]]:
        with ThreadPoolExecutor(len(self._processes)) as pool:
            return list(pool.map(lambda p: p.ask(request), self._processes))

    def stats(self) -> dict[str, float]:
        """CPU seconds and session peak summed over the processes, the largest peak RSS."""
        answers = self._ask_all("stats")
        return {
            "cpu_s": sum(a["cpu_s"] for a in answers),
            "max_sessions": sum(a["max_sessions"] for a in answers),
            "rss_mb": max(a["rss_mb"] for a in answers),
        }

    def cut_devices(self) -> set[str]:
        """The devices whose targeted port the emulator itself has shut now."""
        return {name for a in self._ask_all("state") for name in a["cut"]}

    def other_ports_shut(self) -> int:
        """How many ports other than the targeted ones are shut (none should be)."""
        return sum(int(a["other_shut"]) for a in self._ask_all("state"))

    def reopen(self) -> int:
        """Reopen every targeted port on the emulators themselves; how many were shut."""
        return sum(int(a["reopened"]) for a in self._ask_all("reopen"))

    def stop(self) -> None:
        for process in self._processes:
            process.stop()
        self._processes = []

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="one emulator process of a benchmark's estate")
    parser.add_argument("--serve", action="store_true", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--index", type=int, required=True)
    parser.add_argument("--names", required=True)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--login-latency", type=float, default=0.0)
    return serve(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
