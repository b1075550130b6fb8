"""Its word must be true (issue #10): a state not read in this run is never "cut", a change
whose outcome was not seen is "unconfirmed", a stage cannot be left open by an interrupt, and
signals and a journal that cannot be written stop a run the way the README says.

Emulated devices on 127.0.0.1 (lab/emulator.py), driven through the real command line in its
own process unless a test needs to replace a part of it; no lab, no root.
"""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from emulated import Emulate, IsolementCli, LoginKey, write_cli_files
from isolement.lab.emulator import DeviceSpec, Emulator, exit_links
from isolement.lab.profiles import PROFILES

from isolement.cli import render
from isolement.drivers import Driver, Session
from isolement.flows import containment
from isolement.flows.runtime import Runtime
from isolement.journal.store import Journal, Written, verify_chain
from isolement.model.errors import DeviceError, JournalError
from isolement.model.inventory import Inventory, load_inventory
from isolement.model.playbook import load_playbook
from isolement.transport import session as sessions

GI0, GI1 = "GigabitEthernet0/0", "GigabitEthernet0/1"
EXIT_OK, EXIT_PARTIAL, EXIT_FAILED, EXIT_JOURNAL, EXIT_UNKNOWN = 0, 3, 4, 5, 6


def events(records: list[dict[str, Any]], name: str, **match: Any) -> list[dict[str, Any]]:
    return [
        r for r in records if r["event"] == name and all(r.get(k) == v for k, v in match.items())
    ]


# --- #10 item 1: a state not read now is unknown, never "cut" --------------------------------

# A site router reached in-band, through the WAN link the playbook cuts (as the lab's h2): the
# cut changes it first, then cuts the link at the core; from then on it cannot be read.
INBAND_LINKS = {
    "wan-core-edge": {
        "kind": "intersite",
        "endpoints": [{"device": "core", "interface": GI1}, {"device": "edge", "interface": GI1}],
    },
    "inet-edge": {"kind": "internet", "endpoints": [{"device": "edge", "interface": GI0}]},
}


@dataclasses.dataclass
class InBand:
    emu: Emulator
    cli: IsolementCli
    playbook: Path

    def shut(self) -> dict[str, set[str]]:
        return {n: d.shutdown_interfaces() for n, d in self.emu.devices.items()}

    def configured(self) -> dict[str, int]:
        return {n: d.config_changes for n, d in self.emu.devices.items()}


def write_in_band(emu: Emulator, login_key: LoginKey, directory: Path, **changes: Any) -> Path:
    """The inventory of the in-band estate, `edge` managed through wan-core-edge; `changes`
    are set on the inventory's data (a copy without probes, say)."""
    write_cli_files(
        directory,
        emu,
        login_key,
        "in-band",
        links=INBAND_LINKS,
        sites={"core": "dc", "edge": "s1"},
        playbook={"name": "cut-all", "cut": [{"select": {"kind": ["intersite", "internet"]}}]},
    )
    path = directory / "inventory.yaml"
    data = yaml.safe_load(path.read_text())
    data["devices"]["edge"]["managed_via"] = ["wan-core-edge"]
    data.update(changes)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def in_band(emulate: Emulate, login_key: LoginKey, tmp_path: Path) -> InBand:
    emu = emulate([DeviceSpec("core", [GI0, GI1]), DeviceSpec("edge", [GI0, GI1])])
    inventory = write_in_band(emu, login_key, tmp_path)
    return InBand(emu, IsolementCli(inventory, tmp_path / "state"), tmp_path / "cut-all.yaml")


def cut_then_reboot_edge(estate: InBand) -> None:
    """cut-all in effect, then `edge` loses its cut (as a restart would) while its management
    link stays cut at the core: nothing isolement can read says so."""
    done = estate.cli.run("cut", str(estate.playbook), "--reason", "ransomware", "--yes")
    assert done.returncode == EXIT_OK, done.stdout + done.stderr
    assert estate.shut() == {"core": {GI1}, "edge": {GI0}}
    estate.emu.device("edge").set_shutdown(GI0, False)


