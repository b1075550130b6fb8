"""A router restarted mid-containment, on the real lab: FRR's daemons on dc-rtr are stopped and
started again (as `systemctl restart frr` does) while cut-intersite is in place.

What happens, observed on the lab's FRR 8.4: zebra starts from its startup configuration, which
never held the cut's `shutdown` (isolement does not save it), while the kernel links it had set
down stay down. The path is still cut; FRR's running configuration no longer says so. `status`
must say what the device forwards by (read here independently: `ip link` in the namespace and
real pings), and a re-run `cut` must not stop at pre-flight for the h2 devices managed through
that cut link, which are unreachable exactly because it is cut.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from isolement.lab.stand import Manifest, ns
from labtools import HOSTS, LAB_DIR, eventually, kernel_link_up, ping, running_config, vtysh

ROUTER = "dc-rtr"
CUT_LINKS = {"wan-h1": "h1", "wan-h2": "h2"}  # dc-rtr's ends of wan-dc-h1 and wan-dc-h2


def _alive(pid: int, exe: str) -> bool:
    try:
        return os.readlink(f"/proc/{pid}/exe") == os.path.realpath(exe)
    except OSError:
        return False


def _answers(router: str, daemon: str) -> bool:
    done = subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            ns(router),
            "vtysh",
            "--vty_socket",
            str(LAB_DIR / router / "run"),
            "--config_dir",
            str(LAB_DIR / router),
            "-d",
            daemon,
            "-c",
            "show version",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0 and "FRRouting" in done.stdout


def restart_frr(router: str) -> None:
    """Stop the router's zebra and staticd by the PIDs the lab recorded, start them again with
    the same command lines in the router's namespace, and record the new PIDs in the lab's
    manifest, so that `lab down` ends them as it would have ended the first ones."""
    manifest = Manifest.load()
    assert manifest is not None, "the lab is not up"
    entries = {p["name"]: p for p in manifest.processes}
    argv: dict[str, list[str]] = {}
    for daemon in ("staticd", "zebra"):  # the reverse of the order the lab started them
        entry = entries[f"{router}/{daemon}"]
        pid, exe = int(str(entry["pid"])), str(entry["exe"])
        assert _alive(pid, exe), f"{router}/{daemon} (pid {pid}) is not running"
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        argv[daemon] = [word.decode() for word in raw.split(b"\0") if word]
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _alive(pid, exe) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid, exe), f"{router}/{daemon} (pid {pid}) did not stop"
    for daemon in ("zebra", "staticd"):
        with (LAB_DIR / router / f"{daemon}.log").open("ab") as log:
            started = subprocess.Popen(
                ["ip", "netns", "exec", ns(router), *argv[daemon]],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        entries[f"{router}/{daemon}"]["pid"] = started.pid  # `ip netns exec` execs the daemon
        manifest.save()
        assert eventually(lambda d=daemon: _answers(router, d), timeout=15), (
            f"{router}/{daemon} does not answer after its restart"
        )


@pytest.fixture
def daemons_running():
    """After the test, every FRR daemon of the lab runs again, whatever the test did."""
    yield
    manifest = Manifest.load()
    assert manifest is not None
    dead = [
        p["name"]
        for p in manifest.processes
        if str(p["name"]).startswith(f"{ROUTER}/") and not _alive(int(str(p["pid"])), str(p["exe"]))
    ]
    assert not dead, f"left stopped: {dead}"


def test_status_and_a_re_run_tell_the_truth_after_frrs_daemons_restart(
    cli, daemons_running, tmp_path: Path
) -> None:
    # Not saved (persist: false): what a restart does to a cut that is not persisted.
    unsaved = tmp_path / "cut-intersite.yaml"
    text = (Path(__file__).resolve().parents[2] / "playbooks" / "cut-intersite.yaml").read_text()
    unsaved.write_text(text + "persist: false\n")
    playbook = str(unsaved)
    cut = cli("cut", playbook, "--reason", "ransomware at h1", "--yes")
    assert cut.returncode == 0, cut.stdout + cut.stderr

    restart_frr(ROUTER)

    # What the device forwards by, read without isolement: the kernel links are still down and
    # no packet crosses them, while FRR's running configuration has lost the `shutdown`.
    assert "shutdown" not in running_config(ROUTER)
    assert "Interface wan-h2 is down" in vtysh(ROUTER, "show interface wan-h2")
    for ifname, site in CUT_LINKS.items():
        assert not kernel_link_up(ROUTER, ifname)
        assert not ping("dc", HOSTS[site])

    status = cli("--json", "status", playbook)
    links = {link["link"]: link for link in json.loads(status.stdout)["links"]}
    ends = {
        (end["device"], end["interface"]): end["state"]
        for link in links.values()
        for end in link["endpoints"]
    }
    assert ends[(ROUTER, "wan-h1")] == "cut" and ends[(ROUTER, "wan-h2")] == "cut", status.stdout
    assert links["wan-dc-h2"]["state"] == "cut" and links["wan-dc-h1"]["state"] == "cut"

    # h2's devices are managed through wan-dc-h2, which is cut at dc-rtr: unreachable, as the
    # state read says they must be, so the re-run does not stop at pre-flight for them.
    again = cli("cut", playbook, "--reason", "re-run after the restart", "--yes")
    assert "pre-flight failed" not in again.stdout, again.stdout
    assert again.returncode != 4, again.stdout + again.stderr
    assert ROUTER not in again.stdout.partition("Still OPEN:")[2], again.stdout

    # The restore reopens what the cut shut, although FRR's configuration had forgotten it.
    restored = cli(
        "restore",
        playbook,
        "--all",
        "--approved-by",
        "crisis cell",
        "--reason",
        "doubt lifted",
        "--yes",
    )
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "already open" not in restored.stdout, restored.stdout
    for ifname, site in CUT_LINKS.items():
        assert kernel_link_up(ROUTER, ifname)
        assert eventually(lambda s=site: ping("dc", HOSTS[s]), timeout=20), f"dc -> {site}"
