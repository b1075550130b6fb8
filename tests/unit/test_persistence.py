"""A cut that survives a reboot (#12 §3): the playbook's `persist`, each platform's save and
its check for someone else's unsaved changes, the plan saying it, the run saving after the
confirmed change and journaling it, a cut refused before anything is sent when saving would
save others' changes, and an emulated restart that reloads the saved configuration.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml
from emulated import Emulate, IsolementCli, LoginKey, write_cli_files
from isolement.lab.emulator import DeviceSpec, Emulator

from isolement.drivers import PLATFORMS, driver_for
from isolement.drivers.alcatel_aos import AlcatelAosDriver
from isolement.drivers.cisco_ios import CiscoIosDriver
from isolement.drivers.cisco_nxos import CiscoNxosDriver
from isolement.model.playbook import Playbook

GI0, GI1 = "GigabitEthernet0/0", "GigabitEthernet0/1"
EXIT_OK, EXIT_INPUT, EXIT_PARTIAL = 0, 2, 3

# --- the playbook field -----------------------------------------------------------------------


def test_a_cut_persists_by_default_and_can_be_told_not_to() -> None:
    cut = [{"select": {"kind": "intersite"}}]
    assert Playbook.model_validate({"name": "p", "cut": cut}).persist is True
    assert Playbook.model_validate({"name": "p", "cut": cut, "persist": False}).persist is False


# --- each platform's save ---------------------------------------------------------------------

EXPECTED = {
    "cisco_ios": ("save", ("write memory",)),
    "cisco_xe": ("save", ("write memory",)),
    "frr": ("save", ("write memory",)),
    "cisco_nxos": ("save", ("copy running-config startup-config",)),
    "aruba_aoscx": ("save", ("write memory",)),
    "aruba_os": ("save", ("write memory",)),
    "hp_comware": ("save", ("save force",)),
    "arista_eos": ("save", ("copy running-config startup-config",)),
    "alcatel_aos": ("save", ("write memory",)),
    "cisco_asa": ("save", ("write memory",)),
    "fortinet": ("auto", ()),
    "juniper_junos": ("commit", ()),
    "paloalto_panos": ("commit", ()),
    "linux": ("none", ()),
}


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_each_platform_says_how_a_cut_persists(platform: str) -> None:
    driver = driver_for(platform)
    assert (driver.facts.persistence, driver.facts.save_commands) == EXPECTED[platform]
    assert driver.facts.persistence_note


def test_ios_reads_config_differences() -> None:
    ios = CiscoIosDriver()
    same = ios.parse_config_differences("!Contextual Config Diffs:\n!No changes were found\n")
    assert same.found is False
    drift = "!Contextual Config Diffs:\n-ntp clock-period 17179865\n+ntp clock-period 17179870\n"
    assert ios.parse_config_differences(drift).found is False  # IOS's own clock drift
    foreign = "!Contextual Config Diffs:\ninterface Loopback9\n +description test\n"
    found = ios.parse_config_differences(foreign)
    assert found.found is True and "+description test" in found.detail
    # A cut reopened by hand is undone by the cut itself: not someone else's change.
    reopened = "!Contextual Config Diffs:\ninterface GigabitEthernet0/1\n -shutdown\n"
    assert ios.parse_config_differences(reopened, [GI1]).found is False
    assert ios.parse_config_differences(reopened, [GI0]).found is True
    refused = ios.parse_config_differences("% Invalid input detected at '^' marker.\n")
    assert refused.found is None and "cannot compare" in refused.detail


def test_nxos_reads_the_running_config_diff() -> None:
    nxos = CiscoNxosDriver()
    assert nxos.parse_running_diff("\n").found is False
    diff = "*** Startup-config\n--- Running-config\n***************\n+ interface loopback9\n"
    found = nxos.parse_running_diff(diff)
    assert found.found is True and "+ interface loopback9" in found.detail


def test_aos_reads_the_configuration_status() -> None:
    aos = AlcatelAosDriver()
    same = "Running configuration and saved configuration are identical"
    assert aos.parse_configuration_status(same).found is False
    changed = "Running configuration and saved configuration are different"
    assert aos.parse_configuration_status(changed).found is True
    assert aos.parse_configuration_status("?").found is None


@pytest.mark.parametrize("platform", ["frr", "cisco_asa"])
def test_a_platform_that_cannot_tell_says_so_in_its_note(platform: str) -> None:
    assert "cannot" in driver_for(platform).facts.persistence_note


# --- on emulated IOS devices, through the real command line ----------------------------------

LINKS = {
    "wan-core-edge": {
        "kind": "intersite",
        "endpoints": [{"device": "core", "interface": GI1}, {"device": "edge", "interface": GI1}],
    },
}


@dataclasses.dataclass
class Estate:
    emu: Emulator
    cli: IsolementCli
    playbook: Path

    def run(self, *args: str) -> tuple[int, str]:
        done = self.cli.run(*args)
        return done.returncode, done.stdout + done.stderr

    def cut(self) -> tuple[int, str]:
        return self.run("cut", str(self.playbook), "--reason", "ransomware", "--yes")

    def set_persist(self, persist: bool) -> None:
        data = yaml.safe_load(self.playbook.read_text())
        self.playbook.write_text(yaml.safe_dump({**data, "persist": persist}))


@pytest.fixture
def estate(emulate: Emulate, login_key: LoginKey, tmp_path: Path) -> Estate:
    emu = emulate([DeviceSpec("core", [GI0, GI1]), DeviceSpec("edge", [GI0, GI1])])
    playbook = {"name": "cut-wan", "cut": [{"select": {"kind": ["intersite"]}}]}
    write_cli_files(tmp_path, emu, login_key, "persist", links=LINKS, playbook=playbook, sites={})
    cli = IsolementCli(tmp_path / "inventory.yaml", tmp_path / "state")
    return Estate(emu, cli, tmp_path / "cut-wan.yaml")


def test_the_plan_says_whether_and_how_the_cut_persists(estate: Estate) -> None:
    code, out = estate.run("plan", str(estate.playbook))
    assert code == EXIT_OK, out
    assert "Persistence: on (playbook persist: true)" in out
    assert "cisco_ios (core, edge): saved with `write memory`" in out

    estate.set_persist(False)
    code, out = estate.run("plan", str(estate.playbook))
    assert "Persistence: off (playbook persist: false): a reboot reopens what is cut" in out


def test_a_persisted_cut_is_saved_journaled_and_holds_across_a_restart(estate: Estate) -> None:
    code, out = estate.cut()
    assert code == EXIT_OK, out
    applied = [r for r in estate.cli.records() if r["event"] == "change.applied"]
    assert {r["device"]: r["saved"] for r in applied} == {
        "core": "saved: write memory",
        "edge": "saved: write memory",
    }
    started = [r for r in estate.cli.records() if r["event"] == "run.started"]
    assert started[-1]["persist"] is True

    estate.emu.device("core").restart()

    assert GI1 in estate.emu.device("core").shutdown_interfaces()
    code, out = estate.run("status", str(estate.playbook))
    assert code == EXIT_OK and "reopened" not in out.lower(), out


def test_the_restore_saves_back_so_the_startup_is_as_it_was(estate: Estate) -> None:
    before = estate.emu.device("core").startup_config()
    assert estate.cut()[0] == EXIT_OK
    assert estate.emu.device("core").startup_config() != before

    code, out = estate.run(
        "restore", str(estate.playbook), "--all", "--approved-by", "cell", "--reason", "ok", "--yes"
    )

    assert code == EXIT_OK, out
    assert estate.emu.device("core").startup_config() == before


def test_a_cut_not_persisted_is_reopened_by_a_restart(estate: Estate) -> None:
    estate.set_persist(False)
    assert estate.cut()[0] == EXIT_OK
    applied = [r for r in estate.cli.records() if r["event"] == "change.applied"]
    assert all("saved" not in r for r in applied)

    for device in ("core", "edge"):
        estate.emu.device(device).restart()

    code, out = estate.run("verify", str(estate.playbook))
    assert code == EXIT_PARTIAL, out
    assert "REOPENED wan-core-edge" in out


def test_someone_elses_unsaved_change_refuses_the_cut_before_anything_is_sent(
    estate: Estate,
) -> None:
    core = estate.emu.device("core")
    core._set(GI0, description="changed by hand, not saved")
    changes = core.config_changes

    code, out = estate.cut()

    assert code == EXIT_INPUT, out
    assert "refused before anything was sent" in out
    assert "core: interface GigabitEthernet0/0: +description changed by hand, not saved" in out
    assert core.config_changes == changes and core.shutdown_interfaces() == set()
    assert estate.emu.device("edge").shutdown_interfaces() == set()
