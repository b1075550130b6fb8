"""Management paths, planned: what a run targets on each device, which devices are out of the
controller's reach because a link they are managed through is cut, what was last read of them,
and what `cut --reach` reopens to read them again. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from isolement.drivers import CutTarget, driver_for
from isolement.model.errors import InputError
from isolement.model.inventory import Inventory
from isolement.model.playbook import Playbook
from isolement.model.state import DeviceState
from isolement.planning.planner import Recorded, select_targets, spare_management_ends


@dataclass(frozen=True)
class OutOfReach:
    """A targeted device not dialled: its management path is cut, so its state is unknown."""

    device: str
    links: tuple[str, ...]  # its management links that are cut
    # (link, device) of the readable ends those links are cut at.
    cut_at: tuple[tuple[str, str], ...]
    # What its targets were last read as ("cut", "open", or "" when never read), and when.
    last_seen: str
    last_seen_at: str

    @property
    def why(self) -> str:
        seen = (
            f"unknown, last seen {self.last_seen} at {self.last_seen_at}"
            if self.last_seen
            else "unknown, never read"
        )
        return f"{seen}; unreachable since its management link {', '.join(self.links)} is cut"

    @property
    def last_seen_cut(self) -> bool:
        return self.last_seen == "cut"


def cut_targets(
    inventory: Inventory, playbook: Playbook, parameters: Mapping[str, str]
) -> dict[str, list[CutTarget]]:
    """What a cut changes, per device: the selection, less each device's own management end."""
    return spare_management_ends(inventory, select_targets(inventory, playbook, parameters))[0]


def on_management_paths(inventory: Inventory, devices: set[str]) -> set[str]:
    """The devices at the ends of the links these devices are managed through."""
    return {
        end.device
        for device in devices
        for link in inventory.devices[device].managed_via
        for end in inventory.links[link].endpoints
    }


def management_cut(
    inventory: Inventory, device: str, states: Mapping[str, DeviceState]
) -> list[tuple[str, str]]:
    """(link, device) for each link of this device's management path cut at a device read."""
    lost = []
    for link in inventory.devices[device].managed_via:
        for end in inventory.links[link].endpoints:
            state = states.get(end.device)
            method = driver_for(inventory.devices[end.device].platform).facts.preferred_method
            if state is not None and state.is_cut(end.interface, method):
                lost.append((link, end.device))
                break
    return lost


def out_of_reach(
    device: str, lost: Sequence[tuple[str, str]], seen: Sequence[tuple[bool, str] | None]
) -> OutOfReach:
    """What is known of a device not dialled: where its path is cut, and, from `seen` (per
    target: whether it was last read cut, and when; None if never), what it was last read as."""
    known = [s for s in seen if s is not None]
    if seen and len(known) == len(seen):
        word = "cut" if all(cut for cut, _ in known) else "open"
        when = max(ts for _, ts in known)
    else:
        word, when = "", ""
    links = tuple(dict.fromkeys(link for link, _ in lost))
    return OutOfReach(device, links, tuple(lost), word, when)


def to_reopen_for(
    inventory: Inventory, recorded: Sequence[Recorded], devices: Sequence[str]
) -> list[Recorded]:
    """The recorded cuts to undo so the controller reaches these devices again: the ends of
    their management links that this playbook cut. A device that nothing the playbook cut
    keeps out of reach is refused, before anything is sent."""
    chosen: list[Recorded] = []
    for device in devices:
        spec = inventory.devices.get(device)
        if spec is None:
            raise InputError(f"--reach {device}: no device {device!r} in {inventory.source}")
        if not spec.managed_via:
            raise InputError(
                f"--reach {device}: {device} is managed out-of-band, so it is not out of reach "
                "by a cut; nothing to reopen"
            )
        mine = [r for r in recorded if r.change.link in spec.managed_via]
        if not mine:
            raise InputError(
                f"--reach {device}: {device} is not out of reach by this playbook: it cut "
                f"none of {', '.join(spec.managed_via)}, the links it is managed through"
            )
        chosen += [r for r in mine if r not in chosen]
    return chosen
