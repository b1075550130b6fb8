"""What every flow needs: the inventory, where the journal is, how to reach a device."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from isolement.drivers import Driver, Session
from isolement.flows.executor import MAX_WORKERS
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
    # How the journal is kept as evidence: anchors, the network's lock, an accepted alteration.
    custody: Custody = field(default_factory=Custody)