def test_the_journal_holds_every_line_typed_to_the_device_not_only_the_change(
    in_band: InBand,
) -> None:
    """#11: what went over the wire, netmiko's own `configure terminal` and `end` included, in
    order, then the read-back; the intent keeps the change set's lines as rendered."""
    done = in_band.cli.run("cut", str(in_band.playbook), "--reason", "ransomware", "--yes")
    assert done.returncode == EXIT_OK, done.stdout + done.stderr

    records = in_band.cli.records()
    (intent,) = events(records, "change.intent", device="core")
    (applied,) = events(records, "change.applied", device="core")

    assert intent["commands"] == [f"interface {GI1}", "shutdown", "exit"]
    assert "commit" not in intent
    sent = applied["sent"]
    change = ["configure terminal", f"interface {GI1}", "shutdown", "exit", "end"]
    assert sent[: len(change)] == change
    assert sent[len(change) :] == ["show ip interface brief"]


def test_status_says_unknown_last_seen_cut_for_a_device_it_cannot_read(in_band: InBand) -> None:
    cut_then_reboot_edge(in_band)
    logins = in_band.emu.device("edge").logins

    status = in_band.cli.run("status", str(in_band.playbook))

    assert status.returncode == EXIT_UNKNOWN, status.stdout + status.stderr
    lines = status.stdout.splitlines()
    assert any(line.startswith("UNKNOWN  inet-edge") for line in lines), status.stdout
    assert "unknown, last seen cut at 20" in status.stdout
    assert not any(line.startswith("CUT      inet-edge") for line in lines)
    assert "CUT      wan-core-edge" in status.stdout
    assert in_band.emu.device("edge").logins == logins  # not dialled: its path is cut


def test_cut_run_again_is_not_nothing_to_do_and_offers_the_way_to_reach_it(
    in_band: InBand,
) -> None:
    cut_then_reboot_edge(in_band)
    configured = in_band.configured()

    again = in_band.cli.run("cut", str(in_band.playbook), "--reason", "again", "--yes")

    assert again.returncode == EXIT_UNKNOWN, again.stdout + again.stderr
    assert "nothing to do" not in again.stdout
    assert "CONTAINED" not in again.stdout.replace("NOT CONTAINED", "")
    assert "inet-edge" in again.stdout and "unknown, last seen cut at 20" in again.stdout
    assert f"cut {in_band.playbook} --reach edge" in again.stdout
    assert in_band.configured() == configured
    (finished,) = events(in_band.cli.records(), "run.finished")[-1:]
    assert finished["outcome"] == "unknown"


@pytest.mark.parametrize("probes", [False, True], ids=["no-probes", "probes-unavailable"])
def test_verify_without_probes_does_not_call_an_unread_path_contained(
    emulate: Emulate, login_key: LoginKey, tmp_path: Path, probes: bool
) -> None:
    emu = emulate([DeviceSpec("core", [GI0, GI1]), DeviceSpec("edge", [GI0, GI1])])
    # Production has no lab namespaces: a declared probe is unavailable, and proves nothing.
    extra = (
        {"probes": [{"name": "edge-out", "from_netns": "iso-none", "to": "198.18.250.10"}]}
        if probes
        else {}
    )
    estate = InBand(
        emu,
        IsolementCli(write_in_band(emu, login_key, tmp_path, **extra), tmp_path / "state"),
        tmp_path / "cut-all.yaml",
    )
    cut_then_reboot_edge(estate)

    verify = estate.cli.run("verify", str(estate.playbook))

    assert verify.returncode == EXIT_UNKNOWN, verify.stdout + verify.stderr
    assert "NOT PROVEN" in verify.stdout and "inet-edge" in verify.stdout
    assert "CONTAINED" not in verify.stdout.replace("NOT CONTAINED", "")


def test_reach_reopens_the_management_path_reads_recuts_and_cuts_it_again(
    in_band: InBand,
) -> None:
    cut_then_reboot_edge(in_band)
    before = len(in_band.cli.records())

    reach = in_band.cli.run(
        "cut", str(in_band.playbook), "--reason", "re-cut edge", "--yes", "--reach", "edge"
    )

    assert reach.returncode == EXIT_OK, reach.stdout + reach.stderr
    assert in_band.shut() == {"core": {GI1}, "edge": {GI0}}
    assert "CONTAINED" in reach.stdout
    new = in_band.cli.records()[before:]
    intents = [(r["device"], r["direction"]) for r in new if r["event"] == "change.intent"]
    # Reopened at the controller's side, the device read and re-cut, the link cut again.
    assert intents == [("core", "restore"), ("edge", "cut"), ("core", "cut")], intents
    assert all(r["reason"] == "re-cut edge" for r in events(new, "run.started"))
    assert verify_chain(in_band.cli.journal_path)[1] is None
    again = in_band.cli.run("status", str(in_band.playbook))
    assert again.returncode == EXIT_UNKNOWN  # once more out of reach, and said so


