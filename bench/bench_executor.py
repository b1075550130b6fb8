"""How long a full containment.cut takes on many devices, for several worker bounds.

Stands up N emulated Cisco IOS devices (lab/emulator.py, 127.0.0.1 only) in a separate process,
each with two interfaces of which one is targeted (an `internet` link), and an optional latency
per command. Then, for each worker bound, a fresh process runs one `containment.cut` of the
whole estate (pre-flight login + read state, apply, read back, journal), through netmiko and
the real CiscoIosDriver, and reports its wall time and its peak RSS (getrusage). Between runs
the emulator reopens every targeted port itself (instant, untimed), so every run starts from
the same state and does the same work; with `--restore`, a real `containment.restore` does it
instead (untimed, and checked: a slower bench that also exercises restore). See bench/README.md.

    .venv/bin/python bench/bench_executor.py [--devices 200] [--latency 0.05] [--workers 6,32,...]
                                             [--restore]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# bench/ is not a package: run as a script, its own directory is on sys.path.
import estate

DEFAULT_WORKERS = (6, 32, 64, 128, 200)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- one measurement (its own process, so its peak RSS is its own) ---------------------------


def measure(args: argparse.Namespace) -> int:
    from isolement.flows import containment
    from isolement.flows.runtime import Runtime
    from isolement.model.inventory import load_inventory
    from isolement.model.playbook import load_playbook

    # paramiko logs a connection reset at `exit` (IOS closes at once, see lab/emulator.py) as an
    # error, printed on stderr when nothing else handles its logger: routine here, and the
    # outcome of each cut is checked below the table anyway.
    logging.getLogger("paramiko").addHandler(logging.NullHandler())
    work = Path(args.work)
    inventory = load_inventory(work / "inventory.yaml")
    playbook = load_playbook(estate.PLAYBOOK_NAME, work / "playbooks")
    journal = work / f"journal-{args.workers}-{os.getpid()}.jsonl"
    rt = Runtime(inventory, journal_path=journal, workers=args.workers)
    base_mb = _rss_mb()

    cpu0 = _cpu_s()
    t0 = time.perf_counter()
    cut = containment.cut(rt, playbook, {}, reason="bench", operator="bench")
    seconds = time.perf_counter() - t0
    cpu = _cpu_s() - cpu0
    peak_mb = _rss_mb()  # before restore, which runs with its own worker bound
    print(
        json.dumps(
            {
                "workers": args.workers,
                "seconds": seconds,
                "cpu_s": cpu,
                "base_mb": base_mb,
                "peak_mb": peak_mb,
                "outcome": str(cut.outcome),
                "changed": sum(1 for s in cut.steps if not s.error),
                "failed": {s.step.device: s.error for s in cut.steps if s.error},
                "unreachable": cut.unreachable,
            }
        ),
        flush=True,
    )
    # The orchestrator reads the emulator's figures for the cut, then says whether to restore.
    if sys.stdin.readline().strip() != "restore":
        return 0
    rt.workers = args.restore_workers
    t0 = time.perf_counter()
    restored = containment.restore(
        rt, playbook, {}, reason="bench reset", operator="bench", approved_by="bench"
    )
    result = {"outcome": str(restored.outcome), "seconds": time.perf_counter() - t0}
    print(json.dumps(result), flush=True)
    return 0


# --- the orchestration ----------------------------------------------------------------------


def run_one(
    work: Path, workers: int, emulator: estate.Fleet, restore_workers: int | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """One measured cut in a fresh process, with the emulator's figures during it; then, with
    `restore_workers`, the (untimed) restore. Returns (cut, restore or None)."""
    command = [
        sys.executable,
        __file__,
        "--measure",
        "--work",
        str(work),
        "--workers",
        str(workers),
        "--restore-workers",
        str(restore_workers or workers),
    ]
    before = emulator.stats()  # also resets the emulator's session peak
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    restore: dict[str, Any] | None = None
    try:
        line = child.stdout.readline()
        if not line:
            raise SystemExit(f"the run with {workers} workers failed (exit {child.wait()})")
        cut = dict(json.loads(line))
        during = emulator.stats()
        cut["sessions"] = during["max_sessions"]
        cut["emulator_cpu_s"] = during["cpu_s"] - before["cpu_s"]
        child.stdin.write("restore\n" if restore_workers else "done\n")
        child.stdin.flush()
        if restore_workers:
            line = child.stdout.readline()
            if not line:
                raise SystemExit(f"the restore after {workers} workers failed ({child.wait()})")
            restore = dict(json.loads(line))
            restore["shut_after"] = len(emulator.cut_devices()) + emulator.other_ports_shut()
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()  # our own child, by its handle
            child.wait()
    return cut, restore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=200, help="emulated devices (200)")
    parser.add_argument(
        "--latency", type=float, default=0.05, help="seconds per command on each device (0.05)"
    )
    parser.add_argument(
        "--workers",
        default=",".join(map(str, DEFAULT_WORKERS)),
        help="worker bounds to measure, comma-separated (6,32,64,128,200)",
    )
    parser.add_argument(
        "--restore",
        action="store_true",
        help="reset between runs with a real containment.restore (untimed, checked; slower) "
        "instead of reopening the ports on the emulator",
    )
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--restore-workers", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        args.workers = int(args.workers)
        return measure(args)

    bounds = [int(w) for w in args.workers.split(",") if w.strip()]
    if args.devices < 1 or not bounds or min(bounds) < 1:
        parser.error("--devices and every --workers bound must be at least 1")
    from isolement.lab.emulator import generate_login_key

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="isolement-bench-") as tmp:
        work = Path(tmp)
        generate_login_key(work / estate.KEY_FILE)
        # One emulator process for the whole estate, as these figures were always taken.
        emulator = estate.Fleet(work, args.devices, latency=args.latency, per_process=args.devices)
        try:
            estate.write_estate(work, emulator.ports)
            print(
                f"{args.devices} emulated cisco_ios devices on 127.0.0.1 (2 interfaces, 1 "
                f"targeted), {args.latency:g} s per command; {os.cpu_count()} CPUs, Python "
                f"{platform.python_version()}"
            )
            reset = (
                "containment.restore (untimed)"
                if args.restore
                else "the emulator reopens the ports (untimed)"
            )
            print(
                f"Each run: one containment.cut in a fresh process, then {reset} so the next "
                "run does the same work.\n"
            )
            header = (
                "workers",
                "seconds",
                "devices/s",
                "peak RSS MB",
                "sessions",
                "client CPU",
                "emulator CPU",
            )
            print("{:>7}  {:>7}  {:>9}  {:>11}  {:>8}  {:>10}  {:>12}".format(*header))
            runs = []
            for n, workers in enumerate(bounds):
                # The last run is not reset: the emulated devices are dropped afterwards.
                last = n == len(bounds) - 1
                restoring = args.restore and not last
                result, restore = run_one(
                    work, workers, emulator, args.devices if restoring else None
                )
                runs.append(result)
                note = ""
                if result["outcome"] != "done" or result["changed"] != args.devices:
                    note = f"  outcome {result['outcome']}, {result['changed']} changed"
                    note += f", failed {dict(list(result['failed'].items())[:3])}"
                    note += f", unreachable {dict(list(result['unreachable'].items())[:3])}"
                if restore is not None and (restore["outcome"] != "done" or restore["shut_after"]):
                    note += f"  restore {restore['outcome']}, {restore['shut_after']}"
                    note += " interfaces still shut"
                if not args.restore and not last:
                    reopened = emulator.reopen()
                    if reopened != result["changed"]:
                        note += f"  {reopened} ports found shut after the cut"
                print(
                    f"{workers:>7}  {result['seconds']:>7.1f}  "
                    f"{args.devices / result['seconds']:>9.1f}  {result['peak_mb']:>11.0f}  "
                    f"{result['sessions']:>8}  {result['cpu_s']:>10.1f}  "
                    f"{result['emulator_cpu_s']:>12.1f}{note}",
                    flush=True,
                )
            slowest = max(runs, key=lambda r: r["seconds"])
            fastest = min(runs, key=lambda r: r["seconds"])
            print(
                f"\nslowest/fastest: {slowest['seconds'] / fastest['seconds']:.1f}x "
                f"({slowest['workers']} workers: {slowest['seconds']:.1f} s; "
                f"{fastest['workers']} workers: {fastest['seconds']:.1f} s)"
            )
            base = min(r["base_mb"] for r in runs)
            print(
                f"peak RSS includes {base:.0f} MB for the interpreter and imports before the run; "
                f"emulator process peak RSS {emulator.stats()['rss_mb']:.0f} MB"
            )
            print(
                "sessions: most SSH sessions open at once on the emulator during the cut; "
                "CPU: seconds of CPU used during the cut by isolement's process and by the "
                f"emulator's. Whole bench: {time.perf_counter() - started:.0f} s."
            )
        finally:
            emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
