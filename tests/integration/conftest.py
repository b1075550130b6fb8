"""The real lab, stood up once for the integration tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from labtools import ISOLEMENT, device_configs, run_cli


@pytest.fixture(scope="session")
def lab() -> Iterator[dict[str, str]]:
    """The lab, up for the whole session; yields each device's configuration at start."""
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    up = subprocess.run([ISOLEMENT, "lab", "up"], capture_output=True, text=True, check=False)
    assert up.returncode == 0, up.stderr
    try:
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

    cut: list[tuple[list[str], list[str]]] = []  # (global options, playbook [--site S])

    def call(*args: str, inventory: Path | None = None) -> subprocess.CompletedProcess[str]:
        if "cut" in args:
            at = args.index("cut")
            site = (
                list(args[args.index("--site") : args.index("--site") + 2])
                if "--site" in args
                else []
            )
            options = [a for a in args[:at] if a != "--json"]  # --playbooks DIR, ...
            cut.append((options, [args[at + 1], *site]))
        return run_cli(*args, state_dir=state_dir, inventory=inventory)

    yield call
    for options, playbook in cut:
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
