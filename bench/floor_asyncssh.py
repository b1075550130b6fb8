"""The floor: the least a controller must do to cut N emulated IOS devices, written as plainly
as it can be, with asyncssh on one event loop.

Per device, the same work as every other tool of bench_containment.py: log in (public key,
host key checked against the estate's known_hosts), read state (`show ip interface brief`),
a 2-line change (`interface X`, `shutdown`, between `configure terminal` and `end`) unless the
port is already shut, read back, log out (`exit`). Every device at once (or `--concurrency`).
No parsing library, no journal, no retry: what is left is the SSH and the devices' own
latency, which is what the other tools are compared to.

    python bench/floor_asyncssh.py WORK [--concurrency N]

WORK holds targets.json ({device: port} on 127.0.0.1), known_hosts and id_ed25519 (see
bench/estate.py). Prints one JSON line: {"ok": N, "failed": {device: why}}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from pathlib import Path

import asyncssh

TARGETED = "GigabitEthernet0/0"
USERNAME = "isolement"
# A prompt at the end of what the device sent: `r0001#`, `r0001(config-if)#`.
_PROMPT = re.compile(rb"[\w-]+(?:\([\w-]+\))?#\s*$")
_SHUT = re.compile(rf"^{re.escape(TARGETED)}\s+\S+\s+\S+\s+\S+\s+administratively down", re.M)
TIMEOUT = 60.0


async def _until_prompt(process: asyncssh.SSHClientProcess[bytes]) -> str:
    data = b""
    while not _PROMPT.search(data):
        chunk = await process.stdout.read(65536)
        if not chunk:
            raise ConnectionError(f"session closed; last output {data[-80:]!r}")
        data += chunk
    return data.decode("utf-8", "replace")


async def _command(process: asyncssh.SSHClientProcess[bytes], line: str) -> str:
    process.stdin.write(line.encode() + b"\n")
    answer = await _until_prompt(process)
    if "% Invalid" in answer or "% Incomplete" in answer:
        raise RuntimeError(f"{line!r} refused: {answer.strip()[:120]}")
    return answer


async def cut_one(port: int, work: Path) -> None:
    async with asyncssh.connect(
        "127.0.0.1",
        port,
        username=USERNAME,
        client_keys=[str(work / "id_ed25519")],
        known_hosts=str(work / "known_hosts"),
        agent_path=None,
        connect_timeout=TIMEOUT,
    ) as conn:
        process = await conn.create_process(term_type="vt100", term_size=(511, 24), encoding=None)
        await _until_prompt(process)
        if not _SHUT.search(await _command(process, "show ip interface brief")):
            for line in ("configure terminal", f"interface {TARGETED}", "shutdown", "end"):
                await _command(process, line)
        if not _SHUT.search(await _command(process, "show ip interface brief")):
            raise RuntimeError(f"{TARGETED} still up after the change")
        process.stdin.write(b"exit\n")  # IOS closes the connection at once
        await process.wait_closed()


async def run(work: Path, concurrency: int) -> dict[str, object]:
    targets: dict[str, int] = json.loads((work / "targets.json").read_text())
    gate = asyncio.Semaphore(concurrency or len(targets))
    failed: dict[str, str] = {}

    async def one(name: str, port: int) -> None:
        async with gate:
            try:
                await asyncio.wait_for(cut_one(port, work), TIMEOUT)
            except (OSError, asyncssh.Error, RuntimeError, TimeoutError) as exc:
                failed[name] = f"{type(exc).__name__}: {exc}"

    await asyncio.gather(*(one(name, port) for name, port in targets.items()))
    return {"ok": len(targets) - len(failed), "failed": failed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", type=Path)
    parser.add_argument("--concurrency", type=int, default=0, help="0: every device at once")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.work, args.concurrency))
    print(json.dumps(result))
    return 0 if not result["failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
