"""`isolement rehearse` and `cut --expect-plan` (issue #14) against emulated IOS routers: the
pre-flight and plan with nothing sent, what would block the cut, the plan's hash, and a cut
refused when the plan computed then is not the one rehearsed.

"Nothing sent" is read from the devices themselves: every line an emulated device receives is
in its history, with the prompt it was typed at; a configuration line is one typed at a
`(config` prompt, or one entering configuration mode.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import lab_state
from emulated import Emulate, IsolementCli, LoginKey, write_cli_files
from isolement.lab.emulator import DeviceSpec, Emulator, exit_links

from isolement.cli import rehearsing
from isolement.drivers import Driver, Session
from isolement.flows import rehearse
from isolement.flows.runtime import Connector, Runtime
from isolement.model.change import ChangeSet
from isolement.model.inventory import Inventory, load_inventory
from isolement.model.playbook import load_playbook
from isolement.planning.fingerprint import Fingerprint, inventory_hash, plan_hash, state_digests
from isolement.planning.management import cut_targets
from isolement.planning.planner import plan_cut
from isolement.transport import session as sessions

GI0, GI1 = "GigabitEthernet0/0", "GigabitEthernet0/1"
NAMES = ["r1", "r2", "r3"]
HASH_LINE = re.compile(r"^plan hash: (sha256:[0-9a-f]{64})$", re.MULTILINE)


class Estate:
    """Three emulated routers, each with its internet exit on Gi0/0, and a playbook cutting
    every exit; the real `isolement` command run against them."""

    def __init__(self, emu: Emulator, tmp_path: Path):
        self.emu = emu
        self.tmp_path = tmp_path
        self.inventory = tmp_path / "inventory.yaml"
        self.playbook = tmp_path / "cut-exits.yaml"
        self.cli = IsolementCli(self.inventory, tmp_path / "state")

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.cli.run(*args)

    def rehearse(self) -> subprocess.CompletedProcess[str]:
        return self.run("rehearse", str(self.playbook))

    def cut(self, *options: str) -> subprocess.CompletedProcess[str]:
        return self.run("cut", str(self.playbook), "--reason", "drill", "--yes", *options)

    def configured(self) -> dict[str, list[str]]:
        """Per device, the configuration lines it received (none, for a rehearsal)."""
        return {
            name: [
                h.line
                for h in self.emu.device(name).history
                if "(config" in h.prompt or h.line.strip().lower().startswith("conf")
            ]
            for name in NAMES
        }

    def received(self) -> dict[str, list[str]]:
        return {name: [h.line for h in self.emu.device(name).history] for name in NAMES}

    def shut(self) -> set[str]:
        return {n for n in NAMES if self.emu.device(n).is_shutdown(GI0)}

    def events(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.cli.records() if r["event"] == name]


@pytest.fixture
def estate(emulate: Emulate, login_key: LoginKey, tmp_path: Path) -> Estate:
    emu = emulate([DeviceSpec(n, [GI0, GI1]) for n in NAMES])
    write_cli_files(
        tmp_path,
        emu,
        login_key,
        "emulated-rehearsal",
        links=exit_links(NAMES, GI0),
        playbook={"name": "cut-exits", "cut": [{"select": {"kind": "internet"}}]},
    )
    return Estate(emu, tmp_path)


def printed_hash(done: subprocess.CompletedProcess[str]) -> str:
    found = HASH_LINE.findall(done.stdout)
    assert len(found) == 1, done.stdout + done.stderr[-2000:]
    return str(found[0])


# --- rehearse -------------------------------------------------------------------------------


def test_a_rehearsal_reads_every_device_plans_and_sends_no_configuration(estate: Estate) -> None:
    done = estate.rehearse()
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    lines = done.stdout.splitlines()
    for name in NAMES:
        assert any(re.match(rf"  ready\s+{name}  login \d+\.\d\d s, read ", li) for li in lines)
    assert "READY: nothing found that would block the cut" in lines
    assert lines[-1] == "Nothing was sent."
    estimate = next(li for li in lines if li.startswith("Estimated cut: "))
    assert re.match(r"Estimated cut: \d+\.\d s = pre-flight \d+\.\d s \+ wave 1 ", estimate)
    # Every device was read (its state), not one configuration line was received.
    assert all(estate.received()[n] for n in NAMES)
    assert estate.configured() == {n: [] for n in NAMES}
    assert all(estate.emu.device(n).config_changes == 0 for n in NAMES)
    assert estate.shut() == set()
    # The plan is journaled with its hash and what it was computed from; no change is.
    (record,) = estate.events("plan.computed")
    assert record["plan_hash"] == printed_hash(done)
    assert record["by"] == "rehearse" and record["ready"] is True
    assert sorted(record["states"]) == NAMES
    assert [s["device"] for s in record["steps"]] == NAMES
    assert record["steps"][0]["commands"][-1] != ""
    assert record["estimate_s"] > 0
    assert estate.events("change.intent") == []
    # A record like any other: the journal stays intact, shows it, and exports it.
    assert estate.run("journal", "verify").returncode == 0
    shown = estate.run("journal", "show")
    assert shown.returncode == 0 and "plan.computed" in shown.stdout, shown.stdout + shown.stderr
    exported = estate.run("journal", "export", "--format", "md")
    assert exported.returncode == 0, exported.stderr


def test_plan_prints_and_journals_the_same_hash_as_a_rehearsal(estate: Estate) -> None:
    rehearsed = printed_hash(estate.rehearse())
    planned = estate.run("plan", str(estate.playbook))
    assert planned.returncode == 0, planned.stdout + planned.stderr[-2000:]
    assert printed_hash(planned) == rehearsed
    assert [r["by"] for r in estate.events("plan.computed")] == ["rehearse", "plan"]
    assert estate.configured() == {n: [] for n in NAMES}


def test_a_device_that_does_not_answer_makes_the_rehearsal_not_ready(estate: Estate) -> None:
    estate.emu.device("r3").set_faults(hang_after_login=True)
    done = estate.rehearse()
    assert done.returncode == rehearsing.EXIT_NOT_READY, done.stdout + done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert "Would BLOCK the cut (it changes nothing unless --partial):" in lines
    assert "  unreachable: r3: logged in, then no answer within 3 s" in lines
    assert "NOT READY: 1 problem(s) would block the cut" in lines
    assert any(re.match(r"  NOT READY\s+r3  ", li) for li in lines)
    assert estate.configured() == {n: [] for n in NAMES}
    (record,) = estate.events("plan.computed")
    assert record["ready"] is False
    assert record["blockers"] == {"r3": "unreachable: logged in, then no answer within 3 s"}


def test_a_host_key_not_known_makes_the_rehearsal_not_ready(estate: Estate) -> None:
    known_hosts = estate.tmp_path / "known_hosts"
    port = estate.emu.ports["r1"]
    kept = [li for li in known_hosts.read_text().splitlines() if f"]:{port} " not in li]
    known_hosts.write_text("\n".join(kept) + "\n")
    done = estate.rehearse()
    assert done.returncode == rehearsing.EXIT_NOT_READY, done.stdout + done.stderr[-2000:]
    (blocker,) = [li for li in done.stdout.splitlines() if li.startswith("  host key: r1: ")]
    assert "known_hosts" in blocker
    assert estate.received()["r1"] == []  # refused before any line was typed
    assert estate.configured() == {n: [] for n in NAMES}


def unprivileged(device: str) -> Connector:
    """A connector whose session on `device` has left privileged mode (`disable`): logged in,
    host key and credentials good, no right to change the configuration."""

    def connect(inventory: Inventory, name: str, driver: Driver, timeout: float) -> Session:
        session = sessions.connect(inventory, name, driver, timeout)
        if name == device:
            session.send_command("disable", expect=r">\s*$")
        return session

    return connect


def test_a_device_without_privilege_makes_the_rehearsal_not_ready(estate: Estate) -> None:
    inventory = load_inventory(estate.inventory)
    rt = Runtime(inventory, estate.tmp_path / "j.jsonl", connect=unprivileged("r2"), timeout=3.0)
    playbook = load_playbook(str(estate.playbook), estate.tmp_path)
    done = rehearse.rehearse(rt, playbook, {})
    assert not done.ready
    assert [(f.kind, f.device) for f in done.blockers] == [(rehearse.Kind.NO_PRIVILEGE, "r2")]
    assert "privilege" in done.blockers[0].detail
    assert rehearsing.exit_code(done) == rehearsing.EXIT_NOT_READY
    assert "  no privilege: r2: logged in without the privilege" in rehearsing.text(done, "x")
    # r2 really was asked (it answered `>`), and nobody received a configuration line.
    assert "disable" in estate.received()["r2"]
    assert estate.configured() == {n: [] for n in NAMES}


def test_the_estimate_is_the_preflight_then_each_wave_at_the_measured_latency(
    estate: Estate,
) -> None:
    inventory = load_inventory(estate.inventory)
    rt = Runtime(inventory, estate.tmp_path / "j.jsonl", timeout=3.0)
    playbook = load_playbook(str(estate.playbook), estate.tmp_path)
    done = rehearse.rehearse(rt, playbook, {})
    assert done.ready and done.estimate is not None
    timings = done.timings.devices
    assert sorted(timings) == NAMES
    assert all(t.login_s > 0 and t.read_s > 0 and t.commands > 0 for t in timings.values())
    (wave,) = done.estimate.waves
    assert done.report is not None
    # Each device: the snapshot, `configure terminal`, its commands, `end`, at its measured
    # per-command latency, then its read-back as long as its read; the wave, its slowest.
    costs = {
        s.device: (1 + 1 + len(s.commands) + 1) * timings[s.device].per_command_s
        + timings[s.device].read_s
        for s in done.report.plan.steps
    }
    assert wave.seconds == pytest.approx(max(costs.values()))
    assert wave.slowest == max(costs, key=lambda d: costs[d])
    assert done.estimate.total_s == pytest.approx(done.estimate.preflight_s + wave.seconds)


# --- the plan's hash ------------------------------------------------------------------------


def test_the_plan_hash_ignores_dict_order_and_timing(lab_inventory: Inventory) -> None:
    book = load_playbook("cut-all", Path(__file__).parents[2] / "playbooks")
    states = lab_state()
    one = plan_cut(lab_inventory, book, {}, states)
    # The devices in another order, in the inventory and in the states read (the order they
    # answered in): the same plan, the same hash.
    reordered_states = dict(reversed(list(states.items())))
    reordered_inventory = lab_inventory.model_copy(
        update={"devices": dict(reversed(list(lab_inventory.devices.items())))}
    )
    two = plan_cut(reordered_inventory, book, {}, reordered_states)
    assert plan_hash(one) == plan_hash(two)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", plan_hash(one))
    # Steps listed in another order, run ids and durations elsewhere: the same hash.
    shuffled = one.model_copy(update={"steps": list(reversed(one.steps))})
    assert plan_hash(shuffled) == plan_hash(one)
    targets = cut_targets(lab_inventory, book, {})
    assert state_digests(states, targets) == state_digests(reordered_states, targets)
    fp1 = Fingerprint.of(one, lab_inventory, book, states, targets)
    fp2 = Fingerprint.of(two, lab_inventory, book, reordered_states, targets)
    assert fp1 == fp2
    # The links' order is the order of a device's commands: another plan, and an inventory
    # that is said to have changed.
    relinked = lab_inventory.model_copy(
        update={"links": dict(reversed(list(lab_inventory.links.items())))}
    )
    three = plan_cut(relinked, book, {}, states)
    assert plan_hash(three) != plan_hash(one)
    fp3 = Fingerprint.of(three, relinked, book, states, targets)
    assert fp3.inventory != fp1.inventory
    # What is sent differs: the hash differs.
    step = one.steps[0]
    changed = one.model_copy(
        update={
            "steps": [step.model_copy(update={"change": ChangeSet(lines=[*step.commands, "end"])})]
        }
    )
    assert plan_hash(changed) != plan_hash(one)


def test_the_inventory_hash_is_the_digest_of_its_canonical_json() -> None:
    # The hash journaled with every plan is sha256 of the inventory's JSON dump, compact, in
    # its order: pydantic-core writes it now; a journal written before must still compare equal.
    root = Path(__file__).parents[2] / "inventories"
    for path in sorted(root.glob("*.yaml")):
        loaded = load_inventory(path)
        # Text beyond ASCII (a name in French) is hashed as written, not \u-escaped.
        for inventory in (loaded, loaded.model_copy(update={"name": "hôpital-été"})):
            text = json.dumps(
                inventory.model_dump(mode="json", exclude={"source"}),
                separators=(",", ":"),
                ensure_ascii=False,
            )
            digest = hashlib.sha256(text.encode()).hexdigest()
            assert inventory_hash(inventory) == f"sha256:{digest}"


def test_a_state_change_on_an_untargeted_port_keeps_the_digest(lab_inventory: Inventory) -> None:
    book = load_playbook("cut-internet", Path(__file__).parents[2] / "playbooks")
    targets = cut_targets(lab_inventory, book, {})
    device = sorted(targets)[0]
    targeted = {t.interface for t in targets[device]}
    other = next(i for i in lab_state()[device].interfaces if i not in targeted and i != "lo")
    before = state_digests(lab_state(), targets)
    assert state_digests(lab_state(shut={device: {other}}), targets) == before
    one_target = next(iter(targeted))
    assert (
        state_digests(lab_state(shut={device: {one_target}}), targets)[device] != (before[device])
    )


# --- cut --expect-plan ----------------------------------------------------------------------


def test_a_cut_expecting_the_rehearsed_plan_runs_it(estate: Estate) -> None:
    expected = printed_hash(estate.rehearse())
    done = estate.cut("--expect-plan", expected)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert f"the plan is the one expected: {expected}" in done.stderr
    assert estate.shut() == set(NAMES)
    (started,) = estate.events("run.started")
    assert started["plan"] == expected.removeprefix("sha256:")


def test_a_cut_whose_plan_changed_since_the_rehearsal_is_refused_device_by_device(
    estate: Estate,
) -> None:
    expected = printed_hash(estate.rehearse())
    # A colleague on r2's console shuts its exit: r2 has nothing to do now.
    estate.emu.device("r2").set_shutdown(GI0, True)
    typed = {n: len(estate.emu.device(n).history) for n in NAMES}

    done = estate.cut("--expect-plan", expected)
    assert done.returncode == 2, done.stdout + done.stderr[-2000:]
    err = done.stderr
    assert "is not the expected one" in err and "nothing was sent" in err
    assert "  r2: its state changed since the plan was computed" in err
    assert "  r2: a step then, none now (nothing to send now)" in err
    assert "-shutdown" in err  # the command r2 would have received then, no longer
    assert "r1:" not in err and "r3:" not in err
    assert "inventory changed" not in err and "playbook changed" not in err
    # Nothing sent: read again, never configured; nothing journaled as a change.
    assert estate.configured() == {n: [] for n in NAMES}
    assert all(len(estate.emu.device(n).history) > typed[n] for n in ("r1", "r3"))
    assert estate.shut() == {"r2"}
    assert estate.events("change.intent") == [] and estate.events("run.started") == []


def test_a_cut_refuses_an_inventory_change_and_says_so(estate: Estate) -> None:
    expected = printed_hash(estate.rehearse())
    text = estate.inventory.read_text()
    estate.inventory.write_text(text.replace("inet-r3:", "inet-r3-renamed:"))
    done = estate.cut("--expect-plan", expected)
    assert done.returncode == 2, done.stdout + done.stderr[-2000:]
    assert "the inventory changed since the plan was computed" in done.stderr
    assert "r3: endpoints then" in done.stderr
    assert estate.configured() == {n: [] for n in NAMES}


def test_a_cut_expecting_a_plan_never_recorded_shows_the_plan_now(estate: Estate) -> None:
    unknown = "sha256:" + "0" * 64
    done = estate.cut("--expect-plan", unknown)
    assert done.returncode == 2, done.stdout + done.stderr[-2000:]
    assert f"no plan {unknown} is recorded" in done.stderr
    assert "  r1 (wave 1): inet-r1 GigabitEthernet0/0 shutdown" in done.stderr
    assert estate.configured() == {n: [] for n in NAMES}


def test_a_malformed_expected_hash_is_refused_before_any_login(estate: Estate) -> None:
    done = estate.cut("--expect-plan", "sha256:abc")
    assert done.returncode == 2
    assert "is not a plan hash" in done.stderr
    assert estate.received() == {n: [] for n in NAMES}


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("zone=h1", "--param zone=h1: the playbooks' one parameter is site=NAME"),
        ("site", "--param site: the playbooks' one parameter is site=NAME"),
        ("site=h 1", "--param site=h 1: "),
    ],
)
def test_a_bad_parameter_is_refused_before_any_login(
    estate: Estate, param: str, message: str
) -> None:
    done = estate.run("rehearse", str(estate.playbook), "--param", param)
    assert done.returncode == 2, done.stdout + done.stderr[-2000:]
    assert message in done.stderr
    assert estate.received() == {n: [] for n in NAMES}
