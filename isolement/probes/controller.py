"""Probes sent from the machine running isolement: ICMP echo (the system's `ping`) and TCP
connect (a socket), from an optional source address or interface.

What each answer means (the one meaning of ProbeOutcome):
- PASSES: an echo reply came back; a TCP connection was accepted, or refused by a reset (or an
  ICMP port unreachable). A refusal proves the packets reached something answering for that
  address: the path is open even if the service is not, so it is never taken for "blocked" (a
  cut that answers with resets reads as a leak: the loud side, never a false "contained").
- BLOCKED: the packets left this machine and nothing came back in time (no echo reply, no
  answer to the SYN), or a router answered that it cannot deliver (host or network
  unreachable, administratively prohibited). A blocked probe proves traffic does not get
  through, not why: the inventory's `crosses` and the probes that must pass say where.
- UNAVAILABLE: nothing was sent, so nothing is proven: this machine has no route to the
  address (none, blackhole, unreachable, prohibited), the source address is not one of its
  own, the interface does not exist, its own firewall refused to send, no `ping` binary, no
  right to open an ICMP socket. The route is asked of the kernel first with a UDP socket's
  connect(), which sends no packet.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import re
import select
import shutil
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor

from isolement.model.inventory import Probe
from isolement.probes.outcome import ProbeOutcome, ProbeResult

# Two echo requests a fifth of a second apart, as the namespace probes: one lost packet is not
# taken for a cut, and a blocked path is known within about a second.
PING_ARGS = ["-n", "-q", "-c", "2", "-i", "0.2", "-W", "1"]
CONNECT_TIMEOUT_S = 2.0
# A port for asking the kernel for a route (UDP connect sends nothing); the discard port.
_ROUTE_PORT = 9
_STATISTICS = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")
# Errors a router's answer gives a connecting socket: the SYN left, the path is refused.
_REFUSED_ON_THE_WAY = {
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.EACCES: "administratively prohibited",
    errno.ETIMEDOUT: "no answer",
}


def _unavailable(probe: Probe, why: str) -> ProbeOutcome:
    return ProbeOutcome(probe, ProbeResult.UNAVAILABLE, f"not sent from the controller: {why}")


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _socket(probe: Probe, kind: socket.SocketKind) -> socket.socket:
    """A socket leaving from the probe's source: an address bound, or an interface."""
    sock = socket.socket(socket.AF_INET, kind)
    try:
        if probe.source is None:
            return sock
        try:
            ipaddress.ip_address(probe.source)
        except ValueError:
            socket.if_nametoindex(probe.source)  # OSError when there is no such interface
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_BINDTODEVICE, probe.source.encode() + b"\0"
            )
        else:
            sock.bind((probe.source, 0))
        return sock
    except BaseException:
        sock.close()
        raise


def route_check(probe: Probe) -> str | None:
    """Why this machine cannot send the probe, or None: it has a route from that source. A UDP
    connect() asks the kernel for the route and sends no packet."""
    try:
        with _socket(probe, socket.SOCK_DGRAM) as sock:
            sock.connect((str(probe.to), probe.port or _ROUTE_PORT))
    except OSError as exc:
        where = f" from source {probe.source}" if probe.source else ""
        if exc.errno == errno.EADDRNOTAVAIL:
            return f"source {probe.source} is not an address of this machine"
        if exc.errno == errno.ENODEV or (exc.errno == errno.ENXIO and probe.source):
            return f"no interface {probe.source} on this machine"
        if exc.errno == errno.EPERM and probe.source:
            return f"sending from interface {probe.source} needs CAP_NET_RAW (run as root)"
        if exc.errno == errno.EINVAL:  # a blackhole route: the kernel drops it at once
            return f"no route to {probe.to}{where} (blackhole)"
        return f"no route to {probe.to}{where}: {_why(exc)}"
    return None


def _connect(sock: socket.socket, probe: Probe, timeout_s: float) -> tuple[int | None, bool]:
    """(the connection's errno, 0 when accepted, None when nothing came back in time; whether
    the SYN left this machine). Non-blocking: an error at once means nothing was sent (no
    route, its own firewall); an error later is the far side's answer."""
    sock.setblocking(False)
    code = sock.connect_ex((str(probe.to), probe.port or 0))
    if code == errno.ECONNREFUSED:  # loopback answers before connect() returns
        return code, True
    if code != errno.EINPROGRESS:
        return code, code == 0
    _, writable, _ = select.select([], [sock], [], timeout_s)
    if not writable:
        return None, True
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), True


def tcp_connect(probe: Probe, timeout_s: float = CONNECT_TIMEOUT_S) -> ProbeOutcome:
    target = f"{probe.to}:{probe.port}"
    try:
        with _socket(probe, socket.SOCK_STREAM) as sock:
            code, sent = _connect(sock, probe, timeout_s)
    except OSError as exc:
        return _unavailable(probe, _why(exc))
    if code is None:
        return ProbeOutcome(probe, ProbeResult.BLOCKED, f"{target}: no answer in {timeout_s:g} s")
    if code == 0:
        return ProbeOutcome(probe, ProbeResult.PASSES, f"{target}: connected")
    if code == errno.ECONNREFUSED:
        return ProbeOutcome(probe, ProbeResult.PASSES, f"{target}: refused, the path is open")
    if sent and code in _REFUSED_ON_THE_WAY:
        return ProbeOutcome(probe, ProbeResult.BLOCKED, f"{target}: {_REFUSED_ON_THE_WAY[code]}")
    # Anything else (nothing sent, EPERM from this machine's own firewall...) says nothing of
    # the path.
    return _unavailable(probe, f"{target}: {os.strerror(code)}")


def echo(probe: Probe, ping: str | None = None) -> ProbeOutcome:
    binary = ping or shutil.which("ping")
    if binary is None:
        return _unavailable(probe, "no ping binary on this machine")
    source = ["-I", probe.source] if probe.source else []
    command = [binary, *PING_ARGS, *source, str(probe.to)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return _unavailable(probe, f"ping: {exc}")
    said = " ".join(line.strip() for line in (done.stdout + done.stderr).splitlines()[-2:])
    counted = _STATISTICS.search(done.stdout)
    # iputils: exit 2 is an error before or while sending (socket, bind, sendmsg); an error
    # sending any request means this count does not stand for packets that left.
    if done.returncode not in (0, 1) or counted is None or "sendmsg" in done.stderr:
        return _unavailable(probe, f"ping: {said or f'exit {done.returncode}'}")
    sent, received = int(counted[1]), int(counted[2])
    if sent == 0:
        return _unavailable(probe, f"ping: nothing sent: {said}")
    result = ProbeResult.PASSES if received > 0 else ProbeResult.BLOCKED
    return ProbeOutcome(probe, result, said)


def run_probe(probe: Probe) -> ProbeOutcome:
    if not probe.from_controller:
        return ProbeOutcome(probe, ProbeResult.UNAVAILABLE, f"sent from the {probe.origin}")
    why = route_check(probe)
    if why is not None:
        return _unavailable(probe, why)
    return tcp_connect(probe) if probe.port is not None else echo(probe)


def run_probes(probes: list[Probe]) -> list[ProbeOutcome]:
    if not probes:
        return []
    with ThreadPoolExecutor(max_workers=min(32, len(probes))) as pool:
        return list(pool.map(run_probe, probes))
