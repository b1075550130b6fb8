"""Stand the lab up and take it down: namespaces, veths, FRR, sshd and nftables.

Everything `up` creates is written to a manifest as it is created, so `down` removes exactly
that, and only that, even after a half-finished `up`. Processes are ended by the PID we started,
after checking the PID still runs the program we started.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from secrets import token_urlsafe

from isolement.model.errors import LabError

from .topology import LAB_RANGE, Node, NodeKind, Topology, load_topology

# Fixed, because inventories/lab.yaml names the key and known-hosts files inside it.
LAB_DIR = Path("/run/isolement-lab")
NS_PREFIX = "iso-"
MGMT_NS = f"{NS_PREFIX}mgmt"
ROOT_MGMT_IF = "iso-mgmt"
FRR_DIR = Path("/usr/lib/frr")
PRIVSEP_DIR = Path("/run/sshd")


def ns(node: str) -> str:
    return f"{NS_PREFIX}{node}"


@dataclass
class Manifest:
    """What `up` created, in order, persisted after each addition."""

    topology: str = ""
    namespaces: list[str] = field(default_factory=list)
    root_links: list[str] = field(default_factory=list)
    root_routes: list[str] = field(default_factory=list)
    processes: list[dict[str, object]] = field(default_factory=list)
    created_dirs: list[str] = field(default_factory=list)

    @classmethod
    def load(cls) -> Manifest | None:
        path = LAB_DIR / "manifest.json"
        return cls(**json.loads(path.read_text())) if path.exists() else None

    def save(self) -> None:
        (LAB_DIR / "manifest.json").write_text(json.dumps(asdict(self), indent=1))


def _run(*command: str, input_text: str | None = None) -> str:
    done = subprocess.run(command, capture_output=True, text=True, input=input_text, check=False)
    if done.returncode != 0:
        raise LabError(f"{' '.join(command)}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def _in(node_ns: str, *command: str, input_text: str | None = None) -> str:
    return _run("ip", "netns", "exec", node_ns, *command, input_text=input_text)


def _preflight() -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces); run it with sudo")
    for tool in (
        "ip",
        "nft",
        "ssh-keygen",
        "/usr/sbin/sshd",
        "/usr/bin/vtysh",
        str(FRR_DIR / "zebra"),
        str(FRR_DIR / "staticd"),
        "ping",
    ):
        if not shutil.which(tool):
            raise LabError(
                f"{tool} is not installed; run ./scripts/setup.sh (it installs frr, "
                "openssh-server, nftables, iproute2, iputils-ping)"
            )
    # Refuse to shadow anything the machine already routes in the lab's range.
    for line in _run("ip", "-4", "route", "show").splitlines():
        words = line.split()
        if words and words[0] in ("blackhole", "unreachable", "prohibit", "throw"):
            words = words[1:]
        if not words or words[0] == "default":
            continue
        net = ipaddress.ip_network(words[0], strict=False)
        if net.overlaps(LAB_RANGE):
            raise LabError(
                f"this machine already routes {net} (overlaps {LAB_RANGE}): a lab "
                "is up already, or something else uses that range"
            )


def _start(manifest: Manifest, name: str, command: list[str], log: Path) -> int:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    manifest.processes.append({"name": name, "pid": proc.pid, "exe": command[4]})
    manifest.save()
    return proc.pid


def _wait_for(
    what: str, ready: object, timeout: float = 15.0, process: tuple[int, Path] | None = None
) -> None:
    """Wait until `ready()`; with `process` (pid, log), stop early if it has died, and say why."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():  # type: ignore[operator]
            return
        if process is not None and _exited(process[0]):
            tail = process[1].read_text(errors="replace").strip().splitlines()[-5:]
            raise LabError(f"{what}: the process ended at start: " + " | ".join(tail))
        time.sleep(0.05)
    raise LabError(f"timed out waiting for {what}")


def _exited(pid: int) -> bool:
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return not Path(f"/proc/{pid}").exists()
    return finished == pid


def _tcp_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _frr_configs(topo: Topology, node: str, node_dir: Path, secret: str) -> None:
    # Real routers carry secrets in their configuration; the lab's do too, so the tests can
    # prove that none reaches the journal, the snapshots or a report.
    lines = [f"hostname {node}", f"password {secret}", f"enable password {secret}", "!"]
    # zebra installs routes through kernel nexthop objects by default; one created while its
    # veth has no carrier yet (the far end still shut) is refused, and zebra never retries the
    # routes on it ("S>r", rejected). Plain routes have no such state: reopening a link, by
    # isolement or by hand, end by end, then always brings its static routes back.
    lines += ["no zebra nexthop kernel enable", "!"]
    shut = set(topo.shutdown.get(node, []))
    for port in topo.ports(node):
        lines.append(f"interface {port.ifname}")
        if port.ifname in shut:
            lines.append(" shutdown")
        lines += ["exit", "!"]
    (node_dir / "zebra.conf").write_text("\n".join(lines) + "\n")
    statics = [f"hostname {node}", "!"]
    for route in topo.routes.get(node, []):
        distance = f" {route.distance}" if route.distance else ""
        statics.append(f"ip route {route.prefix} {route.via}{distance}")
    (node_dir / "staticd.conf").write_text("\n".join(statics) + "\n")
    # vtysh reads its own file for the prompt's hostname; never the system's /etc/frr.
    (node_dir / "vtysh.conf").write_text(f"hostname {node}\n")


