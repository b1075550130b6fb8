"""Two emulated routers shaped like the lab's dc-rtr and h2-rtr, and the real command line run
against them: what the tests of the journal as evidence share.

h2-rtr's GigabitEthernet0/2 plays the lab's `h2-rtr wan-h1`: the backup link, shut in normal
times, which no restore may open. The command line runs in this process (`Estate.run`), with
its own state directory, and an anchor directory when one is given.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import yaml
from emulated import LoginKey, write_inventory_for
from isolement.lab.emulator import DeviceSpec, Emulator, InterfaceSpec

from isolement.cli import main as cli

INVENTORY_NAME = "evidence-estate"
INET, WAN, BACKUP = "GigabitEthernet0/0", "GigabitEthernet0/1", "GigabitEthernet0/2"
SPECS = [
    DeviceSpec("dc-rtr", [INET, WAN]),
    DeviceSpec("h2-rtr", [WAN, InterfaceSpec(BACKUP, shutdown=True)]),
]
LINKS = {
    "inet-dc": {"kind": "internet", "endpoints": [{"device": "dc-rtr", "interface": INET}]},
    "wan-dc-h2": {
        "kind": "intersite",
        "endpoints": [
            {"device": "dc-rtr", "interface": WAN},
            {"device": "h2-rtr", "interface": WAN},
        ],
    },
    "wan-h1-h2": {"kind": "backup", "endpoints": [{"device": "h2-rtr", "interface": BACKUP}]},
}
PLAYBOOK = {
    "name": "cut-all",
    "cut": [{"select": {"kind": ["intersite", "backup", "internet"]}}],
    "stages": [{"name": "clinical-h2", "open": {"link": "wan-dc-h2"}, "settle_s": 0}],
}


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@dataclass
class Estate:
    """The emulated routers' inventory and playbook in `root`, and where the CLI keeps state."""

    root: Path
    inventory: Path
    playbook: Path
    emu: Emulator | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def state_dir(self) -> Path:
        return Path(self.env["ISOLEMENT_STATE_DIR"])

    @property
    def journal(self) -> Path:
        return self.state_dir / INVENTORY_NAME / "journal.jsonl"

    def run(self, *args: str, env: Mapping[str, str | None] | None = None) -> Result:
        """`isolement --inventory INVENTORY ARGS...` in this process: exit code, stdout, stderr."""
        wanted = {**self.env, **(env or {})}
        out, err = io.StringIO(), io.StringIO()
        cleared = [k for k, v in wanted.items() if v is None]
        with (
            mock.patch.dict(os.environ, {k: v for k, v in wanted.items() if v is not None}),
            mock.patch.object(sys, "stdin", io.StringIO("")),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            for key in cleared:
                os.environ.pop(key, None)
            code = cli.main(["--inventory", str(self.inventory), "--timeout", "10", *args])
        return Result(code, out.getvalue(), err.getvalue())

    def cut(self, *options: str, env: Mapping[str, str | None] | None = None) -> Result:
        return self.run(
            "cut", str(self.playbook), "--reason", "ransomware", "--yes", *options, env=env
        )

    def restore(self, *options: str, env: Mapping[str, str | None] | None = None) -> Result:
        return self.run(
            "restore",
            str(self.playbook),
            "--all",
            "--approved-by",
            "Dr Martin",
            "--reason",
            "doubt lifted",
            "--yes",
            *options,
            env=env,
        )

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.journal.read_text().splitlines()]

    def lines(self) -> list[str]:
        return self.journal.read_text().splitlines(keepends=True)


def write_estate(root: Path, emu: Emulator, login_key: LoginKey, **env: str) -> Estate:
    """The inventory (the emulator's ports) and the playbook in `root`; state in `root/state`."""
    root.mkdir(parents=True, exist_ok=True)
    emu.write_known_hosts(root / "known_hosts")
    inventory = write_inventory_for(root, emu, login_key, INVENTORY_NAME, links=LINKS)
    playbook = root / "cut-all.yaml"
    playbook.write_text(yaml.safe_dump(PLAYBOOK, sort_keys=False))
    return Estate(
        root, inventory, playbook, emu, {"ISOLEMENT_STATE_DIR": str(root / "state"), **env}
    )


@contextlib.contextmanager
def running_estate(root: Path, login_key: LoginKey, **env: str) -> Iterator[Estate]:
    with Emulator(SPECS, login_key.key, username="isolement") as emu:
        yield write_estate(root, emu, login_key, **env)


def record_hash(body: Mapping[str, Any]) -> str:
    """A record's hash as the journal's format defines it: SHA-256 of its canonical JSON."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def chained(records: list[dict[str, Any]], start: int = 0) -> list[str]:
    """The records as journal lines with seq, prev and hash recomputed from `start` on, as a
    forger who knows the format writes them."""
    out = []
    prev = records[start - 1]["hash"] if start else "0" * 64
    for n, original in enumerate(records):
        record = original
        if n >= start:
            body = {k: v for k, v in original.items() if k != "hash"}
            body["seq"] = n + 1
            body["prev"] = prev
            record = {**body, "hash": record_hash(body)}
        prev = record["hash"]
        out.append(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")
    return out


def forged_backup_intent(records: list[dict[str, Any]]) -> dict[str, Any]:
    """A `change.intent` saying the cut shut h2-rtr's backup port (it was shut before): what a
    forger adds so that `restore --all` opens it."""
    real = next(r for r in records if r["event"] == "change.intent")
    return {
        **real,
        "device": "h2-rtr",
        "changes": [{"link": "wan-h1-h2", "interface": BACKUP, "method": "shutdown"}],
        "commands": [f"interface {BACKUP}", "shutdown"],
        "before": {BACKUP: {"admin_up": True}},
    }
