"""Probes: the dispatcher by origin, and probes sent from the controller (this machine).

Network rule: every packet these tests send goes to 127.0.0.0/8. A probe whose source is not
an address of this machine (203.0.113.9, TEST-NET-3) is refused by the kernel at bind(),
before anything is sent.
"""

from __future__ import annotations

import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from isolement import probes as dispatcher
from isolement.flows.runtime import Runtime
from isolement.model.inventory import Inventory, Probe
from isolement.probes import controller, device, namespace
from isolement.probes.outcome import ProbeOutcome, ProbeResult

PASSES, BLOCKED, UNAVAILABLE = ProbeResult.PASSES, ProbeResult.BLOCKED, ProbeResult.UNAVAILABLE
NOT_LOCAL = "203.0.113.9"


def ctl(name: str = "p", to: str = "127.0.0.1", **fields: object) -> Probe:
    return Probe.model_validate({"name": name, "from_controller": True, "to": to, **fields})


@pytest.fixture
def listening() -> Iterator[int]:
    """A TCP port on 127.0.0.1 that accepts connections."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the dispatcher --------------------------------------------------------------------------


def test_dispatcher_sends_each_probe_from_its_origin_and_keeps_the_order(
    lab_inventory: Inventory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = Runtime(lab_inventory, tmp_path / "journal.jsonl")
    asked: dict[str, list[str]] = {}

    def runner(kind: str, result: ProbeResult):  # type: ignore[no-untyped-def]
        def run(*args: object) -> list[ProbeOutcome]:
            probes: list[Probe] = args[-1]  # type: ignore[assignment]
            asked[kind] = [p.name for p in probes]
            return [ProbeOutcome(p, result, kind) for p in reversed(probes)]

        return run

    monkeypatch.setattr(namespace, "run_probes", runner("netns", PASSES))
    monkeypatch.setattr(controller, "run_probes", runner("controller", BLOCKED))
    monkeypatch.setattr(device, "run_device_probes", runner("device", UNAVAILABLE))
    probes = [
        ctl("c1"),
        Probe(name="n1", from_netns="iso-dc-host", to="198.18.20.10"),  # type: ignore[arg-type]
        Probe(name="d1", from_device="dc-rtr", to="198.18.20.10"),  # type: ignore[arg-type]
        ctl("c2"),
    ]

    found = dispatcher.run_probes(rt, probes)

    assert [o.probe.name for o in found] == ["c1", "n1", "d1", "c2"]
    assert [o.detail for o in found] == ["controller", "netns", "device", "controller"]
    assert asked == {"netns": ["n1"], "controller": ["c1", "c2"], "device": ["d1"]}


def test_a_kind_of_probe_that_fails_answers_unavailable_and_the_others_still_count(
    lab_inventory: Inventory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = Runtime(lab_inventory, tmp_path / "journal.jsonl")

    def broken(_rt: Runtime, _probes: list[Probe]) -> list[ProbeOutcome]:
        raise RuntimeError("session lost")

    monkeypatch.setattr(device, "run_device_probes", broken)
    probes = [ctl("c1"), Probe(name="d1", from_device="dc-rtr", to="127.0.0.1")]  # type: ignore[arg-type]

    found = dispatcher.run_probes(rt, probes)

    assert found[0].result is PASSES  # a real echo to 127.0.0.1
    assert (found[1].result, found[1].detail) == (UNAVAILABLE, "RuntimeError: session lost")


def test_no_probe_runs_nothing(lab_inventory: Inventory, tmp_path: Path) -> None:
    assert dispatcher.run_probes(Runtime(lab_inventory, tmp_path / "j"), []) == []


# --- TCP from the controller -----------------------------------------------------------------


def test_tcp_to_a_listening_port_passes(listening: int) -> None:
    found = controller.run_probe(ctl(port=listening))
    assert found.result is PASSES
    assert found.detail == f"127.0.0.1:{listening}: connected"


def test_tcp_to_a_closed_port_passes_because_the_reset_proves_the_path_open(
    closed_port: int,
) -> None:
    found = controller.run_probe(ctl(port=closed_port))
    assert found.result is PASSES
    assert "refused, the path is open" in found.detail


def test_tcp_from_a_local_source_address_passes(listening: int) -> None:
    assert controller.run_probe(ctl(port=listening, source="127.0.0.2")).result is PASSES


def test_tcp_from_a_source_that_is_not_this_machines_is_unavailable(listening: int) -> None:
    found = controller.run_probe(ctl(port=listening, source=NOT_LOCAL))
    assert found.result is UNAVAILABLE
    assert found.detail == (
        f"not sent from the controller: source {NOT_LOCAL} is not an address of this machine"
    )


def test_tcp_from_an_interface_this_machine_does_not_have_is_unavailable(listening: int) -> None:
    found = controller.run_probe(ctl(port=listening, source="nosuchif0"))
    assert found.result is UNAVAILABLE
    assert "nosuchif0" in found.detail


def test_tcp_that_gets_no_answer_in_time_is_blocked() -> None:
    """A listener whose accept queue is full drops the next SYNs: nothing comes back."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers = []
        try:
            for _ in range(4):
                sock = socket.socket()
                sock.setblocking(False)
                sock.connect_ex(("127.0.0.1", port))
                fillers.append(sock)
            found = controller.tcp_connect(ctl(port=port), timeout_s=0.3)
        finally:
            for sock in fillers:
                sock.close()
    assert found.result is BLOCKED
    assert found.detail == f"127.0.0.1:{port}: no answer in 0.3 s"


