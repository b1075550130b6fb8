"""The configuration before the cut, read ahead (#16: time to contain counts only what must
precede the change): the snapshots of waves 2..n are read while wave 1 is cut, each still before
its own device's change and in the intent journaled before the first line is sent; wave 1's
are read right before their change, as before; a retry keeps the first; a restore and a re-run
with nothing to do read none; an interrupt stops the reads not started, and every session is
closed once.

The devices are the emulator's IOS profile (lab/profiles/cisco_ios.py) typed into directly, no
SSH: each line sent is logged, in order, on one wire shared by every device, and a test can
hold a device's line until something else was logged (so the order proven is the run's, not
the scheduler's luck). The estate: pairs of an in-band site router `edgeN`, managed through
`wanN`, and the core router `coreN` at the other end of `wanN`; the cut changes every edge
(wave 1: its internet exit), then cuts each wan at its core (wave 2).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from isolement.lab.emulator import DeviceSpec, generate_key, generate_login_key
from isolement.lab.profiles.cisco_ios import IosCli, IosDevice

from isolement.drivers import Driver, Session, driver_for
from isolement.flows import containment, evidence
from isolement.flows.results import RunReport
from isolement.flows.runtime import Runtime
from isolement.journal.redaction import redact
from isolement.model.errors import ConnectionLost, DeviceError
from isolement.model.inventory import Inventory, load_inventory
from isolement.model.playbook import Playbook, load_playbook

GI0, GI1 = "GigabitEthernet0/0", "GigabitEthernet0/1"
SHOW_RUN = "show running-config"
HOLD_S = 5.0  # how long a held line waits for what it waits for before the test fails


@dataclass
class Wire:
    """Every line sent to any device, in order: (device, line)."""

    lines: list[tuple[str, str]] = field(default_factory=list)
    # device -> called before that device's configuration lines are typed
    before_config: dict[str, Callable[[], object]] = field(default_factory=dict)
    # device -> called as each `show running-config` is sent to it, before it answers (may
    # raise: the read fails)
    before_snapshot: dict[str, Callable[[], object]] = field(default_factory=dict)
    _logged: threading.Condition = field(default_factory=threading.Condition)

    def log(self, device: str, line: str) -> None:
        with self._logged:
            self.lines.append((device, line))
            self._logged.notify_all()

    def wait_for(self, device: str, line: str) -> bool:
        with self._logged:
            return bool(self._logged.wait_for(lambda: (device, line) in self.lines, HOLD_S))

    def index(self, device: str, line: str, nth: int = 0) -> int:
        found = [i for i, entry in enumerate(self.lines) if entry == (device, line)]
        assert len(found) > nth, f"{device} was never sent {line!r} ({nth + 1} times)"
        return found[nth]

    def count(self, device: str, line: str) -> int:
        return self.lines.count((device, line))


class WiredSession:
    """A driver Session typing into an emulated IOS device's CLI directly, as netmiko would."""

    def __init__(self, device: IosDevice, wire: Wire, journal: Path) -> None:
        self.device = device
        self.cli = IosCli(device)
        self.wire = wire
        self.journal = journal
        self.closed = 0
        self.users: set[int] = set()  # threads inside the session at once (never two)
        # The change records on disk as each configuration line was about to be sent.
        self.journal_at_config: list[list[dict[str, Any]]] = []

    @property
    def name(self) -> str:
        return self.device.name

    def _enter(self) -> None:
        assert not self.users, f"{self.name}'s session used by two threads at once"
        self.users.add(threading.get_ident())

    def send_command(self, command: str, **_: object) -> str:
        self._enter()
        try:
            self.wire.log(self.name, command)
            if command == SHOW_RUN and self.name in self.wire.before_snapshot:
                self.wire.before_snapshot[self.name]()
            return "\n".join(self.cli.execute(command))
        finally:
            self.users.clear()

    def send_config(self, commands: Sequence[str]) -> str:
        self._enter()
        try:
            self.journal_at_config.append(records(self.journal))
            if self.name in self.wire.before_config:
                self.wire.before_config[self.name]()
            output = []
            for line in ["configure terminal", *commands, "end"]:
                self.wire.log(self.name, line)
                output += self.cli.execute(line)
            return "\n".join(output)
        finally:
            self.users.clear()

    def commit(self, *, confirm_minutes: int | None = None) -> str:
        raise AssertionError("IOS has no commit")

    def prompt(self) -> str:
        return str(self.cli.prompt())

    def close(self) -> None:
        self.closed += 1


