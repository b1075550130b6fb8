"""Where isolement finds its files when none are named on the command line."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# The lab inventory is the default, so nothing run on a fresh machine can reach a production
# network by accident: production needs an explicit --inventory.
DEFAULT_INVENTORY = REPO_ROOT / "inventories" / "lab.yaml"
PLAYBOOKS = REPO_ROOT / "playbooks"


def state_dir() -> Path:
    explicit = os.environ.get("ISOLEMENT_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "isolement"