def test_reach_names_a_device_it_cannot_reach_by_reopening(in_band: InBand) -> None:
    cut_then_reboot_edge(in_band)

    done = in_band.cli.run(
        "cut", str(in_band.playbook), "--reason", "r", "--yes", "--reach", "core"
    )

    assert done.returncode == 2, done.stdout + done.stderr
    assert "core" in done.stderr and "not out of reach" in done.stderr
    assert in_band.shut() == {"core": {GI1}, "edge": set()}


# --- #10 item 3: a staged reconnection never fails open ---------------------------------------


@pytest.fixture
def staged(emulate: Emulate, login_key: LoginKey, tmp_path: Path) -> tuple[Emulator, IsolementCli]:
    """One router whose exit a playbook cuts, and a stage reopening it, held 30 s."""
    emu = emulate([DeviceSpec("r1", [GI0, GI1])])
    write_cli_files(
        tmp_path,
        emu,
        login_key,
        "staged",
        links=exit_links(["r1"], GI0),
        playbook={
            "name": "cut-exits",
            "cut": [{"select": {"kind": "internet"}}],
            "stages": [{"name": "back", "open": {"link": "inet-r1"}, "hold_s": 30}],
        },
    )
    cli = IsolementCli(tmp_path / "inventory.yaml", tmp_path / "state")
    playbook = str(tmp_path / "cut-exits.yaml")
    assert cli.run("cut", playbook, "--reason", "r", "--yes").returncode == EXIT_OK
    assert emu.device("r1").is_shutdown(GI0)
    return emu, cli


def open_stage_and_wait_for_the_hold(cli: IsolementCli, playbook: str) -> subprocess.Popen[str]:
    run = cli.start(
        *("restore", playbook, "--stage", "back"),
        *("--approved-by", "dr", "--reason", "doubt lifted", "--yes"),
    )
    cli.wait_for(lambda rs: bool(events(rs, "run.finished", direction="restore")), 30)
    return run


def test_ctrl_c_during_a_stage_hold_closes_the_stage_again(
    staged: tuple[Emulator, IsolementCli],
) -> None:
    emu, cli = staged
    playbook = str(Path(cli.inventory).with_name("cut-exits.yaml"))
    run = open_stage_and_wait_for_the_hold(cli, playbook)
    assert not emu.device("r1").is_shutdown(GI0)
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=30)

    assert emu.device("r1").is_shutdown(GI0), out + err
    assert run.returncode == EXIT_FAILED, out + err
    assert "closed again" in out
    records = cli.records()
    intent = events(records, "stage.intent", stage="back")
    assert intent and records.index(intent[0]) < records.index(
        events(records, "run.started", direction="restore")[0]
    )
    closed = events(records, "stage.closed", stage="back")
    assert closed and "interrupted" in closed[-1]["reason"]
    assert not events(records, "stage.opened")
    assert "1. back" in (s := cli.run("status", playbook).stdout) and "closed" in s


def test_a_stage_whose_run_was_killed_during_the_hold_can_be_closed(
    staged: tuple[Emulator, IsolementCli],
) -> None:
    emu, cli = staged
    playbook = str(Path(cli.inventory).with_name("cut-exits.yaml"))
    run = open_stage_and_wait_for_the_hold(cli, playbook)
    run.send_signal(signal.SIGKILL)
    run.communicate(timeout=30)
    assert not emu.device("r1").is_shutdown(GI0)  # killed: it could not close anything

    status = cli.run("status", playbook)
    assert "back" in status.stdout and "outcome not journaled" in status.stdout, status.stdout
    closed = cli.run("restore", playbook, "--close", "back", "--reason", "killed", "--yes")

    assert closed.returncode == EXIT_OK, closed.stdout + closed.stderr
    assert emu.device("r1").is_shutdown(GI0)
    assert events(cli.records(), "stage.closed", stage="back")


