"""A run killed between its changes and their commit (issue #10 item 2): the candidate
configuration of a PAN-OS or Junos device then holds isolement's own uncommitted lines, which
the device keeps across sessions. A candidate holding exactly the lines isolement journaled
(whose outcome is missing) is recognised as its own, put back, and the change sent again whole;
anything else in it (someone's work, alone or beside isolement's lines, or a rule of isolement's
edited by hand) is refused, naming it, with nothing reverted and nothing sent.

SOURCES. PAN-OS: the candidate is read with `show config candidate` and compared with `show
config running`, the XML configuration both print (theworldsgonemad.net, "Palo commit and
rollback", 2022: `show config candidate` "XML only", `show config diff` the changes with + and
-). Comparing those two documents is how PowerAlto (brianaddicks/PowerAlto,
`Public/Get-PaConfigDiff.ps1`) finds pending changes. No recording of either command's output
over SSH was found in the indexed sources (nor of `show config diff`, whose layout is therefore
not parsed): the emulator prints the XML of `show config running`, the layout the driver
already snapshots. Junos: `show | compare` in the layout of jaide's recorded session
(tests/data/juniper_junos/show_compare_ex.txt, NetworkAutomation/jaide
docs/docs/examples/cli/show-compare.md); the candidate's statements are those of `show |
display set` (tests/data/juniper_junos/SOURCES.md).

The decisions are tested on the emulated devices' own CLI (lab/profiles), then end to end: the
real command line SIGKILLed mid-change against emulated devices on 127.0.0.1, run again, and
its journal read.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from emulated import Emulate, IsolementCli, LoginKey, write_cli_files
from isolement.lab.emulator import DeviceSpec, Emulator, InterfaceSpec, generate_key
from isolement.lab.profiles.juniper_junos import JunosDevice
from isolement.lab.profiles.paloalto_panos import PanosCli, PanosDevice

from isolement.drivers.base import CutTarget
from isolement.drivers.paloalto_panos import PaloAltoPanosDriver
from isolement.flows.transaction import transact
from isolement.journal.view import JournalView
from isolement.model.change import ChangeSet, CommitMode
from isolement.model.errors import DeviceError
from isolement.model.state import CutMethod

PANOS = PaloAltoPanosDriver()
FW = "h4-fw"
FW_SPEC = DeviceSpec(
    FW,
    [
        InterfaceSpec("ethernet1/1", address="198.18.40.1/30"),
        InterfaceSpec("ethernet1/2", address="198.18.41.1/24"),
    ],
    platform="paloalto_panos",
    options={
        "zones": {"ethernet1/1": "untrust", "ethernet1/2": "trust"},
        "permits": [["ethernet1/2", "ethernet1/1"]],
        "commit_seconds": 0.0,
    },
)
FOREIGN_RULE = (
    "set rulebase security rules maintenance from trust to any source any destination any "
    "application any service any action allow"
)


class CliSession:
    """A driver Session typing into the emulated firewall's CLI directly (no SSH)."""

    def __init__(self, device: PanosDevice) -> None:
        self.cli = PanosCli(device)
        self.cli.scripting = True  # as netmiko's login leaves it
        self.sent: list[str] = []

    def send_command(self, command: str, **_: object) -> str:
        self.sent.append(command)
        return "\n".join(self.cli.execute(command))

    def send_config(self, commands: Sequence[str]) -> str:
        raise AssertionError("the PAN-OS driver types its lines itself")

    def commit(self, *, confirm_minutes: int | None = None) -> str:
        raise AssertionError("the commit is a configuration line")

    def prompt(self) -> str:
        return f"admin@{FW}>"

    def close(self) -> None:
        pass


def firewall() -> PanosDevice:
    return PanosDevice(FW_SPEC, generate_key())


def cut_change(device: PanosDevice) -> ChangeSet:
    state = PANOS.read_state(CliSession(device))
    return PANOS.render_cut([CutTarget("inet-h4", "ethernet1/1", CutMethod.DENY)], state)


def cut_lines(device: PanosDevice) -> list[str]:
    return cut_change(device).lines


def typed(device: PanosDevice, *lines: str) -> None:
    """Lines left in the candidate, as a killed run (or a colleague) leaves them."""
    session = CliSession(device)
    for line in ["configure", *lines, "exit"]:
        assert "Invalid" not in session.send_command(line), line


def rule_names(device: PanosDevice, key: str) -> list[str]:
    rules = device.extra_state()[key]
    assert isinstance(rules, list)
    return [str(r["name"]) for r in rules]


