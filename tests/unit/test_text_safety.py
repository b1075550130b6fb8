"""Text from outside isolement never acts on whoever reads it: control and bidi characters.

A terminal runs the escape sequences it is given (ESC, CSI as U+009B, OSC ... BEL: clear the
screen, retitle the window, fake a line); U+2028/U+2029 and U+0085 break lines where a reader
does not expect it; bidi overrides and isolates (U+202A-U+202E, U+2066-U+2069) reorder what an
investigator reads. Such characters come from device answers, from journals, from the
environment (the default operator name) and from the command line. Each sink is tested here:
the terminal (a real cut against emulated devices, `journal show`, errors), Markdown, HTML, CSV
and JSON. The journal itself keeps the exact characters: it is the evidence.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from pathlib import Path

import pytest
from conftest import base_inventory
from isolement.lab.profiles.ios_like import IosLikeCli
from test_cli_bad_input import (  # noqa: F401 (fixtures)
    Listener,
    assert_refused_before_sending,
    inventory_at,
    listener,
    no_terminal,
    run,
    state_dir,
)
from test_emulator import FAULTY, GI0, CliEstate, cli_estate  # noqa: F401 (fixture)

from isolement.cli import operator as operators
from isolement.journal.store import Journal, read_records
from isolement.model.text import shown
from isolement.report import incident as R

OSC = "\x1b]0;owned\x07"  # sets the terminal window's title
CLEAR = "\x1b[2J\x1b[H"  # clears the screen
# Characters that must never reach a reader raw, one of each kind the issue names.
HOSTILE = {
    "ESC": "\x1b",
    "BEL": "\x07",
    "CSI (C1)": "\x9b",
    "NEL (C1)": "\x85",
    "LINE SEPARATOR": "\u2028",
    "PARAGRAPH SEPARATOR": "\u2029",
    "RIGHT-TO-LEFT OVERRIDE": "\u202e",
    "LEFT-TO-RIGHT ISOLATE": "\u2066",
    "RIGHT-TO-LEFT MARK": "\u200f",
    "DEL": "\x7f",
}


def raw_unsafe(text: str, allowed: str = "\n") -> list[str]:
    """The characters of `text` that would act on a terminal or a reader: the test's own rule
    (Unicode categories), independent of isolement's."""
    return [
        f"U+{ord(ch):04X}"
        for ch in text
        if ch not in allowed and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs")
    ]


# --- the one function ------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(HOSTILE))
def test_shown_replaces_each_hostile_character_by_a_visible_escape(name: str) -> None:
    char = HOSTILE[name]
    text = shown(f"before{char}after")
    assert raw_unsafe(text) == []
    assert text.startswith("before") and text.endswith("after")
    assert repr(char)[1:-1] in text  # \x1b, \x9b, \u202e: what Python's repr shows


def test_shown_keeps_ordinary_text_and_line_breaks_only_where_lines_are_allowed() -> None:
    assert shown("Hôpital Nord — réseau coupé 日本") == "Hôpital Nord — réseau coupé 日本"
    assert shown("one\ntwo\tthree") == "one\\ntwo\\tthree"
    assert shown("one\r\ntwo\tthree\rfour", lines=True) == "one\ntwo\tthree\\rfour"


def test_shown_escapes_characters_beyond_the_bmp_in_full() -> None:
    tag = "\U000e0041"  # TAG LATIN CAPITAL LETTER A: invisible
    assert shown(f"x{tag}y") == "x\\U000e0041y"


# --- the command line refuses them -----------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["CSI (C1)", "NEL (C1)", "LINE SEPARATOR", "RIGHT-TO-LEFT OVERRIDE", "ESC"]
)
@pytest.mark.parametrize("option", ["--reason", "--approved-by", "--operator"])
def test_a_decision_argument_with_a_hostile_character_is_refused(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,  # noqa: F811
    write_inventory: object,
    state_dir: Path,  # noqa: F811
    option: str,
    name: str,
) -> None:
    path = write_inventory(inventory_at(listener))  # type: ignore[operator]
    char = HOSTILE[name]
    args = ["--reason", "drill", "--approved-by", "Dr Martin", "--operator", "alice"]
    args[args.index(option) + 1] = f"drill{char}x"
    code, out, err = run(
        capsys, "--inventory", str(path), "restore", "cut-intersite", "--all", *args, "--yes"
    )
    assert_refused_before_sending(code, err, listener, state_dir, option, f"U+{ord(char):04X}")
    assert raw_unsafe(out + err) == []  # the refusal does not print the character either


def test_the_default_operator_name_is_checked_and_falls_back_with_a_note() -> None:
    name, note = operators.default_operator({"SUDO_USER": f"eve{OSC}{CLEAR}\nmallory"})
    assert raw_unsafe(name) == []
    assert name == operators.account_name()
    assert note is not None
    assert "SUDO_USER" in note and "--operator" in note
    assert raw_unsafe(note) == []


def test_a_clean_default_operator_name_is_used_as_it_is() -> None:
    assert operators.default_operator({"SUDO_USER": "alice", "LOGNAME": "root"}) == ("alice", None)
    assert operators.default_operator({"LOGNAME": "bob"}) == ("bob", None)


# --- the terminal: a real cut against emulated devices ---------------------------------------