@pytest.mark.parametrize("error", [KeyboardInterrupt, JournalError, RuntimeError])
def test_an_exception_during_the_watch_closes_the_stage_again_before_it_goes_on(
    staged: tuple[Emulator, IsolementCli],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    error: type[BaseException],
) -> None:
    from isolement.flows import stages

    emu, cli = staged
    calls: list[str] = []

    def watch(*args: object) -> str:
        calls.append("watch")
        assert not emu.device("r1").is_shutdown(GI0)  # the stage is open while watched
        raise error("during the hold")

    monkeypatch.setattr(stages, "_watch", watch)
    rt = Runtime(load_inventory(cli.inventory), cli.journal_path)
    playbook = load_playbook(str(Path(cli.inventory).with_name("cut-exits.yaml")), tmp_path)

    with pytest.raises(error):
        stages.open_stage(
            rt, playbook, {}, "back", approved_by="dr", reason="doubt lifted", operator="t"
        )

    assert calls == ["watch"]
    assert emu.device("r1").is_shutdown(GI0), "the stage was left open"
    records = cli.records()
    assert [r["event"] for r in records if r["event"].startswith("stage.")] == [
        "stage.intent",
        "stage.closed",
    ]
    assert "interrupted" in events(records, "stage.closed")[0]["reason"]


# --- #10 item 12: unconfirmed is not "still open"; a timeout is a timeout --------------------

FIVE = [f"r{i}" for i in range(1, 6)]


@pytest.fixture
def five(emulate: Emulate, login_key: LoginKey, tmp_path: Path) -> tuple[Emulator, IsolementCli]:
    emu = emulate([DeviceSpec(n, [GI0, GI1]) for n in FIVE])
    write_cli_files(
        tmp_path,
        emu,
        login_key,
        "five",
        links=exit_links(FIVE, GI0),
        playbook={"name": "cut-exits", "cut": [{"select": {"kind": "internet"}}]},
    )
    return emu, IsolementCli(tmp_path / "inventory.yaml", tmp_path / "state")


def cut_exits(cli: IsolementCli, *options: str) -> subprocess.CompletedProcess[str]:
    playbook = str(Path(cli.inventory).with_name("cut-exits.yaml"))
    return cli.run("cut", playbook, "--reason", "drill", "--yes", *options)


def test_an_error_printed_after_the_change_took_effect_is_settled_by_reading_it(
    five: tuple[Emulator, IsolementCli],
) -> None:
    emu, cli = five
    # `shutdown` lands; the `exit` after it is refused: the device printed an error.
    emu.device("r3").set_faults(error_on="exit")

    done = cut_exits(cli, "--retries", "0")

    assert done.returncode == EXIT_OK, done.stdout + done.stderr
    assert all(emu.device(n).is_shutdown(GI0) for n in FIVE)
    assert f"  ok     r3: {GI0} (inet-r3)" in done.stdout.splitlines()
    assert "Invalid input" in done.stdout  # the device's complaint is shown, not hidden
    assert "Still OPEN" not in done.stdout


def test_a_change_whose_outcome_could_not_be_read_is_unconfirmed_until_a_later_read(
    emulate: Emulate, login_key: LoginKey, tmp_path: Path
) -> None:
    emu = emulate([DeviceSpec(n, [GI0, GI1]) for n in FIVE])
    _, path = write_cli_files(
        tmp_path,
        emu,
        login_key,
        "five",
        links=exit_links(FIVE, GI0),
        playbook={"name": "cut-exits", "cut": [{"select": {"kind": "internet"}}]},
    )
    emu.device("r3").set_faults(drop_after_config_lines=2)  # `shutdown` lands, then a reset
    logins: dict[str, int] = {}

    def connect(inventory: Inventory, device: str, driver: Driver, timeout: float) -> Session:
        logins[device] = logins.get(device, 0) + 1
        if device == "r3" and logins[device] > 1:  # and r3 cannot be reached again
            raise DeviceError(device, f"no answer from 127.0.0.1:{emu.ports[device]}")
        return sessions.connect(inventory, device, driver, timeout)

    inventory = load_inventory(tmp_path / "inventory.yaml")
    rt = Runtime(inventory, tmp_path / "journal.jsonl", connect=connect)
    playbook = load_playbook(str(path), tmp_path)
    options = containment.Options(retries=0)

    report = containment.cut(rt, playbook, {}, reason="r", operator="t", options=options)

    assert emu.device("r3").is_shutdown(GI0)
    assert report.outcome == "unknown"
    assert report.still_open == {}
    assert "inet-r3" in report.unknown and "unconfirmed" in report.unknown["inet-r3"]
    text = render.run_text(report)
    assert "UNCONFIRMED r3" in text and "connection lost" in text
    assert "Still OPEN" not in text
    # A later read settles it.
    from isolement.flows.status import status

    links = status(Runtime(inventory, rt.journal_path), playbook, {})
    assert {link.link: link.state for link in links.links}["inet-r3"] == "cut"


