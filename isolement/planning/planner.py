"""Pure planning: inventory + playbook + observed device state -> Plan. No I/O here.

Everything a plan refuses, it refuses before any configuration is sent: unknown references, a
method a platform cannot do, a protected flow, a cut that would strand a device.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter

from isolement.drivers import PLATFORMS, CutTarget, driver_for
from isolement.drivers.base import AllowTarget, Flow
from isolement.model.errors import InputError, PlanRefused
from isolement.model.inventory import Inventory, Link
from isolement.model.plan import Change, DeviceStep, Direction, KeptEndpoint, Manageability, Plan
from isolement.model.playbook import Playbook, Selector, Stage
from isolement.model.state import CutMethod, DeviceState


@dataclass(frozen=True)
class Recorded:
    """A cut isolement applied and has not yet restored, as read from the journal."""

    device: str
    change: Change


def resolve_parameters(
    playbook: Playbook, inventory: Inventory, given: Mapping[str, str | None]
) -> dict[str, str]:
    """The playbook's parameters, checked: every declared one given, every site known."""
    values: dict[str, str] = {}
    sites = ", ".join(sorted(inventory.sites))
    for name in playbook.parameters:
        value = given.get(name)
        if not value:
            raise InputError(f"playbook {playbook.name} needs --{name} NAME; sites: {sites}")
        if value not in inventory.sites:
            raise InputError(f"unknown site {value!r}; sites: {sites}", source=f"--{name}")
        values[name] = value
    return values


# The last selection made, by the very objects it was made of (see select_targets).
_last_selection: tuple[Inventory, Playbook, dict[str, str], dict[str, list[CutTarget]]] | None = (
    None
)


def select_targets(
    inventory: Inventory, playbook: Playbook, parameters: Mapping[str, str]
) -> dict[str, list[CutTarget]]:
    """Device name -> the endpoints the playbook cuts on it, each with its method."""
    global _last_selection  # noqa: PLW0603 - a one-entry memo of a pure function
    # A command asks it up to three times of the same inventory and playbook (its check of the
    # references before any device is touched, the targets, the plan): 0.1 s each at 10,000
    # links. Both are frozen once loaded, so the same objects give the same selection; the
    # caller gets lists of its own.
    last = _last_selection
    if last and last[0] is inventory and last[1] is playbook and last[2] == parameters:
        return {device: list(targets) for device, targets in last[3].items()}
    selected = _select(inventory, playbook, parameters)
    _last_selection = (inventory, playbook, dict(parameters), selected)
    return {device: list(targets) for device, targets in selected.items()}


def _select(
    inventory: Inventory, playbook: Playbook, parameters: Mapping[str, str]
) -> dict[str, list[CutTarget]]:
    where = str(playbook.source)
    for name in playbook.keep:
        if name not in inventory.links:
            raise InputError(f"unknown link {name!r}", source=where, field="keep")
    chosen: set[tuple[str, str]] = set()
    by_device: dict[str, list[CutTarget]] = {}
    for i, rule in enumerate(playbook.cut):
        select = rule.select
        sites = [s.format_map(parameters) for s in select.site] if select.site else None
        for j, site in enumerate(sites or []):
            if site not in inventory.sites:
                raise InputError(
                    f"unknown site {site!r}", source=where, field=f"cut.{i}.select.site.{j}"
                )
        for j, link_name in enumerate(select.link or []):
            if link_name not in inventory.links:
                raise InputError(
                    f"unknown link {link_name!r}", source=where, field=f"cut.{i}.select.link.{j}"
                )
        for link_name, link in inventory.links.items():
            if link_name in playbook.keep or not link_matches(
                select, link_name, link, inventory, sites
            ):
                continue
            flows = inventory.protecting(link_name)
            if flows and select.link is not None:
                flow = flows[0]
                raise PlanRefused(
                    f"playbook {playbook.name} would cut link {link_name}, which carries the "
                    f"protected flow {flow} ({inventory.protected[flow].reason})",
                    source=where,
                    field=f"cut.{i}.select.link",
                )
            if flows:
                continue  # a broad selection leaves protected links up; the plan says so
            for end in link.endpoints:
                device = inventory.devices[end.device]
                driver = driver_for(device.platform)
                facts = driver.facts
                method = facts.preferred_method if rule.method == "auto" else CutMethod(rule.method)
                if method not in driver.facts.methods:
                    can = ", ".join(sorted(driver.facts.methods))
                    raise PlanRefused(
                        f"link {link_name}: device {end.device} ({device.platform}) cannot cut "
                        f"by {method}; it can: {can}",
                        source=where,
                        field=f"cut.{i}.method",
                    )
                if (end.device, end.interface) in chosen:
                    continue  # selected by an earlier rule: the first rule's method wins
                chosen.add((end.device, end.interface))
                target = CutTarget(link=link_name, interface=end.interface, method=method)
                by_device.setdefault(end.device, []).append(target)
    if not chosen:
        raise PlanRefused(f"playbook {playbook.name} selects no link", source=where, field="cut")
    return by_device