def test_a_device_answering_an_escape_sequence_does_not_reach_the_terminal(
    cli_estate: CliEstate,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The faulty router refuses `shutdown` with an answer carrying an OSC title sequence, a
    screen clear and a right-to-left override. The cut report, `journal show` and the report
    exports show them as escapes; the journal keeps them exactly."""
    estate = cli_estate
    answer = f"% Invalid input detected {OSC}{CLEAR}\u202eDENIATNOC"
    monkeypatch.setattr(IosLikeCli, "invalid", lambda self, line: [answer])
    estate.emu.device(FAULTY).set_faults(error_on="shutdown")
    estate.cli.env["SUDO_USER"] = f"eve{OSC}"

    cut = estate.cut("--retries", "0")
    assert cut.returncode == 3, cut.stdout + cut.stderr[-2000:]
    assert raw_unsafe(cut.stdout) == [], cut.stdout
    assert raw_unsafe(cut.stderr) == [], cut.stderr
    assert f"FAILED {FAULTY}: {GI0}" in cut.stdout
    assert shown(answer) in cut.stdout  # what the device said, visibly
    assert "SUDO_USER" in cut.stderr  # the note about the default operator name

    journal = next((estate.inventory.parent / "state").rglob("journal.jsonl"))
    records = [r for r in read_records(journal) if isinstance(r, dict)]
    failed = next(r for r in records if r["event"] == "change.failed")
    assert answer in failed["error"]  # the exact characters, kept as evidence
    started = next(r for r in records if r["event"] == "run.started")
    assert raw_unsafe(started["operator"]) == []  # the poisoned name was not used

    show = estate.run("journal", "show")
    assert show.returncode == 0, show.stderr
    assert raw_unsafe(show.stdout) == [], show.stdout
    assert shown(answer) in show.stdout

    for format_ in ("md", "html", "csv", "json"):
        export = estate.run("journal", "export", "--format", format_)
        assert export.returncode == 0, export.stderr
        assert raw_unsafe(export.stdout, allowed="\n\r") == [], (format_, export.stdout)


def test_journal_show_json_escapes_what_it_prints_and_loses_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], write_inventory: object
) -> None:
    journal = hostile_journal(tmp_path)
    inventory = write_inventory(base_inventory())  # type: ignore[operator]
    code, out, err = run(
        capsys,
        "--inventory",
        str(inventory),
        "--journal",
        str(journal),
        "--json",
        "journal",
        "show",
    )
    assert code == 0, err
    assert raw_unsafe(out) == []
    assert json.loads(out) == [r for r in read_records(journal) if isinstance(r, dict)]
    code, out, err = run(
        capsys, "--inventory", str(inventory), "--journal", str(journal), "journal", "show"
    )
    assert code == 0, err
    assert raw_unsafe(out) == []
    assert "eve\\x1b]0;owned\\x07" in out


# --- the reports -----------------------------------------------------------------------------


def hostile_journal(tmp_path: Path) -> Path:
    """A journal as today's code could write it: the default operator name unchecked, a reason
    and an approver with C1 and bidi characters, a device answer with an OSC sequence."""
    path = tmp_path / "hostile.jsonl"
    run_fields = {"run": "run1", "playbook": "cut-intersite", "parameters": {}}
    with Journal(path) as journal:
        journal.record(
            "run.started",
            **run_fields,
            operator=f"eve{OSC}",
            reason="ransomware\u2028h1\x85\x9b31m",
            approved_by="Dr \u202eMartin",
            direction="cut",
            plan="ab" * 32,
            inventory="crafted",
            controller="cell",
            waves=[["dc-rtr"]],
            preflight_failed={},
            inferred={},
        )
        change = {"interface": "wan-h1", "link": "wan-dc-h1", "method": "shutdown"}
        journal.record(
            "change.intent",
            **run_fields,
            device="dc-rtr",
            direction="cut",
            attempt=1,
            changes=[change],
            commands=["interface wan-h1", "shutdown"],
        )
        journal.record(
            "change.failed",
            **run_fields,
            device="dc-rtr",
            direction="cut",
            attempt=1,
            changes=[change],
            error=f"device answered with an error: Error: {OSC}{CLEAR}\u2066x",
        )
        journal.record(
            "run.finished",
            **run_fields,
            direction="cut",
            outcome="failed",
            still_open={"wan-dc-h1": f"dc-rtr: Error: {OSC}"},
            failed={"dc-rtr": f"{OSC}"},
            interrupted=False,
            duration_s=1.0,
        )
    return path


@pytest.fixture
def hostile(tmp_path: Path) -> R.IncidentReport:
    return R.report_from_journal(hostile_journal(tmp_path))


def test_markdown_report_shows_escapes(hostile: R.IncidentReport) -> None:
    text = R.to_markdown(hostile)
    assert raw_unsafe(text) == []
    assert "\\x1b" in text.replace("\\\\", "\\")  # visible, through Markdown's own escaping


def test_html_report_shows_escapes(hostile: R.IncidentReport) -> None:
    page = R.to_html(hostile)
    assert raw_unsafe(page) == []
    assert "eve\\x1b]0;owned\\x07" in page
    assert "Dr \\u202eMartin" in page


def test_csv_report_shows_escapes(hostile: R.IncidentReport) -> None:
    text = R.to_csv(hostile)
    assert raw_unsafe(text, allowed="\r\n") == []
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["operator"] for row in rows} == {"eve\\x1b]0;owned\\x07"}
    assert all("\n" not in cell for row in rows for cell in row.values())


def test_json_report_escapes_and_keeps_the_exact_text(hostile: R.IncidentReport) -> None:
    text = R.to_json(hostile)
    assert raw_unsafe(text) == []
    data = json.loads(text)
    assert data["decisions"][0]["operator"] == f"eve{OSC}"  # JSON escapes lose nothing
