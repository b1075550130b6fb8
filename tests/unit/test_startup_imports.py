"""What isolement's start-up does not load (#16 §5): `validate` and `plan --offline` of a
10,000-link inventory should take under a second, and a module imported for a command that
was not asked for is paid on every start. Each is loaded by the command that uses it."""

from __future__ import annotations

import subprocess
import sys

# Module -> the only command that needs it.
NOT_AT_START_UP = {
    "shtab": "completion",
    "isolement.sources.writer": "inventory import",
    "isolement.sources.ansible": "inventory import",
    "isolement.cli.progress": "a run's live panel (cut, restore, preflight...)",
}


def test_the_cli_starts_without_the_modules_of_other_commands() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, isolement.cli.main; print(*sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "isolement.cli.main" in loaded
    assert [name for name in NOT_AT_START_UP if name in loaded] == []