def link_matches(
    select: Selector, name: str, link: Link, inventory: Inventory, sites: list[str] | None
) -> bool:
    """Whether a link meets every criterion of a selector (sites already resolved)."""
    return (
        (select.kind is None or link.kind in select.kind)
        and (select.link is None or name in select.link)
        and (sites is None or bool(link.sites(inventory) & set(sites)))
    )


def selected_links(
    inventory: Inventory, select: Selector, parameters: Mapping[str, str]
) -> set[str]:
    sites = [s.format_map(parameters) for s in select.site] if select.site else None
    return {
        n for n, link in inventory.links.items() if link_matches(select, n, link, inventory, sites)
    }


def spare_management_ends(
    inventory: Inventory, by_device: Mapping[str, list[CutTarget]]
) -> tuple[dict[str, list[CutTarget]], list[KeptEndpoint]]:
    """Leave open each device's own end of a link it is managed through.

    Cutting that end would leave the device unreachable with the very port that restore must
    reopen on it; cutting the other end stops the traffic just as well and keeps the way back
    in the controller's hands. A link with no other end to cut is refused.
    """
    # The devices cutting each link, indexed once: scanning every cut end for each in-band
    # target was quadratic in an estate managed in-band.
    cutters: dict[str, set[str]] = {}
    for d, targets in by_device.items():
        for t in targets:
            cutters.setdefault(t.link, set()).add(d)
    kept: list[KeptEndpoint] = []
    result: dict[str, list[CutTarget]] = {}
    for device, targets in by_device.items():
        managed_via = set(inventory.devices[device].managed_via)
        for target in targets:
            if target.link not in managed_via:
                result.setdefault(device, []).append(target)
                continue
            others = [
                d
                for d in cutters[target.link]
                if d != device and target.link not in inventory.devices[d].managed_via
            ]
            if not others:
                raise PlanRefused(
                    f"cutting link {target.link} would strand device {device}: it is managed "
                    f"through {target.link}, and the link has no other end that can be cut "
                    "and later reopened from the controller",
                    source=str(inventory.source),
                    field=f"devices.{device}.managed_via",
                )
            kept.append(
                KeptEndpoint(
                    device=device,
                    interface=target.interface,
                    link=target.link,
                    why=f"{device} is managed through {target.link}; the link is cut at "
                    f"{', '.join(sorted(others))} instead, so restore can reopen it",
                )
            )
    return result, kept


def _check_interface(
    device: str, target: CutTarget | Change, state: DeviceState, inventory: Inventory
) -> None:
    if target.interface not in state.interfaces:
        known = ", ".join(sorted(state.interfaces)) or "none"
        raise PlanRefused(
            f"device {device} has no interface {target.interface!r} (link {target.link}); "
            f"the device reports: {known}",
            source=str(inventory.source),
            field=f"links.{target.link}",
        )


def _change(target: CutTarget) -> Change:
    # Validated: pydantic-core checks a Change faster than model_construct copies its defaults
    # (11,250 changes at 10,000 links: 0.035 s against 0.062).
    return Change(link=target.link, interface=target.interface, method=target.method)


def reached(state: DeviceState, change: Change, direction: Direction) -> bool:
    """Whether the device is already as the change wants it."""
    if direction is Direction.ALLOW:
        return bool(state.allows.get(change.interface, {}).get(change.stage or ""))
    return state.reached(change.interface, change.method, cut=direction is Direction.CUT)


def device_step(
    inventory: Inventory,
    device: str,
    direction: Direction,
    changes: Sequence[Change],
    state: DeviceState | None,
) -> tuple[DeviceStep | None, list[Change]]:
    """One device's step for the changes not yet in effect, and those already in effect.

    With no state (offline plan), every change is assumed still to be made; a restore always
    has state, since its commands depend on what is on the device (rule handles).
    """
    todo: list[Change] = []
    already: list[Change] = []
    for change in changes:
        if state is not None:
            _check_interface(device, change, state, inventory)
            if reached(state, change, direction):
                already.append(change)
                continue
        todo.append(change)
    if not todo:
        return None, already
    spec = inventory.devices[device]
    driver = driver_for(spec.platform)
    targets = [CutTarget(c.link, c.interface, c.method) for c in todo]
    if direction is Direction.CUT:
        change_set = driver.render_cut(targets, state)
    elif direction is Direction.ALLOW:
        change_set = driver.render_allow([_bubble(c) for c in todo], state)
    else:
        assert state is not None
        change_set = driver.render_restore(targets, state)
    step = DeviceStep(
        device=device, site=spec.site, platform=spec.platform, changes=todo, change=change_set
    )
    return step, already


