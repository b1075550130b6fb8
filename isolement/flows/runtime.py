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
from isolement.transport import session as sessions

Connector = Callable[[Inventory, str, Driver, float], Session]


@dataclass
class Runtime:
    """The inventory, the journal, and how devices are reached, for one invocation."""

    inventory: Inventory
    journal_path: Path
    connect: Connector = sessions.connect
    workers: int = MAX_WORKERS
    # Seconds a device may take to answer one command before it counts as hung.
    timeout: float = sessions.COMMAND_TIMEOUT
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