def records(journal: Path) -> list[dict[str, Any]]:
    if not journal.exists():
        return []
    return [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]


@dataclass
class Estate:
    inventory: Inventory
    playbook: Playbook
    journal: Path
    devices: dict[str, IosDevice]
    wire: Wire = field(default_factory=Wire)
    sessions: list[WiredSession] = field(default_factory=list)  # one per login, in order

    def connect(self, inventory: Inventory, device: str, driver: Driver, _t: float) -> Session:
        session = WiredSession(self.devices[device], self.wire, self.journal)
        self.sessions.append(session)
        return session

    def runtime(self, workers: int = 8) -> Runtime:
        return Runtime(self.inventory, self.journal, connect=self.connect, workers=workers)

    def cut(self, rt: Runtime | None = None, retries: int = 0) -> RunReport:
        options = containment.Options(retries=retries, backoff_s=0.01)
        return containment.cut(
            rt or self.runtime(), self.playbook, {}, reason="r", operator="t", options=options
        )

    def intents(self, device: str) -> list[dict[str, Any]]:
        return [
            r
            for r in records(self.journal)
            if r["event"] == "change.intent" and r["device"] == device
        ]

    def snapshot_of(self, device: str) -> str:
        """The digest of the device's configuration now, as the journal keeps it."""
        driver = driver_for("cisco_ios")
        text = driver.facts.without_volatile(
            "\n".join(IosCli(self.devices[device]).execute(SHOW_RUN))
        )
        return hashlib.sha256(redact(text).encode()).hexdigest()