# --- the PAN-OS driver's decisions ------------------------------------------------------------


@pytest.mark.parametrize("sent", [1, 2, 4], ids=["one-line", "both-rules", "moved-too"])
def test_isolements_own_uncommitted_lines_are_reverted_then_the_change_sent_again(
    sent: int,
) -> None:
    device = firewall()
    journaled = cut_lines(device)
    typed(device, *journaled[:sent])  # killed after `sent` lines, before the commit
    assert device.pending()

    session = CliSession(device)
    note = PANOS.recover_candidate(session, FW, journaled)

    assert note is not None and "revert config" in note and "isolement-ethernet1_1" in note
    assert not device.pending()
    assert "commit" not in session.sent  # never a prefix of the interrupted change committed
    transact(PANOS, session, FW, cut_change(device))
    assert device.blocked_interfaces() == frozenset({"ethernet1/1"})
    assert not device.pending()


def test_a_restores_uncommitted_deletes_are_isolements_own() -> None:
    device = firewall()
    session = CliSession(device)
    transact(PANOS, session, FW, cut_change(device))
    state = PANOS.read_state(session)
    journaled = PANOS.render_restore(
        [CutTarget("inet-h4", "ethernet1/1", CutMethod.DENY)], state
    ).lines
    typed(device, journaled[0])

    assert PANOS.recover_candidate(session, FW, journaled) is not None
    assert not device.pending()
    assert device.blocked_interfaces() == frozenset({"ethernet1/1"})  # still cut: not committed


def test_someone_elses_uncommitted_rule_is_refused_and_left_pending() -> None:
    device = firewall()
    journaled = cut_lines(device)
    typed(device, FOREIGN_RULE)
    session = CliSession(device)

    with pytest.raises(DeviceError, match=r"not isolement's: .*entry\[maintenance\] \(added\)"):
        PANOS.recover_candidate(session, FW, journaled)

    assert "revert config" not in session.sent and "commit" not in session.sent
    assert "maintenance" in rule_names(device, "candidate_rules")


def test_isolements_lines_beside_someone_elses_are_refused_naming_theirs() -> None:
    device = firewall()
    journaled = cut_lines(device)
    typed(device, *journaled[:2], FOREIGN_RULE)
    session = CliSession(device)

    with pytest.raises(DeviceError, match=r"isolement's own uncommitted rules and .*maintenance"):
        PANOS.recover_candidate(session, FW, journaled)

    assert "revert config" not in session.sent
    assert {"maintenance", "isolement-ethernet1_1-inet-h4-in"} <= set(
        rule_names(device, "candidate_rules")
    )


def test_a_rule_of_isolements_edited_by_hand_in_the_candidate_is_not_its_own() -> None:
    device = firewall()
    journaled = cut_lines(device)
    typed(
        device,
        *journaled[:2],
        "set rulebase security rules isolement-ethernet1_1-inet-h4-in action allow",
    )

    with pytest.raises(DeviceError, match=r"isolement-ethernet1_1-inet-h4-in holds what"):
        PANOS.recover_candidate(CliSession(device), FW, journaled)

    assert device.pending()


def test_with_nothing_journaled_a_pending_candidate_is_refused_as_before() -> None:
    device = firewall()
    lines = cut_lines(device)
    typed(device, *lines[:2])  # the same lines, typed by someone: nothing says they are ours
    session = CliSession(device)

    assert PANOS.recover_candidate(session, FW, []) is None
    with pytest.raises(DeviceError, match="changes nobody has committed"):
        transact(PANOS, session, FW, ChangeSet(lines=lines, commit=CommitMode.PLAIN))
    assert device.pending()


# --- end to end: the real command line killed mid-change, then run again ------------------------

SW = "h5-sw"
SW_SPEC = DeviceSpec(
    SW,
    [InterfaceSpec("ge-0/0/0", address="198.18.102.10/30"), InterfaceSpec("ge-0/0/1")],
    platform="juniper_junos",
    options={"commit_seconds": 1.5},
)
SLOW_FW = DeviceSpec(
    FW_SPEC.name,
    FW_SPEC.interfaces,
    platform="paloalto_panos",
    options={**FW_SPEC.options, "commit_seconds": 1.5},
)
LINKS = {
    "inet-h4": {"kind": "internet", "endpoints": [{"device": FW, "interface": "ethernet1/1"}]},
    "wan-dc-h5": {"kind": "intersite", "endpoints": [{"device": SW, "interface": "ge-0/0/0"}]},
}