def test_a_privilege_check_that_times_out_is_reported_as_a_timeout(
    emulate: Emulate, login_key: LoginKey, tmp_path: Path
) -> None:
    spec = PROFILES["paloalto_panos"].sample("fw1")
    emu = emulate([spec])
    emu.device("fw1").set_faults(slow_on="check pending-changes", slow_s=4)
    write_cli_files(
        tmp_path,
        emu,
        login_key,
        "slow",
        links=exit_links(["fw1"], "ethernet1/1"),
        playbook={"name": "cut-exits", "cut": [{"select": {"kind": "internet"}}]},
        platforms={"fw1": "paloalto_panos"},
    )
    cli = IsolementCli(tmp_path / "inventory.yaml", tmp_path / "state", timeout_s=2)

    done = cut_exits(cli, "--retries", "0")

    assert done.returncode == EXIT_FAILED, done.stdout + done.stderr
    # The report's own lines, not the anchor's path (which holds this test's name).
    report = done.stdout.split("journal head:")[0]
    assert "without the privilege" not in report, report
    assert "no answer within 2 s" in done.stdout, done.stdout


def test_a_slow_asa_is_not_reported_as_refusing_the_login(
    emulate: Emulate, login_key: LoginKey, tmp_path: Path
) -> None:
    spec = dataclasses.replace(PROFILES["cisco_asa"].sample("fw1"), latency=1.0)
    emu = emulate([spec])
    write_cli_files(
        tmp_path,
        emu,
        login_key,
        "slow-asa",
        links=exit_links(["fw1"], spec.interfaces[0].name),
        playbook={"name": "cut-exits", "cut": [{"select": {"kind": "internet"}}]},
        platforms={"fw1": "cisco_asa"},
    )
    cli = IsolementCli(tmp_path / "inventory.yaml", tmp_path / "state", timeout_s=10)

    done = cut_exits(cli, "--retries", "0")

    assert "authentication failed" not in done.stdout, done.stdout
    assert "privileged mode" in done.stdout and "in time" in done.stdout, done.stdout


# --- signals: a second Ctrl-C, SIGHUP and SIGTERM --------------------------------------------


@pytest.fixture
def slow_five(
    emulate: Emulate, login_key: LoginKey, tmp_path: Path
) -> tuple[Emulator, IsolementCli]:
    """Five routers answering each command in 0.5 s: a cut takes several seconds."""
    emu = emulate([DeviceSpec(n, [GI0, GI1], latency=0.5) for n in FIVE])
    write_cli_files(
        tmp_path,
        emu,
        login_key,
        "slow-five",
        links=exit_links(FIVE, GI0),
        playbook={"name": "cut-exits", "cut": [{"select": {"kind": "internet"}}]},
    )
    return emu, IsolementCli(tmp_path / "inventory.yaml", tmp_path / "state", timeout_s=10)


