"""Playbooks: which links a containment cuts, how, and which it must leave alone."""

from __future__ import annotations

from ipaddress import IPv4Network
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from isolement.model.errors import InputError
from isolement.model.inventory import LinkKind
from isolement.model.names import Name, Text
from isolement.model.yamlfile import FieldError, load_model


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# A site may be a playbook parameter, written "{site}", filled in from the command line.
SiteRef = Annotated[str, Field(pattern=r"^(\{[a-z_]+\}|[A-Za-z0-9][A-Za-z0-9_.:/@+-]{0,63})$")]


class Selector(Strict):
    """Links matching every given criterion (criteria left out match everything)."""

    kind: Annotated[list[LinkKind] | None, BeforeValidator(_as_list)] = None
    site: Annotated[list[SiteRef] | None, BeforeValidator(_as_list)] = None
    link: Annotated[list[Name] | None, BeforeValidator(_as_list)] = None


class CutRule(Strict):
    select: Selector
    # "auto": the platform's preferred method (shutdown on routers, deny on firewalls).
    method: Literal["auto", "shutdown", "deny"] = "auto"


class FlowRule(Strict):
    """One flow a bubble lets through a cut, in both directions."""

    protocol: Literal["tcp", "udp", "icmp"]
    source: IPv4Network
    destination: IPv4Network
    port: Annotated[int, Field(ge=1, le=65535)] | None = None

    @model_validator(mode="after")
    def _port_needs_tcp_or_udp(self) -> FlowRule:
        if self.protocol == "icmp" and self.port is not None:
            raise ValueError("icmp has no ports: remove 'port', or use tcp or udp")
        return self


class Bubble(Strict):
    """Let some flows through the cut of one link (needs a platform that can filter)."""

    via: Name
    flows: Annotated[list[FlowRule], Field(min_length=1)]


class StageChecks(Strict):
    """Probes (by name, from the inventory) checked once the stage is open, and during hold."""

    passes: list[Name] = []
    blocked: list[Name] = []


class Stage(Strict):
    """One step of the reconnection, opened by a named approver once the doubt is lifted."""

    name: Name
    description: Text = ""
    open: Selector | None = None  # whole links reopened
    allow: list[Bubble] = []  # or only some flows through a cut
    checks: StageChecks = StageChecks()
    # How long the reopened paths are given to come back (routes reinstalled, adjacencies up)
    # before a check that still fails closes the stage again. Checked every second meanwhile.
    settle_s: Annotated[float, Field(ge=0, le=600)] = 10
    # Keep checking this long before the stage is reported open (a watch for relapse).
    hold_s: Annotated[float, Field(ge=0, le=3600)] = 0
    check_every_s: Annotated[float, Field(gt=0, le=600)] = 5

    @model_validator(mode="after")
    def _does_something(self) -> Stage:
        if self.open is None and not self.allow:
            raise ValueError(f"stage {self.name} opens nothing: give 'open' or 'allow'")
        return self


class Playbook(Strict):
    name: Name
    description: Text = ""
    parameters: list[Literal["site"]] = []
    cut: Annotated[list[CutRule], Field(min_length=1)]
    keep: list[Name] = []
    # Reconnection in clinical priority order, each stage approved and verified in turn.
    stages: list[Stage] = []
    # Save the cut to the startup configuration (where the platform has one; a commit or an
    # auto-saving device persists it anyway), so that a reboot mid-crisis does not reopen it;
    # the restore saves back. Off: a reboot reopens the cut (`status` then says REOPENED).
    persist: bool = True
    source: Path = Path("<memory>")

    @model_validator(mode="after")
    def _declared_parameters(self) -> Playbook:
        for i, rule in enumerate(self.cut):
            for j, site in enumerate(rule.select.site or []):
                if site.startswith("{") and site[1:-1] not in self.parameters:
                    raise FieldError(
                        f"cut.{i}.select.site.{j}",
                        f"{site} is not a declared parameter (add it to 'parameters')",
                    )
        names = [stage.name for stage in self.stages]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise FieldError(f"stages.{i}.name", f"duplicate stage name {name!r}")
        return self

    def stage(self, name: str) -> tuple[int, Stage]:
        for index, stage in enumerate(self.stages):
            if stage.name == name:
                return index, stage
        known = ", ".join(s.name for s in self.stages) or "none"
        raise InputError(f"playbook {self.name} has no stage {name!r}; its stages: {known}")


def available_playbooks(directory: Path) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.yaml"))


def load_playbook(ref: str, directory: Path) -> Playbook:
    """Load a playbook by name (a file in `directory`) or by path."""
    path = directory / f"{ref}.yaml"
    if not path.is_file():
        path = Path(ref)
    if not path.is_file():
        known = ", ".join(available_playbooks(directory)) or "none"
        raise InputError(f"no playbook named {ref!r}; available playbooks: {known}")
    playbook = load_model(path, Playbook)
    return playbook.model_copy(update={"source": path})
