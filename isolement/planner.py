"""Pure planning: inventory + playbook + observed device state -> Plan. No I/O here.

Everything a plan refuses, it refuses before any configuration is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from isolement.drivers import CutTarget, driver_for
from isolement.errors import InputError, PlanRefused
from isolement.inventory import Inventory
from isolement.plan import Change, DeviceStep, Direction, Plan
from isolement.playbook import Playbook
from isolement.state import DeviceState


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
    for name in playbook.parameters:
        value = given.get(name)
        if not value:
            raise InputError(
                f"playbook {playbook.name} needs --{name} NAME; "
                f"sites: {', '.join(sorted(inventory.sites))}"
            )
        if value not in inventory.sites:
            raise InputError(
                f"unknown site {value!r}; sites: {', '.join(sorted(inventory.sites))}",
                source=f"--{name}",
            )
        values[name] = value
    return values


def select_targets(
    inventory: Inventory, playbook: Playbook, parameters: Mapping[str, str]
) -> dict[str, list[CutTarget]]:
    """Device name -> the endpoints the playbook cuts on it, each with its method."""
    where = str(playbook.source)
    for name in playbook.keep:
        if name not in inventory.links:
            raise InputError(f"unknown link {name!r}", source=where, field="keep")
    chosen: dict[str, CutTarget] = {}
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
            if link_name in playbook.keep:
                continue
            if select.kind is not None and link.kind not in select.kind:
                continue
            if select.link is not None and link_name not in select.link:
                continue
            if sites is not None and not link.sites(inventory) & set(sites):
                continue
            for end in link.endpoints:
                device = inventory.devices[end.device]
                driver = driver_for(device.platform)
                method = driver.preferred_method if rule.method == "auto" else rule.method
                if method not in driver.methods:
                    can = ", ".join(sorted(driver.methods))
                    raise PlanRefused(
                        f"link {link_name}: device {end.device} ({device.platform}) cannot cut "
                        f"by {method}; it can: {can}",
                        source=where,
                        field=f"cut.{i}.method",
                    )
                key = f"{end.device}\0{end.interface}"
                if key in chosen:
                    continue  # selected by an earlier rule: the first rule's method wins
                target = CutTarget(link=link_name, interface=end.interface, method=method)
                chosen[key] = target
                by_device.setdefault(end.device, []).append(target)
    if not chosen:
        raise PlanRefused(f"playbook {playbook.name} selects no link", source=where, field="cut")
    return by_device


def _check_interface(
    device: str, target: CutTarget, state: DeviceState, inventory: Inventory
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
    return Change(link=target.link, interface=target.interface, method=target.method)


def _step(
    inventory: Inventory, device: str, changes: Sequence[Change], commands: list[str]
) -> DeviceStep:
    spec = inventory.devices[device]
    return DeviceStep(
        device=device,
        site=spec.site,
        platform=spec.platform,
        changes=list(changes),
        commands=commands,
    )


def plan_cut(
    inventory: Inventory,
    playbook: Playbook,
    parameters: Mapping[str, str],
    observed: Mapping[str, DeviceState] | None,
) -> Plan:
    """The cut plan. With `observed` None (offline) every endpoint is assumed still open."""
    by_device = select_targets(inventory, playbook, parameters)
    steps: list[DeviceStep] = []
    already: dict[str, list[Change]] = {}
    for device in sorted(by_device):
        todo: list[CutTarget] = []
        for target in by_device[device]:
            state = observed.get(device) if observed is not None else None
            if state is not None:
                _check_interface(device, target, state, inventory)
                if state.is_cut(target.interface, target.method):
                    already.setdefault(device, []).append(_change(target))
                    continue
            todo.append(target)
        if todo:
            commands = driver_for(inventory.devices[device].platform).cut_commands(todo)
            steps.append(_step(inventory, device, [_change(t) for t in todo], commands))
    return _plan(Direction.CUT, inventory, playbook, parameters, by_device, steps, already)


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
        state = observed[device]
        todo = []
        for target in by_device[device]:
            _check_interface(device, target, state, inventory)
            if state.is_cut(target.interface, target.method):
                todo.append(target)
            else:
                already.setdefault(device, []).append(_change(target))
        if todo:
            driver = driver_for(inventory.devices[device].platform)
            commands = driver.restore_commands(todo, state)
            steps.append(_step(inventory, device, [_change(t) for t in todo], commands))
    return _plan(Direction.RESTORE, inventory, playbook, parameters, by_device, steps, already)


def _plan(
    direction: Direction,
    inventory: Inventory,
    playbook: Playbook,
    parameters: Mapping[str, str],
    by_device: Mapping[str, list[CutTarget]],
    steps: list[DeviceStep],
    already: dict[str, list[Change]],
) -> Plan:
    targeted = sorted({t.link for targets in by_device.values() for t in targets})
    return Plan(
        direction=direction,
        playbook=playbook.name,
        inventory=inventory.name,
        parameters=dict(parameters),
        steps=steps,
        already_done=already,
        targeted_links=targeted,
        untouched_links=sorted(set(inventory.links) - set(targeted)),
    )