def start_cut(cli: IsolementCli) -> subprocess.Popen[str]:
    playbook = str(Path(cli.inventory).with_name("cut-exits.yaml"))
    run = cli.start("cut", playbook, "--reason", "signals", "--yes")
    cli.wait_for(lambda rs: bool(events(rs, "change.intent")), 60)
    return run


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGHUP, signal.SIGTERM])
def test_a_signal_finishes_the_changes_in_flight_and_journals_the_end(
    slow_five: tuple[Emulator, IsolementCli], signum: signal.Signals
) -> None:
    _, cli = slow_five
    run = start_cut(cli)
    run.send_signal(signum)
    out, err = run.communicate(timeout=60)

    records = cli.records()
    (finished,) = events(records, "run.finished")
    assert finished["interrupted"] is True, out + err
    intents = {(r["device"], r["attempt"]) for r in events(records, "change.intent")}
    outcomes = {
        (r["device"], r["attempt"])
        for r in records
        if r["event"] in ("change.applied", "change.failed", "change.unconfirmed")
    }
    assert intents <= outcomes, "a change in flight was abandoned without its outcome"
    assert "interrupted" in out
    assert verify_chain(cli.journal_path)[1] is None


def test_a_second_ctrl_c_stops_at_once_and_still_journals_the_end(
    slow_five: tuple[Emulator, IsolementCli],
) -> None:
    _, cli = slow_five
    run = start_cut(cli)
    run.send_signal(signal.SIGINT)
    time.sleep(0.2)
    run.send_signal(signal.SIGINT)
    stopped = time.monotonic()
    out, err = run.communicate(timeout=60)
    waited = time.monotonic() - stopped

    assert run.returncode == 130, out + err
    records = cli.records()
    (finished,) = events(records, "run.finished")
    assert finished["interrupted"] is True and finished["aborted"] is True
    in_flight = set(finished["unknown"])
    assert in_flight, finished  # the devices whose change was cut short, named
    assert waited < 5, f"the second Ctrl-C waited {waited:.1f} s for the devices"
    assert verify_chain(cli.journal_path)[1] is None


# --- a journal that cannot be written stops the run ------------------------------------------


def failing_journal(
    monkeypatch: pytest.MonkeyPatch, fails: Callable[[str, dict[str, Any]], bool]
) -> list[str]:
    """Writing a journal record (`Journal.append`, which `record` and the run's recorder go
    through) raises JournalError once `fails(event, fields)` has held, for every record after
    (a full disk stays full); returns the events attempted."""
    attempted: list[str] = []
    broken: list[bool] = []
    real = Journal.append

    def append(self: Journal, event: str, **fields: Any) -> Written:
        attempted.append(event)
        if broken or fails(event, fields):
            broken.append(True)
            raise JournalError(f"{self.path}: cannot write: No space left on device")
        return real(self, event, **fields)

    monkeypatch.setattr(Journal, "append", append)
    return attempted


def test_a_journal_write_failure_stops_the_run_and_nothing_more_is_sent(
    five: tuple[Emulator, IsolementCli], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu, cli = five
    attempted = failing_journal(
        monkeypatch, lambda event, f: event == "change.intent" and f["device"] == "r2"
    )
    inventory = load_inventory(cli.inventory)
    rt = Runtime(inventory, tmp_path / "journal.jsonl", workers=1)  # one device at a time
    playbook = load_playbook(str(Path(cli.inventory).with_name("cut-exits.yaml")), tmp_path)

    report = containment.cut(rt, playbook, {}, reason="r", operator="t")

    assert emu.device("r1").is_shutdown(GI0)  # journaled, then sent
    assert [n for n in FIVE if emu.device(n).config_changes] == ["r1"]
    assert report.outcome == "journal-failed"
    assert "No space left on device" in render.run_text(report)
    # Once the journal failed, no other device was even tried.
    assert attempted.count("change.intent") == 2


def test_a_journal_write_failure_is_a_clear_message_and_exit_code(
    five: tuple[Emulator, IsolementCli],
    monkeypatch: pytest.MonkeyPatch,
    in_process_cli: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from isolement.cli.main import main

    emu, cli = five
    failing_journal(monkeypatch, lambda event, f: event == "change.intent")
    playbook = str(Path(cli.inventory).with_name("cut-exits.yaml"))

    code = main(["--inventory", str(cli.inventory), "cut", playbook, "--reason", "r", "--yes"])

    assert code == EXIT_JOURNAL
    assert all(emu.device(n).config_changes == 0 for n in FIVE)
    out, err = capsys.readouterr()
    assert "journal" in out + err and "No space left on device" in out + err
    assert "Traceback" not in err
