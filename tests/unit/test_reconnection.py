"""Staged reconnection: bubbles planned through a cut, a stage closed by re-cutting its links
only, and each stage's state as the journal says it is. No device at all."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from conftest import PLAYBOOKS, lab_state

from isolement.flows import stages as reconnection
from isolement.flows.runtime import Runtime
from isolement.flows.stages import StageReport, StageState, stage_states
from isolement.journal.store import Journal, read_records
from isolement.journal.view import JournalView
from isolement.model.errors import PlanRefused
from isolement.model.inventory import Inventory, Probe
from isolement.model.plan import Direction, Plan
from isolement.model.playbook import Playbook, Stage, load_playbook
from isolement.model.state import CutMethod, DeviceState
from isolement.planning.planner import plan_allow, plan_cut
from isolement.probes.outcome import ProbeOutcome, ProbeResult

# The four rules of a cut of out0, as `nft -j` reports them in the recorded lab table.
OUT0_DENIES = ["input/4", "forward/5", "forward/6", "output/7"]
PORTAL_COMMENT = 'comment "isolement-allow out0 health-portal inet-h1"'
# One `nft '<statements>'` invocation with its failure marker, as the Linux driver renders it.
_NFT = re.compile(r"""^nft '(?P<body>[^'\n]*)' \|\| echo "isolement-failed: exit \$\?"$""")


def cut_all() -> Playbook:
    return load_playbook("cut-all", PLAYBOOKS)


def with_stages(*stages: dict[str, Any]) -> Playbook:
    """cut-all's cut rules with other reconnection stages."""
    data = cut_all().model_dump(mode="json", exclude={"stages", "source"})
    return Playbook.model_validate({**data, "stages": list(stages)})


def after_cut_all() -> dict[str, DeviceState]:
    """The lab once cut-all is in effect on the firewalls: every internet exit denied."""
    return lab_state(denied={fw: {"out0": OUT0_DENIES} for fw in ("dc-fw", "h1-fw", "h2-fw")})


def with_bubble(
    observed: Mapping[str, DeviceState], device: str, interface: str, stage: str, ids: list[str]
) -> dict[str, DeviceState]:
    result = dict(observed)
    allows = {interface: {stage: ids}}
    result[device] = result[device].model_copy(update={"allows": allows})
    return result


def statements(command: str) -> list[str]:
    match = _NFT.fullmatch(command)
    assert match, f"not one nft invocation: {command!r}"
    return match["body"].split("; ")


def planned(plan: Plan) -> set[tuple[str, str]]:
    return {(step.device, c.interface) for step in plan.steps for c in step.changes}


# --- DeviceState.reached with a bubble open --------------------------------------------------


def _fw(denies: bool, bubble: bool) -> DeviceState:
    return DeviceState(
        interfaces={"out0": True},
        denies={"out0": OUT0_DENIES} if denies else {},
        allows={"out0": {"health-portal": ["forward/9", "forward/8"]}} if bubble else {},
    )


def test_denied_interface_without_bubble_has_reached_the_cut() -> None:
    assert _fw(denies=True, bubble=False).reached("out0", CutMethod.DENY, cut=True) is True


def test_denied_interface_with_a_bubble_open_has_not_reached_the_cut() -> None:
    assert _fw(denies=True, bubble=True).reached("out0", CutMethod.DENY, cut=True) is False


def test_bubble_on_another_interface_does_not_undo_the_cut() -> None:
    state = _fw(denies=True, bubble=False).model_copy(
        update={"allows": {"in0": {"health-portal": ["forward/9"]}}}
    )

    assert state.reached("out0", CutMethod.DENY, cut=True) is True


def test_interface_without_denies_or_bubble_has_reached_the_restore() -> None:
    assert _fw(denies=False, bubble=False).reached("out0", CutMethod.DENY, cut=False) is True


