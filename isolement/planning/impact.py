"""What a plan does to the estate, in the words the crisis cell decides in: how many devices
and links, which sites it cuts off, which devices the controller loses, which protected flows
stay up. Pure: the inventory and the plan, nothing read."""

from __future__ import annotations

from dataclasses import dataclass, field

from isolement.model.inventory import Inventory
from isolement.model.plan import Plan


@dataclass(frozen=True)
class Impact:
    devices: int  # devices the plan sends commands to
    links: int  # targeted links (already in the wanted state included)
    already: int  # of them, already in the wanted state
    waves: int
    # site -> its links to elsewhere left up; empty: the site is cut off from everything.
    sites: dict[str, list[str]] = field(default_factory=dict)
    unmanageable: list[str] = field(default_factory=list)
    protected: list[str] = field(default_factory=list)

    @property
    def cut_off(self) -> list[str]:
        return sorted(s for s, up in self.sites.items() if not up)

    @property
    def partly(self) -> dict[str, list[str]]:
        return {s: up for s, up in sorted(self.sites.items()) if up}


def impact(inventory: Inventory, plan: Plan) -> Impact:
    """The plan's impact; `sites` lists only the sites one of its targeted links touches."""
    targeted = set(plan.targeted_links)
    touching: dict[str, set[str]] = {}
    for name, link in inventory.links.items():
        sites = {inventory.devices[e.device].site for e in link.endpoints}
        if len(link.endpoints) == 2 and len(sites) == 1:
            continue  # inside one site: it does not connect the site to anything else
        for site in sites:
            touching.setdefault(site, set()).add(name)
    affected = {
        site: sorted(links - targeted) for site, links in touching.items() if links & targeted
    }
    already = {c.link for changes in plan.already_done.values() for c in changes}
    changing = {c.link for s in plan.steps for c in s.changes}
    return Impact(
        devices=len(plan.steps),
        links=len(targeted),
        already=len((already - changing) & targeted),
        waves=len(plan.waves()),
        sites=affected,
        unmanageable=sorted(m.device for m in plan.management if not m.manageable_after),
        protected=sorted(plan.protected),
    )
