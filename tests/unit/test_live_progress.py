"""Live progress (cli/progress.py): a cut of 62 emulated devices under tmux shows its headline
and waves while it runs, then leaves only the result; a plain line per event when stderr is not
a terminal; nothing extra with --json; the headline's counts follow the events."""

from __future__ import annotations

import re
import shlex
import subprocess
import time
from pathlib import Path

import pytest
from emulated import Emulate, IsolementCli, LoginKey, write_cli_files
from isolement.lab.emulator import DeviceSpec, InterfaceSpec, generate_login_key
from test_bench_estate import estate

from isolement.cli.progress import Tally, names_line
from isolement.flows.observers import Applied, Attempt
from isolement.model.plan import Change, DeviceStep, Direction, Plan
from isolement.model.state import DeviceState

HEADLINE = re.compile(
    r"CUT bench-cut-internet · wave 1/1 · (\d+)/62 devices, (\d+)/62 links cut(, \d+ FAILED)? "
    r"· \d+\.\d s"
)


def _screens(socket: Path, until: str, timeout_s: float) -> list[str]:
    """Every distinct screen of the tmux pane, polled, until one shows `until`."""
    screens: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pane = subprocess.run(
            ["tmux", "-S", str(socket), "capture-pane", "-p"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        if not screens or screens[-1] != pane:
            screens.append(pane)
        if until in pane:
            return screens
        time.sleep(0.05)
    raise AssertionError(f"the pane never showed {until!r}; last screen:\n{screens[-1]}")


def test_a_cut_of_62_emulated_devices_shows_live_progress_in_tmux(tmp_path: Path) -> None:
    work = tmp_path / "estate"
    work.mkdir()
    generate_login_key(work / estate.KEY_FILE)
    socket = tmp_path / "tmux.sock"
    with estate.Fleet(work, 62, latency=0.1) as fleet:
        inventory, playbooks = estate.write_estate(work, fleet.ports)
        cli = IsolementCli(inventory, tmp_path / "state", timeout_s=30)
        argv = cli.command("--playbooks", str(playbooks), "cut", estate.PLAYBOOK_NAME)
        argv += ["--reason", "drill", "--yes"]
        env = [f"{k}={cli.env[k]}" for k in ("ISOLEMENT_STATE_DIR", "ISOLEMENT_ANCHOR_DIR")]
        shell = f"env {shlex.join(env)} {shlex.join(argv)}; echo EXIT=$?; sleep 60"
        subprocess.run(
            ["tmux", "-S", str(socket), "new-session", "-d", "-x", "120", "-y", "40", shell],
            check=True,
        )
        try:
            screens = _screens(socket, "EXIT=", timeout_s=180)
        finally:
            subprocess.run(["tmux", "-S", str(socket), "kill-server"], check=False)
        assert len(fleet.cut_devices()) == 62

    preflight = [s for s in screens if "CUT bench-cut-internet · pre-flight · " in s]
    assert preflight, "no screen showed the pre-flight"
    running = [(s, m) for s in screens if (m := HEADLINE.search(s))]
    assert running, "no screen showed the wave headline"
    assert any("wave 1/1: 62 devices: " in s for s, _ in running)
    done = [int(m.group(1)) for _, m in running]
    assert done == sorted(done), "the count of devices done went down"
    # The panel is transient: the last screen is the result, summary first, no headline.
    last = screens[-1]
    assert "EXIT=0" in last
    assert not HEADLINE.search(last) and " · pre-flight · " not in last
    assert "CONTAINED: " in last


def _specs(names: list[str]) -> list[DeviceSpec]:
    return [DeviceSpec(n, [InterfaceSpec("GigabitEthernet0/0")]) for n in names]


def test_without_a_terminal_each_event_is_one_line_on_stderr_and_json_adds_none(
    tmp_path: Path, emulate: Emulate, login_key: LoginKey
) -> None:
    emu = emulate(_specs(["r1", "r2"]))
    links = {
        f"inet-{n}": {
            "kind": "internet",
            "endpoints": [{"device": n, "interface": "GigabitEthernet0/0"}],
        }
        for n in ("r1", "r2")
    }
    playbook = {"name": "cut-net", "cut": [{"select": {"kind": "internet"}}]}
    options, path = write_cli_files(tmp_path, emu, login_key, "two", links=links, playbook=playbook)
    cli = IsolementCli(Path(options[1]), tmp_path / "state")

    done = cli.run("cut", str(path), "--reason", "drill", "--yes")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert any(re.search(r"\] read r1$", line) for line in lines)
    assert any(re.search(r"\] wave 1 r2: sending: GigabitEthernet0/0$", line) for line in lines)
    assert any("r1: cut and read back: GigabitEthernet0/0" in line for line in lines)
    assert any("CUT " in line and "2/2 devices, 2/2 links cut" in line for line in lines)
    assert "\x1b[" not in done.stderr  # no colour, no cursor movement off a terminal

    restored = cli.run(
        "--json", "restore", str(path), "--all", "--approved-by", "x", "--reason", "y", "--yes"
    )
    assert restored.returncode == 0, restored.stderr
    assert "sending" not in restored.stderr and "read r1" not in restored.stderr


def _plan(direction: Direction = Direction.CUT) -> Plan:
    steps = [
        DeviceStep(
            device=f"d{n}",
            site="s",
            platform="cisco_ios",
            changes=[Change(link=f"l{n}", interface="Gi0/0", method="shutdown")],
            commands=["interface Gi0/0", "shutdown"],
            wave=1 if n < 2 else 2,
        )
        for n in range(3)
    ]
    already = {"d9": [Change(link="l9", interface="Gi0/0", method="shutdown")]}
    return Plan(
        direction=direction,
        playbook="p",
        inventory="i",
        steps=steps,
        already_done=already,
        targeted_links=["l0", "l1", "l2", "l9"],
    )


def _attempt(plan: Plan, n: int, number: int = 1) -> Attempt:
    return Attempt(f"d{n}", number, plan.steps[n], DeviceState(interfaces={}))


def test_the_headline_counts_devices_done_links_cut_and_failures() -> None:
    plan = _plan()
    tally = Tally("CUT", "p", started=100.0)
    tally.reads_started(["d0", "d1", "d2"])
    tally.device_read("d0", None)
    tally.device_read("d1", "authentication failed")
    assert tally.headline(101.0) == "CUT p · pre-flight · 1/3 devices read, 1 FAILED · 1.0 s"
    tally.run_started(plan)
    tally.change_intent(_attempt(plan, 0))
    tally.change_intent(_attempt(plan, 1))
    tally.change_applied(
        _attempt(plan, 0),
        Applied("", DeviceState(interfaces={}), plan.steps[0].changes, 0.1),
    )
    tally.change_failed("d1", "timed out")
    # l9 was read already cut at pre-flight: it counts as cut.
    assert tally.headline(112.3) == (
        "CUT p · wave 1/2 · 1/3 devices, 2/4 links cut, 1 FAILED · 12.3 s"
    )
    assert tally.wave_lines() == [
        "wave 1/2: 2 devices: 1 done, 1 FAILED",
        "wave 2/2: 1 devices: 1 waiting",
    ]
    assert tally.failures() == [("d1", "timed out")]
    tally.change_intent(_attempt(plan, 1, number=2))  # the retry: running again
    assert tally.running() == ["d1"]


def test_a_restore_counts_a_link_reopened_once_every_end_it_changes_is() -> None:
    plan = _plan(Direction.RESTORE)
    tally = Tally("RESTORE", "p", started=0.0)
    tally.run_started(plan)
    assert "0/3 devices, 1/4 links reopened" in tally.headline(1.0)
    tally.change_applied(
        _attempt(plan, 2),
        Applied("", DeviceState(interfaces={}), plan.steps[2].changes, 0.1),
    )
    assert "wave 2/2 · 1/3 devices, 2/4 links reopened" in tally.headline(1.0)


@pytest.mark.parametrize(
    ("width", "expected"),
    [
        (40, "a1 a2 a3 a4 a5 a6 a7 a8 a9 a10 +2 more"),
        (100, "a1 a2 a3 a4 a5 a6 a7 a8 a9 a10 a11 a12"),
    ],
)
def test_running_devices_fit_one_line(width: int, expected: str) -> None:
    line = names_line([f"a{n}" for n in range(1, 13)], width)
    assert line == expected and len(line) <= width
