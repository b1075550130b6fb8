"""How each platform prints a ping, given what the namespace's real ping did (`Echoes`).

The layouts are those of the recorded outputs in tests/data/ping/ (see SOURCES.md there): the
Cisco one (IOS, ASA), BSD's (NX-OS, Junos, FortiOS, OmniSwitch, each with its own first line and
statistics wording), and Linux iputils' (AOS-CX, PAN-OS). Only what the real ping measured is
shown: which requests got a reply, their round-trip times and TTLs.
"""

from __future__ import annotations

from collections.abc import Callable
from statistics import mean, pstdev

from ..device import Echoes, EmulatedDevice


def _marks(echoes: Echoes) -> str:
    answered = {reply.seq for reply in echoes.replies}
    return "".join("!" if seq in answered else "." for seq in range(1, echoes.sent + 1))


def _times(echoes: Echoes) -> list[float]:
    return [reply.time_ms for reply in echoes.replies]


def cisco(echoes: Echoes, *, size: int = 100, timeout_s: int = 2) -> list[str]:
    """IOS and the ASA: `Sending 5, 100-byte ICMP Echos ...`, `!!!!!`, `Success rate ...`."""
    lines = [
        "Type escape sequence to abort.",
        f"Sending {echoes.sent}, {size}-byte ICMP Echos to {echoes.to}, timeout is "
        f"{timeout_s} seconds:",
    ]
    if echoes.source:
        lines.append(f"Packet sent with a source address of {echoes.source}")
    lines.append(_marks(echoes))
    percent = 100 * echoes.received // echoes.sent if echoes.sent else 0
    rate = f"Success rate is {percent} percent ({echoes.received}/{echoes.sent})"
    times = _times(echoes)
    if times:
        # Cisco prints whole milliseconds.
        rate += (
            f", round-trip min/avg/max = {round(min(times))}/{round(mean(times))}/"
            f"{round(max(times))} ms"
        )
    return [*lines, rate]


def bsd(
    echoes: Echoes,
    *,
    data_bytes: int = 56,
    loss_decimals: int = 0,
    stddev: bool = False,
    timeouts: bool = False,
    rapid: bool = False,
    round_trip: str = "round-trip",
    digits: int = 3,
) -> list[str]:
    """BSD ping: `PING X (X): 56 data bytes`, a line per reply (or `!`/`.` when `rapid`,
    Junos), `--- X ping statistics ---`, `N packets transmitted, M packets received, L% packet
    loss`, `round-trip min/avg/max[/stddev] = ... ms`. NX-OS numbers from 0, names the source
    in the first line and says `Request N timed out` (`timeouts`); its loss has two decimals."""
    first = f"PING {echoes.to} ({echoes.to})"
    if echoes.source and timeouts:
        first += f" from {echoes.source}"
    lines = [f"{first}: {data_bytes} data bytes"]
    by_seq = {reply.seq: reply for reply in echoes.replies}
    if rapid:
        lines.append(_marks(echoes))
    else:
        for seq in range(1, echoes.sent + 1):
            reply = by_seq.get(seq)
            if reply is not None:
                lines.append(
                    f"{data_bytes + 8} bytes from {echoes.to}: icmp_seq={seq - 1} "
                    f"ttl={reply.ttl} time={reply.time_ms:.{digits}f} ms"
                )
            elif timeouts:
                lines.append(f"Request {seq - 1} timed out")
    loss = 100 * (echoes.sent - echoes.received) / echoes.sent if echoes.sent else 0.0
    lines += [
        "",
        f"--- {echoes.to} ping statistics ---",
        f"{echoes.sent} packets transmitted, {echoes.received} packets received, "
        f"{loss:.{loss_decimals}f}% packet loss",
    ]
    times = _times(echoes)
    if times:
        values = [min(times), mean(times), max(times)] + ([pstdev(times)] if stddev else [])
        names = "min/avg/max/stddev" if stddev else "min/avg/max"
        numbers = "/".join(f"{v:.{digits}f}" for v in values)
        lines.append(f"{round_trip} {names} = {numbers} ms")
    return lines


def omniswitch(echoes: Echoes, *, data_bytes: int = 56) -> list[str]:
    """The OmniSwitch's BSD 4.3 layout: `----X PING Statistics----`, `round-trip (ms)`."""
    lines = [f"PING {echoes.to}: {data_bytes} data bytes"]
    for reply in echoes.replies:
        lines.append(
            f"{data_bytes + 8} bytes from {echoes.to}: icmp_seq={reply.seq - 1}. "
            f"time={round(reply.time_ms)}. ms"
        )
    loss = 100 * (echoes.sent - echoes.received) // echoes.sent if echoes.sent else 0
    lines += [
        "",
        f"----{echoes.to} PING Statistics----",
        f"{echoes.sent} packets transmitted, {echoes.received} packets received, {loss}% packet "
        "loss",
    ]
    times = [round(t) for t in _times(echoes)]
    if times:
        lines.append(
            f"round-trip (ms)  min/avg/max = {min(times)}/{round(mean(times))}/{max(times)}"
        )
    return lines


def iputils(echoes: Echoes, *, data_bytes: int = 56) -> list[str]:
    """Linux iputils, as AOS-CX and PAN-OS print it (their ping is Linux's)."""
    via = f" from {echoes.source} " if echoes.source else " "
    lines = [f"PING {echoes.to} ({echoes.to}){via}{data_bytes}({data_bytes + 28}) bytes of data."]
    for reply in echoes.replies:
        lines.append(
            f"{data_bytes + 8} bytes from {echoes.to}: icmp_seq={reply.seq} ttl={reply.ttl} "
            f"time={reply.time_ms:.3g} ms"
        )
    loss = 100 * (echoes.sent - echoes.received) // echoes.sent if echoes.sent else 0
    lines += [
        "",
        f"--- {echoes.to} ping statistics ---",
        f"{echoes.sent} packets transmitted, {echoes.received} received, {loss}% packet loss, "
        f"time {max(0, echoes.sent - 1) * 200}ms",
    ]
    times = _times(echoes)
    if times:
        lines.append(
            f"rtt min/avg/max/mdev = {min(times):.3f}/{mean(times):.3f}/{max(times):.3f}/"
            f"{pstdev(times):.3f} ms"
        )
    return lines


def answer(
    device: EmulatedDevice,
    to: str,
    source: str | None,
    count: int,
    render: Callable[[Echoes], list[str]],
    refusal: Callable[[str], list[str]] = lambda reason: [f"% {reason}"],
) -> list[str]:
    """The device's answer to its ping command: the real ping's result in the platform's
    layout, or the platform's refusal when no packet could be sent. An emulator without a data
    plane (on loopback, outside the lab) sends none, and says so rather than invent a reply."""
    if device.pinger is None:
        return refusal("ping unavailable: this emulated device has no data plane")
    if not 1 <= count <= 100:
        return refusal(f"count {count} out of range (1-100 in the emulator)")
    echoes = device.pinger.ping(to, source, count)
    if echoes.error is not None:
        return refusal(echoes.error)
    return render(echoes)
