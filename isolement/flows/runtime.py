"""What every flow needs: the inventory, where the journal is, how to reach a device, how a run
behaves when devices fail, and the operator's interrupts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from isolement.drivers import Driver, Session
from isolement.flows.executor import MAX_WORKERS
from isolement.flows.interrupt import Interrupt
from isolement.flows.observers import Watchers
from isolement.journal.store import Custody
from isolement.model.inventory import Inventory

Connector = Callable[[Inventory, str, Driver, float], Session]

# Seconds a device may take to answer one command before it counts as hung.
COMMAND_TIMEOUT = 30.0


def connect(inventory: Inventory, device: str, driver: Driver, timeout: float) -> Session:
    """A session over SSH (transport/session.py). Imported here, at the first connection:
    netmiko and paramiko take a third of a second to import, which the commands that open
    no session (validate, plan --offline, the journal's) need not pay."""
    from isolement.transport import session

    return session.connect(inventory, device, driver, timeout)


@dataclass
class Runtime:
    """The inventory, the journal, and how devices are reached, for one invocation."""

    inventory: Inventory
    journal_path: Path
    connect: Connector = connect
    workers: int = MAX_WORKERS
    timeout: float = COMMAND_TIMEOUT
    interrupt: Interrupt = field(default_factory=Interrupt)
    # How the journal is kept as evidence: anchors, the network's lock, an accepted alteration.
    custody: Custody = field(default_factory=Custody)
    # Who is shown the run as it happens (live progress): told of reads, probes and changes.
    watchers: Watchers = field(default_factory=Watchers)


@dataclass(frozen=True)
class Options:
    """How a run behaves when devices fail."""

    # Cut what can be cut when pre-flight fails on some devices (default: change nothing).
    partial: bool = False
    # Extra attempts for a device whose change failed, with a doubling delay between them.
    retries: int = 2
    backoff_s: float = 1.0
