"""The crisis laptop's install: the controller's wheel and a wheelhouse, installed with no index
into a clean virtual environment outside the repository, work on the user's own files; the lab
is not part of it.

Building the wheelhouse needs the package index (or pip's cache) once, as on the machine that
prepares the laptop; the install itself runs with `--no-index`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import LAB_INVENTORY, REPO_ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean venv holding only what the wheelhouse gave it; returns its bin directory."""
    root = tmp_path_factory.mktemp("laptop")
    house = root / "wheelhouse"
    env = {**os.environ, "PYTHON": sys.executable}
    subprocess.run(
        [str(REPO_ROOT / "scripts" / "wheelhouse.sh"), str(house)],
        check=True,
        env=env,
        capture_output=True,
    )
    venv.create(root / "venv", with_pip=True)
    bin_dir = root / "venv" / "bin"
    offline = ["install", "-q", "--no-index", "--find-links", str(house), "isolement"]
    subprocess.run(
        [str(bin_dir / "pip"), *offline],
        check=True,
        capture_output=True,
        cwd=root,
    )
    return bin_dir


def _run(bin_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env |= {"ISOLEMENT_STATE_DIR": str(cwd / "state"), "OPS_PASSWORD": "not-a-real-one"}
    return subprocess.run(
        [str(bin_dir / "isolement"), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def _user_files(where: Path) -> Path:
    """The lab's estate as a user's own inventory file, its password from the environment: the
    shipped playbooks' stages name its links and probes, as `validate` checks."""
    inventory = yaml.safe_load(LAB_INVENTORY.read_text())
    inventory["credentials"] = {"ops": {"username": "ops", "password_env": "OPS_PASSWORD"}}
    inventory["known_hosts"] = "known_hosts"
    inventory.pop("jump_hosts", None)
    for device in inventory["devices"].values():
        device["credential"] = "ops"
        device.pop("jump", None)
    (where / "known_hosts").write_text("")
    path = where / "group.yaml"
    path.write_text(yaml.safe_dump(inventory))
    return path


def test_the_wheel_holds_the_controller_and_its_data_but_not_the_lab(installed: Path) -> None:
    house = installed.parents[1] / "wheelhouse"
    (wheel,) = house.glob("isolement-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "isolement/playbooks/cut-all.yaml" in names
    assert "isolement/inventories/lab.yaml" in names
    assert any(n.startswith("isolement/report/templates/") for n in names)
    assert not [n for n in names if n.startswith("isolement/lab/")]


def test_validate_and_an_offline_plan_run_from_the_installed_wheel(
    installed: Path, tmp_path: Path
) -> None:
    inventory = _user_files(tmp_path)
    done = _run(installed, tmp_path, "--inventory", inventory.name, "validate")
    assert done.returncode == 0, done.stderr
    assert "playbooks OK: cut-all, cut-internet, cut-intersite, isolate-site" in done.stdout
    plan = _run(installed, tmp_path, "--inventory", inventory.name, "plan", "cut-all", "--offline")
    assert plan.returncode == 0, plan.stderr
    assert "wan-dc-h1" in plan.stdout
    assert "inet-dc" in plan.stdout


def test_the_lab_is_not_installed_with_the_controller(installed: Path, tmp_path: Path) -> None:
    done = _run(installed, tmp_path, "lab", "up")
    assert done.returncode == 2
    assert "the lab is not installed" in done.stderr
    assert "isolement-lab" in done.stderr
    assert not (tmp_path / "state").exists() or not list((tmp_path / "state").iterdir())
    probe = subprocess.run(
        [str(installed / "python"), "-c", "import isolement.lab"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert probe.returncode != 0
    assert "No module named 'isolement.lab'" in probe.stderr