def _bubble(change: Change) -> AllowTarget:
    flows = tuple(Flow(f.protocol, f.source, f.destination, f.port) for f in change.flows)
    return AllowTarget(change.link, change.interface, change.stage or "", flows)


def order_steps(
    inventory: Inventory, steps: list[DeviceStep], direction: Direction
) -> list[DeviceStep]:
    """Number the steps in waves so no device loses its management path before its turn.

    Cutting: a device managed through a link goes before the step that cuts that link.
    Restoring: the step that reopens a link goes before the devices managed through it.
    """
    by_device = {s.device: s for s in steps}
    # The steps that change each link, indexed once: comparing every pair of steps made the
    # ordering quadratic (13 s of 13.3 at 10,000 links).
    changers: dict[str, list[str]] = {}
    for changer in by_device.values():
        for link in {c.link for c in changer.changes}:
            changers.setdefault(link, []).append(changer.device)
    graph: dict[str, set[str]] = {device: set() for device in by_device}
    for managed in by_device:
        for link in set(inventory.devices[managed].managed_via):
            for changer_device in changers.get(link, ()):
                if changer_device == managed:
                    continue
                if direction is Direction.CUT:
                    graph[changer_device].add(managed)
                else:
                    graph[managed].add(changer_device)
    sorter = TopologicalSorter(graph)
    try:
        sorter.prepare()
    except CycleError as exc:
        cycle = exc.args[1]
        raise PlanRefused(
            f"no order of changes keeps every device manageable: {' -> '.join(cycle)} each "
            f"manage through a link another one changes (device {cycle[0]}, links "
            f"{', '.join(inventory.devices[cycle[0]].managed_via)})",
            source=str(inventory.source),
            field=f"devices.{cycle[0]}.managed_via",
        ) from None
    wave_of: dict[str, int] = {}
    wave = 0
    while sorter.is_active():
        wave += 1
        ready = sorter.get_ready()
        for device in ready:
            wave_of[device] = wave
        sorter.done(*ready)
    return [
        step.model_copy(update={"wave": wave_of[step.device], "after": sorted(graph[step.device])})
        for step in sorted(steps, key=lambda s: (wave_of[s.device], s.device))
    ]


def manageability(
    inventory: Inventory, cut_links: set[str], devices: set[str]
) -> list[Manageability]:
    """For each device concerned, whether the controller still reaches it once links are cut."""
    concerned = devices | {
        name for name, spec in inventory.devices.items() if set(spec.managed_via) & cut_links
    }
    result = []
    for device in sorted(concerned):
        via = inventory.devices[device].managed_via
        lost = sorted(set(via) & cut_links)
        note = (
            f"unreachable through {', '.join(lost)}; back when restore reopens "
            f"{', '.join(lost)} (done first, from the controller's side)"
            if lost
            else ("out-of-band" if not via else f"in-band through {', '.join(via)}")
        )
        result.append(
            Manageability(device=device, manageable_after=not lost, via=list(via), note=note)
        )
    return result


def plan_cut(
    inventory: Inventory,
    playbook: Playbook,
    parameters: Mapping[str, str],
    observed: Mapping[str, DeviceState] | None,
    only_links: set[str] | None = None,
    unread: Collection[str] = (),
) -> Plan:
    """The cut plan. With `observed` None (offline) every endpoint is assumed still open.
    With `only_links`, only those of the playbook's links (closing a reconnection stage).
    Devices in `unread` could not be read now (their management path is cut): nothing is
    planned or assumed for them; their links stay targeted, their state unknown."""
    selected = select_targets(inventory, playbook, parameters)
    if only_links is not None:
        selected = {
            device: chosen
            for device, targets in selected.items()
            if (chosen := [t for t in targets if t.link in only_links])
        }
    by_device, kept = spare_management_ends(inventory, selected)
    steps: list[DeviceStep] = []
    already: dict[str, list[Change]] = {}
    for device in sorted(set(by_device) - set(unread)):
        state = observed.get(device) if observed is not None else None
        changes = [_change(t) for t in by_device[device]]
        step, done = device_step(inventory, device, Direction.CUT, changes, state)
        if step:
            steps.append(step)
        if done:
            already[device] = done
    return _plan(Direction.CUT, inventory, playbook, parameters, by_device, steps, already, kept)


