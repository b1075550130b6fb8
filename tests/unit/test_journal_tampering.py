"""`journal verify` against each way of tampering with the journal (issue #10 item 7).

A real cut and restore of two emulated routers writes the journal, its heads anchored in a
directory standing for another medium (ISOLEMENT_ANCHOR_DIR); each test alters the journal the
way an attacker would and runs the real `journal verify`. "intact" is said only of a journal
whose every record is covered by an anchor: an unanchored chain is "consistent, not anchored".
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from emulated import LoginKey
from journal_estate import Estate, chained, running_estate

EXIT_OK, EXIT_ALTERED, EXIT_NOT_ANCHORED = 0, 5, 7


@dataclass
class Written:
    """The journal and anchors a cut then a restore wrote, kept to put back before each test."""

    estate: Estate
    journal: bytes
    anchors: Path
    anchors_copy: Path
    cut_output: str


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, login_key: LoginKey) -> Written:
    root = tmp_path_factory.mktemp("tampering")
    anchors = root / "anchor-medium"
    with running_estate(root / "estate", login_key, ISOLEMENT_ANCHOR_DIR=str(anchors)) as estate:
        cut = estate.cut()
        assert cut.code == 0, cut.text
        restored = estate.restore()
        assert restored.code == 0, restored.text
    estate.emu = None  # stopped: verification needs no device
    copy = root / "anchors-as-written"
    anchors.mkdir(exist_ok=True)  # (no anchor written: the tests say what is then missing)
    shutil.copytree(anchors, copy)
    return Written(estate, estate.journal.read_bytes(), anchors, copy, cut.out)


@pytest.fixture
def estate(written: Written) -> Iterator[Estate]:
    """The journal and the anchor directory as the runs left them."""
    written.estate.journal.write_bytes(written.journal)
    shutil.rmtree(written.anchors, ignore_errors=True)
    shutil.copytree(written.anchors_copy, written.anchors)
    yield written.estate


def verify(estate: Estate, *options: str, anchored: bool = True) -> tuple[int, str]:
    env = {} if anchored else {"ISOLEMENT_ANCHOR_DIR": None}
    done = estate.run("journal", "verify", *options, env=env)
    return done.code, done.text


def keep_lines(estate: Estate, lines: list[str]) -> None:
    estate.journal.write_text("".join(lines))


def records(estate: Estate) -> list[dict[str, Any]]:
    return estate.records()


# --- what is intact, and what is only consistent ---------------------------------------------


def test_journal_as_the_runs_left_it_is_intact_against_its_anchor(estate: Estate) -> None:
    code, out = verify(estate)
    assert code == EXIT_OK, out
    last = records(estate)[-1]
    assert "intact" in out and f"seq {last['seq']}" in out and last["hash"] in out


def test_unanchored_journal_is_consistent_never_intact(estate: Estate) -> None:
    code, out = verify(estate, anchored=False)
    assert code == EXIT_NOT_ANCHORED, out
    assert "consistent, not anchored" in out
    assert "removal of the last records cannot be detected" in out
    assert "intact" not in out.lower()


@pytest.mark.parametrize("how", ["empty", "deleted"])
def test_empty_or_missing_journal_without_anchor_is_said_as_such(estate: Estate, how: str) -> None:
    if how == "empty":
        estate.journal.write_text("")
    else:
        estate.journal.unlink()
    code, out = verify(estate, anchored=False)
    assert code == EXIT_NOT_ANCHORED, out
    assert ("empty" if how == "empty" else "no journal") in out
    assert "intact" not in out.lower()


# --- removal ---------------------------------------------------------------------------------


@pytest.mark.parametrize("removed", [1, 5])
def test_last_records_removed_are_detected(estate: Estate, removed: int) -> None:
    keep_lines(estate, estate.lines()[:-removed])
    code, out = verify(estate)
    assert code == EXIT_ALTERED, out
    assert "NOT INTACT" in out and "removed" in out


def test_truncation_right_after_the_cut_is_detected(estate: Estate) -> None:
    lines = estate.lines()
    end_of_cut = next(n for n, r in enumerate(records(estate)) if r["event"] == "run.finished")
    keep_lines(estate, lines[: end_of_cut + 1])  # the whole restore is gone
    code, out = verify(estate)
    assert code == EXIT_ALTERED, out
    assert "NOT INTACT" in out and "removed" in out


def test_only_the_first_line_kept_is_detected(estate: Estate) -> None:
    keep_lines(estate, estate.lines()[:1])
    code, out = verify(estate)
    assert code == EXIT_ALTERED, out
    assert "NOT INTACT" in out and "removed" in out


@pytest.mark.parametrize("how", ["empty", "deleted"])
def test_emptied_or_deleted_journal_is_detected(estate: Estate, how: str) -> None:
    if how == "empty":
        estate.journal.write_text("")
    else:
        estate.journal.unlink()
    code, out = verify(estate)
    assert code == EXIT_ALTERED, out
    assert "NOT INTACT" in out
    assert ("empty" if how == "empty" else "no journal") in out


def test_removal_is_detected_against_a_head_given_on_the_command_line(
    written: Written, estate: Estate
) -> None:
    # The head the cut printed on its last lines, as the crisis cell would copy it.
    last_of_cut = next(r for r in records(estate) if r["event"] == "run.finished")
    head = f"{last_of_cut['seq']}:{last_of_cut['hash']}"
    assert f"seq {last_of_cut['seq']}" in written.cut_output
    assert last_of_cut["hash"] in written.cut_output
    keep_lines(estate, estate.lines()[: last_of_cut["seq"] - 1])
    code, out = verify(estate, "--head", head, anchored=False)
    assert code == EXIT_ALTERED, out
    assert "NOT INTACT" in out and "removed" in out


# --- rewriting and forgery -------------------------------------------------------------------


def test_last_record_edited_with_its_hash_recomputed_is_detected(estate: Estate) -> None:
    rows = records(estate)
    rows[-1]["reason"] = "nothing was cut"
    keep_lines(estate, chained(rows, start=len(rows) - 1))
    code, out = verify(estate)
    assert code == EXIT_ALTERED, out
    assert "NOT INTACT" in out and "rewritten" in out


def test_forged_record_appended_with_a_correct_chain_is_detected(estate: Estate) -> None:
    rows = records(estate)
    rows.append({**rows[-1], "event": "change.intent", "device": "h2-rtr"})
    keep_lines(estate, chained(rows, start=len(rows) - 1))
    code, out = verify(estate)
    assert code == EXIT_ALTERED, out
    assert "NOT INTACT" in out and "not covered by any anchor" in out


def test_whole_chain_rewritten_is_detected(estate: Estate) -> None:
    rows = records(estate)
    rows[1]["reason"] = "routine maintenance"
    keep_lines(estate, chained(rows, start=0))
    code, out = verify(estate)
    assert code == EXIT_ALTERED, out
    assert "NOT INTACT" in out and "rewritten" in out


def test_duplicated_key_with_a_fake_first_value_is_detected(estate: Estate) -> None:
    lines = estate.lines()
    first = json.loads(lines[0])
    # A reader that keeps the first value sees the fake operator; json.loads keeps the last,
    # whose hash matches.
    forged = lines[0].replace('"operator": ', '"operator": "nobody", "operator": ', 1)
    assert forged != lines[0] and json.loads(forged) == first
    keep_lines(estate, [forged, *lines[1:]])
    for anchored in (True, False):
        code, out = verify(estate, anchored=anchored)
        assert code == EXIT_ALTERED, out
        assert "NOT INTACT" in out and "duplicated key" in out


# --- reports -------------------------------------------------------------------------------


def test_signed_report_of_a_truncated_journal_does_not_verify(
    estate: Estate, tmp_path: Path
) -> None:
    whole = records(estate)
    head = f"{whole[-1]['seq']}:{whole[-1]['hash']}"
    keep_lines(estate, estate.lines()[:-3])
    private, public = tmp_path / "cell.key", tmp_path / "cell.pub"
    made = estate.run("journal", "keygen", "--private", str(private), "--public", str(public))
    assert made.code == 0, made.text
    report = tmp_path / "report.md"
    exported = estate.run(
        "journal", "export", "--format", "md", "--output", str(report), "--sign", str(private)
    )
    assert exported.code == 0, exported.text
    assert "NOT INTACT" in report.read_text()
    checked = estate.run(
        "journal", "verify-report", str(report), "--public-key", str(public), "--head", head
    )
    assert checked.code == EXIT_ALTERED, checked.text
    assert "removed" in checked.text


def test_a_head_that_is_not_one_is_refused_with_what_is_expected(estate: Estate) -> None:
    refused = estate.run("journal", "verify", "--head", "12:abc")
    assert refused.code == 2
    assert "argument --head" in refused.err


# --- signed anchors --------------------------------------------------------------------------


def test_an_anchor_line_rewritten_without_the_key_is_detected(
    tmp_path: Path, login_key: LoginKey
) -> None:
    private, public = tmp_path / "cell.key", tmp_path / "cell.pub"
    anchors = tmp_path / "anchor-medium"
    env = {"ISOLEMENT_ANCHOR_DIR": str(anchors), "ISOLEMENT_ANCHOR_KEY": str(private)}
    with running_estate(tmp_path / "estate", login_key, **env) as estate:
        made = estate.run("journal", "keygen", "--private", str(private), "--public", str(public))
        assert made.code == 0, made.text
        assert estate.cut().code == 0
        assert estate.restore().code == 0
    code, out = verify(estate)
    assert code == EXIT_OK and "intact" in out, out
    # The restore removed from the journal, and the anchor's last line made to agree with it.
    rows = records(estate)
    end_of_cut = next(n for n, r in enumerate(rows) if r["event"] == "run.finished")
    keep_lines(estate, estate.lines()[: end_of_cut + 1])
    (anchor_file,) = anchors.iterdir()
    lines = anchor_file.read_text().splitlines()
    last = json.loads(lines[-1])
    last.update(seq=rows[end_of_cut]["seq"], hash=rows[end_of_cut]["hash"])
    kept = [line for line in lines[:-1] if json.loads(line)["seq"] <= last["seq"]]
    anchor_file.write_text("\n".join([*kept, json.dumps(last)]) + "\n")
    code, out = verify(estate)
    assert code == EXIT_ALTERED, out
    assert "signature does not verify" in out
    # Checked against the public key alone, as on an investigator's machine.
    done = estate.run(
        "journal",
        "verify",
        env={"ISOLEMENT_ANCHOR_KEY": None, "ISOLEMENT_ANCHOR_PUBLIC_KEY": str(public)},
    )
    assert done.code == EXIT_ALTERED and "signature does not verify" in done.out, done.text
