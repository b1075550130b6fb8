"""The typed journal events and the one reading of them (JournalView): what is still cut, the
baselines, the stages, what was last read, the lines whose outcome is missing; journals written
before the events were typed read the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from isolement.flows.observers import Attempt, Decision, RunInfo
from isolement.flows.recorder import JournalRecorder
from isolement.journal import events as ev
from isolement.journal.store import Journal, read_records
from isolement.journal.view import JournalView
from isolement.model.change import ChangeSet
from isolement.model.errors import JournalError
from isolement.model.plan import Change, DeviceStep, Direction, Plan
from isolement.model.state import CutMethod, DeviceState

OLD_JOURNAL = Path(__file__).resolve().parents[1] / "data" / "journal" / "lab-cut-restore.jsonl"

CHANGE_A = Change(link="wan-dc-h1", interface="wan-h1", method=CutMethod.SHUTDOWN)
CHANGE_B = Change(link="wan-dc-h2", interface="wan-h2", method=CutMethod.SHUTDOWN)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "journal.jsonl"


def write(path: Path, *events: ev.KnownEvent) -> None:
    """Through the real store: hash chain, timestamps, redaction."""
    with Journal(path) as journal:
        for event in events:
            name, fields = ev.to_fields(event)
            journal.record(name, **fields)


def scope(playbook: str = "cut-intersite", **parameters: str) -> dict[str, Any]:
    return {"playbook": playbook, "parameters": parameters}


def intent(
    device: str,
    direction: Direction,
    *changes: Change,
    run: str = "r1",
    attempt: int = 1,
    **kw: Any,
) -> ev.ChangeIntent:
    fields: dict[str, Any] = {**scope(), **kw}
    return ev.ChangeIntent(
        **fields,
        run=run,
        direction=direction,
        device=device,
        attempt=attempt,
        changes=list(changes),
        commands=[f"{direction} {c.interface}" for c in changes],
    )


def applied(
    device: str,
    direction: Direction,
    *changes: Change,
    run: str = "r1",
    attempt: int = 1,
    **kw: Any,
) -> ev.ChangeApplied:
    fields: dict[str, Any] = {**scope(), **kw}
    return ev.ChangeApplied(
        **fields,
        run=run,
        direction=direction,
        device=device,
        attempt=attempt,
        changes=list(changes),
        confirmed=list(changes),
    )


def read(path: Path) -> JournalView:
    return JournalView.read(path)


# --- what is still cut ------------------------------------------------------------------------


def test_a_cut_counts_from_its_intent(path: Path) -> None:
    write(path, intent("dc-rtr", Direction.CUT, CHANGE_A, CHANGE_B))

    assert read(path).outstanding_cuts("cut-intersite", {}) == [
        ("dc-rtr", CHANGE_A),
        ("dc-rtr", CHANGE_B),
    ]


def test_an_applied_restore_clears_only_what_it_confirmed(path: Path) -> None:
    write(
        path,
        intent("dc-rtr", Direction.CUT, CHANGE_A, CHANGE_B),
        intent("h1-rtr", Direction.CUT, CHANGE_A),
        applied("dc-rtr", Direction.RESTORE, CHANGE_A),
    )

    assert read(path).outstanding_cuts("cut-intersite", {}) == [
        ("dc-rtr", CHANGE_B),
        ("h1-rtr", CHANGE_A),
    ]


def test_a_restore_intent_alone_does_not_clear(path: Path) -> None:
    write(
        path,
        intent("dc-rtr", Direction.CUT, CHANGE_A),
        intent("dc-rtr", Direction.RESTORE, CHANGE_A),
    )

    assert read(path).outstanding_cuts("cut-intersite", {}) == [("dc-rtr", CHANGE_A)]


def test_a_cut_again_after_a_restore_is_outstanding_again(path: Path) -> None:
    write(
        path,
        intent("dc-rtr", Direction.CUT, CHANGE_A),
        applied("dc-rtr", Direction.RESTORE, CHANGE_A),
    )
    assert read(path).outstanding_cuts("cut-intersite", {}) == []
    write(path, intent("dc-rtr", Direction.CUT, CHANGE_A))

    assert read(path).outstanding_cuts("cut-intersite", {}) == [("dc-rtr", CHANGE_A)]


def test_other_playbooks_and_parameters_are_their_own(path: Path) -> None:
    write(
        path,
        intent("dc-rtr", Direction.CUT, CHANGE_A, playbook="other"),
        intent(
            "dc-rtr", Direction.CUT, CHANGE_B, playbook="isolate-site", parameters={"site": "h2"}
        ),
        intent("h1-rtr", Direction.CUT, CHANGE_A),
        # A restore of another playbook does not clear this one's cut.
        applied("h1-rtr", Direction.RESTORE, CHANGE_A, playbook="other"),
    )
    view = read(path)

    assert view.outstanding_cuts("cut-intersite", {}) == [("h1-rtr", CHANGE_A)]
    assert view.outstanding_cuts("isolate-site", {"site": "h1"}) == []
    assert view.outstanding_cuts("isolate-site", {"site": "h2"}) == [("dc-rtr", CHANGE_B)]
    assert view.outstanding_cuts("other", {}) == [("dc-rtr", CHANGE_A)]
    assert view.devices_cut_by_others("cut-intersite", {}) == {"dc-rtr"}


def test_a_torn_last_line_is_left_out(path: Path) -> None:
    write(path, intent("dc-rtr", Direction.CUT, CHANGE_A))
    with path.open("a") as handle:
        handle.write('{"event": "change.applied", "direction": "rest')

    assert read(path).outstanding_cuts("cut-intersite", {}) == [("dc-rtr", CHANGE_A)]


def test_no_journal_yet_is_an_empty_view(tmp_path: Path) -> None:
    view = read(tmp_path / "none.jsonl")

    assert view.outstanding_cuts("cut-intersite", {}) == [] and view.runs() == []


def test_the_baseline_is_the_snapshot_before_the_first_cut_still_in_place(path: Path) -> None:
    write(
        path,
        intent("dc-rtr", Direction.CUT, CHANGE_A, snapshot="s1"),
        intent("dc-rtr", Direction.CUT, CHANGE_B, snapshot="s2"),  # s1 still holds
        applied("dc-rtr", Direction.RESTORE, CHANGE_A, CHANGE_B),
        intent("dc-rtr", Direction.CUT, CHANGE_A, snapshot="s3"),  # a new episode
    )

    assert read(path).baselines("cut-intersite", {}) == {"dc-rtr": "s3"}
    assert [e.ended is None for e in read(path).episodes("cut-intersite", {})] == [False, True]


# --- stages -------------------------------------------------------------------------------------


def stage_event(kind: type[ev._StageEvent], name: str, **kw: Any) -> ev.KnownEvent:
    event = kind(**scope("cut-all"), stage=name, operator="alice", reason="r", **kw)
    assert isinstance(event, (ev.StageIntent, ev.StageOpened, ev.StageClosed))
    return event


def test_a_stage_begun_and_never_settled_is_pending_and_closing_settles_it(path: Path) -> None:
    write(path, stage_event(ev.StageIntent, "clinical-h1", approved_by="Dr Martin"))
    pending = read(path).stage("cut-all", {}, "clinical-h1")
    assert pending.pending is not None and pending.pending.approved_by == "Dr Martin"
    assert not pending.open

    write(path, stage_event(ev.StageClosed, "clinical-h1"))
    closed = read(path).stage("cut-all", {}, "clinical-h1")

    assert closed.pending is None and not closed.open


def test_a_full_cut_closes_a_pending_stage_too(path: Path) -> None:
    started = ev.RunStarted(**scope("cut-all"), run="r9", direction=Direction.CUT)
    finished = ev.RunFinished(
        **scope("cut-all"), run="r9", direction=Direction.CUT, outcome="unknown"
    )
    write(path, stage_event(ev.StageIntent, "clinical-h1"), started, finished)

    assert read(path).stage("cut-all", {}, "clinical-h1").pending is None


# --- what was last read, what is unsettled ---------------------------------------------------


def test_the_state_last_read_comes_from_observations_and_read_backs(path: Path) -> None:
    up = ev.EndpointState(admin_up=True)
    down = ev.EndpointState(admin_up=False)
    observed = ev.DeviceObserved(**scope(), run="r1", device="dc-rtr", state={"wan-h1": up})
    done = applied("dc-rtr", Direction.CUT, CHANGE_A, after={"wan-h1": down})
    write(path, observed, done)

    ((state, ts),) = read(path).last_read_back("dc-rtr").values()

    assert state == down and ts.endswith("Z")


def test_lines_whose_outcome_is_missing_are_those_after_the_last_settled_outcome(
    path: Path,
) -> None:
    lost = ev.ChangeUnconfirmed(
        **scope(), run="r1", direction=Direction.CUT, device="h4-fw", attempt=1, error="lost"
    )
    write(path, intent("h4-fw", Direction.CUT, CHANGE_A), lost)
    assert read(path).unsettled_lines("h4-fw") == ["cut wan-h1"]  # unconfirmed: not settled

    write(path, intent("h4-fw", Direction.CUT, CHANGE_B, run="r2"))  # killed: no outcome
    assert read(path).unsettled_lines("h4-fw") == ["cut wan-h1", "cut wan-h2"]

    write(
        path,
        intent("h4-fw", Direction.CUT, CHANGE_A, run="r3"),
        applied("h4-fw", Direction.CUT, CHANGE_A, run="r3"),
    )
    assert read(path).unsettled_lines("h4-fw") == []
    assert read(path).unsettled_lines("dc-rtr") == []


# --- the events themselves ---------------------------------------------------------------------


def test_events_are_written_with_their_schema_version_and_read_back_the_same(path: Path) -> None:
    event = intent("dc-rtr", Direction.CUT, CHANGE_A, snapshot="abc")
    write(path, event)
    (record,) = read_records(path)
    assert isinstance(record, dict)

    assert record["schema_version"] == ev.SCHEMA_VERSION
    back = ev.from_record(record)
    assert isinstance(back, ev.ChangeIntent)
    assert back.model_copy(update={"ts": "", "seq": 0}) == event


def test_a_record_without_a_schema_version_reads_as_version_1() -> None:
    back = ev.from_record({"event": "stage.closed", "playbook": "p", "stage": "s", "seq": 4})

    assert isinstance(back, ev.StageClosed) and back.schema_version == 1


def test_an_event_this_code_does_not_know_is_kept_not_refused() -> None:
    record = {"event": "journal.anchor", "head": "ab" * 32, "seq": 9}

    back = ev.from_record(record)

    assert isinstance(back, ev.OtherEvent) and back.record == record


def test_a_known_event_of_the_wrong_shape_is_refused_naming_the_field() -> None:
    with pytest.raises(JournalError, match=r"seq 7 \(change.intent\).*attempt"):
        ev.from_record(
            {
                "event": "change.intent",
                "seq": 7,
                "playbook": "p",
                "run": "r",
                "device": "d",
                "direction": "cut",
                "attempt": "first",
            }
        )


def test_a_journal_written_before_the_events_were_typed_reads_the_same() -> None:
    """tests/data/journal/lab-cut-restore.jsonl: 13 runs of the code before this module."""
    records = [r for r in read_records(OLD_JOURNAL) if isinstance(r, dict)]
    typed = [ev.from_record(r) for r in records]
    assert not [e for e in typed if isinstance(e, ev.OtherEvent)]

    view = read(OLD_JOURNAL)
    runs = view.runs()
    assert len(runs) == 13 and all(r.finished is not None for r in runs)
    assert [r.finished.outcome for r in runs if r.finished][:3] == [
        "done",
        "nothing-to-do",
        "nothing-to-do",
    ]
    assert view.outstanding_cuts("cut-all", {}) == []  # it ends with nothing still cut
    assert len(view.episodes("cut-all", {})) == 3  # cut, restore; cut, restore; cut, restore
    # Just before the first restore: the 7 interfaces cut-all cut, as that code recorded them.
    before_restore = JournalView()
    for record in records[:28]:
        before_restore.fold(ev.from_record(record))
    cut = before_restore.outstanding_cuts("cut-all", {})
    assert sorted(d for d, _ in cut) == [
        "dc-fw",
        "dc-rtr",
        "dc-rtr",
        "h1-fw",
        "h1-rtr",
        "h1-rtr",
        "h2-fw",
    ]
    state, _ = before_restore.last_read_back("h2-fw")["out0"]
    assert state.is_cut("deny") and state.admin_up is not False


# --- the recorder -------------------------------------------------------------------------------


def info() -> RunInfo:
    plan = Plan(direction=Direction.CUT, playbook="cut-intersite", inventory="lab", steps=[])
    return RunInfo("r1", plan, Decision("alice", "drill"), "lab")


def test_the_recorder_folds_what_it_writes_into_the_view_at_once(path: Path) -> None:
    state = DeviceState(interfaces={"wan-h1": True})
    step = DeviceStep(
        device="dc-rtr",
        site="dc",
        platform="frr",
        changes=[CHANGE_A],
        change=ChangeSet(lines=["shutdown"]),
    )
    with Journal(path) as journal:
        recorder = JournalRecorder(journal, JournalView())
        recorder.change_intent(info(), Attempt("dc-rtr", 1, step, state))

        assert recorder.view.outstanding_cuts("cut-intersite", {}) == [("dc-rtr", CHANGE_A)]
    assert read(path).outstanding_cuts("cut-intersite", {}) == [("dc-rtr", CHANGE_A)]


def test_once_sealed_an_intent_is_refused_and_a_late_outcome_dropped(path: Path) -> None:
    state = DeviceState(interfaces={"wan-h1": True})
    step = DeviceStep(
        device="dc-rtr",
        site="dc",
        platform="frr",
        changes=[CHANGE_A],
        change=ChangeSet(lines=["shutdown"]),
    )
    with Journal(path) as journal:
        recorder = JournalRecorder(journal, JournalView())
        recorder.seal()
        with pytest.raises(JournalError, match="nothing more is journaled or sent"):
            recorder.change_intent(info(), Attempt("dc-rtr", 1, step, state))
        recorder.change_unconfirmed(info(), Attempt("dc-rtr", 1, step, state), "late")

    assert list(read_records(path)) == []


def test_old_records_kept_their_shape_the_report_reads(path: Path) -> None:
    """Fields the report (which still reads dicts) relies on are where they were."""
    write(
        path,
        applied(
            "dc-rtr", Direction.CUT, CHANGE_A, after={"wan-h1": ev.EndpointState(admin_up=False)}
        ),
    )
    (record,) = read_records(path)
    assert isinstance(record, dict)

    assert record["event"] == "change.applied" and record["device"] == "dc-rtr"
    assert record["after"] == {"wan-h1": {"admin_up": False, "deny_rules": [], "allow_rules": {}}}
    assert record["confirmed"][0]["interface"] == "wan-h1"
    assert json.loads(json.dumps(record))["direction"] == "cut"