def plan_restore(
    inventory: Inventory,
    playbook: Playbook,
    parameters: Mapping[str, str],
    recorded: Sequence[Recorded],
    observed: Mapping[str, DeviceState],
) -> Plan:
    """Undo exactly the recorded cuts, and only those still in place on the device."""
    by_device: dict[str, list[CutTarget]] = {}
    for rec in recorded:
        target = CutTarget(rec.change.link, rec.change.interface, rec.change.method)
        by_device.setdefault(rec.device, []).append(target)
    steps: list[DeviceStep] = []
    already: dict[str, list[Change]] = {}
    for device in sorted(by_device):
        targets = by_device[device]
        if device not in observed:
            spec = inventory.devices[device]
            steps.append(
                DeviceStep(
                    device=device,
                    site=spec.site,
                    platform=spec.platform,
                    changes=[_change(t) for t in targets],
                    deferred=True,
                )
            )
            continue
        changes = [_change(t) for t in targets]
        step, done = device_step(inventory, device, Direction.RESTORE, changes, observed[device])
        if step:
            steps.append(step)
        if done:
            already[device] = done
    return _plan(Direction.RESTORE, inventory, playbook, parameters, by_device, steps, already, [])


def plan_allow(
    inventory: Inventory,
    playbook: Playbook,
    parameters: Mapping[str, str],
    stage: Stage,
    observed: Mapping[str, DeviceState],
) -> Plan:
    """Open a stage's bubbles: its flows through the deny-cuts of the links it names."""
    cut = spare_management_ends(inventory, select_targets(inventory, playbook, parameters))[0]
    by_device: dict[str, list[Change]] = {}
    for i, bubble in enumerate(stage.allow):
        field = f"stages.{playbook.stages.index(stage)}.allow.{i}.via"
        ends = [(d, t) for d, targets in cut.items() for t in targets if t.link == bubble.via]
        if not ends:
            raise PlanRefused(
                f"stage {stage.name}: playbook {playbook.name} does not cut {bubble.via}",
                source=str(playbook.source),
                field=field,
            )
        for device, target in ends:
            platform = inventory.devices[device].platform
            if target.method is not CutMethod.DENY or not driver_for(platform).facts.can_allow:
                raise PlanRefused(
                    f"stage {stage.name}: {bubble.via} is cut on {device} ({platform}) by "
                    f"{target.method}: {_why_no_bubble(platform, target.method)}",
                    source=str(playbook.source),
                    field=field,
                )
            by_device.setdefault(device, []).append(
                Change(
                    link=target.link,
                    interface=target.interface,
                    method=target.method,
                    stage=stage.name,
                    flows=bubble.flows,
                )
            )
    steps: list[DeviceStep] = []
    already: dict[str, list[Change]] = {}
    for device in sorted(by_device):
        if device not in observed:
            raise PlanRefused(f"stage {stage.name}: {device} cannot be read now")
        step, done = device_step(
            inventory, device, Direction.ALLOW, by_device[device], observed[device]
        )
        if step:
            steps.append(step)
        if done:
            already[device] = done
    targets = {
        d: [CutTarget(c.link, c.interface, c.method) for c in cs] for d, cs in by_device.items()
    }
    return _plan(Direction.ALLOW, inventory, playbook, parameters, targets, steps, already, [])


def _why_no_bubble(platform: str, method: CutMethod) -> str:
    """Why a bubble cannot go through this cut, and what can hold one instead."""
    able = ", ".join(sorted(p for p, cls in PLATFORMS.items() if cls.facts.can_allow))
    if not driver_for(platform).facts.can_allow:
        return (
            f"{platform} cannot let chosen flows through a cut. A bubble needs a deny cut on a "
            f"platform that can hold one ({able}): reopen the whole link with `open` instead, "
            "or cut it (method: deny) on such a device"
        )
    return (
        f"a {method} cut stops every flow, with nothing to let some through. Cut the link "
        f"with method: deny on {platform} (a bubble is then an allow placed above it), or "
        f"reopen the whole link with `open` instead; platforms that can hold a bubble: {able}"
    )


def _plan(
    direction: Direction,
    inventory: Inventory,
    playbook: Playbook,
    parameters: Mapping[str, str],
    by_device: Mapping[str, list[CutTarget]],
    steps: list[DeviceStep],
    already: dict[str, list[Change]],
    kept: list[KeptEndpoint],
) -> Plan:
    targeted = sorted({t.link for targets in by_device.values() for t in targets})
    cut_after = set(targeted) if direction is Direction.CUT else set()
    untouched = sorted(set(inventory.links) - set(targeted))
    left_up = set(untouched)
    return Plan(
        direction=direction,
        playbook=playbook.name,
        inventory=inventory.name,
        parameters=dict(parameters),
        steps=order_steps(inventory, steps, direction),
        already_done=already,
        targeted_links=targeted,
        untouched_links=untouched,
        kept=kept,
        management=manageability(inventory, cut_after, set(by_device)),
        protected={
            name: flow.reason
            for name, flow in inventory.protected.items()
            if set(flow.links) <= left_up
        },
        # A bubble is short-lived by design: never saved.
        persist=playbook.persist and direction is not Direction.ALLOW,
    )
