"""Bad input on the command line is refused with exit code 2, a message naming the file and the
field (or the option), and proof that nothing was sent: every device of the inventory points at
a TCP listener on 127.0.0.1 that counts the connections it accepts.

The positive controls show the listener does see isolement when the input is good.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import PLAYBOOKS, InventoryWriter, base_inventory

from isolement.cli.main import main
from isolement.drivers import supported_platforms
from isolement.model.playbook import available_playbooks


class Listener:
    """Accepts TCP connections on 127.0.0.1 and closes them at once, counting them."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port: int = self._sock.getsockname()[1]
        self._peers: list[int] = []
        self._sentinels: set[int] = set()
        self._seen = threading.Condition()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, (_, peer_port) = self._sock.accept()
            except OSError:
                return
            conn.close()
            with self._seen:
                self._peers.append(peer_port)
                self._seen.notify_all()

    def connections(self) -> int:
        """Connections accepted so far, counting any still waiting in the backlog: a sentinel
        connection is queued behind them, and the listener accepts in order."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sentinel:
            port = sentinel.getsockname()[1]
            self._sentinels.add(port)
            with self._seen:
                assert self._seen.wait_for(lambda: port in self._peers, timeout=5)
        return sum(1 for p in self._peers if p not in self._sentinels)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._thread.join(timeout=5)


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "state"
    monkeypatch.setenv("ISOLEMENT_STATE_DIR", str(directory))
    return directory


@pytest.fixture(autouse=True)
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    # Whatever runs the tests, no one is at the terminal.
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse refuses an option by exiting
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def inventory_at(listener: Listener) -> dict[str, Any]:
    return base_inventory(host="127.0.0.1", port=listener.port)


def assert_refused_before_sending(
    code: int, err: str, listener: Listener, state_dir: Path, *named: str
) -> None:
    assert code == 2, err
    assert err.startswith("isolement: ") or "error:" in err, err
    assert "Traceback" not in err
    for text in named:
        assert text in err, f"{text!r} not in {err!r}"
    assert listener.connections() == 0
    # Nothing was journaled either: there was nothing to record.
    assert not state_dir.exists() or not any(state_dir.rglob("*.jsonl"))


# --- positive controls: the listener sees isolement when the input is good -------------------


def test_control_plan_on_a_valid_inventory_does_connect(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
) -> None:
    path = write_inventory(inventory_at(listener))
    started = time.monotonic()
    code, out, err = run(capsys, "--inventory", str(path), "plan", "cut-intersite")

    # The listener is not an SSH server: both routers are reported unreachable, and the plan
    # is still shown (as if open), with exit code 0.
    assert code == 0, err
    assert "Unreachable now" in out
    for device in ("dc-rtr", "h1-rtr"):
        assert f"  {device}: " in out.split("Unreachable now", 1)[1]
    assert "Nothing was sent." in out
    assert listener.connections() >= 2
    assert time.monotonic() - started < 30


def test_control_cut_with_yes_on_a_valid_inventory_does_connect(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
) -> None:
    path = write_inventory(inventory_at(listener))
    code, out, err = run(
        capsys, "--inventory", str(path), "cut", "cut-intersite", "--reason", "drill", "--yes"
    )
    # Every device unreachable: nothing could be done.
    assert code == 4, out + err
    assert listener.connections() >= 2
    assert list(state_dir.rglob("journal.jsonl"))


# --- bad inventories ------------------------------------------------------------------------


def test_malformed_yaml(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
) -> None:
    text = yaml.safe_dump(inventory_at(listener), sort_keys=False)
    path = write_inventory(text=text.replace("links:", "links: [", 1))
    code, _, err = run(capsys, "--inventory", str(path), "plan", "cut-intersite")
    assert_refused_before_sending(code, err, listener, state_dir, str(path), "malformed YAML")


def test_unknown_device_in_a_link(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
) -> None:
    data = inventory_at(listener)
    data["links"]["wan-dc-h1"]["endpoints"][1]["device"] = "h9-rtr"
    path = write_inventory(data)
    code, _, err = run(capsys, "--inventory", str(path), "plan", "cut-intersite")
    assert_refused_before_sending(
        code,
        err,
        listener,
        state_dir,
        str(path),
        "field links.wan-dc-h1.endpoints.1.device",
        "'h9-rtr'",
    )


def test_unknown_platform(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
) -> None:
    data = inventory_at(listener)
    data["devices"]["h1-rtr"]["platform"] = "fortigate"  # FortiOS is `fortinet`, as in netmiko
    path = write_inventory(data)
    code, _, err = run(capsys, "--inventory", str(path), "plan", "cut-intersite")
    assert_refused_before_sending(
        code,
        err,
        listener,
        state_dir,
        str(path),
        "field devices.h1-rtr.platform",
        f"unknown platform 'fortigate'; supported platforms: {', '.join(supported_platforms())}",
    )


def test_duplicate_device_name(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
) -> None:
    text = yaml.safe_dump(inventory_at(listener), sort_keys=False)
    again = "  h1-rtr:\n    site: dc\n    role: router\n    platform: frr\n    host: 127.0.0.1\n"
    again += f"    port: {listener.port}\n    credential: ops\n"
    path = write_inventory(text=text.replace("links:", again + "links:", 1))
    code, _, err = run(capsys, "--inventory", str(path), "plan", "cut-intersite")
    assert_refused_before_sending(
        code, err, listener, state_dir, str(path), "duplicate key 'h1-rtr'"
    )


def test_injected_interface_name(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
) -> None:
    data = inventory_at(listener)
    data["links"]["wan-dc-h1"]["endpoints"][0]["interface"] = "wan0\nreload"
    path = write_inventory(data)
    code, _, err = run(capsys, "--inventory", str(path), "plan", "cut-intersite")
    assert_refused_before_sending(
        code,
        err,
        listener,
        state_dir,
        str(path),
        "field links.wan-dc-h1.endpoints.0.interface",
        "not a safe name",
    )
    # The refusal is on one line: the injected line does not reach the terminal as a line.
    assert "\nreload" not in err


def test_password_in_clear_is_refused_and_not_printed(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
) -> None:
    data = inventory_at(listener)
    data["credentials"]["ops"]["password"] = "Hunter2-secret"
    path = write_inventory(data)
    code, out, err = run(capsys, "--inventory", str(path), "plan", "cut-intersite")
    assert_refused_before_sending(
        code, err, listener, state_dir, str(path), "field credentials.ops.password"
    )
    assert "Hunter2-secret" not in out + err


def test_missing_credential_env_var(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = inventory_at(listener)
    data["credentials"]["ops"] = {"username": "ops", "password_env": "ISOLEMENT_TEST_PASSWORD"}
    path = write_inventory(data)
    monkeypatch.delenv("ISOLEMENT_TEST_PASSWORD", raising=False)
    code, _, err = run(capsys, "--inventory", str(path), "plan", "cut-intersite")
    assert_refused_before_sending(
        code,
        err,
        listener,
        state_dir,
        str(path),
        "field credentials.ops.password_env",
        "ISOLEMENT_TEST_PASSWORD",
    )


def test_missing_known_hosts(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
) -> None:
    path = write_inventory(inventory_at(listener))
    (path.parent / "known_hosts").unlink()
    code, _, err = run(capsys, "--inventory", str(path), "plan", "cut-intersite")
    assert_refused_before_sending(code, err, listener, state_dir, str(path), "field known_hosts")


# --- bad options and arguments ---------------------------------------------------------------


def test_reason_with_a_line_break(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
) -> None:
    path = write_inventory(inventory_at(listener))
    code, _, err = run(
        capsys,
        "--inventory",
        str(path),
        "cut",
        "cut-intersite",
        "--reason",
        "drill\nreload",
        "--yes",
    )
    assert_refused_before_sending(code, err, listener, state_dir, "--reason", "line breaks")


def test_site_option_that_is_not_a_safe_name(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
) -> None:
    path = write_inventory(inventory_at(listener))
    code, _, err = run(
        capsys, "--inventory", str(path), "plan", "isolate-site", "--site", "h1;reload"
    )
    assert_refused_before_sending(code, err, listener, state_dir, "--site", "not a safe name")


def test_unknown_playbook(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
) -> None:
    path = write_inventory(inventory_at(listener))
    code, _, err = run(capsys, "--inventory", str(path), "plan", "cut-everything")
    assert_refused_before_sending(
        code,
        err,
        listener,
        state_dir,
        "'cut-everything'",
        "available playbooks: " + ", ".join(available_playbooks(PLAYBOOKS)),
    )


def test_unknown_site(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
) -> None:
    path = write_inventory(inventory_at(listener))
    code, _, err = run(capsys, "--inventory", str(path), "plan", "isolate-site", "--site", "h9")
    assert_refused_before_sending(
        code, err, listener, state_dir, "--site", "unknown site 'h9'", "sites: dc, h1"
    )


def test_missing_site(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
) -> None:
    path = write_inventory(inventory_at(listener))
    code, _, err = run(capsys, "--inventory", str(path), "plan", "isolate-site")
    assert_refused_before_sending(
        code, err, listener, state_dir, "needs --site NAME", "sites: dc, h1"
    )


def test_cut_without_yes_and_no_terminal(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
) -> None:
    path = write_inventory(inventory_at(listener))
    code, _, err = run(
        capsys, "--inventory", str(path), "cut", "cut-intersite", "--reason", "drill"
    )
    assert_refused_before_sending(code, err, listener, state_dir, "--yes", "no one is at the")


def test_cut_without_yes_through_the_installed_command(
    listener: Listener, write_inventory: InventoryWriter, state_dir: Path
) -> None:
    command = Path(sys.executable).with_name("isolement")
    if not command.exists():
        pytest.skip(f"{command} is not installed")
    path = write_inventory(inventory_at(listener))
    result = subprocess.run(
        [str(command), "--inventory", str(path), "cut", "cut-intersite", "--reason", "drill"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ISOLEMENT_STATE_DIR": str(state_dir)},
        check=False,
    )
    assert_refused_before_sending(result.returncode, result.stderr, listener, state_dir, "--yes")


def test_unreachable_device_is_reported_without_a_traceback(
    listener: Listener, write_inventory: InventoryWriter, state_dir: Path
) -> None:
    command = Path(sys.executable).with_name("isolement")
    if not command.exists():
        pytest.skip(f"{command} is not installed")
    path = write_inventory(inventory_at(listener))
    result = subprocess.run(
        [str(command), "--inventory", str(path), "plan", "cut-intersite"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ISOLEMENT_STATE_DIR": str(state_dir)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Unreachable now" in result.stdout
    assert listener.connections() >= 2
    assert "Traceback" not in result.stderr