def up(topology_path: Path | None = None) -> str:
    if Manifest.load() is not None:
        raise LabError(f"the lab is already up ({LAB_DIR}); 'isolement lab down' first")
    _preflight()
    topo = load_topology(topology_path) if topology_path else load_topology()
    started = time.monotonic()
    LAB_DIR.mkdir(mode=0o755, parents=True, exist_ok=False)
    manifest = Manifest(topology=topo.name)
    manifest.save()
    try:
        _build(topo, manifest)
    except BaseException:
        down()
        raise
    return (
        f"lab {topo.name} is up in {time.monotonic() - started:.1f} s: "
        f"{len(manifest.namespaces)} namespaces, {len(manifest.processes)} processes; "
        f"state in {LAB_DIR}"
    )


def _build(topo: Topology, manifest: Manifest) -> None:
    for name in [MGMT_NS.removeprefix(NS_PREFIX), *topo.nodes]:
        _run("ip", "netns", "add", ns(name))
        manifest.namespaces.append(ns(name))
        manifest.save()
        _in(ns(name), "ip", "link", "set", "lo", "up")
        forwards = name in topo.nodes and (
            topo.nodes[name].kind is not NodeKind.HOST or name == "isp"
        )
        _in(ns(name), "sysctl", "-qw", f"net.ipv4.ip_forward={int(forwards)}")

    # Management: a bridge in its own namespace; the root namespace joins it by one veth.
    _in(MGMT_NS, "ip", "link", "add", "br0", "type", "bridge")
    _in(MGMT_NS, "ip", "link", "set", "br0", "up")
    _run(
        "ip",
        "link",
        "add",
        ROOT_MGMT_IF,
        "type",
        "veth",
        "peer",
        "name",
        "uplink",
        "netns",
        MGMT_NS,
    )
    manifest.root_links.append(ROOT_MGMT_IF)
    manifest.save()
    _in(MGMT_NS, "ip", "link", "set", "uplink", "master", "br0", "up")
    prefix = topo.mgmt.subnet.prefixlen
    _run("ip", "addr", "add", f"{topo.mgmt.controller}/{prefix}", "dev", ROOT_MGMT_IF)
    _run("ip", "link", "set", ROOT_MGMT_IF, "up")
    # Anything else in the lab's range is dropped in the root namespace, never sent out.
    _run("ip", "route", "add", "blackhole", str(LAB_RANGE))
    manifest.root_routes.append(f"blackhole {LAB_RANGE}")
    manifest.save()

    for route in topo.controller_routes:
        _run("ip", "route", "add", str(route.prefix), "via", str(route.via))
        manifest.root_routes.append(f"{route.prefix} via {route.via}")
        manifest.save()

    for name, node in topo.managed().items():
        if node.loopback:
            _in(ns(name), "ip", "addr", "add", str(node.loopback), "dev", "lo")
        if node.inband:
            continue
        _run(
            "ip",
            "link",
            "add",
            "mgmt0",
            "netns",
            ns(name),
            "type",
            "veth",
            "peer",
            "name",
            name,
            "netns",
            MGMT_NS,
        )
        _in(MGMT_NS, "ip", "link", "set", name, "master", "br0", "up")
        _in(ns(name), "ip", "addr", "add", f"{node.mgmt}/{prefix}", "dev", "mgmt0")
        _in(ns(name), "ip", "link", "set", "mgmt0", "up")

    for a, b in topo.links:
        _run(
            "ip",
            "link",
            "add",
            a.ifname,
            "netns",
            ns(a.node),
            "type",
            "veth",
            "peer",
            "name",
            b.ifname,
            "netns",
            ns(b.node),
        )
        for port in (a, b):
            _in(ns(port.node), "ip", "addr", "add", str(port.address), "dev", port.ifname)
            _in(ns(port.node), "ip", "link", "set", port.ifname, "up")

    for name, node in topo.nodes.items():
        if node.kind is not NodeKind.FRR:
            for route in topo.routes.get(name, []):
                _in(ns(name), "ip", "route", "add", str(route.prefix), "via", str(route.via))
        if node.kind is NodeKind.NFTABLES or node.firewall:
            _in(ns(name), "nft", "-f", "-", input_text=topo.firewall_ruleset)

    _start_frr(topo, manifest)
    _start_management(topo, manifest)
    _start_services(topo, manifest)


