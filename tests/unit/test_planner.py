"""The pure planner: inventory + playbook + hand-built device states -> plan. No device at all."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import BAD_DATA, PLAYBOOKS, applied, lab_state

from isolement.drivers import driver_for
from isolement.flows.transaction import transact
from isolement.model.errors import InputError, PlanRefused
from isolement.model.inventory import Inventory, LinkKind
from isolement.model.plan import Change, Direction, Plan
from isolement.model.playbook import Playbook, load_playbook
from isolement.model.state import CutMethod, DeviceState
from isolement.planning.planner import (
    Recorded,
    device_step,
    plan_cut,
    plan_restore,
    resolve_parameters,
    select_targets,
)


def playbook(*rules: dict[str, Any], keep: list[str] | None = None, **extra: Any) -> Playbook:
    return Playbook.model_validate(
        {"name": "test", "cut": list(rules), "keep": keep or [], **extra}
    )


def shipped(name: str) -> Playbook:
    return load_playbook(name, PLAYBOOKS)


def links_of_kind(inventory: Inventory, *kinds: str) -> list[str]:
    return sorted(name for name, link in inventory.links.items() if link.kind in kinds)


def endpoints(inventory: Inventory, links: list[str]) -> set[tuple[str, str]]:
    return {(e.device, e.interface) for name in links for e in inventory.links[name].endpoints}


def planned(plan: Plan) -> set[tuple[str, str]]:
    return {(step.device, c.interface) for step in plan.steps for c in step.changes}


def kept(plan: Plan) -> set[tuple[str, str]]:
    return {(k.device, k.interface) for k in plan.kept}


def done(plan: Plan) -> set[tuple[str, str]]:
    return {(device, c.interface) for device, cs in plan.already_done.items() for c in cs}


# --- selection -------------------------------------------------------------------------------


def test_cut_intersite_selects_by_kind_and_shuts_both_ends(lab_inventory: Inventory) -> None:
    book = shipped("cut-intersite")
    plan = plan_cut(lab_inventory, book, {}, lab_state())
    kinds = links_of_kind(lab_inventory, LinkKind.INTERSITE, LinkKind.BACKUP)
    wanted = sorted(n for n in kinds if n not in book.keep and not lab_inventory.protecting(n))

    assert {"wan-dc-h1", "wan-h1-h2"} <= set(wanted)
    assert plan.direction is Direction.CUT
    assert plan.targeted_links == wanted
    assert plan.untouched_links == sorted(set(lab_inventory.links) - set(wanted))
    assert planned(plan) | kept(plan) == endpoints(lab_inventory, wanted)
    assert ("dc-rtr", "wan-h1") in planned(plan)
    assert ("h1-rtr", "wan-dc") in planned(plan)
    assert plan.already_done == {}
    assert not plan.nothing_to_do
    dc = next(step for step in plan.steps if step.device == "dc-rtr")
    assert dc.site == "dc"
    assert dc.platform == "frr"
    assert {c.method for c in dc.changes} == {CutMethod.SHUTDOWN}
    for interface in ("wan-h1", "wan-h2"):
        at = dc.commands.index(f"interface {interface}")
        assert dc.commands[at : at + 2] == [f"interface {interface}", "shutdown"]


def test_cut_internet_uses_the_firewalls_deny_method(lab_inventory: Inventory) -> None:
    plan = plan_cut(lab_inventory, shipped("cut-internet"), {}, lab_state())
    wanted = links_of_kind(lab_inventory, LinkKind.INTERNET)

    assert plan.targeted_links == wanted
    assert {step.device for step in plan.steps} == {
        "dc-fw",
        "h1-fw",
        "h2-fw",
        "h3-fw",  # fortinet
        "h4-fw",  # paloalto_panos
        "h5-fw",  # cisco_asa
    }
    for step in plan.steps:
        assert [c.method for c in step.changes] == [CutMethod.DENY]
        if step.platform == "linux":
            assert any('"out0" drop' in command for command in step.commands)


def test_selection_by_link_name(lab_inventory: Inventory) -> None:
    plan = plan_cut(lab_inventory, playbook({"select": {"link": "wan-dc-h1"}}), {}, lab_state())
    assert plan.targeted_links == ["wan-dc-h1"]
    assert planned(plan) == {("dc-rtr", "wan-h1"), ("h1-rtr", "wan-dc")}
    assert plan.kept == []


def test_selection_by_site_and_kind(lab_inventory: Inventory) -> None:
    rule = {"select": {"site": "h2", "kind": "internet"}}
    plan = plan_cut(lab_inventory, playbook(rule), {}, lab_state())
    assert plan.targeted_links == ["inet-h2"]
    assert planned(plan) == {("h2-fw", "out0")}


def test_selection_by_site_takes_every_link_touching_it(lab_inventory: Inventory) -> None:
    book = playbook({"select": {"site": "h1"}}, keep=["voice-dc-h1"])
    plan = plan_cut(lab_inventory, book, {}, lab_state())
    expected = sorted(
        name
        for name, link in lab_inventory.links.items()
        if "h1" in link.sites(lab_inventory) and name != "voice-dc-h1"
    )
    assert set(expected) == {"wan-dc-h1", "wan-h1-h2", "inet-h1"}
    assert plan.targeted_links == expected


@pytest.mark.parametrize("site", ["dc", "h1", "h2"])
def test_isolate_site_with_its_parameter(lab_inventory: Inventory, site: str) -> None:
    book = shipped("isolate-site")
    params = resolve_parameters(book, lab_inventory, {"site": site})
    plan = plan_cut(lab_inventory, book, params, lab_state())

    kinds = {kind for rule in book.cut for kind in rule.select.kind or []}
    touching = sorted(
        name
        for name, link in lab_inventory.links.items()
        if site in link.sites(lab_inventory)
        and link.kind in kinds  # a datacentre server segment is not one of them
        and name not in book.keep
        and not lab_inventory.protecting(name)
    )
    assert params == {"site": site}
    assert plan.parameters == {"site": site}
    assert plan.targeted_links == touching
    assert f"inet-{site}" in touching
    # The other sites' internet exits stay up.
    for other in {"dc", "h1", "h2"} - {site}:
        assert f"inet-{other}" in plan.untouched_links


def test_keep_excludes_a_link(lab_inventory: Inventory) -> None:
    book = playbook(
        {"select": {"kind": ["intersite", "backup"]}}, keep=["voice-dc-h1", "wan-h1-h2"]
    )
    plan = plan_cut(lab_inventory, book, {}, lab_state())

    assert "wan-h1-h2" not in plan.targeted_links
    assert "wan-h1-h2" in plan.untouched_links
    assert ("h1-rtr", "wan-h2") not in planned(plan)
    assert ("h2-rtr", "wan-h1") not in planned(plan)
    assert ("h1-rtr", "wan-dc") in planned(plan)


def test_playbook_naming_a_protected_link_is_refused_naming_both(
    lab_inventory: Inventory,
) -> None:
    (flow,) = lab_inventory.protecting("voice-dc-h1")
    with pytest.raises(PlanRefused) as caught:
        plan_cut(lab_inventory, playbook({"select": {"link": "voice-dc-h1"}}), {}, None)
    message = str(caught.value)
    assert "voice-dc-h1" in message
    assert flow in message
    assert caught.value.field == "cut.0.select.link"


def test_broad_selection_leaves_protected_links_up(lab_inventory: Inventory) -> None:
    plan = plan_cut(lab_inventory, playbook({"select": {"kind": "intersite"}}), {}, None)
    assert "voice-dc-h1" not in plan.targeted_links
    assert "voice-dc-h1" in plan.untouched_links
    assert ("dc-rtr", "voice-h1") not in planned(plan)


def test_protected_flow_kept_is_reported_in_the_plan(lab_inventory: Inventory) -> None:
    plan = plan_cut(lab_inventory, shipped("cut-intersite"), {}, None)
    assert "voice-dc-h1" in plan.untouched_links
    for flow in lab_inventory.protecting("voice-dc-h1"):
        assert plan.protected[flow] == lab_inventory.protected[flow].reason


def test_in_band_device_keeps_its_own_end_and_is_cut_after_the_far_end(
    lab_inventory: Inventory,
) -> None:
    via = lab_inventory.devices["h2-rtr"].managed_via
    assert via == ["wan-dc-h2"]
    plan = plan_cut(
        lab_inventory, playbook({"select": {"link": ["wan-dc-h2", "wan-h1-h2"]}}), {}, None
    )

    # h2-rtr's end of its management link stays open; the link is cut at dc-rtr.
    assert kept(plan) == {("h2-rtr", "wan-dc")}
    assert ("dc-rtr", "wan-h2") in planned(plan)
    # h2-rtr's own change (the backup link) is done before dc-rtr cuts its management path.
    steps = {step.device: step for step in plan.steps}
    assert steps["h2-rtr"].wave < steps["dc-rtr"].wave
    assert "h2-rtr" in steps["dc-rtr"].after
    lost = {m.device for m in plan.management if not m.manageable_after}
    assert lost == {
        name for name, spec in lab_inventory.devices.items() if "wan-dc-h2" in spec.managed_via
    }


def test_keep_naming_an_unknown_link_is_refused(lab_inventory: Inventory) -> None:
    book = playbook({"select": {"kind": "intersite"}}, keep=["wan-nowhere"])
    with pytest.raises(InputError) as caught:
        plan_cut(lab_inventory, book, {}, lab_state())
    assert caught.value.field == "keep"
    assert "wan-nowhere" in str(caught.value)


def test_select_naming_an_unknown_link_is_refused(lab_inventory: Inventory) -> None:
    book = playbook({"select": {"link": ["wan-dc-h1", "wan-nowhere"]}})
    with pytest.raises(InputError) as caught:
        plan_cut(lab_inventory, book, {}, lab_state())
    assert caught.value.field == "cut.0.select.link.1"


def test_playbook_selecting_no_link_is_refused(lab_inventory: Inventory) -> None:
    assert not links_of_kind(lab_inventory, LinkKind.PARTNER)
    with pytest.raises(PlanRefused) as caught:
        plan_cut(lab_inventory, playbook({"select": {"kind": "partner"}}), {}, lab_state())
    assert "selects no link" in str(caught.value)
    assert caught.value.field == "cut"


def test_everything_kept_selects_no_link(lab_inventory: Inventory) -> None:
    book = playbook({"select": {"link": "inet-dc"}}, keep=["inet-dc"])
    with pytest.raises(PlanRefused, match="selects no link"):
        plan_cut(lab_inventory, book, {}, None)


# --- idempotence -----------------------------------------------------------------------------


def test_endpoint_already_cut_goes_to_already_done_not_to_steps(lab_inventory: Inventory) -> None:
    # The lab's backup link is kept shut at h2 in normal times.
    observed = lab_state(shut={"h2-rtr": {"wan-h1"}})
    plan = plan_cut(lab_inventory, shipped("cut-intersite"), {}, observed)

    assert plan.already_done == {
        "h2-rtr": [Change(link="wan-h1-h2", interface="wan-h1", method=CutMethod.SHUTDOWN)]
    }
    assert ("h2-rtr", "wan-h1") not in planned(plan)
    for step in plan.steps:
        if step.device == "h2-rtr":
            assert "interface wan-h1" not in step.commands
    # The other end of the same link is still cut, and the link is still targeted.
    assert ("h1-rtr", "wan-h2") in planned(plan)
    assert "wan-h1-h2" in plan.targeted_links


def test_firewall_with_a_deny_already_in_place_is_already_done(lab_inventory: Inventory) -> None:
    observed = lab_state(denied={"h1-fw": {"out0": ["forward/7"]}})
    plan = plan_cut(lab_inventory, shipped("cut-internet"), {}, observed)
    assert done(plan) == {("h1-fw", "out0")}
    assert "h1-fw" not in {step.device for step in plan.steps}


@pytest.mark.parametrize("name", ["cut-intersite", "cut-internet", "isolate-site"])
def test_second_plan_after_the_cut_has_nothing_to_do(lab_inventory: Inventory, name: str) -> None:
    book = shipped(name)
    params = resolve_parameters(book, lab_inventory, {"site": "h1"})
    before = lab_state(shut={"h2-rtr": {"wan-h1"}})
    first = plan_cut(lab_inventory, book, params, before)
    assert not first.nothing_to_do

    second = plan_cut(lab_inventory, book, params, applied(before, first))
    assert second.nothing_to_do
    assert second.steps == []
    assert done(second) == planned(first) | done(first)
    assert second.targeted_links == first.targeted_links


def test_offline_plan_assumes_every_endpoint_open(lab_inventory: Inventory) -> None:
    offline = plan_cut(lab_inventory, shipped("cut-intersite"), {}, None)
    live = plan_cut(lab_inventory, shipped("cut-intersite"), {}, lab_state())
    assert offline.steps == live.steps
    assert offline.already_done == {}


def test_unreachable_device_is_planned_as_if_open(lab_inventory: Inventory) -> None:
    observed = lab_state(shut={"h2-rtr": {"wan-h1"}})
    del observed["h2-rtr"]
    plan = plan_cut(lab_inventory, shipped("cut-intersite"), {}, observed)
    assert ("h2-rtr", "wan-h1") in planned(plan)


# --- refusals --------------------------------------------------------------------------------


def test_unknown_interface_on_the_device_is_refused(lab_inventory: Inventory) -> None:
    observed = lab_state()
    observed["dc-rtr"] = DeviceState(interfaces={"lo": True, "wan-h2": True, "eth9": True})
    with pytest.raises(PlanRefused) as caught:
        plan_cut(lab_inventory, shipped("cut-intersite"), {}, observed)
    message = str(caught.value)
    assert "dc-rtr" in message
    assert "'wan-h1'" in message
    assert "eth9" in message  # what the device does have
    assert caught.value.field == "links.wan-dc-h1"
    assert caught.value.source == str(lab_inventory.source)


def test_method_the_platform_cannot_do_is_refused(lab_inventory: Inventory) -> None:
    book = playbook({"select": {"link": "wan-dc-h1"}, "method": "deny"})
    with pytest.raises(PlanRefused) as caught:
        plan_cut(lab_inventory, book, {}, lab_state())
    message = str(caught.value)
    assert "link wan-dc-h1" in message
    assert "dc-rtr" in message
    assert "frr" in message
    assert "it can: shutdown" in message
    assert caught.value.field == "cut.0.method"


def test_shutdown_on_the_linux_firewall_is_refused_listing_deny(lab_inventory: Inventory) -> None:
    book = playbook({"select": {"kind": "internet"}, "method": "shutdown"})
    with pytest.raises(PlanRefused, match="it can: deny"):
        plan_cut(lab_inventory, book, {}, None)


def test_missing_site_parameter_is_refused_listing_the_sites(lab_inventory: Inventory) -> None:
    with pytest.raises(InputError) as caught:
        resolve_parameters(shipped("isolate-site"), lab_inventory, {"site": None})
    message = str(caught.value)
    assert "--site" in message
    assert ", ".join(sorted(lab_inventory.sites)) in message


def test_unknown_site_parameter_is_refused_listing_the_sites(lab_inventory: Inventory) -> None:
    with pytest.raises(InputError) as caught:
        resolve_parameters(shipped("isolate-site"), lab_inventory, {"site": "h9"})
    assert caught.value.source == "--site"
    assert "'h9'" in str(caught.value)
    assert ", ".join(sorted(lab_inventory.sites)) in str(caught.value)


def test_playbook_without_parameters_ignores_site(lab_inventory: Inventory) -> None:
    assert resolve_parameters(shipped("cut-internet"), lab_inventory, {"site": "h1"}) == {}


def test_placeholder_that_is_not_a_declared_parameter_is_refused(
    lab_inventory: Inventory,
) -> None:
    path = BAD_DATA / "playbook-undeclared-parameter.yaml"
    with pytest.raises(InputError) as caught:
        book = load_playbook(str(path), PLAYBOOKS)
        params = resolve_parameters(book, lab_inventory, {"site": "h1"})
        select_targets(lab_inventory, book, params)
    assert caught.value.source == str(path)
    assert caught.value.field == "cut.0.select.site.0"


# --- the digest ------------------------------------------------------------------------------


def test_plan_digest_is_stable_for_the_same_inputs(lab_inventory: Inventory) -> None:
    one = plan_cut(lab_inventory, shipped("cut-intersite"), {}, lab_state())
    two = plan_cut(lab_inventory, shipped("cut-intersite"), {}, lab_state())
    assert one is not two
    assert one.digest() == two.digest()
    assert len(one.digest()) == 64
    # Serialised and read back (a rehearsed plan kept as a file) it is still recognised.
    assert Plan.model_validate_json(one.model_dump_json()).digest() == one.digest()


def test_plan_digest_differs_when_a_command_differs(lab_inventory: Inventory) -> None:
    base = plan_cut(lab_inventory, shipped("cut-intersite"), {}, lab_state())
    step = base.steps[0]
    lines = [*step.commands[:-1], "end"]
    changed_step = step.model_copy(
        update={"change": step.change.model_copy(update={"lines": lines})}
    )
    changed = base.model_copy(update={"steps": [changed_step, *base.steps[1:]]})
    assert changed.steps[0].commands != base.steps[0].commands
    assert changed.digest() != base.digest()

    # And from the planner itself: a different observed state gives other commands.
    other = plan_cut(
        lab_inventory, shipped("cut-intersite"), {}, lab_state(shut={"h2-rtr": {"wan-h1"}})
    )
    assert [s.commands for s in other.steps] != [s.commands for s in base.steps]
    assert other.digest() != base.digest()


def test_plan_digest_differs_with_the_parameter(lab_inventory: Inventory) -> None:
    book = shipped("isolate-site")
    h1 = plan_cut(lab_inventory, book, {"site": "h1"}, lab_state())
    h2 = plan_cut(lab_inventory, book, {"site": "h2"}, lab_state())
    assert h1.digest() != h2.digest()


# --- restore ---------------------------------------------------------------------------------


def recorded_from(plan: Plan) -> list[Recorded]:
    """What the journal holds after a cut: one record per change that was sent."""
    return [Recorded(step.device, change) for step in plan.steps for change in step.changes]


def test_restore_undoes_recorded_cuts_and_never_a_port_shut_before(
    lab_inventory: Inventory,
) -> None:
    book = shipped("cut-intersite")
    before = lab_state(shut={"h2-rtr": {"wan-h1"}})
    cut = plan_cut(lab_inventory, book, {}, before)
    after = applied(before, cut)
    assert after["h2-rtr"].interfaces["wan-h1"] is False

    restore = plan_restore(lab_inventory, book, {}, recorded_from(cut), after)

    assert restore.direction is Direction.RESTORE
    assert planned(restore) == planned(cut)
    assert ("h2-rtr", "wan-h1") not in planned(restore)
    assert ("h2-rtr", "wan-h1") not in done(restore)
    h1 = next(step for step in restore.steps if step.device == "h1-rtr")
    assert h1.commands == [
        "interface wan-dc",
        "no shutdown",
        "exit",
        "interface wan-h2",
        "no shutdown",
        "exit",
    ]
    for step in (s for s in restore.steps if s.platform == "frr"):
        assert "shutdown" not in step.commands
        assert step.commands.count("no shutdown") == len(step.changes)


def test_restore_skips_a_recorded_cut_no_longer_in_place(lab_inventory: Inventory) -> None:
    book = shipped("cut-intersite")
    cut = plan_cut(lab_inventory, book, {}, lab_state())
    after = applied(lab_state(), cut)
    # Someone already brought dc-rtr wan-h1 back up by hand.
    dc = after["dc-rtr"]
    after["dc-rtr"] = DeviceState(interfaces={**dc.interfaces, "wan-h1": True})

    restore = plan_restore(lab_inventory, book, {}, recorded_from(cut), after)
    assert done(restore) == {("dc-rtr", "wan-h1")}
    assert ("dc-rtr", "wan-h1") not in planned(restore)
    assert ("dc-rtr", "wan-h2") in planned(restore)


def test_restore_after_restore_has_nothing_to_do(lab_inventory: Inventory) -> None:
    book = shipped("cut-intersite")
    cut = plan_cut(lab_inventory, book, {}, lab_state())
    restore = plan_restore(lab_inventory, book, {}, recorded_from(cut), lab_state())
    assert restore.nothing_to_do
    assert done(restore) == planned(cut)


def test_restore_with_nothing_recorded_touches_nothing(lab_inventory: Inventory) -> None:
    everything_shut = lab_state(shut={"h1-rtr": {"wan-dc", "wan-h2"}, "h2-rtr": {"wan-h1"}})
    restore = plan_restore(lab_inventory, shipped("cut-intersite"), {}, [], everything_shut)
    assert restore.nothing_to_do
    assert restore.already_done == {}


def test_restore_on_the_firewall_removes_isolements_table_when_all_restored(
    lab_inventory: Inventory,
) -> None:
    book = shipped("cut-internet")
    cut = plan_cut(lab_inventory, book, {}, lab_state())
    handles = ["input/4", "forward/5", "forward/6", "output/7"]
    linux = ("dc-fw", "h1-fw", "h2-fw")
    # The other platforms' firewalls were put back by hand meanwhile: nothing to do there.
    after = lab_state(denied={d: {"out0": handles} for d in linux})

    restore = plan_restore(lab_inventory, book, {}, recorded_from(cut), after)
    assert planned(restore) == {(d, "out0") for d in linux}
    for step in restore.steps:
        (command,) = step.commands
        assert command.startswith("nft ")
        assert "delete table inet isolement" in command


def test_restore_on_the_firewall_keeps_rules_of_a_link_not_restored() -> None:
    device = {
        "site": "dc",
        "role": "firewall",
        "platform": "linux",
        "host": "fw",
        "credential": "k",
    }
    inventory = Inventory.model_validate(
        {
            "name": "two-exits",
            "known_hosts": "/nonexistent",
            "credentials": {"k": {"username": "u", "password_env": "PW"}},
            "sites": {"dc": {}},
            "devices": {"fw": device},
            "links": {
                "inet-a": {"kind": "internet", "endpoints": [{"device": "fw", "interface": "a0"}]},
                "inet-b": {"kind": "internet", "endpoints": [{"device": "fw", "interface": "b0"}]},
            },
        }
    )
    book = playbook({"select": {"link": "inet-a"}})
    after = {
        "fw": DeviceState(
            interfaces={"a0": True, "b0": True},
            denies={"a0": ["input/4", "forward/5"], "b0": ["input/9", "forward/10"]},
        )
    }
    change = Change(link="inet-a", interface="a0", method=CutMethod.DENY)
    restore = plan_restore(inventory, book, {}, [Recorded("fw", change)], after)

    (step,) = restore.steps
    (command,) = step.commands
    assert "delete rule inet isolement input handle 4" in command
    assert "delete rule inet isolement forward handle 5" in command
    assert "handle 9" not in command
    assert "handle 10" not in command
    assert "delete table" not in command


def test_restore_refuses_a_recorded_interface_the_device_no_longer_has(
    lab_inventory: Inventory,
) -> None:
    book = shipped("cut-intersite")
    cut = plan_cut(lab_inventory, book, {}, lab_state())
    after = applied(lab_state(), cut)
    after["h1-rtr"] = DeviceState(interfaces={"lo": True})
    with pytest.raises(PlanRefused, match="h1-rtr"):
        plan_restore(lab_inventory, book, {}, recorded_from(cut), after)


def test_restore_reopens_the_management_link_before_the_devices_behind_it(
    lab_inventory: Inventory,
) -> None:
    book = shipped("cut-intersite")
    cut = plan_cut(lab_inventory, book, {}, lab_state())
    assert ("h2-rtr", "wan-h1") in planned(cut)
    restore = plan_restore(lab_inventory, book, {}, recorded_from(cut), applied(lab_state(), cut))
    steps = {step.device: step for step in restore.steps}
    # dc-rtr reopens wan-dc-h2, the link h2-rtr is managed through: it goes first.
    assert steps["dc-rtr"].wave < steps["h2-rtr"].wave
    assert steps["h2-rtr"].after == ["dc-rtr"]


# --- ordering at scale ----------------------------------------------------------------------


def in_band_ring(count: int) -> Inventory:
    """`count` routers in a ring of WAN links (wan-i: d_i Gi0/1 to d_i+1 Gi0/2), each with an
    internet exit on Gi0/0. In runs of five, each router but the first is managed through the
    WAN link from its predecessor, and one in seven through the one before that as well: chains
    of waves, several devices behind one link, devices behind two links."""
    names = [f"d{i:04d}" for i in range(count)]
    devices: dict[str, Any] = {}
    links: dict[str, Any] = {}
    for i, name in enumerate(names):
        via = []
        if i % 5:
            via.append(f"wan-{i - 1:04d}")
            if i % 5 >= 2 and i % 7 == 0:
                via.append(f"wan-{i - 2:04d}")
        devices[name] = {
            "site": f"s{i % 9}",
            "role": "router",
            "platform": "cisco_ios",
            "host": f"{name}.example.net",
            "credential": "ops",
            "managed_via": via,
        }
        links[f"inet-{i:04d}"] = {
            "kind": "internet",
            "endpoints": [{"device": name, "interface": "GigabitEthernet0/0"}],
        }
        links[f"wan-{i:04d}"] = {
            "kind": "intersite",
            "endpoints": [
                {"device": name, "interface": "GigabitEthernet0/1"},
                {"device": names[(i + 1) % count], "interface": "GigabitEthernet0/2"},
            ],
        }
    return Inventory.model_validate(
        {
            "name": "ring",
            "known_hosts": "known_hosts",
            "credentials": {"ops": {"username": "isolement", "key_file": "id"}},
            "sites": {f"s{n}": {} for n in range(9)},
            "devices": devices,
            "links": links,
        }
    )


def pairwise_waves(
    inventory: Inventory, plan: Plan, direction: Direction
) -> dict[str, tuple[int, list[str]]]:
    """Device -> (wave, after) by the ordering rule applied to every pair of steps, as the
    planner computed it before its steps were indexed by link: the reference the indexed
    ordering must match."""
    from graphlib import TopologicalSorter

    steps = {s.device: s for s in plan.steps}
    graph: dict[str, set[str]] = {d: set() for d in steps}
    for changer in steps.values():
        changed = {c.link for c in changer.changes}
        for managed in steps.values():
            via = set(inventory.devices[managed.device].managed_via)
            if managed.device == changer.device or not via & changed:
                continue
            if direction is Direction.CUT:
                graph[changer.device].add(managed.device)
            else:
                graph[managed.device].add(changer.device)
    sorter = TopologicalSorter(graph)
    sorter.prepare()
    wave_of: dict[str, int] = {}
    wave = 0
    while sorter.is_active():
        wave += 1
        ready = sorter.get_ready()
        wave_of.update(dict.fromkeys(ready, wave))
        sorter.done(*ready)
    return {d: (wave_of[d], sorted(graph[d])) for d in steps}


def test_a_large_in_band_ordering_gives_the_same_waves_as_comparing_every_pair() -> None:
    inventory = in_band_ring(600)
    book = playbook({"select": {"kind": ["intersite", "internet"]}})
    cut = plan_cut(inventory, book, {}, None)
    assert len(cut.steps) == 600
    assert max(s.wave for s in cut.steps) >= 5  # the chains really order waves
    assert {s.device: (s.wave, s.after) for s in cut.steps} == pairwise_waves(
        inventory, cut, Direction.CUT
    )
    # Steps come out in wave order, then by name.
    assert [(s.wave, s.device) for s in cut.steps] == sorted((s.wave, s.device) for s in cut.steps)

    observed = {
        d: DeviceState(
            interfaces=dict.fromkeys(
                ("GigabitEthernet0/0", "GigabitEthernet0/1", "GigabitEthernet0/2"), True
            )
        )
        for d in inventory.devices
    }
    restore = plan_restore(inventory, book, {}, recorded_from(cut), applied(observed, cut))
    assert max(s.wave for s in restore.steps) >= 5
    assert {s.device: (s.wave, s.after) for s in restore.steps} == pairwise_waves(
        inventory, restore, Direction.RESTORE
    )


def test_an_offline_firewall_step_shows_the_intent_and_is_never_sent(
    lab_inventory: Inventory,
) -> None:
    """#11: no pseudo-command stands for a zone the firewall has not been asked about."""
    change = Change(link="inet-h4", interface="ethernet1/1", method=CutMethod.DENY)

    step, _ = device_step(lab_inventory, "h4-fw", Direction.CUT, [change], None)

    assert step is not None and step.commands == []
    assert step.change.unresolved == [
        "deny rules from and to the zone of ethernet1/1 (link inet-h4), moved to the top of the "
        "rulebase: resolved when the device is read"
    ]
    typed: list[str] = []

    class Refusing:
        def send_command(self, command: str, **_: object) -> str:
            typed.append(command)
            return ""

    with pytest.raises(PlanRefused, match="needs the device's state"):
        transact(driver_for("paloalto_panos"), Refusing(), "h4-fw", step.change)  # type: ignore[arg-type]
    assert typed == []


def test_a_plan_built_without_revalidation_is_the_plan_validation_makes(
    lab_inventory: Inventory,
) -> None:
    # The planner builds its changes (and the fingerprint its steps) without validating them
    # again (#16 §5): the same models, the same fields set, the same JSON and hashes.
    from isolement.planning.fingerprint import PlannedStep, planned_steps

    for name in ("cut-all", "cut-intersite", "cut-internet"):
        plan = plan_cut(lab_inventory, shipped(name), {}, lab_state())
        again = Plan.model_validate(plan.model_dump())
        assert again == plan
        assert again.model_dump_json() == plan.model_dump_json()
        assert again.digest() == plan.digest()
        for step in plan.steps:
            for change in step.changes:
                assert change.model_fields_set == {"link", "interface", "method"}
        validated = [PlannedStep.model_validate(s) for s in plan.canonical_steps()]
        assert planned_steps(plan.canonical_steps()) == validated
        assert [s.model_fields_set for s in planned_steps(plan.canonical_steps())] == [
            s.model_fields_set for s in validated
        ]
