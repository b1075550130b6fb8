"""One emulated vendor device as a lab node: `python -m isolement.lab.node CONFIG.json`.

`lab up` starts it inside the node's network namespace. It serves the platform's emulated CLI
over SSH on the node's management address, port 22, and keeps the namespace's real data plane
in step with the device's running state:

- an interface the device has administratively down is a kernel link set down (its veth peer
  loses carrier too, as a cable would);
- an interface whose traffic the device's running policy drops (a deny policy placed first, an
  ACL entry at line 1) has its forwarded packets dropped by nftables, in both directions, in a
  table of its own (`inet emulated`), so the lab's base firewall ruleset is never touched; the
  flows an allow above that deny lets through (a bubble) are accepted before the drops;
- after each change the running state is written to `state.json` beside the config, which the
  integration tests read to check the emulated device itself, alongside real packets.

Lab down ends the process by its PID (SIGTERM); the namespace, and all it holds, goes with it.
SIGHUP restarts the device: its running state becomes what it last saved (`write memory`, a
commit, or each change on a FortiGate), as after a reboot, and the data plane follows.
"""

from __future__ import annotations

import base64
import dataclasses
import ipaddress
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import paramiko

from .device import Bubble, DeviceSpec, Echoes, EmulatedDevice, InterfaceSpec, Reply
from .emulator import LAB_RANGE, Emulator

TABLE = "inet emulated"


def nft_blocking(kernel_names: list[str], bubbles: Sequence[Bubble] = ()) -> str:
    """One nft transaction replacing the emulated table with drops for these interfaces, each
    bubble's flow (`Bubble.interface` a kernel name here) accepted before them.

    `add` then `delete` makes the delete succeed whether or not the table exists yet, so the
    whole replacement is one atomic transaction on every nftables version."""
    lines = [f"add table {TABLE}", f"delete table {TABLE}", f"table {TABLE} {{"]
    lines.append("  chain forward {")
    # Before the lab's own filter (priority 0): a drop here wins over its accepts.
    lines.append("    type filter hook forward priority -50; policy accept;")
    for bubble in bubbles:
        lines += _accepts(bubble)
    for name in sorted(kernel_names):
        lines += [f'    iifname "{name}" drop', f'    oifname "{name}" drop']
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def _accepts(bubble: Bubble) -> list[str]:
    """The flow through the interface, whichever way it crosses it, and its replies only (a
    firewall is stateful: the far side opens nothing of its own through the bubble)."""
    there = f"ip saddr {bubble.source} ip daddr {bubble.destination}"
    back = f"ip saddr {bubble.destination} ip daddr {bubble.source}"
    if bubble.protocol == "icmp":
        there, back = f"{there} ip protocol icmp", f"{back} ip protocol icmp"
    elif bubble.port:
        there = f"{there} {bubble.protocol} dport {bubble.port}"
        back = f"{back} {bubble.protocol} sport {bubble.port}"
    else:
        there, back = (
            f"{there} meta l4proto {bubble.protocol}",
            f"{back} meta l4proto {bubble.protocol}",
        )
    return [
        f'    {key} "{bubble.interface}" {match} accept'
        for key in ("iifname", "oifname")
        for match in (there, f"{back} ct state established,related")
    ]


