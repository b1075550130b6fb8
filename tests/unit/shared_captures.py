"""Where the real device captures are, for the tests that read them (tests/unit/test_captures.py
says what they are). They stay outside the repository: `../shared/captures` from its root, as
CI has it, or the directory ISOLEMENT_CAPTURES names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from isolement.cli import paths

CAPTURES = Path(
    os.environ.get("ISOLEMENT_CAPTURES") or paths.REPO_ROOT.parent / "shared" / "captures"
)


def capture(relative: str) -> str:
    """One capture's text as a session returns it (netmiko's line endings). A missing capture
    fails the test that needs it: a driver's test on real output never passes without it."""
    path = CAPTURES / relative
    if not path.is_file():
        pytest.fail(
            f"real capture {path} is missing: put the shared captures beside the clone "
            "(../shared/captures) or name their directory in ISOLEMENT_CAPTURES"
        )
    return path.read_text(encoding="utf-8")
