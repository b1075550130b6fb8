"""`rehearse` then `cut --expect-plan` against the real lab (issue #14): the rehearsal changes
nothing on any device, and the cut run with the hash it printed is that plan, run."""

from __future__ import annotations

import re
import time
from pathlib import Path

from labtools import device_configs, journal_records

HASH_LINE = re.compile(r"^plan hash: (sha256:[0-9a-f]{64})$", re.MULTILINE)
ESTIMATE = re.compile(r"^Estimated cut: (\d+\.\d) s", re.MULTILINE)


def test_a_rehearsal_changes_nothing_and_its_hash_is_the_cut_run(cli, state_dir: Path) -> None:
    before = device_configs(handles=True)
    rehearsed = cli("rehearse", "cut-all")
    assert rehearsed.returncode == 0, rehearsed.stdout + rehearsed.stderr
    assert "READY: nothing found that would block the cut" in rehearsed.stdout
    assert device_configs(handles=True) == before, "a rehearsal changed a device"
    (expected,) = HASH_LINE.findall(rehearsed.stdout)
    estimate = float(ESTIMATE.findall(rehearsed.stdout)[0])

    started = time.monotonic()
    done = cli("cut", "cut-all", "--reason", "rehearsed", "--yes", "--expect-plan", expected)
    took = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"the plan is the one expected: {expected}" in done.stderr
    records = journal_records(state_dir)
    runs = [r for r in records if r["event"] == "run.started"]
    assert runs[-1]["plan"] == expected.removeprefix("sha256:")
    finished = [r for r in records if r["event"] == "run.finished"][-1]
    # The figures, for the closing note (printed with -s).
    print(
        f"\nrehearsal estimate {estimate:.1f} s; the cut's run {finished['duration_s']:.1f} s "
        f"(the whole command {took:.1f} s)"
    )