class NamespaceDataPlane:
    """Applies a device's running state to the namespace this process runs in."""

    def __init__(self, kernel_names: Mapping[str, str], state_file: Path, routes: list[str]):
        self._kernel = dict(kernel_names)  # platform name -> kernel name
        self._state_file = state_file
        self._routes = routes  # the node's static routes: "PREFIX via GATEWAY"
        self._admin_up: dict[str, bool] = {}
        self._blocked: tuple[frozenset[str], tuple[Bubble, ...]] | None = None

    def apply(self, device: EmulatedDevice) -> None:
        brought_up = False
        for name, up in device.admin_up().items():
            kernel = self._kernel.get(name)
            if kernel is not None and self._admin_up.get(kernel) != up:
                _run("ip", "link", "set", "dev", kernel, "up" if up else "down")
                brought_up |= up and kernel in self._admin_up
                self._admin_up[kernel] = up
        if brought_up:
            self._reinstall_routes()
        names = frozenset(self._kernel[n] for n in device.blocked_interfaces() if n in self._kernel)
        # A bubble matters only through an interface that is blocked.
        bubbles = tuple(
            dataclasses.replace(b, interface=self._kernel[b.interface])
            for b in device.bubbles()
            if b.interface in self._kernel and self._kernel[b.interface] in names
        )
        if (names, bubbles) != self._blocked:
            _run("nft", "-f", "-", input_text=nft_blocking(sorted(names), bubbles))
            self._blocked = (names, bubbles)
        state = {**device.state(), "kernel": self._kernel}
        partial = self._state_file.with_suffix(".tmp")
        partial.write_text(json.dumps(state, indent=1, sort_keys=True))
        os.replace(partial, self._state_file)

    def _reinstall_routes(self) -> None:
        """The kernel deletes the static routes through a link set down; a router puts them
        back when the interface comes up again, and so does the emulated one. A route whose
        gateway is still behind a down link stays out, as on a router."""
        for route in self._routes:
            prefix, _, gateway = route.split()
            subprocess.run(
                ["ip", "route", "replace", prefix, "via", gateway],
                capture_output=True,
                check=False,
            )


# Linux iputils' lines: a reply, and the summary.
_REPLY = re.compile(r"^\d+ bytes from \S+: icmp_seq=(\d+) ttl=(\d+) time=([\d.]+) ms$")
_SUMMARY = re.compile(r"^(\d+) packets transmitted, (\d+) received")


class NamespacePinger:
    """The emulated device's ping: the system's ping, run in this process's namespace (the
    node's own), from the address asked for, or from the address of the interface named (as a
    router's `source <interface>` does: the packets are routed as ever, only their source
    address is the interface's). Only lab addresses are pinged."""

    def __init__(self, addresses: Mapping[str, str]):
        self._addresses = dict(addresses)  # platform interface name -> its address

    def ping(self, to: str, source: str | None, count: int) -> Echoes:
        try:
            target = ipaddress.IPv4Address(to)
        except ValueError:
            return Echoes(to, source, 0, (), error=f"not an address: {to}")
        if target not in LAB_RANGE and not target.is_loopback:
            return Echoes(to, source, 0, (), error=f"{to} is outside the lab")
        command = ["ping", "-n", "-c", str(count), "-i", "0.2", "-W", "1"]
        if source is not None and not _is_address(source):
            if source not in self._addresses:
                return Echoes(to, source, 0, (), error=f"{source} has no IP address")
            source = self._addresses[source]
        if source is not None:
            command += ["-I", source]
        done = subprocess.run(
            [*command, str(target)],
            capture_output=True,
            text=True,
            timeout=2 * count + 5,
            check=False,
        )
        replies = []
        sent = None
        for line in done.stdout.splitlines():
            reply = _REPLY.match(line.strip())
            if reply:
                replies.append(Reply(int(reply[1]), int(reply[2]), float(reply[3])))
            summary = _SUMMARY.match(line.strip())
            if summary:
                sent = int(summary[1])
        if sent is None:
            return Echoes(to, source, 0, (), error=done.stderr.strip() or "ping failed")
        return Echoes(to, source, sent, tuple(replies))