def uncommitted(device: Any) -> bool:
    return bool(device.pending() if isinstance(device, PanosDevice) else device.modified())


def colleague_edits(device: Any) -> None:
    """Someone's own uncommitted change, typed beside what the killed run left."""
    if isinstance(device, PanosDevice):
        typed(device, FOREIGN_RULE)
    else:
        assert isinstance(device, JunosDevice)
        device.edit(("interfaces", "ge-0/0/1", 'description "maintenance"'), delete=False)


@pytest.fixture
def estate(
    emulate: Emulate, login_key: LoginKey, tmp_path: Path
) -> tuple[Emulator, IsolementCli, Path]:
    emu = emulate([SLOW_FW, SW_SPEC])
    _, playbook = write_cli_files(
        tmp_path,
        emu,
        login_key,
        "candidates",
        links=LINKS,
        playbook={"name": "cut-both", "cut": [{"select": {"kind": ["internet", "intersite"]}}]},
        platforms={FW: "paloalto_panos", SW: "juniper_junos"},
    )
    cli = IsolementCli(tmp_path / "inventory.yaml", tmp_path / "state", timeout_s=10)
    return emu, cli, playbook


def kill_mid_change(cli: IsolementCli, playbook: Path, device: Any, name: str) -> None:
    """SIGKILL once `name`'s intent is journaled and its candidate holds the change, before
    its commit (1.5 s on these devices) puts it in effect."""
    run = cli.start("cut", str(playbook), "--reason", "killed", "--yes")
    try:
        cli.wait_for(lambda rs: any(r.get("device") == name for r in intents(rs)), 60)
        deadline = time.monotonic() + 20
        while not uncommitted(device):
            assert time.monotonic() < deadline, "the change never reached the candidate"
            time.sleep(0.005)
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait()


def intents(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["event"] == "change.intent"]


def events_of(cli: IsolementCli, event: str, device: str) -> list[dict[str, Any]]:
    return [r for r in cli.records() if r["event"] == event and r.get("device") == device]


def cut_in_effect(device: Any) -> bool:
    if isinstance(device, PanosDevice):
        return device.blocked_interfaces() == frozenset({"ethernet1/1"})
    return device.admin_up()["ge-0/0/0"] is False


@pytest.mark.parametrize("name", [FW, SW])
def test_a_run_killed_before_its_commit_is_converged_by_the_next_and_journaled(
    estate: tuple[Emulator, IsolementCli, Path], name: str
) -> None:
    emu, cli, playbook = estate
    device = emu.device(name)
    before = device.state()
    kill_mid_change(cli, playbook, device, name)
    assert uncommitted(device) and not cut_in_effect(device)
    assert not events_of(cli, "change.applied", name)

    again = cli.run("cut", str(playbook), "--reason", "after the crash", "--yes")

    assert again.returncode == 0, again.stdout + again.stderr
    assert cut_in_effect(device) and not uncommitted(device)
    (applied,) = events_of(cli, "change.applied", name)
    assert "isolement's own uncommitted lines" in applied["recovered"]
    assert "isolement's own uncommitted lines" in again.stdout
    # The killed run's lines are settled by the outcome that recovered them.
    assert JournalView.read(cli.journal_path).unsettled_lines(name) == []
    restore = cli.run(
        "restore", str(playbook), "--all", "--approved-by", "cell", "--reason", "r", "--yes"
    )
    assert restore.returncode == 0, restore.stdout + restore.stderr
    assert "DRIFT" not in restore.stdout
    after = device.state()
    assert {k: v for k, v in after.items() if k != "commit_confirmed_pending"} == {
        k: v for k, v in before.items() if k != "commit_confirmed_pending"
    }


@pytest.mark.parametrize("name", [FW, SW])
def test_someone_elses_change_beside_the_killed_runs_lines_is_never_committed(
    estate: tuple[Emulator, IsolementCli, Path], name: str
) -> None:
    emu, cli, playbook = estate
    device = emu.device(name)
    kill_mid_change(cli, playbook, device, name)
    colleague_edits(device)

    again = cli.run("cut", str(playbook), "--reason", "after the crash", "--yes", "--retries", "0")

    assert again.returncode != 0, again.stdout
    assert not cut_in_effect(device) and uncommitted(device)  # nothing reverted, nothing sent
    failed = events_of(cli, "change.failed", name)
    assert failed and "not isolement's" in failed[-1]["error"]
    assert "maintenance" in failed[-1]["error"]
    assert "maintenance" in str(device.state())  # their change still waits in the candidate
