"""The meaning of proof: a probe that could not run is never counted as passing nor as blocked;
`verify` says link by link whether a cut is proven by packets or known by read-back state only,
and says it in its exit code and --json; a stage whose checks could not run is "opened, not
proven" (never "verified"), is not closed again for it, and the next stage waits until it is
proven or the operator accepts the read-back state (journaled).

The end-to-end tests run the real command line against two emulated routers on loopback
(journal_estate.py). Their probes cannot run by construction: sent from a source address that is
not this machine's (refused at bind(), nothing sent), or from a lab namespace that does not
exist here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from emulated import LoginKey
from journal_estate import Estate, running_estate

from isolement.cli import render
from isolement.flows import stages as reconnection
from isolement.flows.results import (
    LinkStatus,
    PathState,
    ProbeCheck,
    Proof,
    StagePlan,
    StageReport,
    StageState,
    StatusReport,
    Verdict,
    VerifyReport,
)
from isolement.flows.runtime import Runtime
from isolement.model.inventory import Probe
from isolement.model.playbook import Stage
from isolement.probes.outcome import ProbeOutcome, ProbeResult

PASSES, BLOCKED, UNAVAILABLE = ProbeResult.PASSES, ProbeResult.BLOCKED, ProbeResult.UNAVAILABLE
EXIT_OK, EXIT_INPUT, EXIT_PARTIAL, EXIT_UNKNOWN, EXIT_STATE_ONLY = 0, 2, 3, 6, 8
APPROVE = ("--approved-by", "Dr Martin", "--reason", "doubt lifted", "--yes")
# Probes that cannot run on any machine running the tests: nothing is ever sent.
UNRUNNABLE = [
    {
        "name": "dc-to-h2",
        "from_controller": True,
        "source": "203.0.113.9",
        "to": "127.0.0.1",
        "crosses": ["wan-dc-h2"],
    },
    {"name": "dc-to-internet", "from_netns": "iso-no-such-ns", "to": "127.0.0.1"},
]
UNRUNNABLE[1]["crosses"] = ["inet-dc"]
STAGES = [
    {
        "name": "clinical-h2",
        "open": {"link": "wan-dc-h2"},
        "checks": {"passes": ["dc-to-h2"], "blocked": ["dc-to-internet"]},
        "settle_s": 0,
    },
    {"name": "internet", "open": {"link": "inet-dc"}, "settle_s": 0},
]


def check(name: str, result: ProbeResult, expected: ProbeResult, *crosses: str) -> ProbeCheck:
    probe = Probe.model_validate(
        {"name": name, "from_controller": True, "to": "127.0.0.1", "crosses": list(crosses)}
    )
    return ProbeCheck(ProbeOutcome(probe, result, "why"), expected)


def report(states: dict[str, PathState], *checks: ProbeCheck) -> VerifyReport:
    links = [LinkStatus(name, "intersite", state) for name, state in states.items()]
    return VerifyReport(StatusReport(links), list(checks))


# --- verify's verdict, link by link ----------------------------------------------------------


def test_cuts_read_back_with_no_probe_able_to_run_are_contained_by_state_only() -> None:
    found = report(
        {"wan-a": PathState.CUT, "wan-b": PathState.CUT},
        check("a", UNAVAILABLE, BLOCKED, "wan-a"),
        check("b-side", UNAVAILABLE, PASSES),
    )
    assert found.verdict is Verdict.CONTAINED_BY_STATE
    assert found.proof == {"wan-a": Proof.STATE, "wan-b": Proof.STATE}
    # Could not run: neither a leak nor collateral damage.
    assert found.leaking_probes == [] and found.collateral == []
    assert [c.outcome.probe.name for c in found.unavailable] == ["a", "b-side"]


def test_a_cut_proven_by_a_probe_crossing_it_alone_is_proven_by_packets() -> None:
    found = report(
        {"wan-a": PathState.CUT, "wan-b": PathState.PARTIAL},
        check("a", BLOCKED, BLOCKED, "wan-a"),
        check("b", BLOCKED, BLOCKED, "wan-b"),
    )
    assert found.proof == {"wan-a": Proof.PACKETS, "wan-b": Proof.PACKETS}
    assert found.verdict is Verdict.CONTAINED


def test_a_probe_across_two_cut_links_proves_neither() -> None:
    found = report(
        {"wan-a": PathState.CUT, "wan-b": PathState.CUT},
        check("a-b", BLOCKED, BLOCKED, "wan-a", "wan-b"),
    )
    assert found.proof == {"wan-a": Proof.STATE, "wan-b": Proof.STATE}
    assert found.verdict is Verdict.CONTAINED_BY_STATE


def test_a_link_not_read_whose_probe_could_not_run_is_not_proven() -> None:
    found = report({"wan-a": PathState.UNKNOWN}, check("a", UNAVAILABLE, BLOCKED, "wan-a"))
    assert found.proof == {"wan-a": Proof.NONE}
    assert found.verdict is Verdict.NOT_PROVEN


def test_a_link_not_read_proven_blocked_by_packets_is_contained() -> None:
    found = report({"wan-a": PathState.UNKNOWN}, check("a", BLOCKED, BLOCKED, "wan-a"))
    assert found.proof == {"wan-a": Proof.PACKETS}
    assert found.verdict is Verdict.CONTAINED


def test_traffic_that_passes_where_it_must_stop_is_not_contained() -> None:
    found = report({"wan-a": PathState.CUT}, check("a", PASSES, BLOCKED, "wan-a"))
    assert found.verdict is Verdict.NOT_CONTAINED


def test_verify_text_says_a_probe_that_could_not_run_proves_nothing() -> None:
    found = report(
        {"wan-a": PathState.CUT, "wan-b": PathState.CUT},
        check("a", UNAVAILABLE, BLOCKED, "wan-a"),
        check("b", BLOCKED, BLOCKED, "wan-b"),
    )
    text = render.verify_text(found)
    assert "  -     a: could not run, proves nothing (controller -> 127.0.0.1): why" in text
    assert "  wan-a: read-back state only: no probe crossing it alone ran and was blocked" in text
    assert "  wan-b: proven by packets: b blocked" in text
    assert text.splitlines()[-1] == (
        "CONTAINED BY READ-BACK STATE ONLY: the devices say cut, no probe contradicts it; "
        "not proven by packets: wan-a"
    )
    assert "none available" not in text


def test_verify_text_without_any_probe_says_nothing_is_proven_by_packets() -> None:
    text = render.verify_text(report({"wan-a": PathState.CUT}))
    assert "  none declared in the inventory: no cut is proven by packets" in text
    assert "\nCONTAINED:" not in text and "CONTAINED BY READ-BACK STATE ONLY" in text


# --- a stage's checks that could not run -----------------------------------------------------


def stage(**fields: Any) -> Stage:
    return Stage.model_validate({"name": "s", "open": {"link": "wan-a"}, **fields})


def scripted(monkeypatch: pytest.MonkeyPatch, answer: dict[str, ProbeResult]) -> None:
    def run_probes(_rt: Runtime, probes: list[Probe]) -> list[ProbeOutcome]:
        return [ProbeOutcome(p, answer[p.name], "no route") for p in probes]

    monkeypatch.setattr(reconnection, "run_probes", run_probes)
    monkeypatch.setattr(reconnection, "SETTLE_CHECK_EVERY_S", 0.01)


def test_checks_that_could_not_run_do_not_close_the_stage(
    lab_inventory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = Runtime(lab_inventory, tmp_path / "journal.jsonl")
    scripted(monkeypatch, {"dc-to-h1": UNAVAILABLE, "h1-to-internet": UNAVAILABLE})
    found = StageReport("s", opened=False)
    checks = {"passes": ["dc-to-h1"], "blocked": ["h1-to-internet"]}

    assert reconnection._watch(rt, stage(checks=checks, settle_s=600, hold_s=0), found) == ""
    found.opened = True
    assert not found.verified
    assert [c.outcome.probe.name for c in found.unproven] == ["dc-to-h1", "h1-to-internet"]


def test_a_check_that_ran_and_failed_still_closes_the_stage_beside_one_that_could_not(
    lab_inventory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = Runtime(lab_inventory, tmp_path / "journal.jsonl")
    scripted(monkeypatch, {"dc-to-h1": UNAVAILABLE, "h1-to-internet": PASSES})
    checks = {"passes": ["dc-to-h1"], "blocked": ["h1-to-internet"]}
    why = reconnection._watch(rt, stage(checks=checks, settle_s=600), StageReport("s", False))
    assert why == "h1-to-internet passes (expected blocked)"


def test_stage_text_for_checks_that_could_not_run_says_opened_not_proven() -> None:
    found = StageReport("clinical-h2", opened=True, checks=[check("dc-to-h2", UNAVAILABLE, PASSES)])
    text = render.stage_text(found)
    assert "Stage clinical-h2: opened, not proven (checks that could not run: dc-to-h2)." in text
    assert "verified" not in text
    found.accepted = "checked by phone with the site"
    assert "read-back state accepted as its proof (journaled): checked by phone" in (
        render.stage_text(found)
    )


def test_stage_with_every_check_run_and_held_is_verified() -> None:
    found = StageReport("s", opened=True, checks=[check("p", PASSES, PASSES)])
    assert found.verified
    assert render.stage_text(found).endswith("Stage s: OPEN and verified by packets.")


def test_status_shows_a_stage_opened_but_not_proven() -> None:
    text = render.stages_text([StageState("s", True, "Dr Martin", "T", "r")])
    assert "opened, not proven (its checks could not run)" in text


# --- the command line against emulated routers -----------------------------------------------


@pytest.fixture
def estate(tmp_path: Path, login_key: LoginKey) -> Iterator[Estate]:
    with running_estate(tmp_path, login_key) as estate:
        inventory = yaml.safe_load(estate.inventory.read_text())
        inventory["probes"] = UNRUNNABLE
        estate.inventory.write_text(yaml.safe_dump(inventory, sort_keys=False))
        playbook = yaml.safe_load(estate.playbook.read_text())
        playbook["stages"] = STAGES
        estate.playbook.write_text(yaml.safe_dump(playbook, sort_keys=False))
        yield estate


def test_verify_with_probes_that_cannot_run_is_contained_by_state_only(estate: Estate) -> None:
    assert estate.cut().code == EXIT_OK
    done = estate.run("verify", str(estate.playbook))
    assert done.code == EXIT_STATE_ONLY, done.text
    assert "dc-to-h2: could not run, proves nothing" in done.out
    assert "is not an address of this machine" in done.out
    assert "  wan-dc-h2: read-back state only" in done.out
    assert "CONTAINED BY READ-BACK STATE ONLY" in done.out
    assert "\nCONTAINED\n" not in done.out and "none available" not in done.out

    data = json.loads(estate.run("--json", "verify", str(estate.playbook)).out)
    assert data["verdict"] == "contained-by-state"
    assert data["proof"] == {"inet-dc": "state", "wan-dc-h2": "state", "wan-h1-h2": "state"}
    assert {p["name"]: p["result"] for p in data["probes"]} == {
        "dc-to-h2": "unavailable",
        "dc-to-internet": "unavailable",
    }
    (record, *_) = [r for r in estate.records() if r["event"] == "verify.result"]
    assert record["verdict"] == "contained-by-state" and record["contained"] is True


def test_stage_whose_checks_cannot_run_is_opened_not_proven_and_journaled_so(
    estate: Estate,
) -> None:
    assert estate.cut().code == EXIT_OK
    done = estate.run("restore", str(estate.playbook), "--stage", "clinical-h2", *APPROVE)
    assert done.code == EXIT_STATE_ONLY, done.text
    assert "Stage clinical-h2: opened, not proven" in done.out
    assert "verified" not in done.out.split("Stage clinical-h2:")[1]
    records = estate.records()
    assert not any(r["event"] == "stage.closed" for r in records)  # not closed again for it
    (opened,) = [r for r in records if r["event"] == "stage.opened"]
    assert opened["verified"] is False and opened["state_proof_accepted"] == ""
    assert set(opened["unproven"]) == {"dc-to-h2", "dc-to-internet"}
    status = estate.run("status", str(estate.playbook)).out
    assert "opened, not proven (its checks could not run)" in status
    planned = estate.run("plan", str(estate.playbook), "--restore").out
    assert "1. clinical-h2 [open, approved by Dr Martin, not proven]" in planned

    # The next stage waits for this one's proof, and sends nothing meanwhile.
    before = len(estate.records())
    later = estate.run("restore", str(estate.playbook), "--stage", "internet", *APPROVE)
    assert later.code == EXIT_INPUT, later.text
    assert "clinical-h2, which is opened but not proven" in later.err
    assert "--accept-state-proof REASON" in later.err
    assert len(estate.records()) == before


def test_accepting_state_proof_is_journaled_and_lets_the_next_stage_open(estate: Estate) -> None:
    assert estate.cut().code == EXIT_OK
    why = "h2 checked by phone with the site's technician"
    done = estate.run(
        "restore",
        str(estate.playbook),
        "--stage",
        "clinical-h2",
        "--accept-state-proof",
        why,
        *APPROVE,
    )
    assert done.code == EXIT_OK, done.text
    assert f"read-back state accepted as its proof (journaled): {why}" in done.out
    (opened,) = [r for r in estate.records() if r["event"] == "stage.opened"]
    assert opened["verified"] is False and opened["state_proof_accepted"] == why
    # A stage that declares no checks is not proven either.
    later = estate.run("restore", str(estate.playbook), "--stage", "internet", *APPROVE)
    assert later.code == EXIT_STATE_ONLY, later.text
    assert "Stage internet: opened, not proven (it declares no checks)." in later.out


def test_a_stage_opened_not_proven_can_be_accepted_afterwards(estate: Estate) -> None:
    assert estate.cut().code == EXIT_OK
    book = str(estate.playbook)
    assert estate.run("restore", book, "--stage", "clinical-h2", *APPROVE).code == EXIT_STATE_ONLY
    why = "the site confirmed the records server is reachable"
    again = estate.run(
        "restore", book, "--stage", "clinical-h2", "--accept-state-proof", why, *APPROVE
    )
    assert again.code == EXIT_OK, again.text
    assert not any(r["event"] == "stage.closed" for r in estate.records())
    assert f"state accepted: {why}" in estate.run("status", book).out
    assert estate.run("restore", book, "--stage", "internet", *APPROVE).code == EXIT_STATE_ONLY


def test_accept_state_proof_without_a_stage_is_refused_before_anything(estate: Estate) -> None:
    assert estate.cut().code == EXIT_OK
    before = len(estate.records())
    done = estate.run(
        "restore", str(estate.playbook), "--all", "--accept-state-proof", "x", *APPROVE
    )
    assert done.code == EXIT_INPUT
    assert "--accept-state-proof applies to opening a stage: give --stage NAME" in done.err
    assert len(estate.records()) == before


def test_plan_restore_says_what_each_stage_makes_reachable(estate: Estate) -> None:
    assert estate.cut().code == EXIT_OK
    done = estate.run("plan", str(estate.playbook), "--restore")
    assert done.code == EXIT_OK, done.text
    first, second = done.out.split("\n2. ")
    assert "reachable after this stage: paths across wan-dc-h2" in first
    assert "probes that pass from this stage on: dc-to-h2" in first
    assert "reachable after this stage: paths across inet-dc" in second
    assert "probes that pass from this stage on: dc-to-internet" in second
    assert "nothing new" not in done.out


def test_plan_restore_names_a_reopened_link_no_probe_crosses() -> None:
    sp = StagePlan(
        Stage.model_validate({"name": "s", "open": {"link": "wan-x"}}),
        StageState("s"),
        [],
        ["wan-x"],
        [],
        [],
        ["wan-x"],
    )
    text = render.stage_plans_text("book", [sp])
    assert "reachable after this stage: paths across wan-x" in text
    assert "no probe of the inventory crosses wan-x: packets cannot prove" in text
