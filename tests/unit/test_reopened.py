"""A cut that vanished is seen (#12 §3): an end isolement cut, saw cut, and has not restored
reads "reopened" in `status` and `verify` (with when it was last seen cut), never "open" as if
never cut, nor hidden behind the other end of its link; the exit code says a path is open; the
incident report marks the interval; `cut` closes it again and the journal says why.

Emulated devices on 127.0.0.1 (lab/emulator.py), driven through the real command line.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from emulated import Emulate, IsolementCli, LoginKey, write_cli_files
from isolement.lab.emulator import DeviceSpec, Emulator

from isolement.journal import events as ev
from isolement.journal.store import Journal
from isolement.journal.view import JournalView
from isolement.model.plan import Change, Direction
from isolement.model.state import CutMethod
from isolement.report.extract import build_report
from isolement.report.render import to_markdown

GI0, GI1 = "GigabitEthernet0/0", "GigabitEthernet0/1"
EXIT_OK, EXIT_PARTIAL, EXIT_STATE_ONLY = 0, 3, 8

LINKS = {
    "wan-core-edge": {
        "kind": "intersite",
        "endpoints": [{"device": "core", "interface": GI1}, {"device": "edge", "interface": GI1}],
    },
    "inet-edge": {"kind": "internet", "endpoints": [{"device": "edge", "interface": GI0}]},
}


@dataclasses.dataclass
class Estate:
    emu: Emulator
    cli: IsolementCli
    playbook: str

    def run(self, *args: str) -> tuple[int, str]:
        done = self.cli.run(*args)
        return done.returncode, done.stdout + done.stderr

    def cut(self) -> None:
        code, out = self.run("cut", self.playbook, "--reason", "ransomware", "--yes")
        assert code == EXIT_OK, out


@pytest.fixture
def estate(emulate: Emulate, login_key: LoginKey, tmp_path: Path) -> Estate:
    emu = emulate([DeviceSpec("core", [GI0, GI1]), DeviceSpec("edge", [GI0, GI1])])
    playbook = {"name": "cut-all", "cut": [{"select": {"kind": ["intersite", "internet"]}}]}
    write_cli_files(tmp_path, emu, login_key, "reopened", links=LINKS, playbook=playbook, sites={})
    cli = IsolementCli(tmp_path / "inventory.yaml", tmp_path / "state")
    return Estate(emu, cli, str(tmp_path / "cut-all.yaml"))


def test_a_cut_that_vanished_is_reopened_with_when_it_was_last_seen_cut(estate: Estate) -> None:
    estate.cut()
    estate.emu.device("edge").set_shutdown(GI0, False)  # as a reboot without the cut would

    code, out = estate.run("status", estate.playbook)

    assert code == EXIT_PARTIAL, out
    assert "REOPENED inet-edge (internet)" in out
    assert "    reopened edge GigabitEthernet0/0 [shutdown]  last seen cut at 20" in out
    assert "REOPENED: edge GigabitEthernet0/0 (inet-edge) was last seen cut at 20" in out
    assert "CUT      wan-core-edge" in out


def test_verify_says_not_contained_and_journals_the_reopened_end(estate: Estate) -> None:
    estate.cut()
    estate.emu.device("edge").set_shutdown(GI0, False)

    code, out = estate.run("verify", estate.playbook)

    assert code == EXIT_PARTIAL, out
    assert "NOT CONTAINED: still open: inet-edge" in out
    verified = [r for r in estate.cli.records() if r["event"] == "verify.result"][-1]
    assert verified["contained"] is False
    assert verified["links"]["inet-edge"] == "reopened"
    [end] = verified["reopened"]
    assert (end["device"], end["interface"], end["link"]) == ("edge", GI0, "inet-edge")
    assert end["last_seen_cut"].startswith("20")


def test_verify_json_gives_the_reopened_state_and_when(estate: Estate) -> None:
    estate.cut()
    estate.emu.device("edge").set_shutdown(GI0, False)

    code, out = estate.run("--json", "verify", estate.playbook)

    assert code == EXIT_PARTIAL, out
    data = json.loads(out[out.index("{") :])
    link = next(link for link in data["links"] if link["link"] == "inet-edge")
    assert link["state"] == "reopened"
    assert link["endpoints"][0]["last_seen_cut"].startswith("20")


def test_one_end_reopened_by_hand_leaves_the_link_cut_and_says_so(estate: Estate) -> None:
    estate.cut()
    estate.emu.device("core").set_shutdown(GI1, False)  # reopened by hand; edge still cut

    code, out = estate.run("verify", estate.playbook)

    # Contained (no path open), by read-back only: this estate declares no probe.
    assert code == EXIT_STATE_ONLY, out
    assert "CUT      wan-core-edge" in out and "PARTIAL" not in out
    assert "    reopened core GigabitEthernet0/1 [shutdown]  last seen cut at 20" in out
    assert "(the link is still cut at another end)" in out
    assert "CONTAINED BY READ-BACK STATE ONLY" in out


def test_an_end_never_cut_is_open_not_reopened(estate: Estate) -> None:
    code, out = estate.run("status", estate.playbook)

    assert code == EXIT_OK, out
    assert "OPEN     inet-edge" in out
    assert "reopened" not in out.lower()


def test_cut_again_closes_it_and_the_journal_says_why(estate: Estate) -> None:
    estate.cut()
    estate.emu.device("edge").set_shutdown(GI0, False)
    assert estate.run("verify", estate.playbook)[0] == EXIT_PARTIAL

    estate.cut()

    assert GI0 in estate.emu.device("edge").shutdown_interfaces()
    intents = [r for r in estate.cli.records() if r["event"] == "change.intent"]
    why = intents[-1]["why"][GI0]
    assert why.startswith("reopened since 20") and "last seen cut at 20" in why
    assert why.endswith(": cut again")
    code, out = estate.run("status", estate.playbook)
    assert code == EXIT_OK and "reopened" not in out.lower(), out


def test_the_report_marks_the_interval_and_no_longer_shows_it_cut(estate: Estate) -> None:
    estate.cut()
    estate.emu.device("edge").set_shutdown(GI0, False)
    estate.run("verify", estate.playbook)

    report = build_report(estate.cli.records())

    [episode] = [e for e in report.cuts if e.interface == GI0]
    assert episode.reopened and not episode.still_cut
    [gap] = episode.gaps
    assert gap.last_seen_cut is not None and gap.seen_open_at > gap.last_seen_cut
    assert gap.closed_at is None
    assert "REOPENED: 1 interface seen open again" in report.summary.headline
    assert [e.interface for e in report.still_cut] == [GI1, GI1]
    page = to_markdown(report)
    assert "Cut gone: last seen cut at 20" in page and "not seen cut since" in page
    assert "REOPENED" in page

    estate.cut()  # cut again: the gap is closed, the cut counts again
    again = build_report(estate.cli.records())
    [episode] = [e for e in again.cuts if e.interface == GI0]
    assert episode.still_cut and not episode.reopened
    assert episode.gaps[0].closed_at is not None
    assert "cut again at" in episode.gaps[0].describe()


# --- the journal view: a cut seen in effect, then gone, as opposed to one never made ----------

CHANGE = Change(link="inet-edge", interface=GI0, method=CutMethod.SHUTDOWN)
SCOPE = {"playbook": "cut-all", "parameters": {}}
CUT = ev.EndpointState(admin_up=False)
UP = ev.EndpointState(admin_up=True)


def journal(path: Path, *events: ev.KnownEvent) -> JournalView:
    with Journal(path) as j:
        for event in events:
            name, fields = ev.to_fields(event)
            j.record(name, **fields)
    return JournalView.read(path)


def intent(direction: Direction = Direction.CUT) -> ev.ChangeIntent:
    return ev.ChangeIntent(**SCOPE, run="r1", direction=direction, device="edge", changes=[CHANGE])


def applied(after: ev.EndpointState, direction: Direction = Direction.CUT) -> ev.ChangeApplied:
    return ev.ChangeApplied(
        **SCOPE,
        run="r1",
        direction=direction,
        device="edge",
        changes=[CHANGE],
        confirmed=[CHANGE] if after.admin_up is (direction is Direction.RESTORE) else [],
        after={GI0: after},
    )


def observed(state: ev.EndpointState, run: str = "r2") -> ev.DeviceObserved:
    return ev.DeviceObserved(**SCOPE, run=run, device="edge", state={GI0: state})


def test_a_cut_never_seen_in_effect_has_not_vanished(tmp_path: Path) -> None:
    view = journal(tmp_path / "j.jsonl", intent(), applied(UP), observed(UP))

    assert view.vanished("edge", GI0, "shutdown") is None


def test_a_cut_seen_then_read_open_vanished_at_its_last_cut_read(tmp_path: Path) -> None:
    view = journal(
        tmp_path / "j.jsonl", intent(), applied(CUT), observed(CUT), observed(UP), observed(UP)
    )
    last = view.vanished("edge", GI0, "shutdown", ("cut-all", {}))

    assert last is not None
    since = view.seen_open_since("edge", GI0, "shutdown")
    assert since is not None and since > last
    assert view.vanished("edge", GI0, "shutdown", ("other-playbook", {})) is None
    assert view.vanished("edge", GI0, "deny") is None


def test_a_confirmed_restore_ends_it(tmp_path: Path) -> None:
    view = journal(
        tmp_path / "j.jsonl",
        intent(),
        applied(CUT),
        intent(Direction.RESTORE),
        applied(UP, Direction.RESTORE),
    )

    assert view.vanished("edge", GI0, "shutdown") is None
    assert view.seen_open_since("edge", GI0, "shutdown") is None


def test_a_verification_that_saw_it_open_dates_the_gap(tmp_path: Path) -> None:
    gone = ev.ReopenedEnd(device="edge", interface=GI0, method="shutdown", link="inet-edge")
    verified = ev.VerifyResult(**SCOPE, contained=False, reopened=[gone])
    view = journal(tmp_path / "j.jsonl", intent(), applied(CUT), verified)

    assert view.vanished("edge", GI0, "shutdown") is not None
    assert view.seen_open_since("edge", GI0, "shutdown") is not None
