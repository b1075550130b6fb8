"""The real lab, stood up once for the integration tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from labtools import ISOLEMENT, QUICK_COMMIT_S, SLOW_COMMITS, control, device_configs, run_cli


@pytest.fixture(scope="session")
def lab() -> Iterator[dict[str, str]]:
    """The lab, up for the whole session; yields each device's configuration at start."""
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    up = subprocess.run([ISOLEMENT, "lab", "up"], capture_output=True, text=True, check=False)
    assert up.returncode == 0, up.stderr
    try:
        for node in SLOW_COMMITS:
            control(node, {"commit_seconds": QUICK_COMMIT_S})
        yield device_configs()
    finally:
        down = subprocess.run(
            [ISOLEMENT, "lab", "down"], capture_output=True, text=True, check=False
        )
        assert down.returncode == 0, down.stderr


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def cli(
    lab: dict[str, str], state_dir: Path
) -> Iterator[Callable[..., subprocess.CompletedProcess[str]]]:
    """Run the real command line; afterwards put the lab back as it was for the next test."""

    # (global options, playbook [--site S]) -> whether it is cut and not yet restored whole.
    # A playbook the test itself restored with `restore ... --all` (exit 0) after its last cut
    # is not restored again: the check below then sees the lab as the test's own restore left
    # it, so a restore that says done and leaves something behind fails the test.
    cut: dict[tuple[tuple[str, ...], tuple[str, ...]], bool] = {}

    def call(*args: str, inventory: Path | None = None) -> subprocess.CompletedProcess[str]:
        done = run_cli(*args, state_dir=state_dir, inventory=inventory)
        for verb in ("cut", "restore"):
            if verb not in args:
                continue
            at = args.index(verb)
            site = (
                list(args[args.index("--site") : args.index("--site") + 2])
                if "--site" in args
                else []
            )
            options = [a for a in args[:at] if a != "--json"]  # --playbooks DIR, ...
            key = (tuple(options), (args[at + 1], *site))
            if verb == "cut":
                cut[key] = True
            elif key in cut and "--all" in args and done.returncode == 0:
                cut[key] = False
        return done

    yield call
    for (options, playbook), pending in cut.items():
        if not pending:
            continue
        call(
            *options,
            "restore",
            *playbook,
            "--all",
            "--approved-by",
            "pytest",
            "--reason",
            "cleanup",
            "--yes",
        )
    assert device_configs() == lab, "a test left the lab changed"