def _start_frr(topo: Topology, manifest: Manifest) -> None:
    secrets: dict[str, str] = {}
    secrets_file = LAB_DIR / "secrets.json"
    for name, node in topo.nodes.items():
        if node.kind is not NodeKind.FRR:
            continue
        node_dir = LAB_DIR / name
        run_dir = node_dir / "run"
        run_dir.mkdir(parents=True)
        _frr_configs(topo, name, node_dir, secrets.setdefault(name, token_urlsafe(12)))
        # The daemons run as the frr user (vty sockets need its frrvty group).
        for path in (node_dir, run_dir, *node_dir.glob("*.conf")):
            shutil.chown(path, "frr", "frr")
        for daemon in ("zebra", "staticd"):
            _start(
                manifest,
                f"{name}/{daemon}",
                [
                    "ip",
                    "netns",
                    "exec",
                    ns(name),
                    str(FRR_DIR / daemon),
                    "-u",
                    "frr",
                    "-g",
                    "frr",
                    "-f",
                    str(node_dir / f"{daemon}.conf"),
                    "-i",
                    str(run_dir / f"{daemon}.pid"),
                    "--vty_socket",
                    str(run_dir),
                    "-z",
                    str(run_dir / "zserv.api"),
                ],
                node_dir / f"{daemon}.log",
            )
            # staticd needs zebra's socket; wait so it does not start against nothing.
            sock = run_dir / f"{daemon}.vty"
            _wait_for(f"{name} {daemon}", sock.exists)
    secrets_file.touch(mode=0o600)
    secrets_file.write_text(json.dumps(secrets))


def _start_services(topo: Topology, manifest: Manifest) -> None:
    for name, node in topo.nodes.items():
        if node.serves is None:
            continue
        address = str(topo.ports(name)[0].address.ip)
        root = LAB_DIR / name / "www"
        root.mkdir(parents=True)
        (root / "index.html").write_text(f"{name}\n")
        python = os.path.realpath(sys.executable)
        command = [
            "ip",
            "netns",
            "exec",
            ns(name),
            python,
            "-m",
            "http.server",
            "--bind",
            address,
            "--directory",
            str(root),
            str(node.serves),
        ]
        _start(manifest, f"{name}/http", command, LAB_DIR / name / "http.log")
        port = node.serves
        _wait_for(f"{name} web server", partial(_tcp_in, name, address, port))


def _tcp_in(node: str, address: str, port: int) -> bool:
    probe = f"exec 3<>/dev/tcp/{address}/{port}"
    done = subprocess.run(
        ["ip", "netns", "exec", ns(node), "timeout", "1", "bash", "-c", probe],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def _start_management(topo: Topology, manifest: Manifest) -> None:
    """What isolement logs in to: sshd in front of vtysh or a root shell, or a vendor emulator.
    Each node gets its own host key, and its public half goes in the lab's known_hosts."""
    if not PRIVSEP_DIR.exists():
        PRIVSEP_DIR.mkdir(mode=0o755)
        manifest.created_dirs.append(str(PRIVSEP_DIR))
        manifest.save()
    login_key = LAB_DIR / "id_ed25519"
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "isolement-lab", "-f", str(login_key))
    authorized = LAB_DIR / "authorized_keys"
    authorized.write_text(login_key.with_suffix(".pub").read_text())
    authorized.chmod(0o600)
    known_hosts = []
    waiting: list[tuple[str, str, tuple[int, Path]]] = []
    for name, node in topo.managed().items():
        node_dir = LAB_DIR / name
        node_dir.mkdir(exist_ok=True)
        host_key = node_dir / "ssh_host_ed25519_key"
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(host_key))
        public = host_key.with_suffix(".pub").read_text().split()
        known_hosts.append(f"{node.mgmt} {public[0]} {public[1]}")
        if node.kind is NodeKind.EMULATED:
            started = _start_emulated(topo, manifest, name, host_key, login_key.with_suffix(".pub"))
        else:
            started = _start_sshd(manifest, name, node, host_key, authorized)
        waiting.append((name, str(node.mgmt), started))
    # All started first, then waited for: the emulators take a second each to import.
    for name, address, started in waiting:
        _wait_for(f"{name} ssh", partial(_tcp_open, address, 22), process=started)
    (LAB_DIR / "known_hosts").write_text("\n".join(known_hosts) + "\n")