def test_bubble_left_without_denies_has_not_reached_the_restore() -> None:
    assert _fw(denies=False, bubble=True).reached("out0", CutMethod.DENY, cut=False) is False


# --- plan_allow: a stage's bubble through the cut --------------------------------------------


def h1_portal() -> tuple[Playbook, Stage]:
    """cut-all with its health-portal stage reduced to hospital 1's bubble (Linux, h1-fw)."""
    stage = cut_all().stage("health-portal")[1]
    only_h1 = [b.model_dump(mode="json") for b in stage.allow if b.via == "inet-h1"]
    book = with_stages({"name": "health-portal", "allow": only_h1})
    return book, book.stages[0]


def test_health_portal_bubble_is_planned_on_each_sites_firewall_only(
    lab_inventory: Inventory,
) -> None:
    book = cut_all()
    _, stage = book.stage("health-portal")

    plan = plan_allow(lab_inventory, book, {}, stage, after_cut_all())

    assert plan.direction is Direction.ALLOW
    assert [step.device for step in plan.steps] == ["h1-fw", "h3-fw", "h4-fw", "h5-fw"]
    (change,) = plan.steps[0].changes
    assert (change.link, change.interface, change.stage) == ("inet-h1", "out0", "health-portal")
    assert plan.targeted_links == ["inet-h1", "inet-h3", "inet-h4", "inet-h5"]


def test_health_portal_bubble_inserts_accepts_both_ways_ahead_of_the_drops(
    lab_inventory: Inventory,
) -> None:
    book, stage = h1_portal()

    plan = plan_allow(lab_inventory, book, {}, stage, after_cut_all())

    (command,) = plan.steps[0].commands
    assert statements(command) == [
        'insert rule inet isolement forward oifname "out0" ip saddr 198.18.20.0/24 '
        f"ip daddr 198.18.250.10/32 tcp dport 80 accept {PORTAL_COMMENT}",
        'insert rule inet isolement forward iifname "out0" ip saddr 198.18.250.10/32 '
        "ip daddr 198.18.20.0/24 tcp sport 80 ct state established,related "
        f"accept {PORTAL_COMMENT}",
    ]


def test_bubble_already_open_has_nothing_to_do(lab_inventory: Inventory) -> None:
    book, stage = h1_portal()
    observed = with_bubble(
        after_cut_all(), "h1-fw", "out0", "health-portal", ["forward/9", "forward/8"]
    )

    plan = plan_allow(lab_inventory, book, {}, stage, observed)

    assert plan.nothing_to_do
    assert {d: [c.interface for c in cs] for d, cs in plan.already_done.items()} == {
        "h1-fw": ["out0"]
    }


def test_bubble_of_another_stage_does_not_count_as_this_one(lab_inventory: Inventory) -> None:
    book, stage = h1_portal()
    observed = with_bubble(after_cut_all(), "h1-fw", "out0", "other-stage", ["forward/9"])

    plan = plan_allow(lab_inventory, book, {}, stage, observed)

    assert [step.device for step in plan.steps] == ["h1-fw"]


def test_bubble_through_a_link_shut_on_routers_is_refused_naming_device_and_platform(
    lab_inventory: Inventory,
) -> None:
    flow = {"protocol": "tcp", "source": "198.18.10.0/24", "destination": "198.18.20.0/24"}
    book = with_stages(
        {"name": "records", "allow": [{"via": "wan-dc-h1", "flows": [flow]}]},
    )

    with pytest.raises(PlanRefused) as caught:
        plan_allow(lab_inventory, book, {}, book.stages[0], lab_state())

    message = str(caught.value)
    assert re.search(r"on (dc-rtr|h1-rtr) \(frr\) by shutdown", message), message
    assert caught.value.field == "stages.0.allow.0.via"


