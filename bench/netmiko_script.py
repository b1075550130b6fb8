"""A plain netmiko script, as a network engineer would write it without isolement: the same
work per device as every tool of bench_containment.py, through netmiko's unchanged
`cisco_ios` driver, one device after another or a thread per device.

Per device: log in (key only, host key checked against the estate's known_hosts, as
isolement does), `show ip interface brief`, `interface X` + `shutdown` with send_config_set
unless the port is already shut, read back, disconnect.

    python bench/netmiko_script.py WORK [--threads N]     (1: sequential)

WORK holds targets.json ({device: port} on 127.0.0.1), known_hosts and id_ed25519 (see
bench/estate.py). Prints one JSON line: {"ok": N, "failed": {device: why}}.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from netmiko import ConnectHandler

TARGETED = "GigabitEthernet0/0"
USERNAME = "isolement"
_SHUT = re.compile(rf"^{re.escape(TARGETED)}\s+\S+\s+\S+\s+\S+\s+administratively down", re.M)


def cut_one(port: int, work: Path) -> None:
    connection = ConnectHandler(
        device_type="cisco_ios",
        host="127.0.0.1",
        port=port,
        username=USERNAME,
        use_keys=True,
        key_file=str(work / "id_ed25519"),
        allow_agent=False,
        ssh_strict=True,
        system_host_keys=False,
        alt_host_keys=True,
        alt_key_file=str(work / "known_hosts"),
        conn_timeout=60,
    )
    try:
        if not _SHUT.search(connection.send_command("show ip interface brief")):
            connection.send_config_set([f"interface {TARGETED}", "shutdown"])
        if not _SHUT.search(connection.send_command("show ip interface brief")):
            raise RuntimeError(f"{TARGETED} still up after the change")
    finally:
        connection.disconnect()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", type=Path)
    parser.add_argument("--threads", type=int, default=1, help="1: one device after another")
    args = parser.parse_args(argv)
    # paramiko logs the reset of IOS closing at `exit` as an error: routine, not news.
    logging.getLogger("paramiko").addHandler(logging.NullHandler())
    targets: dict[str, int] = json.loads((args.work / "targets.json").read_text())
    failed: dict[str, str] = {}

    def one(item: tuple[str, int]) -> None:
        name, port = item
        try:
            cut_one(port, args.work)
        except Exception as exc:  # noqa: BLE001 - reported per device, as a script would
            failed[name] = f"{type(exc).__name__}: {exc}"

    with ThreadPoolExecutor(max(1, args.threads)) as pool:
        list(pool.map(one, targets.items()))
    print(json.dumps({"ok": len(targets) - len(failed), "failed": failed}))
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