def _start_sshd(
    manifest: Manifest, name: str, node: Node, host_key: Path, authorized: Path
) -> tuple[int, Path]:
    node_dir = host_key.parent
    if node.kind is NodeKind.FRR:
        shell = f"/usr/bin/vtysh --vty_socket {node_dir / 'run'} --config_dir {node_dir}"
    else:
        rc = node_dir / "bashrc"
        rc.write_text(f"PS1='{name}# '\nHISTFILE=/dev/null\n")
        shell = f"/bin/bash --noprofile --rcfile {rc} -i"
    config = node_dir / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"ListenAddress {node.mgmt}:22",
                f"HostKey {host_key}",
                f"PidFile {node_dir / 'sshd.pid'}",
                f"AuthorizedKeysFile {authorized}",
                "PermitRootLogin prohibit-password",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "PrintMotd no",
                "PrintLastLog no",
                f"ForceCommand {shell}",
            ]
        )
        + "\n"
    )
    log = node_dir / "sshd.log"
    command = ["ip", "netns", "exec", ns(name), "/usr/sbin/sshd", "-D", "-f", str(config)]
    return _start(manifest, f"{name}/sshd", [*command, "-E", str(log)], node_dir / "sshd.out"), log


def _start_emulated(
    topo: Topology, manifest: Manifest, name: str, host_key: Path, login_public_key: Path
) -> tuple[int, Path]:
    """The node's vendor emulator (lab/node.py), in the node's namespace, on its mgmt address."""
    node = topo.nodes[name]
    node_dir = host_key.parent
    shut = set(topo.shutdown.get(name, []))
    config = {
        "name": name,
        "platform": node.platform,
        "listen": str(node.mgmt),
        "port": 22,
        "username": "root",
        "host_key": str(host_key),
        "authorized_key": str(login_public_key),
        "state_file": str(node_dir / "state.json"),
        "options": node.options,
        "routes": [f"{r.prefix} via {r.via}" for r in topo.routes.get(name, [])],
        "interfaces": [
            {
                "name": node.vendor_name(port.ifname),
                "kernel": port.ifname,
                "address": str(port.address),
                "shutdown": port.ifname in shut,
            }
            for port in topo.ports(name)
        ],
    }
    config_file = node_dir / "node.json"
    config_file.write_text(json.dumps(config, indent=1))
    # The venv's interpreter by its venv path (not its real path), so isolement is importable.
    command = ["ip", "netns", "exec", ns(name), sys.executable, "-m", "isolement.lab.node"]
    log = node_dir / "node.log"
    return _start(manifest, f"{name}/{node.platform}", [*command, str(config_file)], log), log


def _process_is_ours(pid: int, exe: str) -> bool:
    """The PID still runs the program we started (sshd rewrites its title, so read /exe)."""
    try:
        return os.readlink(f"/proc/{pid}/exe") == os.path.realpath(exe)
    except OSError:
        return False


def down() -> str:
    manifest = Manifest.load()
    if manifest is None:
        return "the lab is not up: nothing to remove"
    for proc in reversed(manifest.processes):
        pid, exe = int(str(proc["pid"])), str(proc["exe"])
        if _process_is_ours(pid, exe):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    for proc in manifest.processes:
        pid, exe = int(str(proc["pid"])), str(proc["exe"])
        while _process_is_ours(pid, exe) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _process_is_ours(pid, exe):
            os.kill(pid, signal.SIGKILL)
    for route in manifest.root_routes:
        subprocess.run(["ip", "route", "del", *route.split()], capture_output=True, check=False)
    for link in manifest.root_links:
        subprocess.run(["ip", "link", "del", link], capture_output=True, check=False)
    for name in reversed(manifest.namespaces):
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
    for directory in manifest.created_dirs:
        shutil.rmtree(directory, ignore_errors=True)
    shutil.rmtree(LAB_DIR, ignore_errors=True)
    return (
        f"lab {manifest.topology} is down: removed {len(manifest.namespaces)} namespaces, "
        f"{len(manifest.processes)} processes, {len(manifest.root_routes)} route(s)"
    )


def status() -> tuple[str, bool]:
    manifest = Manifest.load()
    if manifest is None:
        return "the lab is not up", False
    existing = set(_run("ip", "netns", "list").split())
    lines = [f"lab {manifest.topology} ({LAB_DIR})"]
    healthy = True
    for proc in manifest.processes:
        alive = _process_is_ours(int(str(proc["pid"])), str(proc["exe"]))
        healthy &= alive
        lines.append(f"  {'running' if alive else 'DEAD':<8} {proc['name']} (pid {proc['pid']})")
    missing = [n for n in manifest.namespaces if n not in existing]
    healthy &= not missing
    lines.append(
        f"  namespaces: {len(manifest.namespaces) - len(missing)}/"
        f"{len(manifest.namespaces)} present"
        + (f", missing: {', '.join(missing)}" if missing else "")
    )
    return "\n".join(lines), healthy