def test_bubble_refusal_names_the_platforms_that_can_hold_one(lab_inventory: Inventory) -> None:
    flow = {"protocol": "tcp", "source": "198.18.10.0/24", "destination": "198.18.20.0/24"}
    book = with_stages({"name": "records", "allow": [{"via": "wan-dc-h1", "flows": [flow]}]})

    with pytest.raises(PlanRefused) as caught:
        plan_allow(lab_inventory, book, {}, book.stages[0], lab_state())

    message = str(caught.value)
    assert "cisco_asa, fortinet, linux, paloalto_panos" in message, message
    # The old message told a FortiGate user to use a FortiGate.
    assert "filtering cut (deny on a firewall)" not in message


def test_bubble_through_a_link_the_playbook_does_not_cut_is_refused(
    lab_inventory: Inventory,
) -> None:
    flow = {"protocol": "udp", "source": "198.18.10.0/24", "destination": "198.18.22.0/24"}
    book = with_stages(
        {"name": "first", "open": {"link": "wan-dc-h1"}},
        {"name": "voice", "allow": [{"via": "voice-dc-h1", "flows": [flow]}]},
    )

    with pytest.raises(PlanRefused) as caught:
        plan_allow(lab_inventory, book, {}, book.stages[1], after_cut_all())

    assert "does not cut voice-dc-h1" in str(caught.value)
    assert caught.value.field == "stages.1.allow.0.via"


# --- plan_cut(only_links): closing one stage -------------------------------------------------


def test_cut_of_only_some_links_plans_only_those(lab_inventory: Inventory) -> None:
    plan = plan_cut(lab_inventory, cut_all(), {}, lab_state(), only_links={"inet-h1"})

    assert plan.targeted_links == ["inet-h1"]
    assert planned(plan) == {("h1-fw", "out0")}


def test_cut_of_only_some_links_leaves_the_other_cut_links_alone(
    lab_inventory: Inventory,
) -> None:
    full = plan_cut(lab_inventory, cut_all(), {}, lab_state())
    only = plan_cut(lab_inventory, cut_all(), {}, lab_state(), only_links={"wan-dc-h1"})

    assert {"inet-dc", "inet-h2", "wan-dc-h2"} <= set(full.targeted_links)
    assert only.targeted_links == ["wan-dc-h1"]
    assert planned(only) == {("dc-rtr", "wan-h1"), ("h1-rtr", "wan-dc")}


def test_cut_of_only_a_link_the_playbook_does_not_cut_plans_nothing(
    lab_inventory: Inventory,
) -> None:
    plan = plan_cut(lab_inventory, cut_all(), {}, lab_state(), only_links={"voice-dc-h1"})

    assert plan.nothing_to_do
    assert plan.targeted_links == []


def test_closing_the_health_portal_deletes_the_bubble_and_keeps_the_drops(
    lab_inventory: Inventory,
) -> None:
    observed = with_bubble(
        after_cut_all(), "h1-fw", "out0", "health-portal", ["forward/9", "forward/8"]
    )

    plan = plan_cut(lab_inventory, cut_all(), {}, observed, only_links={"inet-h1"})

    (step,) = plan.steps
    assert step.device == "h1-fw"
    (command,) = step.commands
    assert [s for s in statements(command) if s.startswith(("add rule", "delete "))] == [
        "delete rule inet isolement forward handle 9",
        "delete rule inet isolement forward handle 8",
    ]


# --- stage_states: each stage as the journal says ---------------------------------------------

OPENED = {
    "playbook": "cut-all",
    "parameters": {},
    "approved_by": "Dr Martin",
    "reason": "records checked clean",
    "operator": "alice",
}


@pytest.fixture
def runtime(lab_inventory: Inventory, tmp_path: Path) -> Runtime:
    return Runtime(lab_inventory, tmp_path / "journal.jsonl")


def journal(rt: Runtime, *records: tuple[str, dict[str, Any]]) -> None:
    """Append records through the real journal writer (hash chain, timestamps and all)."""
    with Journal(rt.journal_path) as writer:
        for event, fields in records:
            writer.record(event, **fields)


