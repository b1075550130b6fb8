"""Where isolement finds its files when none are named on the command line."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]
REPO_ROOT = _PACKAGE.parent


def _data(name: str) -> Path:
    """A data directory of the package: inside it once installed from a wheel, at the top of
    the repository in a checkout (where the packaging maps it)."""
    installed = _PACKAGE / name
    return installed if installed.is_dir() else REPO_ROOT / name


# The lab inventory is the default, so nothing run on a fresh machine can reach a production
# network by accident: production needs an explicit --inventory.
DEFAULT_INVENTORY = _data("inventories") / "lab.yaml"
PLAYBOOKS = _data("playbooks")


def state_dir() -> Path:
    explicit = os.environ.get("ISOLEMENT_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "isolement"
