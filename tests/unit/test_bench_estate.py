"""The benchmarks' generated inventories (bench/estate.py) stay ones isolement accepts, so the
benchmarks cannot rot: `validate` passes on them, and an offline plan cuts what they say."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from isolement.cli.main import main

BENCH = Path(__file__).resolve().parents[2] / "bench"


def bench_module(name: str) -> ModuleType:
    """A module of bench/ (not a package: its scripts import each other by plain name)."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


estate = bench_module("estate")


def test_the_emulated_estate_validates_and_plans_one_cut_per_device(
    tmp_path: Path, in_process_cli: None, capsys: pytest.CaptureFixture[str]
) -> None:
    ports = {name: 20000 + n for n, name in enumerate(estate.device_names(25))}
    inventory, playbooks = estate.write_estate(tmp_path, ports)
    base = ["--inventory", str(inventory), "--playbooks", str(playbooks)]

    assert main([*base, "validate", "--no-credentials"]) == 0
    assert "25 devices, 25 links" in capsys.readouterr().out
    assert main([*base, "--json", "plan", estate.PLAYBOOK_NAME, "--offline"]) == 0
    plan = json.loads(capsys.readouterr().out)["plan"]
    assert sorted((s["device"], s["changes"][0]["interface"]) for s in plan["steps"]) == [
        (name, estate.TARGETED) for name in sorted(ports)
    ]
    # The plain scripts read the same devices.
    assert json.loads((tmp_path / "targets.json").read_text()) == ports


def test_the_planning_inventory_validates_with_its_in_band_chains(
    tmp_path: Path, in_process_cli: None, capsys: pytest.CaptureFixture[str]
) -> None:
    data = estate.planning_inventory(200)
    (tmp_path / "inventory.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    name = estate.PLANNING_PLAYBOOK["name"]
    (playbooks / f"{name}.yaml").write_text(yaml.safe_dump(estate.PLANNING_PLAYBOOK))
    base = ["--inventory", str(tmp_path / "inventory.yaml"), "--playbooks", str(playbooks)]

    assert main([*base, "validate", "--no-credentials"]) == 0
    assert "100 devices, 200 links" in capsys.readouterr().out
    assert main([*base, "--json", "plan", name, "--offline"]) == 0
    plan = json.loads(capsys.readouterr().out)["plan"]
    # Chains of four: four waves, and the in-band routers' own ends are kept.
    assert max(s["wave"] for s in plan["steps"]) == 4
    assert len(plan["kept"]) == 75
