"""What the crisis room reads: the outcome first (and last), lists cut to the terminal's width,
colour only on a terminal without NO_COLOR, the plan's raw commands only with -v, the impact
stated before the confirmation, and the map of the links by state."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest
from conftest import InventoryWriter
from emulated import Emulate, LoginKey, write_cli_files
from isolement.lab.emulator import DeviceSpec, InterfaceSpec
from test_live_progress import _plan

from isolement.cli import render
from isolement.cli.main import main
from isolement.cli.terminal import Terminal
from isolement.flows.results import Outcome, RunReport, StepResult, StepStatus
from isolement.model.inventory import Inventory
from isolement.model.plan import Change, DeviceStep, Direction, Plan
from isolement.planning.impact import impact
from isolement.planning.planner import plan_cut
from isolement.report.map import STYLES, draw_map


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _report(still_open: dict[str, str] | None = None, unknown: dict[str, str] | None = None):
    plan = _plan()
    steps = [StepResult(plan.steps[0], StepStatus.CONFIRMED)]
    steps += [StepResult(s, StepStatus.FAILED, error="timed out") for s in plan.steps[1:]]
    return RunReport(
        plan, Outcome.PARTIAL, steps, {}, "run1", 12.34, still_open or {}, unknown or {}
    )


def test_a_run_says_its_outcome_and_counts_first_and_its_outcome_last() -> None:
    text = render.run_text(_report({"l1": "timed out", "l2": "timed out"})).splitlines()
    assert text[0] == "STILL OPEN: 2/4 targeted links not cut: l1, l2"
    assert text[1] == "  1/3 devices changed and read back, 2 FAILED · 12.3 s"
    assert text[-1] == text[0]
    contained = render.run_text(_report()).splitlines()
    assert contained[0] == contained[-1] == "CONTAINED: 4/4 targeted links cut"
    unknown = render.run_text(_report(unknown={"l2": "unconfirmed"})).splitlines()
    assert unknown[0] == "NOT CONTAINED: 3/4 targeted links cut, 1 UNKNOWN: l2"


def test_a_restore_with_nothing_recorded_says_so_not_that_the_playbook_selects_nothing() -> None:
    # What a restore targets comes from the journal: with no cut recorded, the playbook still
    # selects its links, and saying otherwise would send the operator to the wrong file.
    empty = Plan(direction=Direction.RESTORE, playbook="cut-all", inventory="lab", steps=[])
    report = RunReport(empty, Outcome.NOTHING_TO_DO, [], {}, "run1", 0.4, {}, {})
    line = render.outcome_line(report)
    assert line == "NOTHING TO RESTORE: the journal records no cut of this playbook to undo"
    cut = RunReport(
        empty.model_copy(update={"direction": Direction.CUT}),
        Outcome.NOTHING_TO_DO,
        [],
        {},
        "run2",
        0.4,
        {},
        {},
    )
    assert render.outcome_line(cut) == "NOTHING TARGETED: the playbook selects no link here"


def test_a_long_list_is_cut_to_the_terminal_width_and_given_whole_off_a_terminal() -> None:
    names = [f"inet-r{n:04d}" for n in range(62)]
    head = "STILL OPEN: 62/62 targeted links not cut: "
    wide = head + Terminal(width=120).listed(names, len(head))
    assert len(wide) <= 120 and wide.endswith(" more (--json lists them)"), wide
    narrow = head + Terminal(width=66).listed(names, len(head))
    assert narrow == head + "inet-r0000, +61 more"
    assert Terminal().listed(names) == ", ".join(names)
    text = "  warning: " + "word " * 40
    fitted = Terminal(width=50).fit(text).splitlines()
    assert max(len(line) for line in fitted) <= 50
    assert all(line.startswith("      ") for line in fitted[1:])


def test_colour_only_on_a_terminal_and_never_with_no_color() -> None:
    text = "CONTAINED: 6/6 targeted links cut\n  ok     r1: Gi0/0 (l1)\nFAILED r2"
    assert Terminal.of(io.StringIO(), {}).paint(text) == text
    assert Terminal.of(FakeTty(), {"NO_COLOR": "1"}).paint(text) == text
    assert Terminal.of(FakeTty(), {"TERM": "dumb"}).paint(text) == text
    painted = Terminal.of(FakeTty(), {"TERM": "xterm"}).paint(text)
    assert "\x1b[1;97;42mCONTAINED\x1b[0m" in painted
    assert "\x1b[1;31mFAILED\x1b[0m" in painted
    assert re.sub(r"\x1b\[[0-9;]*m", "", painted) == text


def test_plan_shows_how_many_command_lines_and_minus_v_shows_them(
    in_process_cli: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "cut-all", "--offline"]) == 0
    out = capsys.readouterr().out
    assert "      9 command lines (plan -v shows them)" in out
    assert "      commands:" not in out
    assert max(len(line) for line in out.splitlines()) < 600  # no raw 685-character nft line
    assert "  sites cut off from every other site and the internet: h2, h3, h4, h5" in out
    assert "  protected flows kept up: telephony-dc-h1" in out
    assert main(["plan", "cut-all", "--offline", "-v"]) == 0
    verbose = capsys.readouterr().out
    assert "      commands:" in verbose
    assert max(len(line) for line in verbose.splitlines()) > 600  # the raw nft line, whole


def test_the_impact_of_the_lab_cut_all(lab_inventory: Inventory) -> None:
    from conftest import PLAYBOOKS

    from isolement.model.playbook import load_playbook

    plan = plan_cut(lab_inventory, load_playbook("cut-all", PLAYBOOKS), {}, None)
    found = impact(lab_inventory, plan)
    assert (found.devices, found.links, found.waves) == (13, 12, 2)
    assert found.cut_off == ["h2", "h3", "h4", "h5"]
    assert found.partly == {"dc": ["voice-dc-h1"], "h1": ["voice-dc-h1"]}
    assert found.unmanageable == ["h2-fw", "h2-rtr"]


def test_the_confirmation_states_the_impact_before_asking(
    in_process_cli: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", FakeTty())
    asked: list[str] = []

    def answer(prompt: str) -> str:
        asked.append(capsys.readouterr().err)  # what was on the screen when asked
        return "no"

    monkeypatch.setattr("builtins.input", answer)
    assert main(["cut", "cut-all", "--reason", "drill"]) == 2
    said = asked[0]
    assert "Impact of cut cut-all, from the inventory" in said
    assert "13 devices to change, 12 links to cut, in 2 waves" in said
    assert "sites cut off from every other site and the internet: h2, h3, h4, h5" in said
    assert "devices UNREACHABLE for the controller afterwards: h2-fw, h2-rtr" in said
    assert "protected flows kept up: telephony-dc-h1" in said
    assert "not confirmed; nothing was sent" in capsys.readouterr().err

    stage = ["restore", "cut-all", "--stage", "clinical-h1", "--approved-by", "x", "--reason", "y"]
    assert main(stage) == 2
    assert "Impact of opening stage clinical-h1: Patient records" in asked[1]
    assert "  links reopened: wan-dc-h1" in asked[1]
    assert "must pass dc-to-h1; must still fail dc-to-h2, h1-to-internet" in asked[1]
    assert main(["restore", "cut-all", "--all", "--approved-by", "x", "--reason", "y"]) == 2
    assert "0 devices to change, 0 links to reopen: none" in asked[2]


def test_the_map_draws_each_state_with_its_own_pattern_word_and_legend(
    lab_inventory: Inventory,
) -> None:
    states = {"wan-dc-h1": "cut", "wan-h1-h2": "open", "inet-h4": "unknown"}
    states |= {"wan-dc-h5": "partial", "inet-h2": "reopened"}
    svg = draw_map(lab_inventory, states, title="t")
    for key, style in STYLES.items():
        # in the legend, with its meaning, and its pattern drawn
        assert f"{style.word}</tspan>: {style.meaning}" in svg, key
        if style.dash:
            assert f'stroke-dasharray="{style.dash}"' in svg, key
    for link, key in states.items():
        assert f"{link} · {STYLES[key].word}" in svg
    assert "voice-dc-h1 · PROTECTED" in svg  # a protected flow, whatever was read
    assert "inet-dc · not targeted" in svg
    for site in lab_inventory.sites:
        assert f">{site}</text>" in svg
    assert "<script" not in svg and "href" not in svg  # one self-contained, inert file


def test_status_map_writes_the_links_as_read(
    tmp_path: Path, emulate: Emulate, login_key: LoginKey, capsys: pytest.CaptureFixture[str]
) -> None:
    emu = emulate([DeviceSpec(n, [InterfaceSpec("Gi0/0")]) for n in ("r1", "r2")])
    emu.device("r1").set_shutdown("Gi0/0", True)
    links = {
        f"inet-{n}": {"kind": "internet", "endpoints": [{"device": n, "interface": "Gi0/0"}]}
        for n in ("r1", "r2")
    }
    playbook = {"name": "cut-net", "cut": [{"select": {"kind": "internet"}}]}
    sites = {"r1": "north", "r2": "south"}
    options, path = write_cli_files(
        tmp_path, emu, login_key, "two", links=links, playbook=playbook, sites=sites
    )
    target = tmp_path / "map.svg"
    main([*options, "status", str(path), "--map", str(target)])
    assert f"map: {target}" in capsys.readouterr().out
    svg = target.read_text()
    assert "inet-r1 · CUT" in svg and "inet-r2 · OPEN" in svg
    assert target.stat().st_mode & 0o077 == 0


def test_a_restore_says_restored_or_what_is_still_cut() -> None:
    plan = Plan(
        direction=Direction.RESTORE,
        playbook="p",
        inventory="i",
        steps=[
            DeviceStep(
                device="d",
                site="s",
                platform="cisco_ios",
                changes=[Change(link="l", interface="Gi0/0", method="shutdown")],
                commands=[],
            )
        ],
        targeted_links=["l"],
    )
    done = RunReport(
        plan, Outcome.DONE, [StepResult(plan.steps[0], StepStatus.CONFIRMED)], {}, "r", 1.0
    )
    assert render.outcome_line(done) == "RESTORED: 1/1 targeted links reopened"
    done.still_open = {"l": "timed out"}
    assert render.outcome_line(done) == "STILL CUT: 1/1 targeted links not reopened: l"


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        ("dc-to-h1", "stages.0.checks.passes", "unknown probe 'no-such-probe'"),
        ("link: wan-dc-h1", "stages.0.open.link", "unknown link 'no-such-link'"),
    ],
)
def test_validate_says_a_stage_naming_an_unknown_probe_or_link_cannot_be_used(
    tmp_path: Path,
    in_process_cli: None,
    capsys: pytest.CaptureFixture[str],
    bad: str,
    field: str,
    message: str,
) -> None:
    from conftest import PLAYBOOKS

    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    text = (PLAYBOOKS / "cut-all.yaml").read_text()
    wrong = "no-such-probe" if "probe" in message else "link: no-such-link"
    assert bad in text
    (playbooks / "cut-all.yaml").write_text(text.replace(bad, wrong, 1))
    base = ["--playbooks", str(playbooks)]

    # The operator's own playbook: validate refuses it (exit 2) as plan --restore does, alike.
    assert main([*base, "validate", "--no-credentials"]) == 2
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if line.startswith("STAGES NOT USABLE")]
    assert "(cut-all: plan --restore and restore --stage refuse them)" in line
    assert message in line and field in line and "cut-all.yaml" in line, line
    assert main([*base, "plan", "cut-all", "--restore"]) == 2
    err = capsys.readouterr().err
    assert message in err and field in err and "cut-all.yaml" in err, err
    assert main([*base, "--json", "validate", "--no-credentials"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert message in document["stages_not_usable"]["cut-all"] and document["ok"] is False


def test_validate_only_says_the_shipped_playbooks_stages_do_not_fit_another_estate(
    write_inventory: InventoryWriter, in_process_cli: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The shipped cut-all's stages name the lab's probes: on an estate without them its cuts
    are still usable, so validate passes and says which stages cannot be used there."""
    from conftest import base_inventory

    inventory = write_inventory(base_inventory())

    assert main(["--inventory", str(inventory), "validate", "--no-credentials"]) == 0
    out = capsys.readouterr().out
    assert "STAGES NOT USABLE with this inventory (cut-all:" in out
    assert "unknown" in out.split("STAGES NOT USABLE", 1)[1]


def test_the_html_report_draws_the_links_as_the_journal_last_recorded_them(
    tmp_path: Path,
    emulate: Emulate,
    login_key: LoginKey,
    in_process_cli: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu = emulate([DeviceSpec(n, [InterfaceSpec("GigabitEthernet0/0")]) for n in ("r1", "r2")])
    links = {
        f"inet-{n}": {
            "kind": "internet",
            "endpoints": [{"device": n, "interface": "GigabitEthernet0/0"}],
        }
        for n in ("r1", "r2")
    }
    playbook = {"name": "cut-r1", "cut": [{"select": {"link": "inet-r1"}}]}
    options, path = write_cli_files(tmp_path, emu, login_key, "two", links=links, playbook=playbook)
    assert main([*options, "cut", str(path), "--reason", "drill", "--yes"]) == 0
    page = tmp_path / "incident.html"
    assert main([*options, "journal", "export", "--format", "html", "--output", str(page)]) == 0
    html = page.read_text()
    assert "Map of the links, as last recorded" in html
    assert "inet-r1 · CUT" in html and "inet-r2 · not targeted" in html
    assert "not read now" in html
    capsys.readouterr()
