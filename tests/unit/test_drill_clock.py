"""The drill clock, from a drill's journal records: time to contain from the decision to the
verified isolation, each device's and wave's time in the first cut, each stage's time."""

from __future__ import annotations

from typing import Any

from isolement.lab.clock import drill_clock

T0 = "2026-10-04T03:10:00.000000Z"


def at(seconds: float) -> str:
    return f"2026-10-04T03:10:{seconds:09.6f}Z"


def records() -> list[dict[str, Any]]:
    return [
        {"event": "run.started", "run": "r1", "direction": "cut", "ts": at(1),
         "waves": [["sag-rtr", "ker-sw"], ["dc-rtr"]]},
        {"event": "change.applied", "run": "r1", "device": "ker-sw", "ts": at(2.5)},
        {"event": "change.failed", "run": "r1", "device": "sag-rtr", "ts": at(3), "attempt": 1},
        {"event": "change.applied", "run": "r1", "device": "sag-rtr", "ts": at(4), "attempt": 2},
        {"event": "change.applied", "run": "r1", "device": "dc-rtr", "ts": at(6)},
        {"event": "run.started", "run": "r2", "direction": "cut", "ts": at(8), "waves": []},
        {"event": "change.applied", "run": "r2", "device": "dc-rtr", "ts": at(9)},
        {"event": "stage.intent", "stage": "clinical", "ts": at(20)},
        {"event": "stage.opened", "stage": "clinical", "ts": at(23.5), "verified": True},
        {"event": "stage.intent", "stage": "internet", "ts": at(30)},
        {"event": "stage.closed", "stage": "internet", "ts": at(41)},
        {"event": "stage.intent", "stage": "partners", "ts": at(50)},
    ]  # fmt: skip


def test_time_to_contain_runs_from_the_decision_to_the_verified_isolation() -> None:
    clock = drill_clock(records(), T0, at(12.25))

    assert clock.contain_s == 12.25
    assert clock.cut_runs == 2


def test_never_verified_has_no_time_to_contain() -> None:
    assert drill_clock(records(), T0, None).contain_s is None


def test_each_device_of_the_first_cut_is_timed_from_the_run_start_to_its_last_attempt() -> None:
    clock = drill_clock(records(), T0, None)

    got = {(d.device, d.wave, d.seconds, d.outcome, d.attempts) for d in clock.devices}
    assert got == {
        ("ker-sw", 1, 1.5, "applied", 1),
        ("sag-rtr", 1, 3.0, "applied", 2),
        ("dc-rtr", 2, 5.0, "applied", 1),  # the second run's change is not the first cut's
    }


def test_a_wave_is_done_when_its_slowest_device_is() -> None:
    clock = drill_clock(records(), T0, None)

    assert [(w.wave, w.devices, w.done_at_s) for w in clock.waves] == [
        (1, ["ker-sw", "sag-rtr"], 3.0),
        (2, ["dc-rtr"], 5.0),
    ]


def test_each_stage_is_timed_from_its_intent_to_its_opening_or_closing() -> None:
    clock = drill_clock(records(), T0, None)

    assert [(s.stage, s.seconds, s.outcome) for s in clock.stages] == [
        ("clinical", 3.5, "verified"),
        ("internet", 11.0, "closed"),
        ("partners", None, "never ended"),
    ]