# --- ICMP echo from the controller -----------------------------------------------------------


def fake_ping(tmp_path: Path, stdout: str, stderr: str = "", code: int = 0) -> str:
    """A `ping` that prints what a real one would and sends nothing."""
    path = tmp_path / "ping"
    path.write_text(f"#!/bin/sh\nprintf '%s' '{stdout}'\nprintf '%s' '{stderr}' >&2\nexit {code}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_echo_to_loopback_passes() -> None:
    found = controller.run_probe(ctl())
    assert found.result is PASSES
    assert "2 packets transmitted, 2 received" in found.detail


def test_echo_from_a_source_that_is_not_this_machines_is_unavailable() -> None:
    found = controller.run_probe(ctl(source=NOT_LOCAL))
    assert found.result is UNAVAILABLE
    assert "is not an address of this machine" in found.detail


def test_echo_without_a_ping_binary_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(controller.shutil, "which", lambda _name: None)
    found = controller.echo(ctl())
    assert (found.result, found.detail) == (
        UNAVAILABLE,
        "not sent from the controller: no ping binary on this machine",
    )


def test_echo_with_requests_sent_and_no_reply_is_blocked(tmp_path: Path) -> None:
    out = "--- 127.0.0.1 ping statistics ---\n2 packets transmitted, 0 received, 100% packet loss\n"
    found = controller.echo(ctl(), fake_ping(tmp_path, out, code=1))
    assert found.result is BLOCKED


def test_echo_whose_requests_could_not_be_sent_is_unavailable(tmp_path: Path) -> None:
    """iputils counts a request it failed to send: the count is not packets that left."""
    out = "--- 127.0.0.1 ping statistics ---\n2 packets transmitted, 0 received, 100% packet loss\n"
    ping = fake_ping(tmp_path, out, "ping: sendmsg: Network is unreachable\n", code=1)
    assert controller.echo(ctl(), ping).result is UNAVAILABLE


def test_echo_that_ping_refuses_to_send_is_unavailable(tmp_path: Path) -> None:
    ping = fake_ping(tmp_path, "", "ping: socket: Operation not permitted\n", code=2)
    found = controller.echo(ctl(), ping)
    assert found.result is UNAVAILABLE
    assert "Operation not permitted" in found.detail


def test_a_probe_not_sent_from_the_controller_is_not_sent_by_it() -> None:
    probe = Probe(name="n", from_netns="iso-dc-host", to="127.0.0.1")  # type: ignore[arg-type]
    found = controller.run_probe(probe)
    assert (found.result, found.detail) == (UNAVAILABLE, "sent from the netns iso-dc-host")