def opened(stage: str, **changes: Any) -> tuple[str, dict[str, Any]]:
    return "stage.opened", {**OPENED, "stage": stage, "verified": True, **changes}


def closed(stage: str, **changes: Any) -> tuple[str, dict[str, Any]]:
    fields = {"playbook": "cut-all", "parameters": {}, "stage": stage, **changes}
    return "stage.closed", fields


def run(
    run_id: str, direction: str, outcome: str, **started: Any
) -> list[tuple[str, dict[str, Any]]]:
    """A run's first and last records, as execute() journals them."""
    common = {"run": run_id, "playbook": "cut-all", "parameters": {}}
    return [
        ("run.started", {**common, "operator": "alice", "direction": direction, **started}),
        ("run.finished", {**common, "direction": direction, "outcome": outcome}),
    ]


def states_of(rt: Runtime) -> dict[str, StageState]:
    """cut-all's stages as one reading of the journal says."""
    return stage_states(JournalView.read(rt.journal_path), cut_all(), {})


def open_names(states: Mapping[str, StageState]) -> list[str]:
    return [name for name, state in states.items() if state.open]


def test_every_stage_is_closed_with_an_empty_journal(runtime: Runtime) -> None:
    states = states_of(runtime)

    assert list(states) == [
        "clinical-h1",
        "clinical-h2",
        "clinical-h3-h5",
        "health-portal",
        "internet",
    ]
    assert open_names(states) == []


def test_opened_stage_says_who_approved_it_why_and_when(runtime: Runtime) -> None:
    journal(runtime, opened("clinical-h1"))
    (record,) = read_records(runtime.journal_path)
    assert isinstance(record, dict)

    state = states_of(runtime)["clinical-h1"]

    assert state == StageState(
        "clinical-h1", True, "Dr Martin", str(record["ts"]), "records checked clean", verified=True
    )


def test_closed_stage_is_closed_again(runtime: Runtime) -> None:
    journal(runtime, opened("clinical-h1"), opened("clinical-h2"), closed("clinical-h2"))

    assert open_names(states_of(runtime)) == ["clinical-h1"]


@pytest.mark.parametrize("outcome", ["done", "partial"])
def test_full_cut_closes_every_stage(runtime: Runtime, outcome: str) -> None:
    journal(
        runtime,
        opened("clinical-h1"),
        opened("clinical-h2"),
        opened("health-portal"),
        *run("r1", "cut", outcome),
    )

    assert open_names(states_of(runtime)) == []


def test_full_cut_that_failed_leaves_the_stages_open(runtime: Runtime) -> None:
    journal(runtime, opened("clinical-h1"), *run("r1", "cut", "failed"))

    assert open_names(states_of(runtime)) == ["clinical-h1"]


def test_full_cut_still_running_does_not_close_the_stages(runtime: Runtime) -> None:
    journal(runtime, opened("clinical-h1"), run("r1", "cut", "done")[0])

    assert open_names(states_of(runtime)) == ["clinical-h1"]


def test_stage_opened_after_a_full_cut_is_open(runtime: Runtime) -> None:
    journal(runtime, opened("clinical-h1"), *run("r1", "cut", "done"), opened("clinical-h1"))

    assert open_names(states_of(runtime)) == ["clinical-h1"]


def test_cut_run_closing_one_stage_does_not_close_every_stage(runtime: Runtime) -> None:
    journal(
        runtime,
        opened("clinical-h1"),
        opened("clinical-h2"),
        *run("r1", "cut", "done", stage="clinical-h2"),
    )

    assert open_names(states_of(runtime)) == ["clinical-h1", "clinical-h2"]


def test_restore_run_does_not_close_the_stages(runtime: Runtime) -> None:
    journal(runtime, opened("clinical-h1"), *run("r1", "restore", "done"))

    assert open_names(states_of(runtime)) == ["clinical-h1"]