def estate(tmp_path: Path, pairs: int = 1) -> Estate:
    key = tmp_path / "id_ed25519"
    generate_login_key(key)  # runs refuse a key that is not owner-only
    (tmp_path / "known_hosts").write_text("")
    devices: dict[str, dict[str, object]] = {}
    links: dict[str, object] = {}
    emulated: dict[str, IosDevice] = {}
    host_key = generate_key()
    for n in range(1, pairs + 1):
        core, edge = f"core{n}", f"edge{n}"
        for name, site in ((core, "dc"), (edge, f"s{n}")):
            devices[name] = {
                "site": site,
                "role": "router",
                "platform": "cisco_ios",
                "host": "127.0.0.1",
                "port": 22,
                "credential": "ops",
            }
            emulated[name] = IosDevice(DeviceSpec(name, [GI0, GI1]), host_key)
        devices[edge]["managed_via"] = [f"wan{n}"]
        links[f"wan{n}"] = {
            "kind": "intersite",
            "endpoints": [{"device": core, "interface": GI1}, {"device": edge, "interface": GI1}],
        }
        links[f"inet-{edge}"] = {
            "kind": "internet",
            "endpoints": [{"device": edge, "interface": GI0}],
        }
    data = {
        "name": "ahead",
        "known_hosts": "known_hosts",
        "credentials": {"ops": {"username": "ops", "key_file": str(key)}},
        "sites": {"dc": {}, **{f"s{n}": {} for n in range(1, pairs + 1)}},
        "devices": devices,
        "links": links,
    }
    (tmp_path / "inventory.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    playbook = tmp_path / "cut-all.yaml"
    playbook.write_text(
        yaml.safe_dump(
            {"name": "cut-all", "cut": [{"select": {"kind": ["intersite", "internet"]}}]}
        )
    )
    return Estate(
        load_inventory(tmp_path / "inventory.yaml"),
        load_playbook(str(playbook), tmp_path),
        tmp_path / "state" / "journal.jsonl",
        emulated,
    )


def the_waves(report: RunReport) -> dict[str, int]:
    return {s.device: s.wave for s in report.plan.steps}


def test_the_second_waves_snapshot_is_read_while_the_first_wave_is_cut(tmp_path: Path) -> None:
    e = estate(tmp_path)
    # edge1's change waits (up to HOLD_S) for core1's configuration to be read: only a read
    # made while wave 1 runs lets it go on at once.
    e.wire.before_config["edge1"] = lambda: e.wire.wait_for("core1", SHOW_RUN)

    before = {name: e.snapshot_of(name) for name in e.devices}

    report = e.cut()

    assert report.outcome == "done", report
    assert the_waves(report) == {"edge1": 1, "core1": 2}
    w = e.wire
    assert w.index("core1", SHOW_RUN) < w.index("edge1", "end")  # before wave 1 ended
    assert w.count("core1", SHOW_RUN) == 1  # its wave did not read it again
    assert w.index("core1", SHOW_RUN) < w.index("core1", "configure terminal")
    [intent] = e.intents("core1")
    assert intent["snapshot"] == before["core1"]  # the configuration before the cut
    assert all(s.closed == 1 for s in e.sessions), [(s.name, s.closed) for s in e.sessions]


def test_the_workers_wave_1_leaves_spare_read_the_whole_next_wave_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wave lasts as long as its slowest device: its reads ahead pay only if all are done
    when it comes, so they are not queued behind a few readers when workers are free."""
    monkeypatch.setattr(evidence, "READERS", 1)
    e = estate(tmp_path, pairs=3)
    all_three = threading.Barrier(3, timeout=HOLD_S)
    for n in (1, 2, 3):
        # each core's read answers once the three are under way together
        e.wire.before_snapshot[f"core{n}"] = all_three.wait
        e.wire.before_config[f"edge{n}"] = lambda n=n: e.wire.wait_for(f"core{n}", SHOW_RUN)

    report = e.cut(e.runtime(workers=8))  # wave 1 takes 3 of 8 workers: 5 spare

    assert report.outcome == "done", report
    ends = [e.wire.index(f"edge{n}", "end") for n in (1, 2, 3)]
    assert all(e.wire.index(f"core{n}", SHOW_RUN) < min(ends) for n in (1, 2, 3))
    assert all(e.wire.count(f"core{n}", SHOW_RUN) == 1 for n in (1, 2, 3))


def test_each_intent_is_on_disk_with_its_snapshot_before_the_first_line_is_sent(
    tmp_path: Path,
) -> None:
    e = estate(tmp_path)
    before = {name: e.snapshot_of(name) for name in e.devices}

    assert e.cut().outcome == "done"

    for device in ("edge1", "core1"):
        [session] = [s for s in e.sessions if s.name == device]
        # The journal as it stood when the device's first configuration line was sent.
        [on_disk] = session.journal_at_config
        [intent] = [r for r in on_disk if r["event"] == "change.intent" and r["device"] == device]
        assert intent["snapshot"] == before[device]
        assert (e.journal.parent / "snapshots" / f"{before[device]}.txt").exists()
        assert not [r for r in on_disk if r["event"] == "change.applied" and r["device"] == device]
    # Wave 1's own snapshot is still read right before its change, as it must precede it.
    w = e.wire
    assert w.count("edge1", SHOW_RUN) == 1
    assert w.index("edge1", "show ip interface brief") < w.index("edge1", SHOW_RUN)
    assert w.index("edge1", SHOW_RUN) < w.index("edge1", "configure terminal")


def test_a_retry_keeps_the_snapshot_from_before_the_first_attempt(tmp_path: Path) -> None:
    e = estate(tmp_path)
    before = {name: e.snapshot_of(name) for name in e.devices}
    tries = []

    def first_attempt_lands_in_part_then_fails() -> None:
        tries.append(1)
        if len(tries) == 1:
            cli = IosCli(e.devices["edge1"])
            for line in ["configure terminal", f"interface {GI0}", "description half", "end"]:
                cli.execute(line)
            raise DeviceError("edge1", "device answered with an error: % Invalid input")

    e.wire.before_config["edge1"] = first_attempt_lands_in_part_then_fails

    report = e.cut(retries=1)

    assert report.outcome == "done", report
    assert e.snapshot_of("edge1") != before["edge1"]  # a read now would not be the "before"
    first, retry = e.intents("edge1")
    assert (first["attempt"], retry["attempt"]) == (1, 2)
    assert first["snapshot"] == retry["snapshot"] == before["edge1"]
    assert e.wire.count("edge1", SHOW_RUN) == 1


@pytest.mark.parametrize(
    ("error", "logins"),
    [
        (DeviceError("core1", "device answered with an error: % Invalid input"), 1),
        # A session that dropped is no good: the device's task logs in again.
        (ConnectionLost("core1", "connection lost: reset by peer"), 2),
    ],
    ids=["refused", "connection-lost"],
)
def test_a_read_ahead_that_fails_is_read_again_at_the_devices_wave(
    tmp_path: Path, error: Exception, logins: int
) -> None:
    e = estate(tmp_path)
    before = {name: e.snapshot_of(name) for name in e.devices}
    reads = []

    def first_read_fails() -> None:
        reads.append(1)
        if len(reads) == 1:
            raise error

    e.wire.before_snapshot["core1"] = first_read_fails
    # wave 1 waits for the read ahead to have been tried
    e.wire.before_config["edge1"] = lambda: e.wire.wait_for("core1", SHOW_RUN)

    report = e.cut()

    assert report.outcome == "done", report
    w = e.wire
    ahead, again = w.index("core1", SHOW_RUN), w.index("core1", SHOW_RUN, 1)
    assert ahead < w.index("edge1", "end") < again < w.index("core1", "configure terminal")
    [intent] = e.intents("core1")
    assert intent["snapshot"] == before["core1"]
    assert len([s for s in e.sessions if s.name == "core1"]) == logins
    assert all(s.closed == 1 for s in e.sessions), [(s.name, s.closed) for s in e.sessions]


def test_a_re_run_with_nothing_to_do_and_a_restore_read_no_snapshot_before_a_change(
    tmp_path: Path,
) -> None:
    e = estate(tmp_path)
    rt = e.runtime()
    assert e.cut(rt).outcome == "done"

    mark = len(e.wire.lines)
    # edge1 is out of reach behind wan1, cut, and last seen cut: nothing to do anywhere.
    assert e.cut(rt).plan.nothing_to_do
    assert [line for line in e.wire.lines[mark:] if line[1] == SHOW_RUN] == []

    mark = len(e.wire.lines)
    restored = containment.restore(rt, e.playbook, {}, reason="r", operator="t", approved_by="cell")

    assert restored.outcome == "done", restored
    sent = e.wire.lines[mark:]
    for device in ("edge1", "core1"):
        mine = [line for d, line in sent if d == device]
        # The only configuration read is the one after the change, compared with the baseline.
        assert mine.count(SHOW_RUN) == 1 and mine.index(SHOW_RUN) > mine.index("end"), mine
    assert {r.step.device: r.drift for r in restored.steps} == {"core1": [], "edge1": []}


def test_an_interrupt_stops_the_reads_not_started_and_every_session_closes_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Wave 1 takes both workers, and one reader is left: core1 and core2 are read in turn.
    monkeypatch.setattr(evidence, "READERS", 1)
    e = estate(tmp_path, pairs=2)
    rt = e.runtime(workers=2)
    stopping, changing = rt.interrupt.stopping, threading.Barrier(3, timeout=HOLD_S)

    def wave_1_in_flight() -> None:  # each edge's change waits for the Ctrl-C
        changing.wait()
        stopping.wait(HOLD_S)

    def interrupted_mid_read() -> None:  # Ctrl-C during the first read ahead
        changing.wait()
        stopping.set()

    for n in (1, 2):
        e.wire.before_config[f"edge{n}"] = wave_1_in_flight
        e.wire.before_snapshot[f"core{n}"] = interrupted_mid_read

    report = e.cut(rt)

    assert report.interrupted
    read = [d for d, line in e.wire.lines if line == SHOW_RUN and d.startswith("core")]
    assert len(read) == 1, read  # the other was not started
    # Wave 1's changes in flight were finished; wave 2 did not start.
    assert {r.step.device: r.status for r in report.steps} == {
        "edge1": "confirmed",
        "edge2": "confirmed",
        "core1": "not-started",
        "core2": "not-started",
    }
    assert not [t for t in threading.enumerate() if t.name == "isolement-snapshot"]
    assert all(s.closed == 1 for s in e.sessions), [(s.name, s.closed) for s in e.sessions]


def test_a_second_interrupt_does_not_wait_for_a_read_ahead_whose_session_closes_once_done(
    tmp_path: Path,
) -> None:
    e = estate(tmp_path)
    rt = e.runtime()
    release = threading.Event()

    def aborted_mid_read() -> None:
        rt.interrupt.stopping.set()
        rt.interrupt.aborted.set()
        release.wait(HOLD_S)

    e.wire.before_snapshot["core1"] = aborted_mid_read
    e.wire.before_config["edge1"] = lambda: e.wire.wait_for("core1", SHOW_RUN)

    report = e.cut(rt)

    assert report.aborted
    [core] = [s for s in e.sessions if s.name == "core1"]
    assert core.closed == 0  # still being read: not closed under the reader's feet
    release.set()
    for thread in [t for t in threading.enumerate() if t.name == "isolement-snapshot"]:
        thread.join(HOLD_S)
    assert core.closed == 1  # put back after the run let go of its sessions: closed then
    assert e.intents("core1") == []  # its wave never came
