"""Independent ways to look at the lab, for the integration tests.

The checks here do not go through isolement: they read the devices with vtysh and nft inside the
namespaces, and send their own pings, so a bug in isolement cannot hide itself.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ISOLEMENT = str(REPO / ".venv" / "bin" / "isolement")
LAB_DIR = Path("/run/isolement-lab")
ROUTERS = ["dc-rtr", "h1-rtr", "h2-rtr"]
FIREWALLS = ["dc-fw", "h1-fw", "h2-fw"]
# Vendor platforms' emulators (lab/profiles/), node -> platform.
EMULATED = {
    "dc-core": "cisco_nxos",
    "h3-sw": "aruba_aoscx",
    "h3-fw": "fortinet",
    "h4-sw": "alcatel_aos",
    "h4-fw": "paloalto_panos",
    "h5-sw": "juniper_junos",
    "h5-fw": "cisco_asa",
    "dc-xe": "cisco_xe",
    "dc-eos": "arista_eos",
    "dc-aoss": "aruba_os",
    "dc-cw": "hp_comware",
}
HOSTS = {
    "dc": "198.18.10.10",
    "h1": "198.18.20.10",
    "h2": "198.18.30.10",
    "h3": "198.18.40.10",
    "h4": "198.18.50.10",
    "h5": "198.18.60.10",
}
INTERNET_HOST = "198.18.250.10"
# The lab's emulated devices whose commit takes its time, as a real one's does (PAN-OS 1.2 s,
# Junos 1.0 s in lab/hospital-group.yaml): the crash tests need that window and ask for it;
# the other tests run with QUICK_COMMIT_S (a cut or restore waits for its slowest commit).
SLOW_COMMITS = ["h4-fw", "h5-sw"]
QUICK_COMMIT_S = 0.1
# The datacentre's servers behind its access switches (site dc, host `srv-<platform>`).
SERVERS = {
    "cisco_xe": "198.18.16.10",
    "arista_eos": "198.18.17.10",
    "aruba_os": "198.18.18.10",
    "hp_comware": "198.18.19.10",
}

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the lab needs root")


def run_cli(*args: str, state_dir: Path, inventory: Path | None = None):
    command = [ISOLEMENT]
    if inventory is not None:
        command += ["--inventory", str(inventory)]
    # The journal's heads anchored beside the state directory, standing for another medium, so
    # that `journal verify` can say "intact" of what was anchored.
    env = {
        **os.environ,
        "ISOLEMENT_STATE_DIR": str(state_dir),
        "ISOLEMENT_ANCHOR_DIR": str(state_dir.parent / "anchors"),
    }
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def ping(site: str, address: str, host: str = "host") -> bool:
    """Real packets from a lab host (`iso-<site>-<host>`): does the address answer?"""
    done = subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            f"iso-{site}-{host}",
            "ping",
            "-n",
            "-q",
            "-c",
            "2",
            "-i",
            "0.2",
            "-W",
            "1",
            address,
        ],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def eventually(check, timeout: float = 10.0) -> bool:
    """Whether `check()` comes true within `timeout` seconds: a router puts its routes back a
    moment after an interface comes up (longer on a loaded machine)."""
    import time

    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)
    return True


def pings(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], bool]:
    """Many `ping`s at once: (site, address) -> answered."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=16) as pool:
        return dict(zip(pairs, pool.map(lambda pair: ping(*pair), pairs), strict=True))


def at_once(checks: dict[str, Callable[[], bool]]) -> dict[str, bool]:
    """Each named check run at the same time as the others: name -> its result. A check that
    must fail (a ping or a connection blocked) waits out its whole timeout; side by side, a
    list of them takes one timeout, not one each. Each still sends its own packets."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = {name: pool.submit(check) for name, check in checks.items()}
        return {name: future.result() for name, future in futures.items()}


def web(site: str) -> bool:
    """A TCP connection to the internet host's web server, from the site's host."""
    done = subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            f"iso-{site}-host",
            "timeout",
            "2",
            "bash",
            "-c",
            f"exec 3<>/dev/tcp/{INTERNET_HOST}/80",
        ],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def vtysh(router: str, *commands: str) -> str:
    """Run vtysh commands on a lab router directly (not through isolement)."""
    args = [arg for command in commands for arg in ("-c", command)]
    return subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            f"iso-{router}",
            "vtysh",
            "--vty_socket",
            str(LAB_DIR / router / "run"),
            "--config_dir",
            str(LAB_DIR / router),
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def running_config(router: str) -> str:
    return vtysh(router, "show running-config")


def vtysh_config(router: str, *lines: str) -> None:
    vtysh(router, "configure terminal", *lines)


def ruleset(firewall: str, handles: bool = False) -> str:
    return subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            f"iso-{firewall}",
            "nft",
            *(["-a"] if handles else []),
            "list",
            "ruleset",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def emulated_state(node: str) -> dict[str, object]:
    """An emulated device's running state, as its lab process wrote it after the last change
    it put in effect (interfaces' admin state, interfaces its policy blocks, its policies)."""
    state: dict[str, object] = json.loads((LAB_DIR / node / "state.json").read_text())
    return state


def control(node: str, wanted: dict[str, object] | None) -> None:
    """Write the emulated node's control file (lab/node.py ControlFile), or remove it (None:
    the node's own settings back), and return once its lab process says it is in effect."""
    import time

    from isolement.lab.node import CONTROL_READ, FAULTS_FILE

    log, path = LAB_DIR / node / "node.log", LAB_DIR / node / FAULTS_FILE
    if wanted is None and not path.exists():
        return
    seen = log.read_text().count(CONTROL_READ)
    if wanted is None:
        path.unlink()
    else:
        path.write_text(json.dumps(wanted))
    deadline = time.monotonic() + 10
    while log.read_text().count(CONTROL_READ) == seen:
        assert time.monotonic() < deadline, f"{node} did not read its control file"
        time.sleep(0.02)


def kernel_link_up(node: str, ifname: str) -> bool:
    """Whether the namespace's real link is administratively up (what the emulator drove)."""
    line = in_netns(node, "ip", "-o", "link", "show", "dev", ifname)
    flags = line[line.index("<") + 1 : line.index(">")].split(",")
    return "UP" in flags


def device_configs(handles: bool = False) -> dict[str, str]:
    configs = {r: running_config(r) for r in ROUTERS}
    configs |= {f: ruleset(f, handles) for f in FIREWALLS}
    configs |= {e: json.dumps(emulated_state(e), sort_keys=True) for e in EMULATED}
    configs |= {f"{e} nft": ruleset(e) for e in EMULATED}
    return configs


def journal_records(state_dir: Path) -> list[dict[str, object]]:
    path = state_dir / "lab-hospital-group" / "journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def lab_pid(name: str) -> int:
    """PID of a process the lab started (e.g. 'h1-rtr/zebra'), from the lab's manifest."""
    manifest = json.loads((LAB_DIR / "manifest.json").read_text())
    return int(next(p["pid"] for p in manifest["processes"] if p["name"] == name))


def in_netns(node: str, *command: str) -> str:
    return subprocess.run(
        ["ip", "netns", "exec", f"iso-{node}", *command],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def lab_inventory_copy(tmp_path: Path, change) -> Path:
    """The lab inventory with `change(data)` applied, written next to the test's files."""
    import yaml

    data = yaml.safe_load((REPO / "inventories" / "lab.yaml").read_text())
    change(data)
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(data))
    return path