def _is_address(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def _run(*command: str, input_text: str | None = None) -> None:
    done = subprocess.run(command, capture_output=True, text=True, input=input_text, check=False)
    if done.returncode != 0:
        # The CLI already answered; a data plane out of step must not pass unnoticed.
        print(f"data plane: {' '.join(command)}: {done.stderr.strip()}", file=sys.stderr)
        raise RuntimeError(done.stderr.strip())


def public_key(path: Path) -> paramiko.PKey:
    """The login key's public half, from its OpenSSH `.pub` line."""
    kind, blob = path.read_text().split()[:2]
    if kind != "ssh-ed25519":
        raise ValueError(f"{path}: expected an ssh-ed25519 key")
    return paramiko.Ed25519Key(data=base64.b64decode(blob))


def build(config: Mapping[str, Any]) -> tuple[Emulator, EmulatedDevice, NamespaceDataPlane]:
    interfaces = [
        InterfaceSpec(
            i["name"],
            shutdown=bool(i.get("shutdown", False)),
            address=i.get("address"),
        )
        for i in config["interfaces"]
    ]
    spec = DeviceSpec(
        config["name"],
        interfaces,
        platform=config["platform"],
        port=int(config["port"]),
        host_key=paramiko.Ed25519Key.from_private_key_file(config["host_key"]),
        options=config.get("options", {}),
    )
    emulator = Emulator(
        [spec],
        public_key(Path(config["authorized_key"])),
        username=config["username"],
        listen=config["listen"],
    )
    device = emulator.device(spec.name)
    plane = NamespaceDataPlane(
        {i["name"]: i["kernel"] for i in config["interfaces"]},
        Path(config["state_file"]),
        list(config.get("routes", [])),
    )
    return emulator, device, plane


# Written by a drill (lab/faults.py) to make the running device misbehave; removed to stop.
FAULTS_FILE = "faults.json"


# Said in node.log each time the control file's content is put in effect, so that whoever
# wrote it can wait for that.
CONTROL_READ = "control file in effect"


class ControlFile:
    """The drill's faults for this device, read from a file beside its config whenever it
    changes: `latency` (seconds per command, a slow device), `commit_seconds` (how long a
    commit takes, on a platform that has the option: PAN-OS, Junos), and the emulator's `Faults`
    (`drop_after_config_lines`, `drop_once`, ...). No file: no faults, the spec's latency and
    commit time. Each reading is said on stdout (node.log): CONTROL_READ."""

    def __init__(self, path: Path, device: EmulatedDevice):
        self._path = path
        self._device = device
        self._seen: float | None = None
        self._latency = device.latency
        self._commit_seconds: float | None = getattr(device, "commit_seconds", None)

    def poll(self) -> None:
        try:
            stamp: float | None = self._path.stat().st_mtime_ns
        except FileNotFoundError:
            stamp = None
        if stamp == self._seen:
            return
        self._seen = stamp
        wanted: dict[str, Any] = json.loads(self._path.read_text()) if stamp is not None else {}
        self._device.latency = wanted.pop("latency", self._latency)
        commit = wanted.pop("commit_seconds", self._commit_seconds)
        if self._commit_seconds is not None:
            self._device.commit_seconds = float(commit)  # type: ignore[attr-defined]
        cleared = {"drop_after_config_lines": None, "drop_once": False, "hang_after_login": False}
        self._device.set_faults(**(cleared | wanted))
        print(f"{self._device.name}: {CONTROL_READ}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    config = json.loads(Path(args[0]).read_text())
    emulator, device, plane = build(config)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    # SIGHUP: the device reboots, back to its saved configuration (#12 §3); the lab's tests
    # send it to restart an emulated device mid-containment.
    reboot = threading.Event()
    signal.signal(signal.SIGHUP, lambda *_: reboot.set())
    # The start state is in effect before the first login: shut ports down, denies loaded.
    plane.apply(device)
    device.dataplane = plane
    device.pinger = NamespacePinger(
        {
            i["name"]: i["address"].split("/")[0]
            for i in config["interfaces"]
            if i.get("address") not in (None, "None")
        }
    )
    emulator.start()
    print(f"{config['name']}: {config['platform']} listening on {config['listen']}:22", flush=True)
    controls = ControlFile(Path(args[0]).with_name(FAULTS_FILE), device)
    while not stop.wait(0.2):
        controls.poll()
        if reboot.is_set():
            reboot.clear()
            device.restart()
            print(f"{config['name']}: restarted from its saved configuration", flush=True)
    emulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
