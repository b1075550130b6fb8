"""Drill reports kept one per drill, read back, and compared with the previous drill on the same
lab with the same faults: faster or slower beyond the noise, what fails that passed before."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from isolement.lab import history
from isolement.lab.clock import DeviceTime, DrillClock, StageTime, WaveTime
from isolement.lab.history import DrillReport, FaultOutcome, PlaybookDrill


def report(contain: float | None = 20.0, stage: float = 3.0, ok: bool = True) -> DrillReport:
    clock = DrillClock(
        contain_s=contain,
        cut_runs=1,
        devices=[DeviceTime("sag-rtr", 1, 2.0, "applied", 1)],
        waves=[WaveTime(1, ["sag-rtr"], 2.0)],
        stages=[StageTime("clinical", stage, "verified")],
    )
    drill = PlaybookDrill(
        "cut-all",
        clock,
        [FaultOutcome("device-down=ker-sw", "ker-sw stops answering", "pre-flight: ...", "...")],
        {"isolation verified by packets": True, "protected flows pass": ok},
    )
    return DrillReport("2026-10-04T03:10:00Z", "grand-ouest", ["device-down=ker-sw"], [drill])


def test_a_kept_report_reads_back_equal(tmp_path: Path) -> None:
    kept = report()
    history.keep(kept, history.drills_dir(tmp_path) / "20261004T031000Z-grand-ouest")

    [(directory, read)] = history.kept(tmp_path)

    assert directory.name == "20261004T031000Z-grand-ouest"
    assert read == kept


def test_slower_and_faster_beyond_the_noise_are_said_with_both_times() -> None:
    lines = history.compare(report(contain=20.0, stage=3.0), report(contain=26.0, stage=1.0))

    assert "cut-all: time to contain: slower by 6.0 s (20.0 s -> 26.0 s)" in lines
    assert "cut-all: stage clinical: faster by 2.0 s (3.0 s -> 1.0 s)" in lines


def test_a_change_within_the_noise_is_not_reported() -> None:
    lines = history.compare(report(contain=20.0), report(contain=21.5))

    assert lines == ["no change beyond the noise, nothing that passed before fails now"]


def test_a_check_that_fails_now_and_passed_before_is_named() -> None:
    lines = history.compare(report(ok=True), report(ok=False))

    assert lines == ["cut-all: FAILED: protected flows pass (passed in the previous drill)"]


def test_containment_never_reached_now_is_said() -> None:
    lines = history.compare(report(contain=20.0), report(contain=None))

    assert "cut-all: time to contain: NOT REACHED now (was 20.0 s)" in lines


def test_the_previous_drill_is_the_last_on_the_same_lab_with_the_same_faults(
    tmp_path: Path,
) -> None:
    drills = history.drills_dir(tmp_path)
    history.keep(report(contain=10.0), drills / "20261001T000000Z-grand-ouest")
    other = dataclasses.replace(report(contain=11.0), faults=[])
    history.keep(other, drills / "20261002T000000Z-grand-ouest")
    now = report(contain=30.0)
    history.keep(now, drills / "20261003T000000Z-grand-ouest")

    before = history.previous(tmp_path, now, drills / "20261003T000000Z-grand-ouest")

    assert before is not None and before.playbooks[0].clock.contain_s == 10.0
    text = history.history_text(tmp_path)
    assert "20261003T000000Z-grand-ouest" in text
    assert "cut-all: time to contain: slower by 20.0 s (10.0 s -> 30.0 s)" in text


def test_no_drill_kept_says_where_they_would_be(tmp_path: Path) -> None:
    assert history.history_text(tmp_path) == f"no drill kept yet in {tmp_path / 'drills'}"
