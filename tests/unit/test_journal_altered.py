"""Nothing acts on an altered journal without an explicit, journaled override (#10 item 8).

A forger adds a `change.intent` saying the cut shut h2-rtr's backup port (shut in normal times)
so that `restore --all` opens it. Every command that writes the journal verifies it first and
refuses, before it reaches any device; `--accept-altered-journal REASON` lets the crisis cell
go on, and says in the journal who accepted what and why. Commands that only read the journal
to decide (status, plan) say loudly that it is altered.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from emulated import LoginKey
from journal_estate import BACKUP, Estate, chained, forged_backup_intent, running_estate

EXIT_ALTERED = 5


@pytest.fixture
def estate(tmp_path: Path, login_key: LoginKey) -> Iterator[Estate]:
    """The routers cut by a real run; no anchor directory unless a test gives one."""
    with running_estate(tmp_path, login_key) as estate:
        done = estate.cut()
        assert done.code == 0, done.text
        yield estate


def forge_naively(estate: Estate) -> None:
    """The forged record appended as an editor would: the chain fields copied, not recomputed."""
    forged = forged_backup_intent(estate.records())
    with estate.journal.open("a") as handle:
        handle.write(json.dumps(forged, sort_keys=True) + "\n")


def forge_with_a_correct_chain(estate: Estate) -> None:
    rows = estate.records()
    rows.append(forged_backup_intent(rows))
    estate.journal.write_text("".join(chained(rows, start=len(rows) - 1)))


def backup_port_shut(estate: Estate) -> bool:
    assert estate.emu is not None
    return estate.emu.device("h2-rtr").is_shutdown(BACKUP)


def logins(estate: Estate) -> int:
    assert estate.emu is not None
    return sum(estate.emu.device(n).logins for n in ("dc-rtr", "h2-rtr"))


def test_restore_refuses_a_journal_with_a_forged_intent(estate: Estate) -> None:
    forge_naively(estate)
    before = logins(estate)
    done = estate.restore()
    assert done.code == EXIT_ALTERED, done.text
    assert "fails verification" in done.err and "--accept-altered-journal" in done.err
    assert "Traceback" not in done.text
    assert backup_port_shut(estate)
    assert logins(estate) == before  # refused before any device was reached


def test_restore_refuses_a_forgery_with_a_correct_chain_once_anchored(
    tmp_path: Path, login_key: LoginKey
) -> None:
    anchors = {"ISOLEMENT_ANCHOR_DIR": str(tmp_path / "anchors")}
    with running_estate(tmp_path / "estate", login_key, **anchors) as estate:
        assert estate.cut().code == 0
        forge_with_a_correct_chain(estate)
        before = logins(estate)
        done = estate.restore()
        assert done.code == EXIT_ALTERED, done.text
        assert "not covered by any anchor" in done.err
        assert backup_port_shut(estate)
        assert logins(estate) == before


def test_cut_refuses_an_altered_journal_and_sends_nothing(estate: Estate) -> None:
    forge_naively(estate)
    before = logins(estate)
    done = estate.cut()
    assert done.code == EXIT_ALTERED, done.text
    assert "fails verification" in done.err
    assert logins(estate) == before


@pytest.mark.parametrize("stage", ["open", "close"])
def test_stages_refuse_an_altered_journal(estate: Estate, stage: str) -> None:
    forge_naively(estate)
    before = logins(estate)
    if stage == "open":
        args = ["--stage", "clinical-h2", "--approved-by", "Dr Martin"]
    else:
        args = ["--close", "clinical-h2"]
    done = estate.run("restore", str(estate.playbook), *args, "--reason", "r", "--yes")
    assert done.code == EXIT_ALTERED, done.text
    assert "fails verification" in done.err
    assert logins(estate) == before


def test_override_is_journaled_with_who_accepted_it_and_why(estate: Estate) -> None:
    forge_naively(estate)
    forged_seq = estate.records()[-1]["seq"]
    done = estate.restore(
        "--operator", "alice", "--accept-altered-journal", "journal copied back from backup"
    )
    assert done.code == 0, done.text
    records = estate.records()
    override = next(r for r in records if r["event"] == "journal.override")
    assert override["accepted_by"] == "alice"
    assert override["reason"] == "journal copied back from backup"
    assert f"seq {forged_seq}" in override["problem"] or f"line {forged_seq}" in override["problem"]
    # Accepted before the run that acted on it.
    started = [r["seq"] for r in records if r["event"] == "run.started"]
    assert override["seq"] < started[-1]
    # The crisis cell accepted the journal as it is: the restore acts on what it says.
    assert not backup_port_shut(estate)
    # And every later verification says so.
    checked = estate.run("journal", "verify")
    assert checked.code == EXIT_ALTERED, checked.text
    assert "alice accepted the journal as it was" in checked.out
    assert "journal copied back from backup" in checked.out


@pytest.mark.parametrize("command", ["status", "plan-restore"])
def test_read_only_commands_say_loudly_that_the_journal_is_altered(
    estate: Estate, command: str
) -> None:
    forge_naively(estate)
    args = ["status", str(estate.playbook)]
    if command == "plan-restore":
        args = ["plan", str(estate.playbook), "--restore"]
    done = estate.run(*args)
    assert "WARNING" in done.err and "fails verification" in done.err, done.text
    assert backup_port_shut(estate)