def test_records_of_another_playbook_are_ignored(runtime: Runtime) -> None:
    journal(
        runtime,
        opened("clinical-h1", playbook="cut-intersite"),
        opened("clinical-h2"),
        closed("clinical-h2", playbook="cut-intersite"),
        *[
            (event, {**fields, "playbook": "cut-intersite"})
            for event, fields in run("r1", "cut", "done")
        ],
    )

    assert open_names(states_of(runtime)) == ["clinical-h2"]


def test_records_with_other_parameters_are_ignored(runtime: Runtime) -> None:
    other = {"parameters": {"site": "h1"}}
    journal(
        runtime,
        opened("clinical-h1", **other),
        opened("clinical-h2"),
        closed("clinical-h2", **other),
        *[(event, {**fields, **other}) for event, fields in run("r1", "cut", "done")],
    )

    assert open_names(states_of(runtime)) == ["clinical-h2"]


def test_stage_the_playbook_no_longer_has_is_ignored(runtime: Runtime) -> None:
    journal(runtime, opened("retired-stage"), opened("internet"))

    states = states_of(runtime)

    assert "retired-stage" not in states
    assert open_names(states) == ["internet"]


# --- settling: reopened paths are given time to come back ---------------------------------


def _scripted_probes(
    monkeypatch: pytest.MonkeyPatch, answers: list[dict[str, ProbeResult]]
) -> list[int]:
    """Probe runs answered in turn from `answers` (the last one repeats); returns the list
    that counts the runs."""
    runs: list[int] = []

    def run_probes(_rt: Runtime, probes: list[Probe]) -> list[ProbeOutcome]:
        answer = answers[min(len(runs), len(answers) - 1)]
        runs.append(len(runs))
        return [ProbeOutcome(p, answer[p.name]) for p in probes]

    monkeypatch.setattr(reconnection, "run_probes", run_probes)
    monkeypatch.setattr(reconnection, "SETTLE_CHECK_EVERY_S", 0.01)
    return runs


def _stage(settle_s: float) -> Stage:
    return Stage.model_validate(
        {
            "name": "clinical-h1",
            "open": {"link": "wan-dc-h1"},
            "checks": {"passes": ["dc-to-h1"], "blocked": ["h1-to-internet"]},
            "settle_s": settle_s,
        }
    )


PASSES, BLOCKED = ProbeResult.PASSES, ProbeResult.BLOCKED


def test_a_path_that_comes_back_while_settling_leaves_the_stage_open(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = _scripted_probes(
        monkeypatch,
        [
            {"dc-to-h1": BLOCKED, "h1-to-internet": BLOCKED},  # routes not back yet
            {"dc-to-h1": BLOCKED, "h1-to-internet": BLOCKED},
            {"dc-to-h1": PASSES, "h1-to-internet": BLOCKED},
        ],
    )
    report = StageReport("clinical-h1", opened=False)

    assert reconnection._watch(runtime, _stage(settle_s=5), report) == ""
    assert len(runs) == 3
    assert all(c.ok for c in report.checks)


def test_a_path_still_down_once_settled_closes_the_stage_naming_it(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _scripted_probes(monkeypatch, [{"dc-to-h1": BLOCKED, "h1-to-internet": BLOCKED}])

    why = reconnection._watch(runtime, _stage(settle_s=0.05), StageReport("s", opened=False))

    assert why == "dc-to-h1 blocked (expected passes)"


def test_traffic_that_must_stay_blocked_closes_the_stage_without_waiting(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = _scripted_probes(monkeypatch, [{"dc-to-h1": PASSES, "h1-to-internet": PASSES}])

    why = reconnection._watch(runtime, _stage(settle_s=600), StageReport("s", opened=False))

    assert why == "h1-to-internet passes (expected blocked)"
    assert len(runs) == 1
